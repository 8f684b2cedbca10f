import { z } from 'zod';
import {
  dataBricksPerSet,
  freeByDevicePosition,
  durabilitySchema,
  findCluster,
  setSize,
  type TopologyBrick,
  type TopologyCluster,
  type TopologyDatabase,
  type TopologyVolume,
} from '../model.ts';
import { randomHex, randomInt, type Random } from '../random.ts';
import { EXTENT_SIZE, alignUp, arbiterBrickSize, brickAllocation } from '../sizing.ts';
import { setsFit, slotsPerGroup, groupOf, groupCount, type CapacityView } from './capacity.ts';
import { clusterRing, type Ring } from './ring.ts';
import { explainFailure } from './diagnose.ts';

/**
 * Brick placement for a new volume. Pure: the database and the random source come in, a layout or the reason
 * there is none comes out; nothing is written. The caller commits with addVolume(db, result.volume).
 *
 * How it works, and where it differs from heketi:
 * 1. Brick size and set count follow heketi: the fewest sets whose bricks fit maxBrickSize; when a layout fails,
 *    halve the brick size and double the sets, down to minBrickSize. (Volumes smaller than one minimum brick get
 *    a minimum brick, rather than heketi's refusal.)
 * 2. Each set is chosen by walking heketi's zone → node → device ring from a random offset, taking the first
 *    device with room on a node (and, preferably or under strict checking necessarily, a zone) the set does not
 *    use yet. That spreads bricks like heketi did.
 * 3. Unlike heketi, a ring choice is kept only if the remaining sets still fit (capacity.ts decides that exactly
 *    for equal-size bricks); otherwise the set is taken from the nodes/zones with the most room, which never
 *    paints the layout into a corner. So for a given brick size, "no space" means no layout exists.
 * 4. When nothing fits, the reason names the constraint that failed (diagnose.ts).
 */

export const placementRequestSchema = z.object({
  /** Name of the volume record (GlusterVolume metadata.name). */
  volume: z.string().min(1),
  cluster: z.string().min(1),
  /** Usable bytes wanted. */
  size: z.number().int().positive(),
  durability: durabilitySchema,
  snapshotFactor: z.number().min(1).max(100).default(1),
  /** Only devices whose tags include all of these. */
  deviceSelector: z.record(z.string(), z.string()).optional(),
  /** Expected average file size, for arbiter brick sizing (heketi: user.heketi.average-file-size). */
  averageFileSize: z.number().int().positive().optional(),
  /** Name inside Gluster; defaults to `volume`. */
  gluster: z.string().min(1).max(64).optional(),
  gid: z.number().int().min(0).optional(),
  options: z.record(z.string(), z.string()).optional(),
});
export type PlacementRequest = z.input<typeof placementRequestSchema>;

export type PlacementResult =
  | {
      ok: true;
      /** The volume record with its bricks, ready for addVolume. */
      volume: TopologyVolume;
      bricks: TopologyBrick[];
      sets: number;
      /** Size of each data brick. */
      brickSize: number;
      /** Usable capacity the bricks give (≥ the requested size). */
      capacity: number;
    }
  | { ok: false; reason: string };

/** Most sets one volume may get; beyond it the volume is refused (a Gluster volume with more is unmanageable). */
export const MAX_SETS = 4096;
const BRICK_ID_CHARS = 16;

/** One brick size / set count combination to try. */
export interface SizeAttempt {
  sets: number;
  brickSize: number;
}

/** heketi's sequence: fewest sets under maxBrickSize, then halve the brick / double the sets down to minBrickSize. */
export function sizeAttempts(size: number, dataPerSet: number, cluster: Pick<TopologyCluster, 'minBrickSize' | 'maxBrickSize'>): SizeAttempt[] {
  const max = Math.max(EXTENT_SIZE, Math.floor(cluster.maxBrickSize / EXTENT_SIZE) * EXTENT_SIZE);
  const min = Math.min(alignUp(Math.max(cluster.minBrickSize, 1)), max);
  const brickFor = (sets: number) => Math.max(alignUp(Math.ceil(size / (sets * dataPerSet))), min);
  let sets = Math.max(1, Math.ceil(size / (max * dataPerSet)));
  while (brickFor(sets) > max) sets++;
  const attempts: SizeAttempt[] = [];
  while (sets <= MAX_SETS) {
    const brickSize = brickFor(sets);
    attempts.push({ sets, brickSize });
    if (brickSize <= min) break;
    sets *= 2;
  }
  return attempts;
}

interface Layout {
  readonly perSet: number;
  /** Position of the arbiter brick in each set, or -1. heketi: always the last (index 2). */
  readonly arbiterPosition: number;
  readonly strict: boolean;
}

interface Sizing {
  readonly dataAlloc: number;
  readonly arbiterAlloc: number;
}

export function placeVolume(db: TopologyDatabase, input: PlacementRequest, random: Random): PlacementResult {
  const request = placementRequestSchema.parse(input);
  const cluster = findCluster(db, request.cluster);
  if (!cluster) return { ok: false, reason: `cluster ${request.cluster} is not in the topology` };

  const ring = clusterRing(db, cluster.name);
  const strict = cluster.zoneChecking === 'Strict';
  const view: CapacityView = { ring, eligible: eligibility(ring, request.deviceSelector), groupByZone: strict };
  const freeAll = freeByDevicePosition(db);
  const baseFree = Float64Array.from(ring.entries, (entry) => freeAll[entry.position]!);

  const durability = request.durability;
  const arbiter = durability.type === 'Replicate' && durability.arbiter;
  const layout: Layout = { perSet: setSize(durability), arbiterPosition: arbiter ? setSize(durability) - 1 : -1, strict };
  const dataPerSet = dataBricksPerSet(durability);
  const attempts = sizeAttempts(request.size, dataPerSet, cluster);
  if (attempts.length === 0) {
    return { ok: false, reason: `a volume of ${request.size} bytes needs more than ${MAX_SETS} sets of maxBrickSize bricks` };
  }

  for (const attempt of attempts) {
    const arbiterSize = arbiter ? arbiterBrickSize(attempt.brickSize, request.averageFileSize) : 0;
    const sizing: Sizing = {
      dataAlloc: brickAllocation(attempt.brickSize, request.snapshotFactor, cluster.brickBackend),
      arbiterAlloc: arbiter ? brickAllocation(arbiterSize, request.snapshotFactor, cluster.brickBackend) : 0,
    };
    const dataBricks = layout.perSet - (arbiter ? 1 : 0);
    // Skip brick sizes for which no layout exists. (A single set needs no check: the ring walk below finds one
    // whenever one exists, because it considers every device for every position.)
    if (attempt.sets > 1 && !setsFit(view, baseFree, attempt.sets, dataBricks, sizing.dataAlloc)) continue;

    const free = baseFree.slice();
    const chosen: number[][] = [];
    for (let set = 0; set < attempt.sets; set++) {
      const entries = chooseSet(view, free, layout, sizing, attempt.sets - set - 1, random);
      if (!entries) break;
      chosen.push(entries);
    }
    if (chosen.length < attempt.sets) continue;

    const bricks: TopologyBrick[] = [];
    const ids = new Set<string>();
    chosen.forEach((entries, set) =>
      entries.forEach((entry, position) => {
        let id = randomHex(random, BRICK_ID_CHARS);
        while (ids.has(id)) id = randomHex(random, BRICK_ID_CHARS);
        ids.add(id);
        const isArbiter = position === layout.arbiterPosition;
        const brick: TopologyBrick = { id, device: ring.entries[entry]!.device.id, size: isArbiter ? arbiterSize : attempt.brickSize, set };
        if (isArbiter) brick.arbiter = true;
        bricks.push(brick);
      }),
    );
    const volume: TopologyVolume = {
      name: request.volume,
      cluster: cluster.name,
      gluster: request.gluster ?? request.volume,
      durability,
      size: request.size,
      sets: attempt.sets,
      snapshotFactor: request.snapshotFactor,
      bricks,
    };
    if (request.gid !== undefined) volume.gid = request.gid;
    if (request.options !== undefined) volume.options = request.options;
    return { ok: true, volume, bricks, sets: attempt.sets, brickSize: attempt.brickSize, capacity: attempt.sets * attempt.brickSize * dataPerSet };
  }

  return { ok: false, reason: explainFailure({ db, request, cluster, view, free: baseFree, layout, attempts }) };
}

/** Eligibility depends only on the ring (states, tags) and the selector, so it is cached per ring and selector. */
const eligibilityCache = new WeakMap<Ring, Map<string, Uint8Array>>();

function eligibility(ring: Ring, selector: Record<string, string> | undefined): Uint8Array {
  const key = selector ? JSON.stringify(Object.entries(selector).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : '';
  let byKey = eligibilityCache.get(ring);
  if (!byKey) eligibilityCache.set(ring, (byKey = new Map()));
  let eligible = byKey.get(key);
  if (!eligible) byKey.set(key, (eligible = computeEligibility(ring, selector)));
  return eligible;
}

function computeEligibility(ring: Ring, selector: Record<string, string> | undefined): Uint8Array {
  const eligible = new Uint8Array(ring.entries.length);
  const wanted = selector ? Object.entries(selector) : [];
  ring.entries.forEach(({ device, node }, i) => {
    if (node.state !== 'Online' || device.state !== 'Online') return;
    for (const [key, value] of wanted) if (device.tags?.[key] !== value) return;
    eligible[i] = 1;
  });
  return eligible;
}

/** Ring entries for one set, in brick order; reserves their space in `free`. Undefined if the set cannot be placed. */
function chooseSet(view: CapacityView, free: Float64Array, layout: Layout, sizing: Sizing, setsAfter: number, random: Random): number[] | undefined {
  const dataBricks = layout.perSet - (layout.arbiterPosition >= 0 ? 1 : 0);
  const fromRing = walkRing(view, free, layout, sizing, random);
  if (fromRing) {
    if (setsFit(view, free, setsAfter, dataBricks, sizing.dataAlloc)) return fromRing;
    release(free, fromRing, layout, sizing);
  }
  return mostRoomFirst(view, free, layout, sizing, random);
}

function allocFor(position: number, layout: Layout, sizing: Sizing): number {
  return position === layout.arbiterPosition ? sizing.arbiterAlloc : sizing.dataAlloc;
}

function release(free: Float64Array, entries: number[], layout: Layout, sizing: Sizing): void {
  entries.forEach((entry, position) => (free[entry]! += allocFor(position, layout, sizing)));
}

/** heketi's walk: from a random offset, the next device with room on a node (and zone) the set does not use. */
function walkRing(view: CapacityView, free: Float64Array, layout: Layout, sizing: Sizing, random: Random): number[] | undefined {
  const { entries } = view.ring;
  const n = entries.length;
  if (n === 0) return undefined;
  let cursor = randomInt(random, n);
  const chosen: number[] = [];
  for (let position = 0; position < layout.perSet; position++) {
    const need = allocFor(position, layout, sizing);
    let found = findOnRing(view, free, chosen, cursor, need, true);
    if (found < 0 && !layout.strict) found = findOnRing(view, free, chosen, cursor, need, false);
    if (found < 0) {
      release(free, chosen, layout, sizing);
      return undefined;
    }
    chosen.push(found);
    free[found]! -= need;
    cursor = (found + 1) % n;
  }
  return chosen;
}

function findOnRing(view: CapacityView, free: Float64Array, chosen: number[], cursor: number, need: number, newZone: boolean): number {
  const { entries } = view.ring;
  const n = entries.length;
  for (let step = 0; step < n; step++) {
    const i = (cursor + step) % n;
    if (view.eligible[i] !== 1 || free[i]! < need) continue;
    if (conflicts(view, chosen, i, newZone)) continue;
    return i;
  }
  return -1;
}

function conflicts(view: CapacityView, chosen: number[], candidate: number, newZone: boolean): boolean {
  const c = view.ring.entries[candidate]!;
  for (const other of chosen) {
    const o = view.ring.entries[other]!;
    if (o.nodeIndex === c.nodeIndex || (newZone && o.zoneIndex === c.zoneIndex)) return true;
  }
  return false;
}

/**
 * The set from the groups (nodes, or zones when strict) with the most remaining brick slots, each brick on the
 * group's device with the most free space; ties prefer a zone the set does not use yet, then chance. This is the
 * choice that keeps the most later sets placeable.
 */
function mostRoomFirst(view: CapacityView, free: Float64Array, layout: Layout, sizing: Sizing, random: Random): number[] | undefined {
  const groups = groupCount(view);
  const slots = slotsPerGroup(view, free, sizing.dataAlloc);
  const roomiest = new Int32Array(groups).fill(-1);
  const { entries } = view.ring;
  for (let i = 0; i < entries.length; i++) {
    if (view.eligible[i] !== 1 || free[i]! < sizing.dataAlloc) continue;
    const g = groupOf(view, i);
    const best = roomiest[g]!;
    if (best < 0 || free[i]! > free[best]!) roomiest[g] = i;
  }
  const tieBreak = Float64Array.from({ length: groups }, () => random());
  const byPosition: number[] = new Array<number>(layout.perSet).fill(-1);
  const chosen: number[] = [];
  for (let position = 0; position < layout.perSet; position++) {
    if (position === layout.arbiterPosition) continue;
    let pick = -1;
    let pickScore = -1;
    for (let g = 0; g < groups; g++) {
      const entry = roomiest[g]!;
      if (entry < 0 || conflicts(view, chosen, entry, layout.strict)) continue;
      const newZone = conflicts(view, chosen, entry, true) ? 0 : 1;
      const score = slots[g]! * 4 + newZone * 2 + tieBreak[g]!;
      if (score > pickScore) {
        pick = entry;
        pickScore = score;
      }
    }
    if (pick < 0) {
      release(free, byPosition.filter((e) => e >= 0), { ...layout, arbiterPosition: -1 }, sizing);
      return undefined;
    }
    byPosition[position] = pick;
    chosen.push(pick);
    free[pick]! -= sizing.dataAlloc;
  }
  if (layout.arbiterPosition >= 0) {
    const arbiter = roomiestFor(view, free, chosen, sizing.arbiterAlloc, layout.strict);
    if (arbiter < 0) {
      for (const entry of chosen) free[entry]! += sizing.dataAlloc;
      return undefined;
    }
    byPosition[layout.arbiterPosition] = arbiter;
    free[arbiter]! -= sizing.arbiterAlloc;
  }
  return byPosition;
}

/** Device with the most free space (≥ need) on a node not in the set; a new zone is required when strict, else preferred. */
function roomiestFor(view: CapacityView, free: Float64Array, chosen: number[], need: number, strict: boolean): number {
  let best = -1;
  let bestNewZone = false;
  for (let i = 0; i < view.ring.entries.length; i++) {
    if (view.eligible[i] !== 1 || free[i]! < need || conflicts(view, chosen, i, strict)) continue;
    const newZone = !conflicts(view, chosen, i, true);
    if (best < 0 || (newZone && !bestNewZone) || (newZone === bestNewZone && free[i]! > free[best]!)) {
      best = i;
      bestNewZone = newZone;
    }
  }
  return best;
}
