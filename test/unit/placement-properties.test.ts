import { expect } from 'chai';
import { addVolume, deviceFree, findDevice, findNode, overcommittedDevices, setSize, type TopologyDatabase, type TopologyDurability } from '../../src/topology/model.ts';
import { placeVolume, sizeAttempts, type PlacementRequest } from '../../src/topology/placement/index.ts';
import { clusterRing } from '../../src/topology/placement/ring.ts';
import { randomInt, seededRandom, type Random } from '../../src/topology/random.ts';
import { GiB, brickAllocation, arbiterBrickSize } from '../../src/topology/sizing.ts';
import { syntheticTopology } from '../../src/topology/placement/synthetic.ts';

/**
 * Property tests: random topologies and random volume requests from a seeded generator; every successful
 * placement must satisfy the invariants, and small failures are checked against an exhaustive search.
 */

const durabilities: TopologyDurability[] = [
  { type: 'Replicate', replica: 3, arbiter: false },
  { type: 'Replicate', replica: 2, arbiter: false },
  { type: 'Replicate', replica: 3, arbiter: true },
  { type: 'Disperse', data: 4, redundancy: 2 },
  { type: 'None' },
];

function randomTopology(random: Random): TopologyDatabase {
  return syntheticTopology(
    {
      nodes: 1 + randomInt(random, 10),
      zones: 1 + randomInt(random, 4),
      devicesPerNode: [1, 3],
      deviceSize: [5 * GiB, 200 * GiB],
      zoneChecking: random() < 0.4 ? 'Strict' : 'None',
      minBrickSize: GiB,
      maxBrickSize: random() < 0.5 ? 50 * GiB : 4096 * GiB,
      offlineNodes: 0.1,
      offlineDevices: 0.1,
      deviceClasses: random() < 0.3 ? ['ssd', 'hdd'] : [],
    },
    random,
  );
}

function randomRequest(random: Random, name: string): PlacementRequest {
  const request: PlacementRequest = {
    volume: name,
    cluster: 'main',
    size: (1 + randomInt(random, 150)) * GiB,
    durability: durabilities[randomInt(random, durabilities.length)]!,
    snapshotFactor: random() < 0.2 ? 1.5 : 1,
  };
  if (random() < 0.15) request.deviceSelector = { class: 'ssd' };
  return request;
}

function checkInvariants(db: TopologyDatabase, request: PlacementRequest, result: Extract<ReturnType<typeof placeVolume>, { ok: true }>): void {
  const cluster = db.clusters[0]!;
  const perSet = setSize(request.durability);
  expect(result.capacity, 'capacity').to.be.at.least(request.size);
  expect(result.bricks.length).to.equal(result.sets * perSet);
  for (let set = 0; set < result.sets; set++) {
    const bricks = result.bricks.filter((b) => b.set === set);
    expect(bricks.length, `set ${set} size`).to.equal(perSet);
    const nodes = bricks.map((b) => findDevice(db, b.device)!.node);
    expect(new Set(nodes).size, `set ${set}: distinct nodes ${nodes.join(',')}`).to.equal(perSet);
    if (cluster.zoneChecking === 'Strict') {
      const zones = nodes.map((n) => findNode(db, n)!.zone);
      expect(new Set(zones).size, `set ${set}: distinct zones ${zones.join(',')}`).to.equal(perSet);
    }
  }
  for (const brick of result.bricks) {
    const device = findDevice(db, brick.device)!;
    expect(device.state).to.equal('Online');
    expect(findNode(db, device.node)!.state).to.equal('Online');
    for (const [k, v] of Object.entries(request.deviceSelector ?? {})) expect(device.tags?.[k]).to.equal(v);
    if (!brick.arbiter) {
      expect(brick.size).to.be.at.least(cluster.minBrickSize);
      expect(brick.size).to.be.at.most(cluster.maxBrickSize);
    }
  }
  const arbiters = result.bricks.filter((b) => b.arbiter);
  const isArbiter = request.durability.type === 'Replicate' && request.durability.arbiter;
  expect(arbiters.length).to.equal(isArbiter ? result.sets : 0);
}

/**
 * Exhaustive search: is there any layout of `sets` sets for brick size `brickSize`? Only for small cases.
 * Tries every combination of eligible devices per set (distinct nodes, distinct zones when strict).
 */
function layoutExists(db: TopologyDatabase, request: PlacementRequest, sets: number, brickSize: number): boolean {
  const cluster = db.clusters[0]!;
  const ring = clusterRing(db, cluster.name);
  const strict = cluster.zoneChecking === 'Strict';
  const isArbiter = request.durability.type === 'Replicate' && request.durability.arbiter;
  const perSet = setSize(request.durability);
  const factor = request.snapshotFactor ?? 1;
  const dataAlloc = brickAllocation(brickSize, factor, 'LVM');
  const arbiterAlloc = brickAllocation(arbiterBrickSize(brickSize), factor, 'LVM');
  const entries = ring.entries.filter(
    (e) =>
      e.node.state === 'Online' &&
      e.device.state === 'Online' &&
      Object.entries(request.deviceSelector ?? {}).every(([k, v]) => e.device.tags?.[k] === v),
  );
  const free = entries.map((e) => deviceFree(db, e.device.id));
  const chosen: number[] = [];
  const search = (set: number, position: number): boolean => {
    if (set === sets) return true;
    if (position === perSet) return search(set + 1, 0);
    const need = isArbiter && position === perSet - 1 ? arbiterAlloc : dataAlloc;
    for (let i = 0; i < entries.length; i++) {
      if (free[i]! < need) continue;
      const e = entries[i]!;
      if (chosen.some((c) => entries[c]!.nodeIndex === e.nodeIndex || (strict && entries[c]!.zoneIndex === e.zoneIndex))) continue;
      // symmetry: data bricks of a set in increasing entry order
      if (position > 0 && !(isArbiter && position === perSet - 1) && i < chosen[chosen.length - 1]!) continue;
      free[i]! -= need;
      chosen.push(i);
      const found = search(set, position + 1);
      chosen.pop();
      free[i]! += need;
      if (found) return true;
    }
    return false;
  };
  return search(0, 0);
}

describe('placement properties (seeded random topologies)', () => {
  it('every placement respects nodes, zones, states, selectors, sizes and capacity; devices never over-commit', function () {
    this.timeout(60_000);
    let placed = 0;
    let refused = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const random = seededRandom(seed);
      let db = randomTopology(random);
      for (let v = 0; v < 12; v++) {
        const request = randomRequest(random, `vol-${v}`);
        const result = placeVolume(db, request, random);
        if (!result.ok) {
          expect(result.reason, `seed ${seed}`).to.be.a('string').and.not.equal('');
          refused++;
          continue;
        }
        checkInvariants(db, request, result);
        db = addVolume(db, result.volume); // throws if any device would be over-committed
        expect(overcommittedDevices(db)).to.deep.equal([]);
        placed++;
      }
    }
    expect(placed, 'placed').to.be.greaterThan(300);
    expect(refused, 'refused').to.be.greaterThan(50);
  });

  it('is deterministic: the same seed gives the same layout, another seed may differ', () => {
    const db = syntheticTopology({ nodes: 12, zones: 3, devicesPerNode: 3, deviceSize: 500 * GiB }, seededRandom(7));
    const request: PlacementRequest = { volume: 'v', cluster: 'main', size: 40 * GiB, durability: { type: 'Replicate', replica: 3, arbiter: false } };
    const a = placeVolume(db, request, seededRandom(42));
    const b = placeVolume(db, request, seededRandom(42));
    expect(a).to.deep.equal(b);
    const layouts = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const r = placeVolume(db, request, seededRandom(seed));
      if (r.ok) layouts.add(r.bricks.map((x) => x.device).join(','));
    }
    expect(layouts.size, 'random ring start spreads sets').to.be.greaterThan(5);
  });

  it('refuses only when an exhaustive search finds no layout either (small topologies)', function () {
    this.timeout(60_000);
    let checked = 0;
    for (let seed = 1000; seed < 1400; seed++) {
      const random = seededRandom(seed);
      let db = syntheticTopology(
        {
          nodes: 2 + randomInt(random, 4),
          zones: 1 + randomInt(random, 3),
          devicesPerNode: [1, 2],
          deviceSize: [4 * GiB, 40 * GiB],
          zoneChecking: random() < 0.5 ? 'Strict' : 'None',
          minBrickSize: 4 * GiB,
          maxBrickSize: 16 * GiB,
          offlineNodes: 0.05,
        },
        random,
      );
      for (let v = 0; v < 6; v++) {
        const request = randomRequest(random, `v${v}`);
        request.size = (2 + randomInt(random, 30)) * GiB;
        if (request.durability.type === 'Disperse') request.durability = { type: 'Replicate', replica: 2, arbiter: false };
        const result = placeVolume(db, request, random);
        if (result.ok) {
          db = addVolume(db, result.volume);
          continue;
        }
        // Disperse was replaced above, so each set holds one brick's worth of data.
        for (const attempt of sizeAttempts(request.size, 1, db.clusters[0]!)) {
          if (attempt.sets > 3) continue;
          checked++;
          expect(layoutExists(db, request, attempt.sets, attempt.brickSize), `seed ${seed} ${JSON.stringify(request)} ${JSON.stringify(attempt)}: ${result.reason}`).to.equal(false);
        }
      }
    }
    expect(checked).to.be.greaterThan(100);
  });
});
