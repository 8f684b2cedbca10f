import { fullCrawlState, type BrickCrawlStatistics } from './parsers/heal-statistics.ts';

/**
 * When is a brick that replace-brick put in really filled? `heal info` alone cannot say: right after the
 * replace its index can be empty while the new brick is too (measured on the test bed: the root's pending
 * mark was healed against the old graph and the files never listed), so a zero there proves nothing.
 * Replicated volumes: a full crawl has to finish after the replace (crawl statistics), and then heal info
 * must show nothing pending. Disperse volumes have no crawl statistics: a full heal is started and the new
 * brick counts as filled once heal info has shown nothing pending for a settle time after that start.
 * Pure: the caller runs the commands and starts the full heal when told to.
 */
export const DISPERSE_SETTLE_MS = 60_000;

export type HealVerdict = { healed: true } | { healed: false; startFullHeal: boolean; why: string };

export function replacementHealVerdict(input: {
  durability: 'Replicate' | 'Disperse';
  /** Entries heal info reports pending; null when a brick could not say. */
  pending: number | null;
  /** Crawl statistics; null when unavailable. */
  statistics: BrickCrawlStatistics[] | null;
  /** Disperse only: how long ago a full heal was started for this replacement, if it was. */
  fullHealStartedMsAgo?: number;
}): HealVerdict {
  if (input.pending === null) return { healed: false, startFullHeal: false, why: 'a brick of the volume is not connected to self-heal' };
  if (input.durability === 'Replicate') {
    if (input.statistics === null) return { healed: false, startFullHeal: false, why: 'crawl statistics unavailable (self-heal daemons restarting)' };
    const crawl = fullCrawlState(input.statistics);
    if (crawl === 'none') return { healed: false, startFullHeal: true, why: 'starting a full self-heal crawl' };
    if (crawl === 'running') return { healed: false, startFullHeal: false, why: 'full self-heal crawl running' };
    if (input.pending > 0) return { healed: false, startFullHeal: false, why: `${input.pending} entries pending heal` };
    return { healed: true };
  }
  if (input.fullHealStartedMsAgo === undefined) return { healed: false, startFullHeal: true, why: 'starting a full self-heal' };
  if (input.pending > 0) return { healed: false, startFullHeal: false, why: `${input.pending} entries pending heal` };
  if (input.fullHealStartedMsAgo < DISPERSE_SETTLE_MS) return { healed: false, startFullHeal: false, why: 'full self-heal settling' };
  return { healed: true };
}
