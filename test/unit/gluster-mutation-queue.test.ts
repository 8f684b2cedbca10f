import { expect } from 'chai';
import { volumeCreate } from '../../src/gluster/commands/gluster.ts';
import { ClusterExecutor, GlusterCommandError } from '../../src/gluster/executor.ts';
import { MutationQueue, backoffDelayMs, type QueueClock } from '../../src/gluster/mutation-queue.ts';
import { FakeTransport, fixture, has, node1, ok } from './gluster-fake-transport.ts';

/** A clock that records requested sleeps and returns immediately; random is fixed. */
function fakeClock(random = 0.5): QueueClock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { sleeps, random: () => random, sleep: async (ms) => void sleeps.push(ms) };
}

const LOCK_XML = fixture('gluster/error-another-transaction.xml');
const CREATED_XML = fixture('gluster/volume-create.xml');
const create = (name: string) => volumeCreate({ name, layout: { kind: 'distribute' }, bricks: [`10.77.0.11:/bricks/${name}`] });

describe('MutationQueue: one mutation at a time per cluster, bounded retry with backoff', () => {
  it('retries the real glusterd lock error N times, then succeeds; delays grow exponentially with jitter', async () => {
    const transport = new FakeTransport().reply(has('volume', 'create'), ok(LOCK_XML), 3).reply(has('volume', 'create'), ok(CREATED_XML));
    const clock = fakeClock(0.5);
    const retries: number[] = [];
    const queue = new MutationQueue({ clock, backoff: { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 5 }, onRetry: ({ attempt }) => void retries.push(attempt) });
    const executor = new ClusterExecutor({ transport, queue, clusterKey: 'c1' });
    const result = await executor.run(node1, create('v1'));
    expect(result.name).to.equal('t3a-fx-dist2');
    expect(transport.calls).to.have.length(4);
    expect(clock.sleeps).to.deep.equal([50, 100, 200]);
    expect(retries).to.deep.equal([1, 2, 3]);
  });

  it('gives up after maxAttempts and surfaces the retryable error with the glusterd text', async () => {
    const transport = new FakeTransport().reply(has('volume', 'create'), ok(LOCK_XML));
    const queue = new MutationQueue({ clock: fakeClock(), backoff: { maxAttempts: 3 } });
    const executor = new ClusterExecutor({ transport, queue, clusterKey: 'c1' });
    const error = (await executor.run(node1, create('v1')).catch((e: unknown) => e)) as GlusterCommandError;
    expect(error).to.be.instanceOf(GlusterCommandError);
    expect(error).to.include({ errorClass: 'retryable', reason: 'lock-busy' });
    expect(error.message).to.contain('Another transaction is in progress');
    expect(transport.calls).to.have.length(3);
  });

  it('does not retry permanent errors', async () => {
    const transport = new FakeTransport().reply(has('volume', 'create'), ok(fixture('gluster/error-volume-exists.xml')));
    const executor = new ClusterExecutor({ transport, queue: new MutationQueue({ clock: fakeClock() }), clusterKey: 'c1' });
    await executor.run(node1, create('v1')).catch(() => undefined);
    expect(transport.calls).to.have.length(1);
  });

  it('serializes 20 concurrent callers per cluster, in order, and none sees the lock error', async () => {
    // A fake glusterd: any overlap of two mutations answers the real lock error, as glusterd does.
    let busy = false;
    const transport = new FakeTransport().reply(has('volume', 'create'), async () => {
      if (busy) return ok(LOCK_XML);
      busy = true;
      await new Promise((resolve) => setTimeout(resolve, 1));
      busy = false;
      return ok(CREATED_XML);
    });
    const executor = new ClusterExecutor({ transport, queue: new MutationQueue({ clock: fakeClock() }), clusterKey: 'c1' });
    const names = Array.from({ length: 20 }, (_, i) => `v${i}`);
    const results = await Promise.allSettled(names.map((name) => executor.run(node1, create(name))));
    expect(results.filter((r) => r.status === 'rejected')).to.be.empty;
    expect(transport.calls).to.have.length(20);
    expect(transport.calls.map((c) => c.argv[5])).to.deep.equal(names);
  });

  it('runs different clusters in parallel and keeps going after a failure', async () => {
    const order: string[] = [];
    const queue = new MutationQueue({ clock: fakeClock() });
    const step = (label: string, ms: number, fail = false) => async () => {
      order.push(`start ${label}`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      order.push(`end ${label}`);
      if (fail) throw new Error(label);
      return label;
    };
    const a1 = queue.run('a', step('a1', 10, true));
    const a2 = queue.run('a', step('a2', 1));
    const b1 = queue.run('b', step('b1', 1));
    await Promise.allSettled([a1, a2, b1]);
    expect(await a2).to.equal('a2');
    await a1.then(() => expect.fail('a1 should fail'), (e: Error) => expect(e.message).to.equal('a1'));
    expect(order.indexOf('start b1')).to.be.lessThan(order.indexOf('end a1'));
    expect(order.indexOf('start a2')).to.be.greaterThan(order.indexOf('end a1'));
    expect(queue.activeKeys).to.equal(0);
  });

  it('backoffDelayMs caps the exponential and uses full jitter', () => {
    const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(policy, attempt, () => 0.999))).to.deep.equal([99, 199, 399, 799, 999, 999]);
    expect(backoffDelayMs(policy, 3, () => 0)).to.equal(0);
  });
});
