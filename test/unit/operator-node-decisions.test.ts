import { expect } from 'chai';
import type { GlusterPeer } from '../../src/gluster/parsers/peer-status.ts';
import { REQUEUE } from '../../src/operator/context.ts';
import type { EvacuationProgress } from '../../src/operator/reconcilers/evacuation-handover.ts';
import {
  classifyDeviceFailure,
  decideAccessGuard,
  decideDetach,
  decideJoin,
  decideNodeDeletion,
  decideNodeRoute,
  detachAddress,
  detachFailedMessage,
  evacuationReport,
  failedNodeReport,
  joiningReport,
  marksFailedOnDeletion,
  nodePhase,
  peerAt,
  PREPARED_DEVICES_TTL_MS,
  preparedStillValid,
  preparesDirectory,
  unreachableReport,
  type JoinWorld,
  type NodeDeletionWorld,
} from '../../src/operator/reconcilers/node-decisions.ts';

const LOCAL: GlusterPeer = { uuid: 'u-self', hostname: 'localhost', hostnames: [], connected: true, state: null, isLocal: true };
const peer = (hostname: string, overrides: Partial<GlusterPeer> = {}): GlusterPeer => ({
  uuid: `u-${hostname}`,
  hostname,
  hostnames: [hostname],
  connected: true,
  state: 'Peer in Cluster',
  isLocal: false,
  ...overrides,
});
const progress = (overrides: Partial<EvacuationProgress> = {}): EvacuationProgress => ({
  done: false,
  remainingBricks: 2,
  healingVolumes: [],
  blocked: [],
  message: '2 brick(s) left',
  ...overrides,
});

describe('GlusterNode decisions', () => {
  describe('decideAccessGuard', () => {
    it('fails with ClusterNotFound when the cluster does not exist', () => {
      expect(decideAccessGuard({ namespace: 'ns', clusterName: 'main', clusterExists: false })).to.deep.equal({
        kind: 'stop',
        report: { phase: { state: 'failed', reason: 'ClusterNotFound', message: 'spec.cluster: GlusterCluster ns/main does not exist' }, fields: {}, warn: false, requeueAfterMs: REQUEUE.waiting },
      });
    });

    it('fails with AccessNotConfigured when access cannot be set up', () => {
      expect(decideAccessGuard({ namespace: 'ns', clusterName: 'main', clusterExists: true, accessError: 'no key' })).to.deep.equal({
        kind: 'stop',
        report: { phase: { state: 'failed', reason: 'AccessNotConfigured', message: 'no key' }, fields: {}, warn: false, requeueAfterMs: REQUEUE.waiting },
      });
    });

    it('proceeds with a cluster and its access', () => {
      expect(decideAccessGuard({ namespace: 'ns', clusterName: 'main', clusterExists: true })).to.deep.equal({ kind: 'proceed' });
    });
  });

  describe('decideNodeRoute', () => {
    const held = [{ field: 'spec.storageAddress', from: '10.0.0.1', to: '10.0.0.9', bricks: 3 }];

    it('a Failed node is evacuated, held change or not', () => {
      expect(decideNodeRoute({ specState: 'Failed', held, heldMessage: 'held' })).to.deep.equal({ kind: 'evacuate' });
    });

    it('a held storageAddress stops before the pool, with a Warning and the bricks that hold it', () => {
      expect(decideNodeRoute({ specState: 'Online', held, heldMessage: 'held' })).to.deep.equal({
        kind: 'stop',
        report: { phase: { state: 'degraded', reason: 'StorageAddressInUse', message: 'held' }, fields: { bricks: 3 }, warn: true, requeueAfterMs: REQUEUE.waiting },
      });
    });

    it('otherwise joins the pool', () => {
      expect(decideNodeRoute({ specState: 'Offline', held: [], heldMessage: '' })).to.deep.equal({ kind: 'join' });
    });
  });

  it('an unreachable node fails with a Warning and the unreachable requeue', () => {
    expect(unreachableReport('timed out')).to.deep.equal({ phase: { state: 'failed', reason: 'Unreachable', message: 'timed out' }, fields: {}, warn: true, requeueAfterMs: REQUEUE.unreachable });
  });

  it('joining not finished is progressing with the peer UUID', () => {
    expect(joiningReport('probing', 'u-self')).to.deep.equal({ phase: { state: 'progressing', reason: 'JoiningPool', message: 'probing' }, fields: { peerUUID: 'u-self' }, warn: false, requeueAfterMs: REQUEUE.waiting });
  });

  describe('peerAt', () => {
    it('finds a peer by its hostname', () => {
      expect(peerAt([LOCAL, peer('10.0.0.2')], '10.0.0.2')?.uuid).to.equal('u-10.0.0.2');
    });

    it('finds a peer by another of its names', () => {
      expect(peerAt([peer('10.0.0.2', { hostnames: ['10.0.0.2', 'b.example'] })], 'b.example')?.uuid).to.equal('u-10.0.0.2');
    });

    it('finds nothing for an unknown address', () => {
      expect(peerAt([LOCAL, peer('10.0.0.2')], '10.0.0.3')).to.equal(undefined);
    });
  });

  describe('decideJoin', () => {
    const base = (overrides: Partial<JoinWorld> = {}): JoinWorld => ({
      node: { name: 'b', address: '10.0.0.2' },
      pool: [LOCAL],
      other: { name: 'c', address: '10.0.0.3' },
      ...overrides,
    });

    it('is joined when our pool already lists the other member, without asking it', () => {
      expect(decideJoin(base({ pool: [LOCAL, peer('10.0.0.3')] }))).to.deep.equal({ kind: 'joined' });
    });

    it('asks the other member for its pool otherwise', () => {
      expect(decideJoin(base())).to.deep.equal({ kind: 'observeOther' });
    });

    it("is joined when the other member's pool lists this node", () => {
      expect(decideJoin(base({ otherPool: [LOCAL, peer('10.0.0.2')] }))).to.deep.equal({ kind: 'joined' });
    });

    it('the anchor (sorting first, both alone) probes the other member from itself', () => {
      expect(decideJoin(base({ otherPool: [LOCAL] }))).to.deep.equal({ kind: 'probe', from: 'self', address: '10.0.0.3' });
    });

    it('a node that sorts after the member is probed from the member', () => {
      expect(decideJoin(base({ node: { name: 'd', address: '10.0.0.4' }, otherPool: [LOCAL] }))).to.deep.equal({ kind: 'probe', from: 'other', address: '10.0.0.4' });
    });

    it('a node that sorts first but is already in a pool is probed from the member', () => {
      expect(decideJoin(base({ pool: [LOCAL, peer('10.0.0.9')], otherPool: [LOCAL] }))).to.deep.equal({ kind: 'probe', from: 'other', address: '10.0.0.2' });
    });

    it('a node that sorts first is probed from a member already in a pool', () => {
      expect(decideJoin(base({ otherPool: [LOCAL, peer('10.0.0.9')] }))).to.deep.equal({ kind: 'probe', from: 'other', address: '10.0.0.2' });
    });
  });

  describe('preparesDirectory', () => {
    it('LVM prepares the listed devices', () => {
      expect(preparesDirectory({ brickBackend: 'LVM' })).to.equal(false);
    });

    for (const brickBackend of ['Directory', 'LoopFile']) {
      it(`${brickBackend} prepares directoryRoot`, () => {
        expect(preparesDirectory({ brickBackend })).to.equal(true);
      });
    }
  });

  describe('preparedStillValid', () => {
    it('reuses a preparation of the same generation within the TTL', () => {
      expect(preparedStillValid({ generation: 3, at: 1000 }, 3, 1000 + PREPARED_DEVICES_TTL_MS - 1)).to.equal(true);
    });

    it('prepares again once the TTL ran out', () => {
      expect(preparedStillValid({ generation: 3, at: 1000 }, 3, 1000 + PREPARED_DEVICES_TTL_MS)).to.equal(false);
    });

    it('prepares again after a spec change', () => {
      expect(preparedStillValid({ generation: 3, at: 1000 }, 4, 1001)).to.equal(false);
    });

    it('prepares when nothing is cached', () => {
      expect(preparedStillValid(undefined, 3, 1001)).to.equal(false);
    });

    it('the TTL is a minute', () => {
      expect(PREPARED_DEVICES_TTL_MS).to.equal(60_000);
    });
  });

  describe('classifyDeviceFailure', () => {
    it('passes a retryable failure on', () => {
      expect(classifyDeviceFailure({ retryable: true, nodeCommand: true, reason: 'no-such-device' })).to.deep.equal({ kind: 'rethrow' });
    });

    it('passes on what is not a node command failure', () => {
      expect(classifyDeviceFailure({ retryable: false, nodeCommand: false, reason: undefined })).to.deep.equal({ kind: 'rethrow' });
    });

    it('a device that does not exist is Missing', () => {
      expect(classifyDeviceFailure({ retryable: false, nodeCommand: true, reason: 'no-such-device' })).to.deep.equal({ kind: 'report', state: 'Missing', event: 'DeviceMissing' });
    });

    it('any other refusal (data on it) is Refused', () => {
      expect(classifyDeviceFailure({ retryable: false, nodeCommand: true, reason: undefined })).to.deep.equal({ kind: 'report', state: 'Refused', event: 'DeviceRefused' });
    });
  });

  describe('nodePhase', () => {
    const ready = { name: '/dev/sdb', state: 'Ready' as const };
    const refused = { name: '/dev/sdc', state: 'Refused' as const, message: 'has a filesystem' };

    it('a node not Online is degraded under its state, devices or not', () => {
      expect(nodePhase('Offline', [refused])).to.deep.equal({ state: 'degraded', reason: 'NodeOffline', message: 'spec.state is Offline: no new bricks are placed here' });
    });

    it('refused devices degrade an Online node, with their messages', () => {
      expect(nodePhase('Online', [ready, refused, { name: '/dev/sdd', state: 'Missing' }])).to.deep.equal({
        state: 'degraded',
        reason: 'DeviceRefused',
        message: '/dev/sdc: has a filesystem; /dev/sdd: Missing',
      });
    });

    it('is ready counting its ready devices', () => {
      expect(nodePhase('Online', [ready, { ...ready, name: '/dev/sdc' }])).to.deep.equal({ state: 'ready', reason: 'NodeReady', message: 'in the trusted pool with 2 device(s) ready' });
    });
  });

  describe('evacuationReport', () => {
    it('progressing while bricks move, with the healing volumes', () => {
      expect(evacuationReport(progress({ healingVolumes: ['ns/v'] }), 'deletion waits')).to.deep.equal({
        phase: { state: 'progressing', reason: 'Evacuating', message: 'deletion waits: 2 brick(s) left' },
        fields: { bricks: 2, evacuation: { remainingBricks: 2, healingVolumes: ['ns/v'], blockedVolumes: [], message: '2 brick(s) left' } },
        warn: false,
        requeueAfterMs: REQUEUE.waiting,
      });
    });

    it('blocked: degraded, a Warning, the blocked volumes and the longer wait', () => {
      expect(evacuationReport(progress({ blocked: [{ volume: 'ns/v', reason: 'no room' }] }), 'spec.state is Failed')).to.deep.equal({
        phase: { state: 'degraded', reason: 'EvacuationBlocked', message: 'spec.state is Failed: 2 brick(s) left' },
        fields: { bricks: 2, evacuation: { remainingBricks: 2, healingVolumes: [], blockedVolumes: ['ns/v'], message: '2 brick(s) left' } },
        warn: true,
        requeueAfterMs: REQUEUE.unreachable,
      });
    });
  });

  describe('failedNodeReport', () => {
    it('reports the evacuation of a Failed node while it runs', () => {
      expect(failedNodeReport(progress()).phase).to.deep.equal({ state: 'progressing', reason: 'Evacuating', message: 'spec.state is Failed: 2 brick(s) left' });
    });

    // The lists are written empty, not left out: status is merge-patched, and a list left out kept the last
    // pass's "healing" on a drained node for good (found by kubectl gluster node drain, which waited on it).
    it('NodeFailed once every brick moved, its lists emptied', () => {
      expect(failedNodeReport(progress({ done: true, remainingBricks: 0, message: 'no bricks left' }))).to.deep.equal({
        phase: { state: 'degraded', reason: 'NodeFailed', message: 'spec.state is Failed: all bricks moved to other nodes; no new bricks are placed here' },
        fields: { bricks: 0, evacuation: { remainingBricks: 0, healingVolumes: [], blockedVolumes: [], message: 'no bricks left' } },
        warn: false,
        requeueAfterMs: REQUEUE.steady,
      });
    });
  });

  describe('marksFailedOnDeletion', () => {
    it('marks a known node not Failed yet', () => {
      expect(marksFailedOnDeletion({ state: 'Online' })).to.equal(true);
    });

    it('leaves a node already Failed', () => {
      expect(marksFailedOnDeletion({ state: 'Failed' })).to.equal(false);
    });

    it('leaves a node the database does not know', () => {
      expect(marksFailedOnDeletion(undefined)).to.equal(false);
    });
  });

  describe('decideNodeDeletion', () => {
    const base = (overrides: Partial<NodeDeletionWorld> = {}): NodeDeletionWorld => ({ clusterName: 'main', clusterExists: true, hasAccess: true, holdsBricks: true, ...overrides });

    it('waits when bricks cannot be moved for want of access', () => {
      expect(decideNodeDeletion(base({ hasAccess: false }))).to.deep.equal({
        kind: 'report',
        report: {
          phase: { state: 'degraded', reason: 'DeletionBlocked', message: 'deletion waits: the node holds bricks and GlusterCluster main is not reachable (access not configured), so they cannot be moved' },
          fields: {},
          warn: false,
          requeueAfterMs: REQUEUE.unreachable,
        },
      });
    });

    it('says the cluster is gone when it is', () => {
      const step = decideNodeDeletion(base({ hasAccess: false, clusterExists: false }));
      expect(step.kind === 'report' && step.report.phase.message).to.equal('deletion waits: the node holds bricks and GlusterCluster main is gone, so they cannot be moved');
    });

    it('evacuates a node holding bricks', () => {
      expect(decideNodeDeletion(base())).to.deep.equal({ kind: 'evacuate' });
    });

    it('reports an evacuation not done yet', () => {
      const step = decideNodeDeletion(base({ evacuation: progress() }));
      expect(step).to.deep.equal({ kind: 'report', report: evacuationReport(progress(), 'deletion waits') });
    });

    it('detaches from the pool once evacuated', () => {
      expect(decideNodeDeletion(base({ evacuation: progress({ done: true }) }))).to.deep.equal({ kind: 'detach' });
    });

    it('detaches a node without bricks at once', () => {
      expect(decideNodeDeletion(base({ holdsBricks: false }))).to.deep.equal({ kind: 'detach' });
    });

    it('a failed detach keeps the deletion waiting, with a Warning', () => {
      expect(decideNodeDeletion(base({ holdsBricks: false, detached: { ok: false, message: 'nope' } }))).to.deep.equal({
        kind: 'report',
        report: {
          phase: { state: 'degraded', reason: 'PeerDetachFailed', message: 'nope' },
          fields: { evacuation: { remainingBricks: 0, healingVolumes: [], blockedVolumes: [], message: 'no bricks left on this node' } },
          warn: true,
          requeueAfterMs: REQUEUE.unreachable,
        },
      });
    });

    it('removes the node once detached', () => {
      expect(decideNodeDeletion(base({ evacuation: progress({ done: true }), detached: { ok: true } }))).to.deep.equal({ kind: 'remove' });
    });

    it('removes a node without bricks or access without detaching', () => {
      expect(decideNodeDeletion(base({ holdsBricks: false, hasAccess: false, clusterExists: false }))).to.deep.equal({ kind: 'remove' });
    });
  });

  describe('detachAddress', () => {
    it("is the database's address (a held storageAddress change did not touch it)", () => {
      expect(detachAddress({ storage: '10.0.0.1' }, '10.0.0.9')).to.equal('10.0.0.1');
    });

    it("is the spec's for a node the database does not know", () => {
      expect(detachAddress(undefined, '10.0.0.9')).to.equal('10.0.0.9');
    });
  });

  describe('decideDetach', () => {
    it('is done when the pool no longer lists the node', () => {
      expect(decideDetach([LOCAL, peer('10.0.0.3')], '10.0.0.2', false)).to.deep.equal({ kind: 'gone' });
    });

    it('never detaches the member answering (its local entry)', () => {
      expect(decideDetach([{ ...LOCAL, hostname: '10.0.0.2', hostnames: ['10.0.0.2'] }, peer('10.0.0.3')], '10.0.0.2', true)).to.deep.equal({ kind: 'gone' });
    });

    it('a member with no peers left the pool itself: it cannot tell, so another member is asked', () => {
      // Nodes deleted together: the first detached, then the last two each asked it and stayed peered.
      expect(decideDetach([LOCAL], '10.0.0.2', false)).to.deep.equal({ kind: 'cannotTell' });
      expect(decideDetach([{ ...LOCAL, hostname: '10.0.0.2', hostnames: ['10.0.0.2'] }], '10.0.0.2', true)).to.deep.equal({ kind: 'cannotTell' });
    });

    it('detaches a connected peer without force, forceRemoval or not', () => {
      expect(decideDetach([LOCAL, peer('10.0.0.2')], '10.0.0.2', true)).to.deep.equal({ kind: 'detach', peer: peer('10.0.0.2'), force: false });
    });

    it('detaches a disconnected peer with force only when spec.forceRemoval says so', () => {
      const lost = peer('10.0.0.2', { connected: false });
      expect(decideDetach([LOCAL, lost], '10.0.0.2', true)).to.deep.equal({ kind: 'detach', peer: lost, force: true });
      expect(decideDetach([LOCAL, lost], '10.0.0.2', false)).to.deep.equal({ kind: 'detach', peer: lost, force: false });
    });
  });

  describe('detachFailedMessage', () => {
    it('says the error', () => {
      expect(detachFailedMessage(peer('10.0.0.2'), 'busy')).to.equal('gluster peer detach 10.0.0.2 failed: busy');
    });

    it('points a disconnected peer at spec.forceRemoval', () => {
      expect(detachFailedMessage(peer('10.0.0.2', { connected: false }), 'busy')).to.equal(
        'gluster peer detach 10.0.0.2 failed: busy (the peer is disconnected; spec.forceRemoval detaches it anyway)',
      );
    });
  });
});
