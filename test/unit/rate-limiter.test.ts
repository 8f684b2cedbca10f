import { expect } from 'chai';
import { KeyedRateLimiter, type KeyedRateLimiterOptions } from '../../src/runtime/rate-limiter.ts';
import { FakeClock, flush } from './fake-clock.ts';

/** A call that records when it started and runs until the test ends it. */
interface Held {
  result: Promise<string>;
  end(): void;
  fail(error: Error): void;
}

function setUp(options: Omit<KeyedRateLimiterOptions, 'clock'>) {
  const clock = new FakeClock();
  const waits: string[] = [];
  const limiter = new KeyedRateLimiter({ ...options, clock, onWait: (key, ms) => void waits.push(`${key}:${ms}`) });
  const started: string[] = [];
  /** A call that ends as soon as it starts. */
  const quick = (key: string, label: string) =>
    limiter.run(key, async () => {
      started.push(`${label}@${clock.now()}`);
      return label;
    });
  const held = (key: string, label: string): Held => {
    const gate: { end?: () => void; fail?: (error: Error) => void } = {};
    const result = limiter.run(
      key,
      () =>
        new Promise<string>((resolve, reject) => {
          started.push(`${label}@${clock.now()}`);
          gate.end = () => resolve(label);
          gate.fail = reject;
        }),
    );
    return { result, end: () => gate.end!(), fail: (error) => gate.fail!(error) };
  };
  return { clock, limiter, started, waits, quick, held };
}

describe('KeyedRateLimiter: a token bucket and a bound in flight per key (src/runtime/rate-limiter.ts)', () => {
  it('starts a burst at once, then one call per 1/rate seconds, each told how long it waited', async () => {
    const { clock, started, waits, quick } = setUp({ ratePerSecond: 2, burst: 3, maxInFlight: 100 });
    const calls = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((label) => quick('c1', label));
    await clock.advance(0);
    expect(started).to.deep.equal(['a@0', 'b@0', 'c@0']);
    await clock.advance(499);
    expect(started).to.have.length(3);
    await clock.advance(2000);
    expect(await Promise.all(calls)).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(started).to.deep.equal(['a@0', 'b@0', 'c@0', 'd@500', 'e@1000', 'f@1500', 'g@2000']);
    expect(waits).to.deep.equal(['c1:0', 'c1:0', 'c1:0', 'c1:500', 'c1:1000', 'c1:1500', 'c1:2000']);
    // One timer per token short, for the whole deficit; the last until the bucket is full, to drop the key.
    expect(clock.sleeps).to.deep.equal([500, 500, 500, 500, 1500]);
  });

  it('refills no further than the burst however long the key was busy', async () => {
    const { clock, started, quick, held } = setUp({ ratePerSecond: 2, burst: 3, maxInFlight: 100 });
    // A long call keeps the key's state (and its bucket) alive for ten seconds, twenty tokens' worth.
    const long = held('c1', 'long');
    await clock.advance(10_000);
    const calls = ['a', 'b', 'c', 'd'].map((label) => quick('c1', label));
    await clock.advance(499);
    expect(started).to.deep.equal(['long@0', 'a@10000', 'b@10000', 'c@10000']);
    await clock.advance(1);
    long.end();
    await Promise.all([long.result, ...calls]);
    expect(started).to.deep.equal(['long@0', 'a@10000', 'b@10000', 'c@10000', 'd@10500']);
  });

  it('runs at most maxInFlight calls of a key at once, the next starting as one ends', async () => {
    const { clock, limiter, started, held } = setUp({ ratePerSecond: 1000, burst: 10, maxInFlight: 2 });
    const calls = ['a', 'b', 'c', 'd', 'e'].map((label) => held('c1', label));
    await clock.advance(0);
    expect(started).to.deep.equal(['a@0', 'b@0']);
    expect(limiter.stats('c1')).to.include({ running: 2, waiting: 3 });
    await clock.advance(1000);
    expect(started, 'tokens are there, slots are not').to.have.length(2);
    calls[1]!.end();
    await flush();
    expect(started).to.deep.equal(['a@0', 'b@0', 'c@1000']);
    await clock.advance(5);
    calls[0]!.end();
    calls[2]!.end();
    await flush();
    expect(started).to.deep.equal(['a@0', 'b@0', 'c@1000', 'd@1005', 'e@1005']);
    expect(limiter.stats('c1')).to.include({ running: 2, waiting: 0 });
    calls[3]!.end();
    calls[4]!.end();
    expect(await Promise.all(calls.map((call) => call.result))).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
  });

  it('serves callers in arrival order: a later one never takes the token or slot an earlier one waits for', async () => {
    const { clock, started, held, quick } = setUp({ ratePerSecond: 1, burst: 2, maxInFlight: 1 });
    const a = held('c1', 'a');
    const b = quick('c1', 'b');
    await clock.advance(0);
    // A token is left, the slot is not: b waits for the slot, and c, arriving later with a token there, waits behind b.
    const c = quick('c1', 'c');
    await clock.advance(100);
    expect(started).to.deep.equal(['a@0']);
    a.end();
    await clock.advance(0);
    expect(started).to.deep.equal(['a@0', 'b@100']);
    const d = quick('c1', 'd');
    await clock.advance(3000);
    await Promise.all([a.result, b, c, d]);
    // b took the second token at 100, leaving 0.1 of one: a whole one is back at 1000, the next at 2000.
    expect(started).to.deep.equal(['a@0', 'b@100', 'c@1000', 'd@2000']);
  });

  it('keeps keys apart: one key out of tokens and slots holds up no other', async () => {
    const { clock, started, held, quick } = setUp({ ratePerSecond: 1, burst: 1, maxInFlight: 1 });
    const a1 = held('a', 'a1');
    const a2 = quick('a', 'a2');
    const b1 = held('b', 'b1');
    const b2 = quick('b', 'b2');
    await clock.advance(0);
    expect(started).to.deep.equal(['a1@0', 'b1@0']);
    b1.end();
    await clock.advance(1000);
    expect(started).to.deep.equal(['a1@0', 'b1@0', 'b2@1000']);
    a1.end();
    await clock.advance(0);
    await Promise.all([a1.result, a2, b1.result, b2]);
    expect(started).to.deep.equal(['a1@0', 'b1@0', 'b2@1000', 'a2@1000']);
  });

  it('hands a failure to its caller only and frees its slot, whether work rejects or throws', async () => {
    const { clock, limiter, started, held } = setUp({ ratePerSecond: 1000, burst: 10, maxInFlight: 1 });
    const failing = held('c1', 'failing');
    const throwing = limiter.run('c1', (): Promise<string> => {
      started.push(`throwing@${clock.now()}`);
      throw new Error('thrown');
    });
    const next = held('c1', 'next');
    const outcomes = Promise.allSettled([failing.result, throwing, next.result]);
    await clock.advance(0);
    expect(started).to.deep.equal(['failing@0']);
    failing.fail(new Error('boom'));
    await clock.advance(10);
    expect(started).to.deep.equal(['failing@0', 'throwing@0', 'next@0']);
    next.end();
    expect((await outcomes).map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).to.deep.equal(['boom', 'thrown', 'next']);
    await clock.advance(10);
    expect(limiter.stats('c1')).to.equal(undefined);
  });

  it('drops a key\'s state once it is idle and its bucket full again, and a key used again starts with a full bucket', async () => {
    const { clock, limiter, started, quick } = setUp({ ratePerSecond: 4, burst: 2, maxInFlight: 1 });
    await Promise.all([quick('c1', 'a'), quick('c1', 'b')]);
    expect(limiter.activeKeys).to.equal(1);
    await clock.advance(499);
    expect(limiter.stats('c1')).to.include({ running: 0, waiting: 0 });
    expect(limiter.activeKeys).to.equal(1);
    await clock.advance(1);
    expect(limiter.stats('c1')).to.equal(undefined);
    expect(limiter.activeKeys).to.equal(0);
    expect(clock.pending, 'no timer left behind').to.equal(0);
    await Promise.all([quick('c1', 'c'), quick('c1', 'd'), quick('c1', 'e'), clock.advance(250)]);
    expect(started).to.deep.equal(['a@0', 'b@0', 'c@500', 'd@500', 'e@750']);
  });

  it('refuses a rate, burst or bound that is not positive', () => {
    const clock = new FakeClock();
    expect(() => new KeyedRateLimiter({ ratePerSecond: 0, burst: 1, maxInFlight: 1, clock })).to.throw(RangeError, /ratePerSecond/);
    expect(() => new KeyedRateLimiter({ ratePerSecond: 1, burst: 0, maxInFlight: 1, clock })).to.throw(RangeError, /burst/);
    expect(() => new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, maxInFlight: 1.5, clock })).to.throw(RangeError, /maxInFlight/);
  });
});
