import { expect } from 'chai';
import { EvacuationReports } from '../../src/operator/evacuation-reports.ts';
import { isLeavingNode, leavingNodesToEvacuate, summarizeEvacuation, volumeKeysToWake } from '../../src/operator/reconcilers/evacuation-handover.ts';
import { planEvacuation } from '../../src/topology/evacuation.ts';
import { addCluster, addDevice, addNode, addVolume, emptyDatabase, findVolume, replaceVolume, setNodeState, type TopologyDatabase } from '../../src/topology/model.ts';
import { GiB, TiB } from '../../src/topology/sizing.ts';

// Volume ns/v is replica 2 on a and b; c and d hold nothing of it. Node a is the one leaving unless a test says otherwise.
function database(failed: string[] = ['ns/a']): TopologyDatabase {
  let db = addCluster(emptyDatabase(), { name: 'ns/main', zoneChecking: 'None', minBrickSize: GiB, maxBrickSize: 4 * TiB, brickBackend: 'Directory', directoryRoot: '/bricks' });
  for (const [i, node] of ['ns/a', 'ns/b', 'ns/c', 'ns/d'].entries()) {
    db = addNode(db, { name: node, cluster: 'ns/main', zone: String(i + 1), manage: node.slice(3), storage: `10.0.0.${i + 1}`, state: failed.includes(node) ? 'Failed' : 'Online' });
    db = addDevice(db, { node, name: '/bricks', size: 100 * GiB, state: 'Online' });
  }
  return addVolume(db, {
    name: 'ns/v',
    cluster: 'ns/main',
    gluster: 'ns_v',
    durability: { type: 'Replicate', replica: 2, arbiter: false },
    size: 10 * GiB,
    sets: 1,
    snapshotFactor: 1,
    bricks: ['ns/a', 'ns/b'].map((node, i) => ({ id: `${i + 1}`.repeat(16), device: db.devices.find((d) => d.node === node)!.id, size: 10 * GiB, set: 0 })),
  });
}

type Node = Parameters<typeof isLeavingNode>[0];
const node = (name: string, change: { deleting?: boolean; state?: 'Online' | 'Offline' | 'Failed' } = {}): Node =>
  ({
    metadata: { name, namespace: 'ns', ...(change.deleting ? { deletionTimestamp: '2026-12-04T02:00:00Z' } : {}) },
    spec: { cluster: 'main', storageAddress: '10.0.0.9', state: change.state ?? 'Online' },
  }) as unknown as Node;

describe('evacuation hand-over: the node asks, the volume moves its own bricks', () => {
  it('a node leaves when it is being deleted or spec.state is Failed, and only then', () => {
    expect(isLeavingNode(node('a'))).to.equal(false);
    expect(isLeavingNode(node('a', { deleting: true }))).to.equal(true);
    expect(isLeavingNode(node('a', { state: 'Failed' }))).to.equal(true);
  });

  it('a leaving node wakes exactly the volumes it holds bricks (or a replaced brick\'s remains) of; a staying node wakes none', () => {
    const db = database();
    expect(volumeKeysToWake(db, node('a', { deleting: true }))).to.deep.equal(['ns/v']);
    expect(volumeKeysToWake(db, node('a'))).to.deep.equal([]);
    expect(volumeKeysToWake(db, node('c', { state: 'Failed' }))).to.deep.equal([]);
    // After the plan: a holds only the retired brick, which still needs the volume's reconcile to be removed.
    const plan = planEvacuation(db, findVolume(db, 'ns/v')!, 'ns/a');
    if (!plan.ok) throw new Error(plan.reason);
    expect(volumeKeysToWake(replaceVolume(db, plan.volume), node('a', { deleting: true }))).to.deep.equal(['ns/v']);
  });

  it('the volume moves off its leaving nodes once the node reconciler marked them Failed, and ignores leaving nodes it has no brick on', () => {
    const db = database();
    const volume = findVolume(db, 'ns/v')!;
    expect(leavingNodesToEvacuate(db, volume, [node('a'), node('b'), node('c')])).to.deep.equal({ kind: 'none' });
    const decision = leavingNodesToEvacuate(db, volume, [node('a', { deleting: true }), node('b'), node('c')]);
    expect(decision.kind).to.equal('evacuate');
    expect(decision.kind === 'evacuate' && decision.nodes.map((n) => n.metadata.name)).to.deep.equal(['a']);
    expect(leavingNodesToEvacuate(db, volume, [node('a'), node('c', { state: 'Failed' })])).to.deep.equal({ kind: 'none' });
  });

  it('waits while any leaving node of the cluster is not Failed in the database yet: it could be chosen to take a brick it must give away', () => {
    const volume = findVolume(database(), 'ns/v')!;
    // a (holding a brick) and c (holding none) deleted together; c's reconcile has not marked it yet.
    const nodes = [node('a', { deleting: true }), node('c', { deleting: true })];
    const waiting = leavingNodesToEvacuate(database(), volume, nodes);
    expect(waiting).to.deep.include({ kind: 'wait' });
    expect(waiting.kind === 'wait' && waiting.why).to.match(/^node\(s\) c leaving/);
    expect(planEvacuation(database(), volume, 'ns/a')).to.deep.include({ ok: true });
    const marked = setNodeState(database(), 'ns/c', 'Failed');
    expect(leavingNodesToEvacuate(marked, volume, nodes).kind).to.equal('evacuate');
    // Nor does the node being left for the volume's own leaving node wait on itself.
    expect(leavingNodesToEvacuate(database([]), volume, [node('a', { deleting: true })])).to.deep.include({ kind: 'wait' });
  });

  it('the node reports from the database and what each volume said: not yet, healing, blocked, done', () => {
    const db = database();
    const reports = new EvacuationReports();
    const before = summarizeEvacuation(db, 'ns/a', reports.of('ns/a'));
    expect(before).to.deep.include({ done: false, remainingBricks: 1, healingVolumes: [], blocked: [] });
    expect(before.message).to.equal("1 brick(s) still on this node; ns_v: waiting for its GlusterVolume's reconcile to move it");

    reports.record('ns/a', 'ns/v', { gluster: 'ns_v', state: { kind: 'healing', reason: 'self-heal: 3 entries pending' } });
    expect(summarizeEvacuation(db, 'ns/a', reports.of('ns/a'))).to.deep.include({ healingVolumes: ['ns_v'], message: '1 brick(s) still on this node; ns_v: self-heal: 3 entries pending' });

    reports.record('ns/a', 'ns/v', { gluster: 'ns_v', state: { kind: 'blocked', reason: 'glusterd on b says Gluster volume ns_v does not exist' } });
    const blocked = summarizeEvacuation(db, 'ns/a', reports.of('ns/a'));
    expect(blocked.blocked).to.deep.equal([{ volume: 'ns_v', reason: 'glusterd on b says Gluster volume ns_v does not exist' }]);
    expect(blocked.message).to.match(/cannot move ns_v: glusterd on b says/);

    // Done is what the database says: nothing of any volume left on the node.
    const plan = planEvacuation(db, findVolume(db, 'ns/v')!, 'ns/a');
    if (!plan.ok) throw new Error(plan.reason);
    const replaced = replaceVolume(db, plan.volume);
    // Replaced but the old brick's remains not removed yet: still one on the node.
    expect(summarizeEvacuation(replaced, 'ns/a', reports.of('ns/a'))).to.deep.include({ done: false, remainingBricks: 1 });
    const moved = replaceVolume(db, { ...plan.volume, retiredBricks: [] });
    reports.record('ns/a', 'ns/v', { gluster: 'ns_v', state: { kind: 'done' } });
    expect(summarizeEvacuation(moved, 'ns/a', reports.of('ns/a'))).to.deep.equal({ done: true, remainingBricks: 0, healingVolumes: [], blocked: [], message: 'no bricks left on this node' });

    reports.forgetNode('ns/a');
    expect(reports.of('ns/a').size).to.equal(0);
  });
});
