import { expect } from 'chai';
import { eventually, giveUp, notYet, WaitError } from '../support/eventually.ts';

async function failureOf(promise: Promise<unknown>): Promise<WaitError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(WaitError);
    return error as WaitError;
  }
  expect.fail('the wait succeeded');
}

describe('test support: eventually', () => {
  it('returns the first value the check finishes with', async () => {
    let calls = 0;
    const value = await eventually('three calls', async () => (++calls === 3 ? { calls } : notYet(calls)), { timeoutMs: 5_000, intervalMs: 1 });
    expect(value).to.deep.equal({ calls: 3 });
  });

  it('a timeout says what was awaited, how long it waited, the last observation and the last error', async () => {
    let calls = 0;
    const started = Date.now();
    const error = await failureOf(
      eventually('rebalance completed', async () => {
        calls += 1;
        if (calls === 2) throw new Error('Another transaction is in progress for v. Please try again after some time.');
        return notYet({ aggregate: 'in progress', nodes: [`localhost: completed`, `10.77.0.12: in progress (call ${calls})`] });
      }, { timeoutMs: 120, intervalMs: 5 }),
    );
    const elapsed = Date.now() - started;
    expect(error.message).to.match(/^timed out after \d+\.\d s waiting for rebalance completed \(\d+ attempts\)/);
    // The last observation, not the first.
    expect(error.message).to.include(`last saw (attempt ${calls}, at `);
    expect(error.message).to.include(`'10.77.0.12: in progress (call ${calls})'`);
    expect(error.message).to.include("aggregate: 'in progress'");
    // The last error, even though later calls succeeded.
    expect(error.message).to.match(/last error \(attempt 2, at \d+\.\d s\): Error: Another transaction is in progress for v\./);
    expect(error.what).to.equal('rebalance completed');
    expect(error.attempts).to.equal(calls);
    expect(error.elapsedMs).to.be.at.least(120).and.at.most(elapsed);
    expect(error.lastSeen).to.deep.include({ aggregate: 'in progress' });
    expect((error.cause as Error).message).to.match(/^Another transaction/);
  });

  it('a check that only throws reports its last error, and that it never saw anything', async () => {
    let calls = 0;
    const error = await failureOf(
      eventually('PV gone', async () => {
        calls += 1;
        throw new Error(`connect ECONNREFUSED (call ${calls})`);
      }, { timeoutMs: 30, intervalMs: 5 }),
    );
    expect(error.message).to.include('last saw: nothing');
    expect(error.message).to.include(`Error: connect ECONNREFUSED (call ${calls})`);
    expect(error.lastSeen).to.equal(undefined);
  });

  it('giveUp ends the wait at once, with its reason and what the check saw', async () => {
    let calls = 0;
    const started = Date.now();
    const error = await failureOf(
      eventually('rebalance completed', async () => {
        calls += 1;
        if (calls === 1) return notYet('in progress');
        return giveUp('a node failed', { localhost: 'failed', '10.77.0.12': 'in progress' });
      }, { timeoutMs: 60_000, intervalMs: 1 }),
    );
    expect(Date.now() - started).to.be.below(5_000);
    expect(calls).to.equal(2);
    expect(error.message).to.match(/^gave up waiting for rebalance completed after \d+\.\d s: a node failed \(2 attempts\); last saw \(attempt 2, /);
    expect(error.message).to.include("localhost: 'failed'");
  });

  it('giveUp without an observation keeps the last one the check returned', async () => {
    let calls = 0;
    const error = await failureOf(eventually('x', async () => (++calls < 3 ? notYet(`seen ${calls}`) : giveUp('stalled')), { intervalMs: 1 }));
    expect(error.message).to.include('last saw (attempt 2, at ');
    expect(error.message).to.include('seen 2');
  });

  it('cuts a long observation instead of flooding the report', async () => {
    const error = await failureOf(eventually('big', async () => notYet('x'.repeat(10_000)), { timeoutMs: 1, intervalMs: 1 }));
    expect(error.message.length).to.be.below(2_500);
    expect(error.message).to.include('(10000 chars)');
  });

  it('still accepts the old form (number timeout, undefined for not yet)', async () => {
    const error = await failureOf(eventually('old style', async () => undefined, 20));
    expect(error.message).to.match(/^timed out after \d+\.\d s waiting for old style/);
    expect(error.message).to.include('last saw: nothing');
  });
});
