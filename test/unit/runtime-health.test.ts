import { expect } from 'chai';
import { operatorReady, type OperatorReadinessState } from '../../src/runtime/health.ts';

describe('operator readiness', () => {
  const base: OperatorReadinessState = { leaderElection: true, leading: false, leaderSeen: false, started: false, synced: false };

  it('a standby is Ready once it has seen the Lease holder, so a 2-replica Deployment becomes available', () => {
    expect(operatorReady(base)).to.equal(false);
    expect(operatorReady({ ...base, leaderSeen: true })).to.equal(true);
  });

  it('the leader is Ready only once its controllers run with synced caches', () => {
    expect(operatorReady({ ...base, leading: true, leaderSeen: true })).to.equal(false);
    expect(operatorReady({ ...base, leading: true, leaderSeen: true, started: true })).to.equal(false);
    expect(operatorReady({ ...base, leading: true, leaderSeen: true, started: true, synced: true })).to.equal(true);
  });

  it('without leader election, Ready means started and synced', () => {
    const single = { ...base, leaderElection: false };
    expect(operatorReady(single)).to.equal(false);
    expect(operatorReady({ ...single, leaderSeen: true })).to.equal(false);
    expect(operatorReady({ ...single, started: true, synced: true })).to.equal(true);
  });
});
