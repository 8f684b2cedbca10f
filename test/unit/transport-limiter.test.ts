import { expect } from 'chai';
import { Semaphore } from '../../src/transport/limiter.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('transport: per-node concurrency limiter', () => {
  it('never runs more than the limit at once and queues the rest in order', async () => {
    const semaphore = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: Array<() => void> = [];
    const tasks = Array.from({ length: 10 }, (_, i) =>
      semaphore.use(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
      }),
    );
    await tick();
    expect(semaphore.active).to.equal(3);
    expect(semaphore.queued).to.equal(7);
    while (order.length < 10 || gates.length > 0) {
      gates.shift()?.();
      await tick();
    }
    await Promise.all(tasks);
    expect(peak).to.equal(3);
    expect(order).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(semaphore.active).to.equal(0);
  });

  it('frees the slot when the task throws', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.use(async () => Promise.reject(new Error('boom'))).catch(() => undefined);
    expect(semaphore.active).to.equal(0);
    expect(await semaphore.use(async () => 42)).to.equal(42);
  });

  it('ignores a second release', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    release();
    release();
    expect(semaphore.active).to.equal(0);
  });

  it('rejects a limit below 1', () => {
    expect(() => new Semaphore(0)).to.throw(RangeError);
  });
});
