import { expect } from 'chai';
import { DISPERSE_SETTLE_MS, replacementHealVerdict } from '../../src/gluster/heal-progress.ts';
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
    expect(done[1]!.crawls[1]).to.deep.equal({ type: 'FULL', inProgress: false, healed: 41, splitBrain: 0, failed: 0 });
    expect(done[1]!.crawls[0]).to.deep.equal({ type: 'INDEX', inProgress: false, healed: 0, splitBrain: 0, failed: 1 });
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

  it('replicate: an empty heal index right after the replace is not enough — a full crawl is started first', () => {
    expect(replacementHealVerdict({ durability: 'Replicate', pending: 0, statistics: indexOnly })).to.deep.equal({ healed: false, startFullHeal: true, why: 'starting a full self-heal crawl' });
    expect(replacementHealVerdict({ durability: 'Replicate', pending: 0, statistics: running })).to.include({ healed: false, startFullHeal: false });
    expect(replacementHealVerdict({ durability: 'Replicate', pending: 3, statistics: done })).to.deep.equal({ healed: false, startFullHeal: false, why: '3 entries pending heal' });
    expect(replacementHealVerdict({ durability: 'Replicate', pending: 0, statistics: done })).to.deep.equal({ healed: true });
  });

  it('replicate: unknown is never healed (a brick not connected, statistics unavailable)', () => {
    expect(replacementHealVerdict({ durability: 'Replicate', pending: null, statistics: done }).healed).to.equal(false);
    expect(replacementHealVerdict({ durability: 'Replicate', pending: 0, statistics: null }).healed).to.equal(false);
  });

  it('disperse: full heal started, nothing pending, and a settle time passed', () => {
    expect(replacementHealVerdict({ durability: 'Disperse', pending: 0, statistics: null })).to.include({ healed: false, startFullHeal: true });
    expect(replacementHealVerdict({ durability: 'Disperse', pending: 0, statistics: null, fullHealStartedMsAgo: 1_000 })).to.include({ healed: false, startFullHeal: false });
    expect(replacementHealVerdict({ durability: 'Disperse', pending: 2, statistics: null, fullHealStartedMsAgo: DISPERSE_SETTLE_MS * 2 }).healed).to.equal(false);
    expect(replacementHealVerdict({ durability: 'Disperse', pending: 0, statistics: null, fullHealStartedMsAgo: DISPERSE_SETTLE_MS })).to.deep.equal({ healed: true });
  });
});
