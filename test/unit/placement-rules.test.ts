import { expect } from 'chai';
import {
  addCluster,
  addDevice,
  addNode,
  addVolume,
  deviceFree,
  emptyDatabase,
  findDevice,
  findNode,
  type TopologyCluster,
  type TopologyDatabase,
} from '../../src/topology/model.ts';
import { placeVolume, type PlacementRequest } from '../../src/topology/placement/index.ts';
import { clusterRing } from '../../src/topology/placement/ring.ts';
import { seededRandom } from '../../src/topology/random.ts';
import { GiB, MiB, TiB, brickAllocation } from '../../src/topology/sizing.ts';

interface NodeSpec {
  name: string;
  zone?: string;
  devices: { size: number; tags?: Record<string, string>; state?: 'Online' | 'Offline' }[];
  state?: 'Online' | 'Offline' | 'Failed';
}

function topology(nodes: NodeSpec[], cluster: Partial<TopologyCluster> = {}): TopologyDatabase {
  let db = addCluster(emptyDatabase(), {
    name: 'main',
    zoneChecking: 'None',
    minBrickSize: GiB,
    maxBrickSize: 4 * TiB,
    brickBackend: 'LVM',
    ...cluster,
  });
  for (const n of nodes) {
    db = addNode(db, { name: n.name, cluster: 'main', zone: n.zone ?? '1', manage: n.name, storage: n.name, state: n.state ?? 'Online' });
    n.devices.forEach((d, i) => {
      db = addDevice(db, { node: n.name, name: `/dev/sd${'bcdefgh'[i]}`, size: d.size, state: d.state ?? 'Online', ...(d.tags ? { tags: d.tags } : {}) });
    });
  }
  return db;
}

const replica3: PlacementRequest['durability'] = { type: 'Replicate', replica: 3, arbiter: false };

function request(size: number, extra: Partial<PlacementRequest> = {}): PlacementRequest {
  return { volume: 'v', cluster: 'main', size, durability: replica3, ...extra };
}

function fail(db: TopologyDatabase, req: PlacementRequest): string {
  const result = placeVolume(db, req, seededRandom(1));
  expect(result.ok, JSON.stringify(result)).to.equal(false);
  return result.ok ? '' : result.reason;
}

/**
 * heketi's StandardBrickPlacer, reduced to its decision: for each set, walk the ring from an offset (heketi: a
 * fresh UUID per set) and take the first device with room on a node the set does not use; a set that cannot be
 * completed is ErrNoSpace for the whole attempt. Offsets are passed in so the test can try all of them.
 */
function heketiPlace(db: TopologyDatabase, sets: number, perSet: number, alloc: number, offsets: number[]): boolean {
  const ring = clusterRing(db, 'main');
  const free = ring.entries.map((e) => deviceFree(db, e.device.id));
  for (let set = 0; set < sets; set++) {
    const nodes: number[] = [];
    let cursor = offsets[set]!;
    for (let brick = 0; brick < perSet; brick++) {
      let found = -1;
      for (let step = 0; step < ring.entries.length; step++) {
        const i = (cursor + step) % ring.entries.length;
        if (free[i]! >= alloc && !nodes.includes(ring.entries[i]!.nodeIndex)) {
          found = i;
          break;
        }
      }
      if (found < 0) return false;
      free[found]! -= alloc;
      nodes.push(ring.entries[found]!.nodeIndex);
      cursor = found + 1;
    }
  }
  return true;
}

describe('placement rules', () => {
  it("places where heketi's one-pass ring walk reported \"no space\" while a layout existed", () => {
    // 10Gi replica 3 with bricks fixed at 5Gi (min = max): two sets. Nodes a and b have room for two bricks,
    // c and d for one. Valid layout: {a,b,c} + {a,b,d}. heketi starting the first set at c takes {c,d,a},
    // leaving only a and b with room: the second set has two nodes, ErrNoSpace; halving is barred by the
    // minimum brick size, so heketi gave up with 30Gi free for 30Gi of bricks.
    const alloc = brickAllocation(5 * GiB, 1, 'LVM');
    const db = topology(
      [
        { name: 'a', devices: [{ size: 2 * alloc + MiB }] },
        { name: 'b', devices: [{ size: 2 * alloc + MiB }] },
        { name: 'c', devices: [{ size: alloc + MiB }] },
        { name: 'd', devices: [{ size: alloc + MiB }] },
      ],
      { minBrickSize: 5 * GiB, maxBrickSize: 5 * GiB },
    );
    const ring = clusterRing(db, 'main');
    const n = ring.entries.length;
    let heketiFailures = 0;
    for (let first = 0; first < n; first++) for (let second = 0; second < n; second++) if (!heketiPlace(db, 2, 3, alloc, [first, second])) heketiFailures++;
    expect(heketiFailures, 'ring offsets for which heketi reports no space').to.be.greaterThan(0);

    for (let seed = 0; seed < 100; seed++) {
      const result = placeVolume(db, request(10 * GiB), seededRandom(seed));
      expect(result.ok, `seed ${seed}: ${result.ok ? '' : result.reason}`).to.equal(true);
      if (!result.ok) continue;
      expect(result.sets).to.equal(2);
      const committed = addVolume(db, result.volume);
      expect(committed.devices.map((d) => deviceFree(committed, d.id))).to.deep.equal([MiB, MiB, MiB, MiB]);
    }
  });

  it('makes more sets when one set cannot fit (heketi: halve the brick, double the sets)', () => {
    const db = topology(['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name, devices: [{ size: 60 * GiB }] })));
    const result = placeVolume(db, request(100 * GiB), seededRandom(3));
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    expect(result.sets).to.equal(2);
    expect(result.brickSize).to.equal(50 * GiB);
    expect(result.capacity).to.equal(100 * GiB);
  });

  it('splits volumes larger than maxBrickSize into sets', () => {
    const db = topology(['a', 'b', 'c'].map((name) => ({ name, devices: [{ size: 100 * GiB }] })), { maxBrickSize: 10 * GiB });
    const result = placeVolume(db, request(25 * GiB), seededRandom(1));
    expect(result.ok && result.sets).to.equal(3);
    expect(result.ok && result.brickSize).to.be.at.most(10 * GiB);
  });

  it('gives volumes smaller than the minimum brick a minimum brick', () => {
    const db = topology(['a', 'b', 'c'].map((name) => ({ name, devices: [{ size: 100 * GiB }] })), { minBrickSize: 2 * GiB });
    const result = placeVolume(db, request(100 * MiB), seededRandom(1));
    expect(result.ok && result.brickSize).to.equal(2 * GiB);
  });

  it('strict zones: refuses rather than doubling up a zone, and says how many zones have room', () => {
    const twoZones = topology([
      { name: 'a', zone: '1', devices: [{ size: 100 * GiB }] },
      { name: 'b', zone: '2', devices: [{ size: 100 * GiB }] },
      { name: 'c', zone: '2', devices: [{ size: 100 * GiB }] },
    ], { zoneChecking: 'Strict' });
    expect(fail(twoZones, request(5 * GiB))).to.equal('strict zone checking needs 3 zones; cluster main has Online devices in only 2');

    const oneZoneFull = topology(
      [
        { name: 'a', zone: '1', devices: [{ size: 100 * GiB }] },
        { name: 'b', zone: '2', devices: [{ size: 100 * GiB }] },
        { name: 'c', zone: '3', devices: [{ size: 3 * GiB }] },
        { name: 'd', zone: '1', devices: [{ size: 100 * GiB }] },
      ],
      { zoneChecking: 'Strict', minBrickSize: 5 * GiB },
    );
    expect(fail(oneZoneFull, request(5 * GiB))).to.equal(
      'only 2 zones have a device with 5Gi free (5.03Gi with thin pool and metadata); strict zone checking needs 3',
    );
    // Without strict checking the same topology places, spreading over zones where it can.
    const relaxed = topology(
      [
        { name: 'a', zone: '1', devices: [{ size: 100 * GiB }] },
        { name: 'b', zone: '2', devices: [{ size: 100 * GiB }] },
        { name: 'd', zone: '1', devices: [{ size: 100 * GiB }] },
      ],
      { minBrickSize: 5 * GiB },
    );
    expect(placeVolume(relaxed, request(5 * GiB), seededRandom(1)).ok).to.equal(true);
  });

  it('non-strict zones still spread a set over zones when they have room', () => {
    const db = topology(
      ['1', '1', '1', '2', '2', '2', '3', '3', '3'].map((zone, i) => ({ name: `n${i}`, zone, devices: [{ size: 100 * GiB }] })),
    );
    for (let seed = 0; seed < 30; seed++) {
      const result = placeVolume(db, request(5 * GiB), seededRandom(seed));
      if (!result.ok) throw new Error(result.reason);
      const zones = result.bricks.map((b) => findNode(db, findDevice(db, b.device)!.node)!.zone);
      expect(new Set(zones).size, zones.join(',')).to.equal(3);
    }
  });

  it('says when the largest free device is smaller than the minimum brick', () => {
    const db = topology(['a', 'b', 'c'].map((name) => ({ name, devices: [{ size: 3 * GiB }] })), { minBrickSize: 4 * GiB });
    expect(fail(db, request(4 * GiB))).to.equal('largest free device has 3Gi < min brick 4Gi (4.02Gi with thin pool and metadata)');
  });

  it('honours deviceSelector (subset of device tags) and names it when nothing matches', () => {
    const db = topology(
      ['a', 'b', 'c', 'd'].map((name, i) => ({
        name,
        devices: [
          { size: 100 * GiB, tags: { class: 'hdd' } as Record<string, string> },
          ...(i < 3 ? [{ size: 100 * GiB, tags: { class: 'ssd', rack: 'r1' } }] : []),
        ],
      })),
    );
    const ok = placeVolume(db, request(5 * GiB, { deviceSelector: { class: 'ssd' } }), seededRandom(1));
    if (!ok.ok) throw new Error(ok.reason);
    for (const brick of ok.bricks) expect(findDevice(db, brick.device)!.tags).to.deep.equal({ class: 'ssd', rack: 'r1' });
    expect(fail(db, request(5 * GiB, { deviceSelector: { class: 'nvme' } }))).to.equal(
      'no device matches deviceSelector {class: nvme} (7 Online devices in cluster main)',
    );
    expect(fail(db, request(5 * GiB, { deviceSelector: { class: 'ssd' }, durability: { type: 'Replicate', replica: 4, arbiter: false } }))).to.equal(
      'only 3 nodes have a device matching deviceSelector {class: ssd}; a set of 4 bricks needs 4 distinct nodes',
    );
  });

  it('uses only Online nodes and devices', () => {
    const db = topology([
      { name: 'a', devices: [{ size: 100 * GiB }] },
      { name: 'b', devices: [{ size: 100 * GiB, state: 'Offline' }, { size: 100 * GiB }] },
      { name: 'c', devices: [{ size: 100 * GiB }] },
      { name: 'd', state: 'Failed', devices: [{ size: 100 * GiB }] },
      { name: 'e', state: 'Offline', devices: [{ size: 100 * GiB }] },
    ]);
    for (let seed = 0; seed < 20; seed++) {
      const result = placeVolume(db, request(5 * GiB), seededRandom(seed));
      if (!result.ok) throw new Error(result.reason);
      for (const brick of result.bricks) {
        const device = findDevice(db, brick.device)!;
        expect(device.state).to.equal('Online');
        expect(['a', 'b', 'c']).to.include(device.node);
      }
    }
    const allOffline = topology([{ name: 'a', state: 'Offline', devices: [{ size: GiB }] }]);
    expect(fail(allOffline, request(GiB))).to.equal('no node of cluster main is Online (1 nodes)');
  });

  it('places arbiter bricks small and last in each set, on a third node', () => {
    const db = topology(['a', 'b', 'c'].map((name) => ({ name, devices: [{ size: 2 * TiB }] })));
    const result = placeVolume(db, request(640 * GiB, { durability: { type: 'Replicate', replica: 3, arbiter: true } }), seededRandom(1));
    if (!result.ok) throw new Error(result.reason);
    expect(result.bricks.map((b) => [b.size, b.arbiter ?? false])).to.deep.equal([
      [640 * GiB, false],
      [640 * GiB, false],
      [10 * GiB, true],
    ]);
    // An arbiter fits where a third data brick would not.
    const small = topology([
      { name: 'a', devices: [{ size: 100 * GiB }] },
      { name: 'b', devices: [{ size: 100 * GiB }] },
      { name: 'c', devices: [{ size: 2 * GiB }] },
    ]);
    expect(placeVolume(small, request(50 * GiB, { durability: { type: 'Replicate', replica: 3, arbiter: true } }), seededRandom(1)).ok).to.equal(true);
    expect(placeVolume(small, request(50 * GiB), seededRandom(1)).ok).to.equal(false);
  });

  it('places disperse 4+2 sets on six distinct nodes with data/4 bricks', () => {
    const db = topology(['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name, devices: [{ size: 100 * GiB }] })));
    const result = placeVolume(db, request(40 * GiB, { durability: { type: 'Disperse', data: 4, redundancy: 2 } }), seededRandom(1));
    if (!result.ok) throw new Error(result.reason);
    expect(result.bricks.length).to.equal(6);
    expect(result.brickSize).to.equal(10 * GiB);
    expect(new Set(result.bricks.map((b) => findDevice(db, b.device)!.node)).size).to.equal(6);
  });

  it('accounts the snapshot factor in the thin pool', () => {
    const db = topology(['a', 'b', 'c'].map((name) => ({ name, devices: [{ size: 30 * GiB }] })));
    expect(placeVolume(db, request(20 * GiB), seededRandom(1)).ok).to.equal(true);
    expect(fail(db, request(20 * GiB, { snapshotFactor: 1.5 }))).to.match(/^not enough free space/);
  });

  it('reports missing clusters and exhausted capacity', () => {
    const db = topology(['a', 'b', 'c'].map((name) => ({ name, devices: [{ size: 10 * GiB }] })));
    expect(fail(db, request(GiB, { cluster: 'other' }))).to.equal('cluster other is not in the topology');
    expect(fail(db, request(50 * GiB))).to.match(/^not enough free space: 50Gi in 3-brick sets needs at least .* cluster main has 30Gi free on 3 devices$/);
  });
});
