/**
 * `gluster volume heal <name> statistics` (text only: the command has no --xml form). One section per
 * brick ("Crawl statistics for brick no N"), each with the self-heal daemon's crawls since it last started:
 * when, INDEX or FULL, and whether still running. glusterd restarts the self-heal daemons whenever a
 * volume's graph changes (replace-brick does), so every crawl listed after a replace-brick came after it.
 */
export interface HealCrawl {
  type: 'INDEX' | 'FULL';
  /**
   * When the crawl started (ISO 8601), null when the line cannot be read. glusterd prints ctime(3), the
   * node's local time with no zone; it is read as UTC, the zone glusterd runs in in its image and on the test
   * bed. Callers compare it with their own clock only as a second guard (see heal-progress.ts).
   */
  startedAt: string | null;
  inProgress: boolean;
  healed: number;
  splitBrain: number;
  failed: number;
}

export interface BrickCrawlStatistics {
  brick: number;
  host: string;
  crawls: HealCrawl[];
}

const count = (block: string, label: RegExp): number => Number(label.exec(block)?.[1] ?? 0);

export function parseHealStatistics(text: string): BrickCrawlStatistics[] {
  const sections = text.split(/^Crawl statistics for brick no /m).slice(1);
  return sections.map((section) => {
    const [header = '', ...rest] = section.split(/^Starting time of crawl:/m);
    const brick = Number(/^(\d+)/.exec(header)?.[1] ?? NaN);
    const host = /Hostname of brick (\S+)/.exec(header)?.[1] ?? '';
    const crawls = rest.map((block): HealCrawl => {
      const type = /Type of crawl: (\w+)/.exec(block)?.[1];
      if (type !== 'INDEX' && type !== 'FULL') throw new Error(`heal statistics: unknown crawl type ${type ?? '(none)'} for brick ${brick}`);
      return {
        type,
        startedAt: ctimeAsUtc(block.split('\n', 1)[0]!.trim()),
        inProgress: /Crawl is in progress/.test(block),
        healed: count(block, /No\. of entries healed: (\d+)/),
        splitBrain: count(block, /No\. of entries in split-brain: (\d+)/),
        failed: count(block, /No\. of heal failed entries: (\d+)/),
      };
    });
    if (!Number.isInteger(brick) || !host) throw new Error(`heal statistics: unreadable brick header ${JSON.stringify(header.slice(0, 80))}`);
    return { brick, host, crawls };
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Sun Nov 22 02:24:04 2026` (ctime) as an ISO timestamp in UTC; null for anything else. */
export function ctimeAsUtc(text: string): string | null {
  const match = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(text);
  if (!match) return null;
  const [, month, day, hours, minutes, seconds, year] = match;
  const index = MONTHS.indexOf(month!);
  if (index < 0) return null;
  const at = new Date(Date.UTC(Number(year), index, Number(day), Number(hours), Number(minutes), Number(seconds)));
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

/**
 * Has a full crawl run to its end since the daemons last started, with nothing running now? Then every
 * entry of the healthy bricks has been compared with the new brick (and healed or listed by heal info).
 */
export function fullCrawlState(statistics: BrickCrawlStatistics[]): 'none' | 'running' | 'finished' {
  const full = statistics.flatMap((brick) => brick.crawls.filter((crawl) => crawl.type === 'FULL'));
  if (full.some((crawl) => crawl.inProgress)) return 'running';
  return full.length > 0 ? 'finished' : 'none';
}
