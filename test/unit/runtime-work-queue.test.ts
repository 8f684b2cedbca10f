import { expect } from 'chai';
import { backoffDelay } from '../../src/runtime/backoff.ts';
import { WorkQueue } from '../../src/runtime/work-queue.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls instead of sleeping a fixed time, so a loaded CI machine slows the test down but does not fail it. */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

function queue(concurrency = 4, baseMs = 10, maxMs = 80) {
  return new WorkQueue({ concurrency, backoff: { baseMs, maxMs }, random: () => 0 });
}

describe('runtime: work queue', () => {
  it('of two delayed adds of one key, the one due first wins (a long requeue does not hide a short one)', async () => {
    const q = queue();
    const runs: number[] = [];
    const started = Date.now();
    q.start(async () => void runs.push(Date.now() - started));
    q.addAfter('a', 60_000); // a steady-state requeue
    q.addAfter('a', 20); // a coalesced related change
    q.addAfter('a', 30_000); // later ones do not push it back
    await until(() => runs.length === 1);
    expect(runs[0]).to.be.below(5_000);
    await sleep(50);
    expect(runs).to.have.length(1);
    await q.stop();
  });

  it('runs a key that was added several times while waiting once', async () => {
    const q = queue();
    q.add('a');
    q.add('a');
    q.add('a');
    const runs: string[] = [];
    q.start(async (key) => void runs.push(key));
    await q.idle();
    expect(runs).to.deep.equal(['a']);
  });

  it('never runs one key twice at once, and runs it again when it was added during a run', async () => {
    const q = queue();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    q.start(async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      runs += 1;
      await sleep(20);
      running -= 1;
    });
    q.add('k');
    await sleep(5);
    q.add('k');
    q.add('k');
    await sleep(60);
    await q.idle();
    expect(maxRunning).to.equal(1);
    expect(runs).to.equal(2);
  });

  it('bounds concurrency across keys', async () => {
    const q = queue(3);
    let running = 0;
    let maxRunning = 0;
    q.start(async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await sleep(10);
      running -= 1;
    });
    for (let i = 0; i < 20; i += 1) q.add(`k${i}`);
    await sleep(5);
    await q.idle();
    expect(maxRunning).to.equal(3);
  });

  it('backs a failing key off exponentially while other keys proceed', async () => {
    const delays: number[] = [];
    const q = new WorkQueue({ concurrency: 2, backoff: { baseMs: 10, maxMs: 40 }, random: () => 0, onError: (_k, _e, ms) => delays.push(ms) });
    let attempts = 0;
    const done: string[] = [];
    q.start(async (key) => {
      if (key === 'bad') {
        attempts += 1;
        if (attempts < 5) throw new Error('glusterd busy');
      }
      done.push(key);
    });
    q.add('bad');
    q.add('good');
    await sleep(5);
    expect(done).to.deep.equal(['good']);
    await until(() => done.length === 2);
    expect(attempts).to.equal(5);
    expect(delays).to.deep.equal([10, 20, 40, 40]);
    expect(done).to.deep.equal(['good', 'bad']);
  });

  it('requeues after the delay a reconciler asks for', async () => {
    const q = queue();
    const times: number[] = [];
    q.start(async () => {
      times.push(Date.now());
      return times.length < 2 ? { requeueAfterMs: 30 } : undefined;
    });
    q.add('k');
    await until(() => times.length === 2);
    await sleep(50);
    expect(times).to.have.length(2);
    expect(times[1]! - times[0]!).to.be.at.least(25);
  });

  it('stop() waits for in-flight work and takes no more', async () => {
    const q = queue();
    let finished = false;
    q.start(async () => {
      await sleep(30);
      finished = true;
    });
    q.add('k');
    await sleep(5);
    await q.stop();
    expect(finished).to.equal(true);
    q.add('later');
    expect(q.length).to.equal(0);
  });

  it('computes capped exponential backoff', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(policy, n, () => 0))).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(policy, 1, () => 1)).to.equal(110);
  });
});
