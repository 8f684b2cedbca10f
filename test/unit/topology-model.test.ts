import { expect } from 'chai';
import {
  SCHEMA_VERSION,
  TopologyError,
  addCluster,
  addDevice,
  addNode,
  addVolume,
  brickGlusterName,
  brickLvName,
  brickPath,
  brickThinPoolName,
  deviceBrickCount,
  deviceFree,
  deviceId,
  emptyDatabase,
  findVolume,
  parseDatabase,
  removeDevice,
  removeVolume,
  replaceVolume,
  setNodeState,
  topologyDatabaseSchema,
  volumeCapacity,
  type TopologyDatabase,
  type TopologyVolume,
} from '../../src/topology/model.ts';
import { GiB, TiB, brickAllocation, poolMetadataSize, thinPoolSize, arbiterBrickSize, parseQuantity, formatBytes, MiB } from '../../src/topology/sizing.ts';

function threeNodes(): TopologyDatabase {
  let db = addCluster(emptyDatabase(), { name: 'main', zoneChecking: 'None', minBrickSize: GiB, maxBrickSize: 4 * TiB, brickBackend: 'LVM' });
  for (const n of [1, 2, 3]) {
    db = addNode(db, { name: `node${n}`, cluster: 'main', zone: String(n), manage: `node${n}`, storage: `10.0.0.${n}`, state: 'Online' });
    db = addDevice(db, { node: `node${n}`, name: '/dev/sdb', size: 100 * GiB, state: 'Online' });
  }
  return db;
}

function volume(db: TopologyDatabase, name: string, size: number): TopologyVolume {
  return {
    name,
    cluster: 'main',
    gluster: name,
    durability: { type: 'Replicate', replica: 3, arbiter: false },
    size,
    sets: 1,
    snapshotFactor: 1,
    bricks: db.devices.map((d, i) => ({ id: `${name.length}0000000${i}`.padEnd(16, 'a'), device: d.id, size, set: 0 })),
  };
}

describe('topology model', () => {
  it('starts empty, versioned, and every update bumps the generation without touching the input', () => {
    const empty = emptyDatabase();
    expect(empty).to.deep.equal({ schemaVersion: SCHEMA_VERSION, generation: 0, clusters: [], nodes: [], devices: [], volumes: [] });
    const db = threeNodes();
    expect(db.generation).to.equal(7); // 1 cluster + 3 nodes + 3 devices
    const snapshot = JSON.stringify(db);
    const next = addVolume(db, volume(db, 'v', 10 * GiB));
    expect(next.generation).to.equal(8);
    expect(JSON.stringify(db)).to.equal(snapshot);
    expect(next.nodes).to.equal(db.nodes); // untouched parts are shared, not copied
  });

  it('derives device free space from the bricks (thin pool + metadata), and frees it when the volume goes', () => {
    const db = threeNodes();
    const id = db.devices[0]!.id;
    expect(deviceFree(db, id)).to.equal(100 * GiB);
    const withVolume = addVolume(db, volume(db, 'v', 10 * GiB));
    const pool = thinPoolSize(10 * GiB, 1);
    expect(deviceFree(withVolume, id)).to.equal(100 * GiB - pool - poolMetadataSize(pool));
    expect(deviceBrickCount(withVolume, id)).to.equal(1);
    const removed = removeVolume(withVolume, 'v');
    expect(deviceFree(removed, id)).to.equal(100 * GiB);
    // The index carried forward incrementally agrees with one computed from scratch after a JSON round trip.
    const reparsed = parseDatabase(JSON.parse(JSON.stringify(withVolume)));
    expect(deviceFree(reparsed, id)).to.equal(deviceFree(withVolume, id));
  });

  it('refuses updates that would over-commit a device, duplicate names, or dangle references', () => {
    const db = threeNodes();
    expect(() => addVolume(db, volume(db, 'big', 100 * GiB))).to.throw(TopologyError, /needs/);
    const one = addVolume(db, volume(db, 'v', 10 * GiB));
    expect(() => addVolume(one, volume(one, 'v', GiB))).to.throw(TopologyError, /already exists/);
    expect(() => addNode(db, { name: 'x', cluster: 'nope', zone: '1', manage: 'x', storage: 'x', state: 'Online' })).to.throw(/cluster nope/);
    expect(() => addDevice(db, { node: 'node1', name: '/dev/sdb', size: GiB, state: 'Online' })).to.throw(/already/);
    expect(() => removeDevice(one, one.devices[0]!.id)).to.throw(/bricks/);
    const broken = volume(db, 'w', GiB);
    broken.bricks.pop();
    expect(() => addVolume(db, broken)).to.throw(/set 0 has 2 bricks, expected 3/);
  });

  it('validates referential integrity when parsing (a restored backup)', () => {
    const db = addVolume(threeNodes(), volume(threeNodes(), 'v', GiB));
    expect(topologyDatabaseSchema.safeParse(db).success).to.equal(true);
    const dangling = JSON.parse(JSON.stringify(db));
    dangling.volumes[0].bricks[0].device = 'ffffffffffff';
    const result = topologyDatabaseSchema.safeParse(dangling);
    expect(result.success).to.equal(false);
    expect(result.error?.message).to.match(/unknown device ffffffffffff/);
    expect(topologyDatabaseSchema.safeParse({ ...db, schemaVersion: 2 }).success).to.equal(false);
  });

  it('derives LV, thin pool and brick path from ids; adopted bricks keep their own names', () => {
    const db = addVolume(threeNodes(), volume(threeNodes(), 'v', GiB));
    const brick = db.volumes[0]!.bricks[0]!;
    const device = db.devices[0]!;
    expect(device.id).to.equal(deviceId('node1', '/dev/sdb'));
    expect(device.vg).to.equal(`vg_${device.id}`);
    expect(brickLvName(brick)).to.equal(`brick_${brick.id}`);
    expect(brickThinPoolName(brick)).to.equal(`tp_${brick.id}`);
    expect(brickPath(db, brick)).to.equal(`/var/lib/gluster-operator/bricks/vg_${device.id}/brick_${brick.id}/brick`);
    expect(brickGlusterName(db, brick)).to.equal(`10.0.0.1:/var/lib/gluster-operator/bricks/vg_${device.id}/brick_${brick.id}/brick`);
    const adopted = { ...brick, path: '/var/lib/heketi/mounts/vg_x/brick_y/brick' };
    expect(brickPath(db, adopted)).to.equal('/var/lib/heketi/mounts/vg_x/brick_y/brick');
  });

  it('replaceVolume keeps position and re-checks space; node state changes keep the usage index', () => {
    const db = addVolume(addVolume(threeNodes(), volume(threeNodes(), 'a', GiB)), volume(threeNodes(), 'bb', GiB));
    const updated = replaceVolume(db, { ...db.volumes[0]!, glusterId: '1234' });
    expect(updated.volumes.map((v) => v.name)).to.deep.equal(['a', 'bb']);
    expect(updated.generation).to.equal(db.generation + 1);
    expect(updated.volumes[0]!.glusterId).to.equal('1234');
    const offline = setNodeState(updated, 'node1', 'Offline');
    expect(deviceFree(offline, db.devices[0]!.id)).to.equal(deviceFree(db, db.devices[0]!.id));
    expect(volumeCapacity(db.volumes[0]!)).to.equal(GiB);
  });

  it('keeps lookups and free space right when databases branch (two updates from the same parent)', () => {
    const base = addVolume(threeNodes(), volume(threeNodes(), 'a', GiB));
    const left = addVolume(base, volume(base, 'left', GiB));
    const right = addVolume(base, volume(base, 'right', 2 * GiB));
    expect(findVolume(left, 'right')).to.equal(undefined);
    expect(findVolume(right, 'left')).to.equal(undefined);
    expect(findVolume(base, 'left')).to.equal(undefined);
    expect(findVolume(right, 'right')?.size).to.equal(2 * GiB);
    // Same name added on both branches at different positions.
    const l2 = addVolume(left, volume(left, 'same', GiB));
    const r2 = addVolume(addVolume(right, volume(right, 'x', GiB)), volume(right, 'same', GiB));
    expect(findVolume(l2, 'same')).to.equal(l2.volumes[2]);
    expect(findVolume(r2, 'same')).to.equal(r2.volumes[3]);
    expect(() => addVolume(l2, volume(l2, 'same', GiB))).to.throw(/already exists/);
    const id = base.devices[0]!.id;
    expect(deviceFree(left, id)).to.not.equal(deviceFree(right, id));
    // Adding a device keeps the sums of the others.
    const more = addDevice(right, { node: 'node1', name: '/dev/sdc', size: 7 * GiB, state: 'Online' });
    expect(deviceFree(more, id)).to.equal(deviceFree(right, id));
    expect(deviceFree(more, deviceId('node1', '/dev/sdc'))).to.equal(7 * GiB);
  });

  it('stays compact: a replica-3 volume record is well under 600 bytes of JSON', () => {
    const db = threeNodes();
    const v = volume(db, 'pvc-0123456789abcdef', 10 * GiB);
    expect(JSON.stringify(v).length).to.be.lessThan(600);
  });
});

describe('topology sizing (heketi rules)', () => {
  it('thin pool = brick × snapshot factor, metadata = 0.5% capped at 16Gi, both extent aligned', () => {
    expect(thinPoolSize(10 * GiB, 1)).to.equal(10 * GiB);
    expect(thinPoolSize(10 * GiB, 1.5)).to.equal(15 * GiB);
    expect(poolMetadataSize(10 * GiB)).to.equal(52 * MiB); // 51.2Mi rounded up to the 4Mi extent
    expect(poolMetadataSize(4 * TiB * 100)).to.equal(16 * GiB);
    expect(brickAllocation(10 * GiB, 2, 'LVM')).to.equal(20 * GiB + poolMetadataSize(20 * GiB));
    expect(brickAllocation(10 * GiB, 2, 'Directory')).to.equal(10 * GiB);
  });

  it('arbiter brick: 1Ki per expected file (heketi discountBrickSize), at least 300Mi for mkfs.xfs, at most the data brick', () => {
    expect(arbiterBrickSize(640 * GiB)).to.equal(10 * GiB); // 640Gi / 64Ki files × 1Ki
    expect(arbiterBrickSize(10 * GiB)).to.equal(300 * MiB);
    expect(arbiterBrickSize(100 * MiB)).to.equal(100 * MiB);
    expect(arbiterBrickSize(640 * GiB, 32 * 1024)).to.equal(20 * GiB);
  });

  it('parses and formats quantities', () => {
    expect(parseQuantity('10Gi')).to.equal(10 * GiB);
    expect(parseQuantity('1.5Ti')).to.equal(1.5 * TiB);
    expect(parseQuantity('500M')).to.equal(500e6);
    expect(() => parseQuantity('ten')).to.throw(/not a size/);
    expect(formatBytes(5 * GiB)).to.equal('5Gi');
    expect(formatBytes(3.5 * GiB)).to.equal('3.5Gi');
  });
});
