import { expect } from 'chai';
import { DISPERSE_SETTLE_MS, replacementHealVerdict, STUCK_STATISTICS_MS } from '../../src/gluster/heal-progress.ts';
import { fullCrawlState, parseHealStatistics } from '../../src/gluster/parsers/heal-statistics.ts';
import { fixture } from './gluster-fake-transport.ts';

// Fixtures: real `gluster volume heal <vol> statistics` output of glusterd 10.3 on the test bed, captured
// right after a replace-brick of a replica-2 volume (a full crawl running) and after it ended.
describe('self-heal crawl statistics', () => {
  it('reads every brick section with its crawls, type, progress and counts', () => {
    const done = parseHealStatistics(fixture('gluster/heal-statistics-rep2-full-done.txt'));
    expect(done.map((brick) => [brick.brick, brick.host, brick.crawls.length])).to.deep.equal([
      [0, '10.77.0.11', 2],
      [1, '10.77.0.13', 2],
    ]);
    expect(done[1]!.crawls[1]).to.deep.equal({ type: 'FULL', startedAt: '2026-11-22T02:24:05.000Z', inProgress: false, healed: 41, splitBrain: 0, failed: 0 });
    expect(done[1]!.crawls[0]).to.deep.equal({ type: 'INDEX', startedAt: '2026-11-22T02:24:04.000Z', inProgress: false, healed: 0, splitBrain: 0, failed: 1 });
    const running = parseHealStatistics(fixture('gluster/heal-statistics-rep2-full-in-progress.txt'));
    expect(running[1]!.crawls[1]).to.include({ type: 'FULL', inProgress: true, healed: 4 });
  });

  it('tells whether a full crawl ran to its end', () => {
    expect(fullCrawlState(parseHealStatistics(fixture('gluster/heal-statistics-rep2-full-done.txt')))).to.equal('finished');
    expect(fullCrawlState(parseHealStatistics(fixture('gluster/heal-statistics-rep2-full-in-progress.txt')))).to.equal('running');
    expect(fullCrawlState(parseHealStatistics(fixture('gluster/heal-statistics-rep2-full-in-progress-later.txt')))).to.equal('running');
    // Only index crawls so far: what the daemons show right after a replace-brick.
    const indexOnly = parseHealStatistics(fixture('gluster/heal-statistics-rep2-full-done.txt')).map((brick) => ({ ...brick, crawls: brick.crawls.filter((c) => c.type === 'INDEX') }));
    expect(fullCrawlState(indexOnly)).to.equal('none');
  });

  it('refuses output it cannot read instead of guessing', () => {
    expect(() => parseHealStatistics('Crawl statistics for brick no 0\nHostname of brick h\nStarting time of crawl: x\nType of crawl: WEIRD\n')).to.throw(/unknown crawl type WEIRD/);
    expect(parseHealStatistics(fixture('gluster/heal-statistics-disperse-unsupported.txt'))).to.deep.equal([]);
  });
});

describe('when a replaced brick counts as filled', () => {
  const done = parseHealStatistics(fixture('gluster/heal-statistics-rep2-full-done.txt'));
  const running = parseHealStatistics(fixture('gluster/heal-statistics-rep2-full-in-progress.txt'));
  const indexOnly = done.map((brick) => ({ ...brick, crawls: brick.crawls.filter((c) => c.type === 'INDEX') }));
  // The fixture's full crawl started at 02:24:05.
  const replacedAt = Date.parse('2026-11-22T02:24:00Z');
  const now = Date.parse('2026-11-22T02:30:00Z');
  const replicate = { durability: 'Replicate' as const, replacedAt, now };
  const withFull = (statistics: typeof done, change: Partial<(typeof done)[number]['crawls'][number]>) =>
    statistics.map((brick) => ({ ...brick, crawls: brick.crawls.map((c) => (c.type === 'FULL' ? { ...c, ...change } : c)) }));

  it('replicate: an empty heal index right after the replace is not enough — a full crawl is started first', () => {
    expect(replacementHealVerdict({ ...replicate, pending: 0, statistics: indexOnly })).to.include({ healed: false, startFullHeal: true });
    expect(replacementHealVerdict({ ...replicate, pending: 0, statistics: running })).to.include({ healed: false, startFullHeal: false });
    expect(replacementHealVerdict({ ...replicate, pending: 3, statistics: done })).to.deep.equal({ healed: false, startFullHeal: false, why: '3 entries pending heal' });
    expect(replacementHealVerdict({ ...replicate, pending: 0, statistics: done })).to.deep.equal({ healed: true });
  });

  it('replicate: a full crawl counts only when it started after the replacement (same second or earlier: crawl again)', () => {
    const later = Date.parse('2026-11-22T02:24:05Z');
    expect(replacementHealVerdict({ ...replicate, replacedAt: later, pending: 0, statistics: done })).to.include({ healed: false, startFullHeal: true });
    expect(replacementHealVerdict({ ...replicate, replacedAt: later + 60_000, pending: 0, statistics: done })).to.include({ healed: false, startFullHeal: true });
    expect(replacementHealVerdict({ ...replicate, pending: 0, statistics: withFull(done, { startedAt: null }) })).to.include({ healed: false, startFullHeal: true });
  });

  it('replicate: a crawl that ended with failed or split-brain entries is not a finished heal', () => {
    const failed = replacementHealVerdict({ ...replicate, pending: 0, statistics: withFull(done, { failed: 2 }) });
    expect(failed).to.include({ healed: false, startFullHeal: true });
    expect(failed).to.have.property('why').that.matches(/2 failed/);
    expect(replacementHealVerdict({ ...replicate, pending: 0, statistics: withFull(done, { splitBrain: 1 }) }).healed).to.equal(false);
  });

  it('replicate: unknown is never healed (a brick not connected, statistics unavailable)', () => {
    expect(replacementHealVerdict({ ...replicate, pending: null, statistics: done }).healed).to.equal(false);
    expect(replacementHealVerdict({ ...replicate, pending: 0, statistics: null }).healed).to.equal(false);
    const unavailable = 'Staging failed on 10.77.0.13. Error: Self-heal daemon is not running. Check self-heal daemon log file.';
    expect(replacementHealVerdict({ ...replicate, pending: 0, statistics: { unavailable } })).to.deep.equal({
      healed: false,
      startFullHeal: false,
      why: `crawl statistics unavailable: ${unavailable}`,
    });
  });

  it('replicate: statistics unavailable long after the replacement say what to do about a detached self-heal daemon, and still wait', () => {
    const unavailable = 'Staging failed on 10.77.0.13. Error: Self-heal daemon is not running. Check self-heal daemon log file.';
    const justBefore = replacementHealVerdict({ ...replicate, now: replacedAt + STUCK_STATISTICS_MS - 1, pending: 0, statistics: { unavailable } });
    expect(justBefore).to.have.property('why', `crawl statistics unavailable: ${unavailable}`);
    const stuck = replacementHealVerdict({ ...replicate, now: replacedAt + STUCK_STATISTICS_MS + 60_000, pending: 0, statistics: { unavailable } });
    expect(stuck).to.include({ healed: false, startFullHeal: false });
    expect(stuck).to.have.property('why').that.includes(unavailable).and.matches(/11 minutes since the replacement/).and.matches(/restart glusterd there/);
  });

  it('disperse: full heal started after the replacement, nothing pending, and a settle time passed', () => {
    const disperse = { durability: 'Disperse' as const, statistics: null, replacedAt, now };
    expect(replacementHealVerdict({ ...disperse, pending: 0 })).to.include({ healed: false, startFullHeal: true });
    expect(replacementHealVerdict({ ...disperse, pending: 0, fullHealStartedAt: replacedAt - 1 })).to.include({ healed: false, startFullHeal: true });
    expect(replacementHealVerdict({ ...disperse, pending: 0, fullHealStartedAt: replacedAt })).to.include({ healed: false, startFullHeal: true });
    expect(replacementHealVerdict({ ...disperse, pending: 0, fullHealStartedAt: now - 1_000 })).to.include({ healed: false, startFullHeal: false });
    expect(replacementHealVerdict({ ...disperse, pending: 2, fullHealStartedAt: now - DISPERSE_SETTLE_MS * 2 }).healed).to.equal(false);
    expect(replacementHealVerdict({ ...disperse, pending: 0, fullHealStartedAt: now - DISPERSE_SETTLE_MS })).to.deep.equal({ healed: true });
  });
});
