import { expect } from 'chai';
import { CoalescingWriter } from '../../src/topology/backup/coalescing-writer.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A save that takes `latencyMs`, records what it wrote, and can be told to fail. */
function fakeSave(latencyMs: number) {
  const written: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let failNext = 0;
  return {
    written,
    get maxInFlight() {
      return maxInFlight;
    },
    failTimes(n: number) {
      failNext = n;
    },
    save: async (generation: number) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await sleep(latencyMs);
        if (failNext > 0) {
          failNext--;
          throw new Error('apiserver unavailable');
        }
        written.push(generation);
      } finally {
        inFlight--;
      }
    },
  };
}

describe('coalescing backup writer', () => {
  it('100 rapid commits produce a handful of writes, one at a time, and the last state is written', async () => {
    const target = fakeSave(15);
    const writer = new CoalescingWriter<number>({ save: target.save, delayMs: 10, minIntervalMs: 20 });
    for (let generation = 1; generation <= 100; generation++) {
      writer.schedule(generation);
      if (generation % 10 === 0) await tick(); // commits arrive over several event-loop turns
    }
    await writer.flush();
    expect(target.written.length).to.be.at.least(1).and.at.most(3);
    expect(target.written.at(-1)).to.equal(100);
    expect(target.maxInFlight).to.equal(1);
    expect(writer.stats).to.include({ scheduled: 100, writes: target.written.length, failures: 0 });
  });

  it('commits spread over time are written at most once per interval, in increasing order, ending with the last', async () => {
    const target = fakeSave(5);
    const writer = new CoalescingWriter<number>({ save: target.save, delayMs: 10, minIntervalMs: 50 });
    for (let generation = 1; generation <= 60; generation++) {
      writer.schedule(generation);
      await sleep(5);
    }
    await writer.flush();
    // ~300 ms of commits at one write per 50 ms: about 6-8 writes instead of 60.
    expect(target.written.length).to.be.at.most(10);
    expect(target.written).to.deep.equal([...target.written].sort((a, b) => a - b));
    expect(target.written.at(-1)).to.equal(60);
  });

  it('retries a failed write with backoff and still ends on the newest state', async () => {
    const target = fakeSave(1);
    const errors: unknown[] = [];
    const writer = new CoalescingWriter<number>({ save: target.save, delayMs: 1, minIntervalMs: 1, retryBaseMs: 5, onError: (e) => errors.push(e) });
    target.failTimes(2);
    writer.schedule(1);
    await sleep(3);
    writer.schedule(2);
    await sleep(100);
    expect(errors).to.have.length(2);
    expect(target.written.at(-1)).to.equal(2);
    expect(writer.busy).to.equal(false);
    expect(writer.error).to.equal(undefined);
  });

  it('flush rejects when the write fails, and the writer keeps trying in the background', async () => {
    const target = fakeSave(1);
    const writer = new CoalescingWriter<number>({ save: target.save, delayMs: 1, minIntervalMs: 1, retryBaseMs: 5 });
    target.failTimes(1);
    writer.schedule(7);
    let rejected: unknown;
    await writer.flush().catch((e) => (rejected = e));
    expect(String(rejected)).to.match(/unavailable/);
    await sleep(50);
    expect(target.written).to.deep.equal([7]);
  });

  it('drops a state that a fatal error says can never be written', async () => {
    const target = fakeSave(1);
    const writer = new CoalescingWriter<number>({
      save: async (g) => {
        if (g === 1) throw new Error('stale');
        await target.save(g);
      },
      delayMs: 1,
      retryBaseMs: 5,
      isFatal: (e) => String(e).includes('stale'),
    });
    writer.schedule(1);
    await writer.flush().catch(() => undefined);
    expect(writer.busy).to.equal(false);
    writer.schedule(2);
    await writer.flush();
    expect(target.written).to.deep.equal([2]);
  });

  it('stop flushes and then refuses new states', async () => {
    const target = fakeSave(1);
    const writer = new CoalescingWriter<number>({ save: target.save, delayMs: 1000 });
    writer.schedule(5);
    await writer.stop(); // does not wait out the 1 s gathering delay
    expect(target.written).to.deep.equal([5]);
    expect(() => writer.schedule(6)).to.throw(/stopped/);
  });
});
