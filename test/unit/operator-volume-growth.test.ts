import { expect } from 'chai';
import {
  addCluster,
  addDevice,
  addNode,
  addVolume,
  brickFootprint,
  deviceFree,
  emptyDatabase,
  findVolume,
  replaceVolume,
  setDeviceState,
  volumeCapacity,
  type TopologyBrick,
  type TopologyCluster,
  type TopologyDatabase,
  type TopologyDurability,
  type TopologyVolume,
} from '../../src/topology/model.ts';
import { arbiterBrickSize, brickAllocation, GiB, MiB, TiB } from '../../src/topology/sizing.ts';
import { grownVolume, planGrowth } from '../../src/operator/reconcilers/volume-growth.ts';

const REPLICA3: TopologyDurability = { type: 'Replicate', replica: 3, arbiter: false };

/** `nodes` nodes n0.., one device each of `deviceSize` (d0..), in cluster main. */
function topology(nodes: number, deviceSize: number, cluster: Partial<TopologyCluster> = {}): TopologyDatabase {
  let db = addCluster(emptyDatabase(), { name: 'main', zoneChecking: 'None', minBrickSize: GiB, maxBrickSize: 4 * TiB, brickBackend: 'LVM', ...cluster });
  for (let i = 0; i < nodes; i++) {
    db = addNode(db, { name: `n${i}`, cluster: 'main', zone: '1', manage: `n${i}`, storage: `10.0.0.${i + 1}`, state: 'Online' });
    db = addDevice(db, { id: `d${i}`, node: `n${i}`, name: '/dev/sdb', size: deviceSize, state: 'Online' });
  }
  return db;
}

let nextId = 0;
const brickId = () => (nextId++).toString(16).padStart(16, '0');

/** A volume of `sets` sets, set s on devices d(s*perSet)...; the last brick of a set is the arbiter when asked. */
function volume(durability: TopologyDurability, sets: number, brickSize: number, devices: (set: number, position: number) => string, extra: Partial<TopologyVolume> = {}): TopologyVolume {
  const perSet = durability.type === 'Replicate' ? durability.replica : durability.type === 'Disperse' ? durability.data + durability.redundancy : 1;
  const arbiter = durability.type === 'Replicate' && durability.arbiter;
  const bricks: TopologyBrick[] = [];
  for (let set = 0; set < sets; set++) {
    for (let position = 0; position < perSet; position++) {
      const isArbiter = arbiter && position === perSet - 1;
      bricks.push({ id: brickId(), device: devices(set, position), size: isArbiter ? arbiterBrickSize(brickSize) : brickSize, set, ...(isArbiter ? { arbiter: true as const } : {}) });
    }
  }
  return { name: 'ns/v', cluster: 'main', gluster: 'ns_v', durability, size: sets * brickSize, sets, snapshotFactor: 1, bricks, ...extra };
}

function placed(db: TopologyDatabase, record: TopologyVolume): { db: TopologyDatabase; record: TopologyVolume } {
  const after = addVolume(db, record);
  return { db: after, record: findVolume(after, record.name)! };
}

describe('operator: volume growth, in place or by sets (volume-growth.ts)', () => {
  it('replicate 3 that fits: every brick grows to the request (one set: brick = size), and the grown record commits', () => {
    const { db, record } = placed(topology(3, 100 * GiB), volume(REPLICA3, 1, 10 * GiB, (_, p) => `d${p}`));
    const plan = planGrowth(db, record, 20 * GiB);
    expect(plan).to.deep.include({ kind: 'inPlace', dataBrickSize: 20 * GiB, arbiterBrickSize: 0 });
    const grown = grownVolume(record, plan as Extract<typeof plan, { kind: 'inPlace' }>, 20 * GiB);
    expect(grown.bricks.map((b) => b.size)).to.deep.equal([20 * GiB, 20 * GiB, 20 * GiB]);
    expect(grown.size).to.equal(20 * GiB);
    expect(volumeCapacity(grown)).to.equal(20 * GiB);
    // The database takes it (replaceVolume re-checks room with the same rule).
    expect(() => replaceVolume(db, grown)).to.not.throw();
  });

  it('several sets: the request is shared by every set (sets × data bricks × N), N rounded up to a whole extent', () => {
    const { db, record } = placed(topology(3, 100 * GiB), volume(REPLICA3, 2, 5 * GiB, (_, p) => `d${p}`));
    const plan = planGrowth(db, record, 21 * GiB);
    // 21 GiB over 2 sets is 10.5 GiB per brick, already a whole number of 4 MiB extents.
    expect(plan).to.deep.include({ kind: 'inPlace', dataBrickSize: 10.5 * GiB });
    const odd = planGrowth(db, record, 20 * GiB + 1);
    // (20 GiB + 1) / 2 rounds up to the next extent: 10 GiB + 4 MiB.
    expect(odd).to.deep.include({ kind: 'inPlace', dataBrickSize: 10 * GiB + 4 * MiB });
  });

  it('disperse 4+2: capacity is sets × 4 data bricks × N, so N is a quarter of the request; redundancy bricks grow alike', () => {
    const disperse: TopologyDurability = { type: 'Disperse', data: 4, redundancy: 2 };
    const { db, record } = placed(topology(6, 100 * GiB), volume(disperse, 1, 2 * GiB, (_, p) => `d${p}`));
    expect(volumeCapacity(record)).to.equal(8 * GiB);
    const plan = planGrowth(db, record, 16 * GiB);
    expect(plan).to.deep.include({ kind: 'inPlace', dataBrickSize: 4 * GiB });
    const grown = grownVolume(record, plan as Extract<typeof plan, { kind: 'inPlace' }>, 16 * GiB);
    expect(grown.bricks.map((b) => b.size)).to.deep.equal(new Array(6).fill(4 * GiB));
    expect(volumeCapacity(grown)).to.equal(16 * GiB);
  });

  it('replicate 3 arbiter: data bricks grow to N, the arbiter to the arbiter size of N', () => {
    const arbiter: TopologyDurability = { type: 'Replicate', replica: 3, arbiter: true };
    const { db, record } = placed(topology(3, 2 * TiB), volume(arbiter, 1, 100 * GiB, (_, p) => `d${p}`));
    const plan = planGrowth(db, record, 400 * GiB);
    expect(plan).to.deep.include({ kind: 'inPlace', dataBrickSize: 400 * GiB, arbiterBrickSize: arbiterBrickSize(400 * GiB) });
    const grown = grownVolume(record, plan as Extract<typeof plan, { kind: 'inPlace' }>, 400 * GiB);
    expect(grown.bricks.map((b) => b.size)).to.deep.equal([400 * GiB, 400 * GiB, arbiterBrickSize(400 * GiB)]);
  });

  it('distribute: one data brick per set', () => {
    const { db, record } = placed(topology(2, 100 * GiB), volume({ type: 'None' }, 2, 5 * GiB, (s) => `d${s}`));
    expect(planGrowth(db, record, 30 * GiB)).to.deep.include({ kind: 'inPlace', dataBrickSize: 15 * GiB });
  });

  it('bricks beyond maxBrickSize: sets are added, and the reason names the limit', () => {
    const { db, record } = placed(topology(3, 100 * GiB, { maxBrickSize: 16 * GiB }), volume(REPLICA3, 1, 10 * GiB, (_, p) => `d${p}`));
    expect(planGrowth(db, record, 16 * GiB)).to.include({ kind: 'inPlace' });
    const plan = planGrowth(db, record, 16 * GiB + 4 * MiB);
    expect(plan.kind).to.equal('addSets');
    expect(plan.reason).to.contain('maxBrickSize 16Gi');
  });

  it('a device without room for the growth: sets are added, naming the device', () => {
    // d1 is smaller: 10 GiB bricks fit, 20 GiB ones do not.
    let db = topology(3, 100 * GiB);
    db = addDevice(db, { id: 'small', node: 'n1', name: '/dev/sdc', size: 15 * GiB, state: 'Online' });
    const { db: withVolume, record } = placed(db, volume(REPLICA3, 1, 10 * GiB, (_, p) => ['d0', 'small', 'd2'][p]!));
    const plan = planGrowth(withVolume, record, 20 * GiB);
    expect(plan.kind).to.equal('addSets');
    expect(plan.reason).to.contain('device small');
  });

  it('room is counted for all the volume\'s bricks on a device together', () => {
    // Two sets share d0..d2: each device holds two bricks of 10 GiB (+ metadata). Growing both to 20 GiB needs
    // twice the per-brick growth there; a device with room for one brick's growth only is not enough.
    const perBrick = brickAllocation(20 * GiB, 1, 'LVM') - brickAllocation(10 * GiB, 1, 'LVM');
    const used = 2 * brickAllocation(10 * GiB, 1, 'LVM');
    const tight = placed(topology(3, used + perBrick), volume(REPLICA3, 2, 10 * GiB, (_, p) => `d${p}`));
    expect(planGrowth(tight.db, tight.record, 40 * GiB).kind).to.equal('addSets');
    const roomy = placed(topology(3, used + 2 * perBrick), volume(REPLICA3, 2, 10 * GiB, (_, p) => `d${p}`));
    expect(planGrowth(roomy.db, roomy.record, 40 * GiB).kind).to.equal('inPlace');
    expect(deviceFree(roomy.db, 'd0')).to.equal(2 * perBrick);
  });

  it('the snapshot factor is counted: a thin pool of 2 × the brick needs twice the room', () => {
    // 25 GiB devices: growing 10 → 20 GiB bricks takes 10 GiB more pool at factor 1 (15 GiB free), 20 GiB more
    // at factor 2 (5 GiB free), plus metadata each.
    const atOne = placed(topology(3, 25 * GiB), volume(REPLICA3, 1, 10 * GiB, (_, p) => `d${p}`));
    expect(planGrowth(atOne.db, atOne.record, 20 * GiB).kind).to.equal('inPlace');
    const atTwo = placed(topology(3, 25 * GiB), volume(REPLICA3, 1, 10 * GiB, (_, p) => `d${p}`, { snapshotFactor: 2 }));
    expect(brickFootprint(atTwo.db, atTwo.record, atTwo.record.bricks[0]!)).to.equal(brickAllocation(10 * GiB, 2, 'LVM'));
    const plan = planGrowth(atTwo.db, atTwo.record, 20 * GiB);
    expect(plan.kind).to.equal('addSets');
    expect(plan.reason).to.contain('device d0');
    // At factor 2 on 50 GiB devices it fits again.
    const roomy = placed(topology(3, 50 * GiB), volume(REPLICA3, 1, 10 * GiB, (_, p) => `d${p}`, { snapshotFactor: 2 }));
    expect(planGrowth(roomy.db, roomy.record, 20 * GiB).kind).to.equal('inPlace');
  });

  it('a non-LVM backend: sets are added (LoopFile and Directory bricks have no size of their own to grow)', () => {
    for (const brickBackend of ['LoopFile', 'Directory'] as const) {
      const { db, record } = placed(topology(3, 100 * GiB, { brickBackend, directoryRoot: '/srv/bricks' }), volume(REPLICA3, 1, 10 * GiB, (_, p) => `d${p}`));
      const plan = planGrowth(db, record, 20 * GiB);
      expect(plan.kind, brickBackend).to.equal('addSets');
      expect(plan.reason).to.contain(brickBackend);
    }
  });

  it('adopted bricks (a recorded path) are never resized: sets are added', () => {
    const base = volume(REPLICA3, 1, 10 * GiB, (_, p) => `d${p}`);
    const adopted = { ...base, bricks: base.bricks.map((b) => ({ ...b, path: `/var/lib/heketi/mounts/vg_x/brick_${b.id}/brick` })) };
    const { db, record } = placed(topology(3, 100 * GiB), adopted);
    expect(planGrowth(db, record, 20 * GiB)).to.include({ kind: 'addSets' });
  });

  it('a brick on a device that is not Online: sets are added (lvextend could not run there now)', () => {
    const { db, record } = placed(topology(3, 100 * GiB), volume(REPLICA3, 1, 10 * GiB, (_, p) => `d${p}`));
    const plan = planGrowth(setDeviceState(db, 'd2', 'Offline'), record, 20 * GiB);
    expect(plan.kind).to.equal('addSets');
    expect(plan.reason).to.contain('d2');
  });

  it('bricks of different sizes (a set added by an earlier growth) all end at one size, none shrinks', () => {
    const base = volume(REPLICA3, 2, 10 * GiB, (_, p) => `d${p}`);
    const mixed = { ...base, bricks: base.bricks.map((b) => (b.set === 1 ? { ...b, size: 30 * GiB } : b)) };
    const { db, record } = placed(topology(3, 200 * GiB), mixed);
    expect(volumeCapacity(record)).to.equal(40 * GiB);
    // 50 GiB over 2 sets is 25 GiB, below set 1's 30 GiB: everything goes to 30 GiB.
    const plan = planGrowth(db, record, 50 * GiB);
    expect(plan).to.deep.include({ kind: 'inPlace', dataBrickSize: 30 * GiB });
    const grown = grownVolume(record, plan as Extract<typeof plan, { kind: 'inPlace' }>, 50 * GiB);
    expect(new Set(grown.bricks.map((b) => b.size))).to.deep.equal(new Set([30 * GiB]));
    expect(volumeCapacity(grown)).to.be.at.least(50 * GiB);
  });
});
