import type { UnavailableStatistics } from './commands/gluster.ts';
import type { BrickCrawlStatistics, HealCrawl } from './parsers/heal-statistics.ts';

/**
 * When is a brick that replace-brick put in really filled? `heal info` alone cannot say: right after the
 * replace its index can be empty while the new brick is too (measured on the test bed: the root's pending
 * mark was healed against the old graph and the files never listed), so a zero there proves nothing.
 * Replicated volumes: a full crawl that started after the replacement has to finish with no failed (or
 * split-brain) entries (crawl statistics), and then heal info must show nothing pending. Disperse volumes
 * have no crawl statistics: a full heal is started after the replacement and the new brick counts as filled
 * once heal info has shown nothing pending for a settle time after that start.
 *
 * "After the replacement" is checked twice for replicated volumes: glusterd restarts the self-heal daemons
 * when replace-brick changes the graph, so the statistics list only crawls since then, and each crawl's start
 * time must be later than the replacement's as the operator recorded it. A crawl of the same second, or one a
 * lagging node clock makes look earlier, does not count: another full heal is asked for, which is only slower.
 * Pure: the caller runs the commands and starts the full heal when told to.
 */
export const DISPERSE_SETTLE_MS = 60_000;

/**
 * Crawl statistics still unavailable this long after the replacement is no restart any more: glusterd 10 can
 * leave a node's self-heal daemon detached from the volume for good (a node that missed the replace imports
 * it during its handshake, and staging then refuses heal statistics there). The operator does not restart
 * glusterd itself (inside an InCluster glusterd pod that restarts the bricks too); it says so and waits.
 */
export const STUCK_STATISTICS_MS = 10 * 60_000;

export type HealVerdict = { healed: true } | { healed: false; startFullHeal: boolean; why: string };

export interface HealVerdictInput {
  durability: 'Replicate' | 'Disperse';
  /** Entries heal info reports pending; null when a brick could not say. */
  pending: number | null;
  /** Crawl statistics, or why glusterd could not gather them; null when not asked for (disperse has none). */
  statistics: BrickCrawlStatistics[] | UnavailableStatistics | null;
  /** When the (latest) replacement was done, epoch ms: only a heal started later counts. */
  replacedAt: number;
  now: number;
  /** Disperse only: when a full heal was started for this replacement (epoch ms), if it was. */
  fullHealStartedAt?: number;
}

export function replacementHealVerdict(input: HealVerdictInput): HealVerdict {
  if (input.pending === null) return { healed: false, startFullHeal: false, why: 'a brick of the volume is not connected to self-heal' };
  if (input.durability === 'Replicate') return replicateVerdict(input.pending, input.statistics, input.replacedAt, input.now);
  if (input.fullHealStartedAt === undefined || input.fullHealStartedAt <= input.replacedAt) {
    return { healed: false, startFullHeal: true, why: 'starting a full self-heal after the replacement' };
  }
  if (input.pending > 0) return { healed: false, startFullHeal: false, why: `${input.pending} entries pending heal` };
  if (input.now - input.fullHealStartedAt < DISPERSE_SETTLE_MS) return { healed: false, startFullHeal: false, why: 'full self-heal settling' };
  return { healed: true };
}

function replicateVerdict(pending: number, statistics: HealVerdictInput['statistics'], replacedAt: number, now: number): HealVerdict {
  // Usually brief (glusterd restarts the self-heal daemons after a replace-brick); glusterd's words say where when it lasts.
  if (!Array.isArray(statistics)) {
    const why = `crawl statistics unavailable: ${statistics?.unavailable ?? 'no answer'}`;
    if (now - replacedAt < STUCK_STATISTICS_MS) return { healed: false, startFullHeal: false, why };
    return {
      healed: false,
      startFullHeal: false,
      why:
        `${why}; ${Math.floor((now - replacedAt) / 60_000)} minutes since the replacement, so the self-heal daemon of the node glusterd names is ` +
        'likely detached from the volume: restart glusterd there (systemctl restart glusterd on an External server, whose bricks keep running; ' +
        'on an InCluster node, deleting its glusterd pod restarts that node\'s bricks too, so only while the volume\'s other bricks are up)',
    };
  }
  const full = statistics.flatMap((brick) => brick.crawls.filter((crawl) => crawl.type === 'FULL').map((crawl) => ({ brick: brick.brick, crawl })));
  if (full.some(({ crawl }) => crawl.inProgress)) return { healed: false, startFullHeal: false, why: 'full self-heal crawl running' };
  const after = full.filter(({ crawl }) => startedAfter(crawl, replacedAt));
  if (after.length === 0) {
    const since = new Date(replacedAt).toISOString();
    return { healed: false, startFullHeal: true, why: `starting a full self-heal crawl (none has started since the replacement at ${since})` };
  }
  // The latest full crawl of each brick is what the new brick holds now; an older failed one was superseded.
  const latest = [...Map.groupBy(after, ({ brick }) => brick).values()].map((crawls) =>
    crawls.map(({ crawl }) => crawl).reduce((a, b) => (Date.parse(b.startedAt!) >= Date.parse(a.startedAt!) ? b : a)),
  );
  const failed = latest.reduce((sum, crawl) => sum + crawl.failed, 0);
  const splitBrain = latest.reduce((sum, crawl) => sum + crawl.splitBrain, 0);
  if (failed > 0 || splitBrain > 0) {
    return { healed: false, startFullHeal: true, why: `the full self-heal crawl after the replacement ended with ${failed} failed and ${splitBrain} split-brain entries; crawling again` };
  }
  if (pending > 0) return { healed: false, startFullHeal: false, why: `${pending} entries pending heal` };
  return { healed: true };
}

function startedAfter(crawl: HealCrawl, at: number): boolean {
  return crawl.startedAt !== null && Date.parse(crawl.startedAt) > at;
}
