import { expect } from 'chai';
import { REQUEUE } from '../../src/operator/context.ts';
import {
  accessNotConfigured,
  clusterPhase,
  clusterRequeue,
  daemonSetWait,
  decideClusterDeletion,
  heldReason,
  shouldRecordGeneration,
  type ClusterWorld,
} from '../../src/operator/reconcilers/cluster-decisions.ts';

function world(overrides: Partial<ClusterWorld> = {}): ClusterWorld {
  return {
    held: [],
    heldMessage: '',
    daemonSetMessage: undefined,
    nodes: [
      { name: 'a', ready: true },
      { name: 'b', ready: true },
    ],
    peers: 2,
    ...overrides,
  };
}

describe('GlusterCluster decisions', () => {
  describe('decideClusterDeletion', () => {
    it('waits while volumes still name the cluster', () => {
      expect(decideClusterDeletion(2, 0)).to.deep.equal({
        kind: 'blocked',
        message: 'deletion waits: 2 GlusterVolume(s) and 0 GlusterNode(s) still name this cluster; delete them first',
        requeueAfterMs: REQUEUE.waiting,
      });
    });

    it('waits while nodes still name the cluster', () => {
      expect(decideClusterDeletion(0, 3)).to.deep.include({ kind: 'blocked', message: 'deletion waits: 0 GlusterVolume(s) and 3 GlusterNode(s) still name this cluster; delete them first' });
    });

    it('removes the cluster once nothing names it', () => {
      expect(decideClusterDeletion(0, 0)).to.deep.equal({ kind: 'remove' });
    });
  });

  it('an External cluster without access fails with AccessNotConfigured and waits', () => {
    expect(accessNotConfigured('no SSH key')).to.deep.equal({ phase: { state: 'failed', reason: 'AccessNotConfigured', message: 'no SSH key' }, requeueAfterMs: REQUEUE.waiting });
  });

  describe('daemonSetWait', () => {
    it('says a DaemonSet that matches no node, with its nodeSelector', () => {
      expect(daemonSetWait({ name: 'glusterd-main', desired: 0, ready: 0, nodeSelector: { storagenode: 'glusterfs' } })).to.equal(
        'glusterd DaemonSet glusterd-main matches no node (nodeSelector {"storagenode":"glusterfs"})',
      );
    });

    it('counts the pods not ready yet', () => {
      expect(daemonSetWait({ name: 'glusterd-main', desired: 3, ready: 1, nodeSelector: {} })).to.equal('glusterd pods ready: 1 of 3');
    });

    it('is undefined when every pod is ready', () => {
      expect(daemonSetWait({ name: 'glusterd-main', desired: 3, ready: 3, nodeSelector: {} })).to.equal(undefined);
    });
  });

  describe('heldReason', () => {
    it('names a held brick backend', () => {
      expect(heldReason([{ field: 'spec.brickBackend' }, { field: 'spec.directoryRoot' }])).to.equal('BrickBackendInUse');
    });

    it('names a held directory root (the first held field decides)', () => {
      expect(heldReason([{ field: 'spec.directoryRoot' }, { field: 'spec.brickBackend' }])).to.equal('DirectoryRootInUse');
    });
  });

  describe('clusterPhase', () => {
    it('a held spec change comes first: degraded under its reason', () => {
      const phase = clusterPhase(world({ held: [{ field: 'spec.brickBackend' }], heldMessage: 'held!', daemonSetMessage: 'glusterd pods ready: 0 of 1', nodes: [] }));
      expect(phase).to.deep.equal({ state: 'degraded', reason: 'BrickBackendInUse', message: 'held!' });
    });

    it('waits for glusterd before looking at nodes', () => {
      expect(clusterPhase(world({ daemonSetMessage: 'glusterd pods ready: 1 of 3', nodes: [] }))).to.deep.equal({
        state: 'progressing',
        reason: 'WaitingForGlusterd',
        message: 'glusterd pods ready: 1 of 3',
      });
    });

    it('progresses while no GlusterNode names the cluster', () => {
      expect(clusterPhase(world({ nodes: [] }))).to.deep.equal({ state: 'progressing', reason: 'NoNodes', message: 'no GlusterNode names this cluster yet' });
    });

    it('fails when no node is Ready', () => {
      const nodes = [
        { name: 'a', ready: false },
        { name: 'b', ready: false },
      ];
      expect(clusterPhase(world({ nodes }))).to.deep.equal({ state: 'failed', reason: 'NoNodeReady', message: 'none of 2 node(s) is Ready' });
    });

    it('is degraded naming the nodes not Ready', () => {
      const nodes = [
        { name: 'a', ready: true },
        { name: 'b', ready: false },
        { name: 'c', ready: false },
      ];
      expect(clusterPhase(world({ nodes }))).to.deep.equal({ state: 'degraded', reason: 'NodesNotReady', message: '2 of 3 node(s) not Ready: b, c' });
    });

    it('is ready with every node Ready, saying the peer count', () => {
      expect(clusterPhase(world())).to.deep.equal({ state: 'ready', reason: 'ClusterReady', message: '2 node(s) Ready, 2 peer(s) in the pool' });
    });

    it('says ? for peers when no Ready node answered', () => {
      expect(clusterPhase(world({ peers: undefined })).message).to.equal('2 node(s) Ready, ? peer(s) in the pool');
    });
  });

  describe('clusterRequeue', () => {
    it('a ready cluster is looked at again at the steady period', () => {
      expect(clusterRequeue({ state: 'ready', reason: 'ClusterReady', message: '' })).to.equal(REQUEUE.steady);
    });

    for (const state of ['progressing', 'degraded', 'failed'] as const) {
      it(`a ${state} cluster is looked at again soon`, () => {
        expect(clusterRequeue({ state, reason: 'X', message: '' })).to.equal(REQUEUE.waiting);
      });
    }
  });

  describe('shouldRecordGeneration', () => {
    it('records a new generation of a known cluster', () => {
      expect(shouldRecordGeneration(true, '4', '5')).to.equal(true);
    });

    it('records it when no annotation is there yet', () => {
      expect(shouldRecordGeneration(true, undefined, '5')).to.equal(true);
    });

    it('does not write what the annotation already says', () => {
      expect(shouldRecordGeneration(true, '5', '5')).to.equal(false);
    });

    it('does not record for a cluster the database does not know', () => {
      expect(shouldRecordGeneration(false, '4', '5')).to.equal(false);
    });
  });
});
