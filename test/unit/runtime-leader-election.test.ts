import { expect } from 'chai';
import { canAcquire } from '../../src/runtime/leader-election.ts';

describe('runtime: leader election decision', () => {
  const now = Date.parse('2026-01-01T00:00:30Z');
  const lease = (holder: string | undefined, renewTime: string) => ({
    spec: { holderIdentity: holder, renewTime: new Date(renewTime), leaseDurationSeconds: 15 },
  });

  it('takes a free lease or keeps its own', () => {
    expect(canAcquire(undefined, 'a', now, 15_000)).to.equal(true);
    expect(canAcquire(lease(undefined, '2026-01-01T00:00:29Z'), 'a', now, 15_000)).to.equal(true);
    expect(canAcquire(lease('a', '2026-01-01T00:00:29Z'), 'a', now, 15_000)).to.equal(true);
  });

  it('waits for another holder until its lease expired', () => {
    expect(canAcquire(lease('b', '2026-01-01T00:00:20Z'), 'a', now, 15_000)).to.equal(false);
    expect(canAcquire(lease('b', '2026-01-01T00:00:14Z'), 'a', now, 15_000)).to.equal(true);
  });
});
