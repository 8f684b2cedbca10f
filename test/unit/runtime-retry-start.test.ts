import { expect } from 'chai';
import { retryUntilStarted } from '../../src/runtime/retry-start.ts';

describe('retryUntilStarted (operator start-up)', () => {
  const backoff = { baseMs: 1, maxMs: 4 };

  it('retries failures with growing, capped delays until start succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retryUntilStarted(
      async () => {
        calls += 1;
        if (calls < 5) throw new Error(`storage is (re)initializing (${calls})`);
        return 'running';
      },
      { backoff, signal: new AbortController().signal, onFailure: (_error, _attempt, retryInMs) => delays.push(retryInMs), random: () => 0 },
    );
    expect(result).to.equal('running');
    expect(calls).to.equal(5);
    expect(delays).to.deep.equal([1, 2, 4, 4]);
  });

  it('stops retrying when aborted, also in the middle of a wait', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const result = await retryUntilStarted(
      async () => {
        calls += 1;
        throw new Error('forbidden');
      },
      { backoff: { baseMs: 60_000, maxMs: 60_000 }, signal: controller.signal, onFailure: () => setTimeout(() => controller.abort(), 10) },
    );
    expect(result).to.equal(undefined);
    expect(calls).to.equal(1);
    expect(Date.now() - started).to.be.below(5_000);
  });
});
