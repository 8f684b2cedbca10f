import { expect } from 'chai';
import { addCluster, addDevice, addNode, addVolume, brickNode, emptyDatabase, parseDatabase, removeDevice, replaceVolume, setNodeState, TopologyError, type TopologyDatabase, type TopologyVolume } from '../../src/topology/model.ts';
import { brickCountOnNode, currentReplacement, planEvacuation, replacementBrickId, retiredBricksOnNode, volumesOnNode, withoutRetired } from '../../src/topology/evacuation.ts';
import { GiB, TiB } from '../../src/topology/sizing.ts';

function cluster(nodes: Array<{ name: string; zone: string; size?: number }>, zoneChecking: 'None' | 'Strict' = 'None'): TopologyDatabase {
  let db = addCluster(emptyDatabase(), { name: 'ns/main', zoneChecking, minBrickSize: GiB, maxBrickSize: 4 * TiB, brickBackend: 'Directory', directoryRoot: '/bricks' });
  for (const node of nodes) {
    db = addNode(db, { name: node.name, cluster: 'ns/main', zone: node.zone, manage: node.name, storage: node.name, state: 'Online' });
    db = addDevice(db, { node: node.name, name: '/bricks', size: node.size ?? 100 * GiB, state: 'Online' });
  }
  return db;
}

const deviceOf = (db: TopologyDatabase, node: string) => db.devices.find((device) => device.node === node)!.id;

function replica3(db: TopologyDatabase, name: string, nodes: string[], durability: TopologyVolume['durability'] = { type: 'Replicate', replica: 3, arbiter: false }): TopologyVolume {
  return {
    name,
    cluster: 'ns/main',
    gluster: name.replace('/', '_'),
    durability,
    size: 10 * GiB,
    sets: 1,
    snapshotFactor: 1,
    bricks: nodes.map((node, i) => ({ id: `${i}`.repeat(16), device: deviceOf(db, node), size: 10 * GiB, set: 0 })),
  };
}

describe('node evacuation planning', () => {
  it('moves the leaving node’s brick to a node outside its set, keeping the set whole and the old brick as retired', () => {
    let db = cluster([{ name: 'a', zone: '1' }, { name: 'b', zone: '2' }, { name: 'c', zone: '3' }, { name: 'd', zone: '4' }]);
    db = addVolume(db, replica3(db, 'ns/v', ['a', 'b', 'c']));
    const volume = volumesOnNode(db, 'a')[0]!;
    const plan = planEvacuation(db, volume, 'a');
    if (!plan.ok) throw new Error(plan.reason);
    expect(plan.moves).to.have.length(1);
    const { from, to } = plan.moves[0]!;
    expect(to.device).to.equal(deviceOf(db, 'd'));
    expect(to.set).to.equal(0);
    expect(to.id).to.equal(replacementBrickId(volume.bricks[0]!));
    expect(plan.volume.bricks.map((brick) => brickNode(db, brick).name)).to.deep.equal(['d', 'b', 'c']);
    expect(plan.volume.retiredBricks).to.deep.equal([{ ...volume.bricks[0], replacedBy: to.id }]);
    expect(from.id).to.equal(volume.bricks[0]!.id);

    // Committed, the database stays consistent: the node still has the retired brick's remains, so its
    // device cannot be removed until they are gone; then it can.
    const committed = replaceVolume(db, plan.volume);
    expect(parseDatabase(JSON.parse(JSON.stringify(committed)))).to.deep.equal(committed);
    expect(volumesOnNode(committed, 'a').map((v) => v.name)).to.deep.equal(['ns/v']);
    expect(() => removeDevice(committed, deviceOf(db, 'a'))).to.throw(TopologyError, /remains of a replaced brick/);
    const cleaned = replaceVolume(committed, withoutRetired(plan.volume, new Set(retiredBricksOnNode(committed, plan.volume, 'a').map((b) => b.id))));
    expect(cleaned.volumes[0]).to.not.have.property('retiredBricks');
    expect(volumesOnNode(cleaned, 'a')).to.deep.equal([]);
    expect(removeDevice(cleaned, deviceOf(db, 'a')).devices.map((d) => d.node)).to.deep.equal(['b', 'c', 'd']);
  });

  it('is deterministic: the same database gives the same plan (a retried reconcile places the same way)', () => {
    let db = cluster([{ name: 'a', zone: '1' }, { name: 'b', zone: '1' }, { name: 'c', zone: '1' }, { name: 'd', zone: '1' }, { name: 'e', zone: '1' }]);
    db = addVolume(db, replica3(db, 'ns/v', ['a', 'b', 'c']));
    expect(planEvacuation(db, db.volumes[0]!, 'a')).to.deep.equal(planEvacuation(db, db.volumes[0]!, 'a'));
  });

  it('prefers the node with most free space, and a zone the set is not in yet', () => {
    let db = cluster([
      { name: 'a', zone: '1' },
      { name: 'b', zone: '2' },
      { name: 'c', zone: '3' },
      { name: 'big-same-zone', zone: '2', size: 500 * GiB },
      { name: 'small-new-zone', zone: '4', size: 50 * GiB },
    ]);
    db = addVolume(db, replica3(db, 'ns/v', ['a', 'b', 'c']));
    const plan = planEvacuation(db, db.volumes[0]!, 'a');
    if (!plan.ok) throw new Error(plan.reason);
    expect(brickNode(db, plan.moves[0]!.to).name).to.equal('small-new-zone');
  });

  it('with zoneChecking Strict refuses a zone the set already uses, naming the constraint', () => {
    let db = cluster([{ name: 'a', zone: '1' }, { name: 'b', zone: '2' }, { name: 'c', zone: '3' }, { name: 'd', zone: '2' }], 'Strict');
    db = addVolume(db, replica3(db, 'ns/v', ['a', 'b', 'c']));
    const plan = planEvacuation(db, db.volumes[0]!, 'a');
    expect(plan.ok).to.equal(false);
    expect(!plan.ok && plan.reason).to.match(/outside zone\(s\) 2, 3/);
  });

  it('never puts two bricks of a set on one node, and says so when no other node is left', () => {
    let db = cluster([{ name: 'a', zone: '1' }, { name: 'b', zone: '2' }, { name: 'c', zone: '3' }]);
    db = addVolume(db, replica3(db, 'ns/v', ['a', 'b', 'c']));
    const plan = planEvacuation(db, db.volumes[0]!, 'a');
    expect(plan.ok).to.equal(false);
    expect(!plan.ok && plan.reason).to.match(/no device can take brick 0{16} of volume ns\/v \(set 0, .*\).*other than a, b, c/);
  });

  it('skips nodes and devices that are not Online, and devices without room', () => {
    let db = cluster([{ name: 'a', zone: '1' }, { name: 'b', zone: '2' }, { name: 'c', zone: '3' }, { name: 'offline', zone: '4' }, { name: 'tiny', zone: '5', size: 5 * GiB }, { name: 'ok', zone: '6', size: 20 * GiB }]);
    db = setNodeState(db, 'offline', 'Offline');
    db = addVolume(db, replica3(db, 'ns/v', ['a', 'b', 'c']));
    const plan = planEvacuation(db, db.volumes[0]!, 'a');
    if (!plan.ok) throw new Error(plan.reason);
    expect(brickNode(db, plan.moves[0]!.to).name).to.equal('ok');
  });

  it('accounts for the space its own earlier moves take', () => {
    let db = cluster([{ name: 'a', zone: '1' }, { name: 'b', zone: '2' }, { name: 'c', zone: '3' }, { name: 'd', zone: '4', size: 15 * GiB }, { name: 'e', zone: '5', size: 12 * GiB }]);
    const volume = replica3(db, 'ns/v', ['a', 'b', 'c']);
    // Two sets, both with a brick on a: set 1 on a, b, c too.
    volume.sets = 2;
    volume.bricks = [...volume.bricks, ...['a', 'b', 'c'].map((node, i) => ({ id: `${i + 5}`.repeat(16), device: deviceOf(db, node), size: 10 * GiB, set: 1 }))];
    db = addVolume(db, volume);
    const plan = planEvacuation(db, db.volumes[0]!, 'a');
    if (!plan.ok) throw new Error(plan.reason);
    expect(plan.moves.map((move) => brickNode(db, move.to).name)).to.deep.equal(['d', 'e']);
  });

  it('refuses a distribute-only volume: replace-brick would lose the brick’s files', () => {
    let db = cluster([{ name: 'a', zone: '1' }, { name: 'b', zone: '2' }]);
    db = addVolume(db, { ...replica3(db, 'ns/d', ['a']), durability: { type: 'None' } });
    const plan = planEvacuation(db, db.volumes[0]!, 'a');
    expect(plan.ok).to.equal(false);
    expect(!plan.ok && plan.reason).to.match(/distribute-only/);
  });

  it('keeps the arbiter flag on the replacement of an arbiter brick', () => {
    let db = cluster([{ name: 'a', zone: '1' }, { name: 'b', zone: '2' }, { name: 'c', zone: '3' }, { name: 'd', zone: '4' }]);
    const volume = replica3(db, 'ns/v', ['b', 'c', 'a'], { type: 'Replicate', replica: 3, arbiter: true });
    volume.bricks[2] = { ...volume.bricks[2]!, arbiter: true };
    db = addVolume(db, volume);
    const plan = planEvacuation(db, db.volumes[0]!, 'a');
    if (!plan.ok) throw new Error(plan.reason);
    expect(plan.moves[0]!.to.arbiter).to.equal(true);
  });

  it('follows a replacement that was replaced in turn (both nodes evacuated), and keeps the chain whole when the middle one goes', () => {
    let db = cluster([{ name: 'a', zone: '1' }, { name: 'b', zone: '2' }, { name: 'c', zone: '3' }, { name: 'd', zone: '4' }, { name: 'e', zone: '5' }]);
    db = addVolume(db, replica3(db, 'ns/v', ['a', 'b', 'c']));
    const first = planEvacuation(db, db.volumes[0]!, 'a');
    if (!first.ok) throw new Error(first.reason);
    db = replaceVolume(db, first.volume);
    const middle = first.moves[0]!.to;
    const middleNode = brickNode(db, middle).name;
    db = setNodeState(db, 'a', 'Failed');
    const stamped = { ...db.volumes[0]!, retiredBricks: db.volumes[0]!.retiredBricks!.map((b) => ({ ...b, replacedAt: '2026-01-01T00:00:00.000Z' })) };
    const second = planEvacuation(db, stamped, middleNode);
    if (!second.ok) throw new Error(second.reason);
    const last = second.moves[0]!.to;
    const volume = { ...second.volume, retiredBricks: second.volume.retiredBricks!.map((b) => (b.id === middle.id ? { ...b, replacedAt: '2026-01-02T00:00:00.000Z' } : b)) };
    const [fromA] = retiredBricksOnNode(db, volume, 'a');
    expect(currentReplacement(volume, fromA!)?.id).to.equal(last.id);
    expect(brickCountOnNode(replaceVolume(db, volume), 'a')).to.equal(1);
    expect(brickCountOnNode(replaceVolume(db, volume), middleNode)).to.equal(1);

    const cleaned = withoutRetired(volume, new Set([middle.id]));
    expect(cleaned.retiredBricks).to.deep.equal([{ ...fromA!, replacedBy: last.id, replacedAt: '2026-01-02T00:00:00.000Z' }]);
    expect(currentReplacement(cleaned, cleaned.retiredBricks![0]!)?.id).to.equal(last.id);
    expect(currentReplacement({ ...cleaned, bricks: cleaned.bricks.filter((b) => b.id !== last.id) }, cleaned.retiredBricks![0]!)).to.equal(undefined);
  });
});
