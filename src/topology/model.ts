import { createHash } from 'node:crypto';
import { z } from 'zod';
import { brickAllocation } from './sizing.ts';

/**
 * The topology database: what heketi kept in BoltDB (clusters, nodes, devices, volumes, bricks), as one
 * immutable, versioned, zod-validated value. The operator keeps it in memory, backs it up to Secrets
 * (src/topology/backup) and rebuilds it from the live cluster when the backup is lost.
 *
 * Design choices, because part of this value travels in Secrets (1 MiB each) at 10,000+ volumes:
 * - Arrays, not records keyed by name: an immutable update copies an array of references (fast) where
 *   spreading a 10,000-key object takes milliseconds.
 * - Bricks live inside their volume: the owning volume is implicit and removing a volume removes its bricks.
 * - Nothing derivable is stored: a brick's node comes from its device, its LV, thin-pool and path from its
 *   id (overrides only for adopted bricks whose names differ), device free space from the bricks on it.
 * - Optional fields are omitted when empty, so a typical brick is `{"id":…,"device":…,"size":…,"set":…}`.
 */

export const SCHEMA_VERSION = 1;

/** Where brick file systems are mounted on a node (the glusterd DaemonSet mounts this host path). */
export const BRICK_MOUNT_ROOT = '/var/lib/gluster-operator/bricks';

const name = z.string().min(1).max(253);
const bytes = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const tags = z.record(z.string(), z.string());
const entityState = z.enum(['Online', 'Offline', 'Failed']);
export type EntityState = z.infer<typeof entityState>;

export const clusterSchema = z.object({
  /** GlusterCluster metadata.name. */
  name,
  zoneChecking: z.enum(['None', 'Strict']),
  minBrickSize: bytes,
  maxBrickSize: bytes,
  brickBackend: z.enum(['LVM', 'LoopFile', 'Directory']),
  /** Parent directory of bricks when brickBackend is LoopFile or Directory. */
  directoryRoot: z.string().optional(),
});
export type TopologyCluster = z.infer<typeof clusterSchema>;

export const nodeSchema = z.object({
  /** GlusterNode metadata.name. */
  name,
  cluster: name,
  zone: z.string().min(1).max(63),
  /** Where commands go (SSH host or Kubernetes node name); heketi hostnames.manage. */
  manage: z.string().min(1).max(253),
  /** Address peers and clients use; heketi hostnames.storage. */
  storage: z.string().min(1).max(253),
  state: entityState,
  tags: tags.optional(),
});
export type TopologyNode = z.infer<typeof nodeSchema>;

export const deviceSchema = z.object({
  /** Short stable id, by default derived from node and device path (deviceId()). */
  id: z.string().regex(/^[0-9a-z][-0-9a-z_]*$/).max(64),
  node: name,
  /** Device path on the node, e.g. /dev/sdb. */
  name: z.string().min(1).max(1024),
  /** Bytes usable for bricks (the VG's size, after LVM metadata). */
  size: bytes,
  state: entityState,
  /** LVM volume group on the device (heketi: vg_<device id>). */
  vg: z.string().min(1).max(128),
  tags: tags.optional(),
});
export type TopologyDevice = z.infer<typeof deviceSchema>;

export const brickSchema = z.object({
  /** Lowercase hex; LV `brick_<id>`, thin pool `tp_<id>` and mount directory derive from it. */
  id: z.string().regex(/^[0-9a-f]{8,64}$/),
  device: z.string().min(1),
  /** Brick (thin LV virtual) size in bytes. */
  size: bytes,
  /** Index of the replica or disperse set the brick belongs to. */
  set: z.number().int().min(0),
  /** Present (true) only for arbiter bricks. */
  arbiter: z.literal(true).optional(),
  /** Overrides for adopted bricks whose names do not follow the id-derived scheme. */
  lv: z.string().min(1).optional(),
  pool: z.string().min(1).optional(),
  path: z.string().min(1).optional(),
});
export type TopologyBrick = z.infer<typeof brickSchema>;

/**
 * A brick taken out of its volume by a replacement (replace-brick) whose remains on its old node are still
 * to be removed. It takes no space in the accounting: its node is leaving.
 */
export const retiredBrickSchema = brickSchema.extend({
  /** Id of the brick that took its place in the volume. */
  replacedBy: brickSchema.shape.id,
  /**
   * When Gluster was first seen listing the replacement in its place (replace-brick done): the remains are
   * removed only after a heal that started later.
   */
  replacedAt: z.iso.datetime().optional(),
  /** When a full self-heal was started for the replacement (disperse volumes wait a settle time after it). */
  fullHealStartedAt: z.iso.datetime().optional(),
});
export type RetiredBrick = z.infer<typeof retiredBrickSchema>;

export const durabilitySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('None') }),
  z.object({ type: z.literal('Replicate'), replica: z.number().int().min(2).max(16), arbiter: z.boolean() }),
  z.object({ type: z.literal('Disperse'), data: z.number().int().min(2).max(64), redundancy: z.number().int().min(1).max(32) }),
]);
export type TopologyDurability = z.infer<typeof durabilitySchema>;

export const volumeSchema = z.object({
  /** GlusterVolume metadata.name. */
  name,
  cluster: name,
  /** Name of the volume inside Gluster. */
  gluster: z.string().min(1).max(64),
  /** UUID Gluster gave the volume, once created. */
  glusterId: z.string().optional(),
  durability: durabilitySchema,
  /** Requested usable size in bytes (the bricks may give more after rounding). */
  size: bytes,
  sets: z.number().int().min(1),
  snapshotFactor: z.number().min(1).max(100),
  gid: z.number().int().min(0).optional(),
  options: z.record(z.string(), z.string()).optional(),
  bricks: z.array(brickSchema),
  /** Bricks replaced while their node was evacuated, until their remains are removed. */
  retiredBricks: z.array(retiredBrickSchema).optional(),
});
export type TopologyVolume = z.infer<typeof volumeSchema>;

export const topologyDatabaseSchema = z
  .object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    /** Incremented by every update; the backup keeps the newest generation. */
    generation: z.number().int().min(0),
    clusters: z.array(clusterSchema),
    nodes: z.array(nodeSchema),
    devices: z.array(deviceSchema),
    volumes: z.array(volumeSchema),
  })
  .superRefine((db, ctx) => {
    for (const problem of integrityProblems(db)) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
  });
export type TopologyDatabase = z.infer<typeof topologyDatabaseSchema>;

/**
 * Names in the database are namespaced (`<namespace>/<name>`): custom resources of the same name live in
 * different namespaces (two teams' GlusterNodes called node-1), and the database spans them all.
 */
export function topologyName(namespace: string | undefined, name: string): string {
  return `${namespace ?? 'default'}/${name}`;
}

/** The object name part of a database name, for status fields that name objects of the same namespace. */
export function objectNameOf(topologyName: string): string {
  return topologyName.slice(topologyName.indexOf('/') + 1);
}

export class TopologyError extends Error {
  override name = 'TopologyError';
}

export function emptyDatabase(): TopologyDatabase {
  return { schemaVersion: SCHEMA_VERSION, generation: 0, clusters: [], nodes: [], devices: [], volumes: [] };
}

/** Validates untrusted input (a restored backup, a file) and returns the database. Throws ZodError. */
export function parseDatabase(input: unknown): TopologyDatabase {
  return topologyDatabaseSchema.parse(input);
}

// ---------------------------------------------------------------------------------------------------------
// Derived values

/** Bricks per set for a durability: 1 for distribute, N for replicate N (arbiter included), D+R for disperse. */
export function setSize(durability: TopologyDurability): number {
  switch (durability.type) {
    case 'None':
      return 1;
    case 'Replicate':
      return durability.replica;
    case 'Disperse':
      return durability.data + durability.redundancy;
  }
}

/** Bricks per set that hold a share of the usable capacity (the others are copies, parity or arbiter). */
export function dataBricksPerSet(durability: TopologyDurability): number {
  return durability.type === 'Disperse' ? durability.data : 1;
}

/** Stable short device id from node name and device path: a rebuild from the live cluster finds the same id. */
export function deviceId(node: string, devicePath: string): string {
  return createHash('sha256').update(`${node}\0${devicePath}`).digest('hex').slice(0, 12);
}

export function brickLvName(brick: TopologyBrick): string {
  return brick.lv ?? `brick_${brick.id}`;
}

export function brickThinPoolName(brick: TopologyBrick): string {
  return brick.pool ?? `tp_${brick.id}`;
}

/**
 * Brick directory on its node, as the brick backends (src/bricks) lay it out for brick id `brick_<id>`:
 * `<mount root>/<vg>/brick_<id>/brick` (LVM), `<directoryRoot>/brick_<id>/brick` (LoopFile: the loop file's
 * filesystem is mounted at `<directoryRoot>/brick_<id>`), `<directoryRoot>/brick_<id>` (Directory).
 */
export function brickPath(db: TopologyDatabase, brick: TopologyBrick): string {
  if (brick.path) return brick.path;
  const device = requireDevice(db, brick.device);
  const node = requireNode(db, device.node);
  const cluster = findCluster(db, node.cluster);
  if (cluster?.brickBackend === 'LoopFile' && cluster.directoryRoot) return `${cluster.directoryRoot}/brick_${brick.id}/brick`;
  if (cluster?.brickBackend === 'Directory' && cluster.directoryRoot) return `${cluster.directoryRoot}/brick_${brick.id}`;
  return `${BRICK_MOUNT_ROOT}/${device.vg}/brick_${brick.id}/brick`;
}

export function brickNode(db: TopologyDatabase, brick: TopologyBrick): TopologyNode {
  return requireNode(db, requireDevice(db, brick.device).node);
}

/** The brick as Gluster names it: `<storage address>:<path>`. */
export function brickGlusterName(db: TopologyDatabase, brick: TopologyBrick): string {
  return `${brickNode(db, brick).storage}:${brickPath(db, brick)}`;
}

/** Device space the brick takes (thin pool + metadata for LVM). */
export function brickFootprint(db: TopologyDatabase, volume: TopologyVolume, brick: TopologyBrick): number {
  const cluster = findCluster(db, volume.cluster);
  return brickAllocation(brick.size, volume.snapshotFactor, cluster?.brickBackend ?? 'LVM');
}

/** Usable capacity the bricks give: brick size × data bricks per set, summed over sets. */
export function volumeCapacity(volume: TopologyVolume): number {
  let capacity = 0;
  for (const brick of volume.bricks) if (!brick.arbiter && isFirstDataBrickOfSet(volume, brick)) capacity += brick.size * dataBricksPerSet(volume.durability);
  return capacity;
}

function isFirstDataBrickOfSet(volume: TopologyVolume, brick: TopologyBrick): boolean {
  return volume.bricks.find((b) => b.set === brick.set && !b.arbiter) === brick;
}

// ---------------------------------------------------------------------------------------------------------
// Lookups. Indexes are cached per array (arrays are never mutated, updates replace them), so lookups are O(1)
// after the first one and an update that leaves `nodes` alone keeps the node index.

const nodeIndexes = new WeakMap<readonly TopologyNode[], Map<string, TopologyNode>>();
const deviceIndexes = new WeakMap<readonly TopologyDevice[], Map<string, TopologyDevice>>();

function indexBy<T>(cache: WeakMap<readonly T[], Map<string, T>>, items: readonly T[], key: (item: T) => string): Map<string, T> {
  let index = cache.get(items);
  if (!index) {
    index = new Map(items.map((item) => [key(item), item]));
    cache.set(items, index);
  }
  return index;
}

export function findCluster(db: TopologyDatabase, name: string): TopologyCluster | undefined {
  return db.clusters.find((c) => c.name === name);
}

export function findNode(db: TopologyDatabase, name: string): TopologyNode | undefined {
  return indexBy(nodeIndexes, db.nodes, (n) => n.name).get(name);
}

export function findDevice(db: TopologyDatabase, id: string): TopologyDevice | undefined {
  return indexBy(deviceIndexes, db.devices, (d) => d.id).get(id);
}

/**
 * Volume by name. The name → position index is shared along a line of appends (addVolume extends it instead of
 * rebuilding it), so each hit is verified against this database's array; a miss in the index is certain
 * because every name ever appended to an ancestor is in it, and a failed verification falls back to a scan.
 */
export function findVolume(db: TopologyDatabase, name: string): TopologyVolume | undefined {
  const position = volumeIndex(db.volumes).get(name);
  if (position === undefined) return undefined;
  const candidate = db.volumes[position];
  if (candidate?.name === name) return candidate;
  for (const volume of db.volumes) if (volume.name === name) return volume;
  return undefined;
}

const volumeIndexes = new WeakMap<readonly TopologyVolume[], Map<string, number>>();

function volumeIndex(volumes: readonly TopologyVolume[]): Map<string, number> {
  let index = volumeIndexes.get(volumes);
  if (!index) {
    index = new Map(volumes.map((v, i) => [v.name, i]));
    volumeIndexes.set(volumes, index);
  }
  return index;
}

function appendVolume(volumes: readonly TopologyVolume[], volume: TopologyVolume): TopologyVolume[] {
  const result = volumes.concat([volume]);
  const index = volumeIndexes.get(volumes);
  if (index) {
    index.set(volume.name, volumes.length);
    volumeIndexes.set(result, index);
  }
  return result;
}

/** Position of each device in db.devices, cached per devices array. */
const devicePositions = new WeakMap<readonly TopologyDevice[], Map<string, number>>();

function devicePosition(devices: readonly TopologyDevice[], id: string): number | undefined {
  let index = devicePositions.get(devices);
  if (!index) {
    index = new Map(devices.map((d, i) => [d.id, i]));
    devicePositions.set(devices, index);
  }
  return index.get(id);
}

function requireNode(db: TopologyDatabase, name: string): TopologyNode {
  const node = findNode(db, name);
  if (!node) throw new TopologyError(`node ${name} is not in the topology`);
  return node;
}

function requireDevice(db: TopologyDatabase, id: string): TopologyDevice {
  const device = findDevice(db, id);
  if (!device) throw new TopologyError(`device ${id} is not in the topology`);
  return device;
}

// ---------------------------------------------------------------------------------------------------------
// Space accounting. Free space is derived from the bricks, never stored. The per-database usage index is
// computed once (O(bricks)) and then carried forward incrementally by addVolume/removeVolume, so placing
// volume number 10,000 does not rescan 30,000 bricks.

interface DeviceUsage {
  /** The devices array the positions below refer to. */
  readonly devices: readonly TopologyDevice[];
  /** Bytes taken, by position in `devices`. Typed arrays: carrying the index forward is a 10 KB memcpy. */
  readonly used: Float64Array;
  /** Bricks, by position in `devices`. */
  readonly bricks: Int32Array;
}

const usageIndexes = new WeakMap<TopologyDatabase, DeviceUsage>();

function usage(db: TopologyDatabase): DeviceUsage {
  let index = usageIndexes.get(db);
  if (!index || index.devices !== db.devices) {
    index = { devices: db.devices, used: new Float64Array(db.devices.length), bricks: new Int32Array(db.devices.length) };
    for (const volume of db.volumes) applyVolumeUsage(db, index, volume, +1);
    usageIndexes.set(db, index);
  }
  return index;
}

function applyVolumeUsage(db: TopologyDatabase, index: DeviceUsage, volume: TopologyVolume, sign: 1 | -1): void {
  for (const brick of volume.bricks) {
    const position = devicePosition(index.devices, brick.device);
    if (position === undefined) continue; // a dangling brick takes no known device's space; the schema reports it
    index.used[position]! += sign * brickFootprint(db, volume, brick);
    index.bricks[position]! += sign;
  }
}

function withVolumeUsage(from: TopologyDatabase, to: TopologyDatabase, volume: TopologyVolume, sign: 1 | -1): void {
  const before = usageIndexes.get(from);
  if (!before || before.devices !== to.devices) return;
  const after: DeviceUsage = { devices: before.devices, used: before.used.slice(), bricks: before.bricks.slice() };
  applyVolumeUsage(sign > 0 ? to : from, after, volume, sign);
  usageIndexes.set(to, after);
}

/** Bytes of the device taken by bricks. */
export function deviceUsed(db: TopologyDatabase, device: string): number {
  const position = devicePosition(db.devices, device);
  return position === undefined ? 0 : usage(db).used[position]!;
}

/** Bytes of the device still free for bricks (negative if over-committed, e.g. after a device shrank). */
export function deviceFree(db: TopologyDatabase, device: string): number {
  const position = devicePosition(db.devices, device);
  return position === undefined ? 0 : db.devices[position]!.size - usage(db).used[position]!;
}

/** Free bytes of every device, aligned with db.devices; one pass for callers that need them all (placement). */
export function freeByDevicePosition(db: TopologyDatabase): Float64Array {
  const { used } = usage(db);
  const free = new Float64Array(db.devices.length);
  db.devices.forEach((d, i) => (free[i] = d.size - used[i]!));
  return free;
}

/** Position of a device in db.devices (stable for a given devices array). */
export function devicePositionOf(db: TopologyDatabase, device: string): number | undefined {
  return devicePosition(db.devices, device);
}

export function deviceBrickCount(db: TopologyDatabase, device: string): number {
  const position = devicePosition(db.devices, device);
  return position === undefined ? 0 : usage(db).bricks[position]!;
}

/** Devices whose bricks take more than their size; should never happen, checked by tests and by the operator. */
export function overcommittedDevices(db: TopologyDatabase): string[] {
  const free = freeByDevicePosition(db);
  return db.devices.filter((_, i) => free[i]! < 0).map((d) => d.id);
}

// ---------------------------------------------------------------------------------------------------------
// Updates: pure, each returns a new database with generation + 1, throws TopologyError on an inconsistent
// change. The input database is never modified.

function next(db: TopologyDatabase, change: Partial<TopologyDatabase>): TopologyDatabase {
  return { ...db, ...change, generation: db.generation + 1 };
}

export function addCluster(db: TopologyDatabase, cluster: TopologyCluster): TopologyDatabase {
  if (findCluster(db, cluster.name)) throw new TopologyError(`cluster ${cluster.name} already exists`);
  if (cluster.minBrickSize > cluster.maxBrickSize) throw new TopologyError(`cluster ${cluster.name}: minBrickSize exceeds maxBrickSize`);
  const result = next(db, { clusters: [...db.clusters, clusterSchema.parse(cluster)] });
  carryUsage(db, result);
  return result;
}

export function addNode(db: TopologyDatabase, node: TopologyNode): TopologyDatabase {
  if (!findCluster(db, node.cluster)) throw new TopologyError(`node ${node.name}: cluster ${node.cluster} does not exist`);
  if (findNode(db, node.name)) throw new TopologyError(`node ${node.name} already exists`);
  const result = next(db, { nodes: [...db.nodes, nodeSchema.parse(node)] });
  carryUsage(db, result);
  return result;
}

export function setNodeState(db: TopologyDatabase, name: string, state: EntityState): TopologyDatabase {
  requireNode(db, name);
  const result = next(db, { nodes: db.nodes.map((n) => (n.name === name ? { ...n, state } : n)) });
  carryUsage(db, result);
  return result;
}

/** Removes a node without devices. */
export function removeNode(db: TopologyDatabase, name: string): TopologyDatabase {
  requireNode(db, name);
  if (db.devices.some((d) => d.node === name)) throw new TopologyError(`node ${name} still has devices; remove them first`);
  const result = next(db, { nodes: db.nodes.filter((n) => n.name !== name) });
  carryUsage(db, result);
  return result;
}

/** Input of addDevice: id and vg default to deviceId(node, name) and vg_<id>. */
export type NewDevice = Omit<TopologyDevice, 'id' | 'vg'> & { id?: string; vg?: string };

export function addDevice(db: TopologyDatabase, device: NewDevice): TopologyDatabase {
  requireNode(db, device.node);
  const id = device.id ?? deviceId(device.node, device.name);
  if (findDevice(db, id)) throw new TopologyError(`device ${id} already exists`);
  if (db.devices.some((d) => d.node === device.node && d.name === device.name)) {
    throw new TopologyError(`node ${device.node} already has device ${device.name}`);
  }
  const entry = deviceSchema.parse({ ...device, id, vg: device.vg ?? `vg_${id}` });
  const result = next(db, { devices: [...db.devices, entry] });
  carryUsage(db, result);
  return result;
}

export function setDeviceState(db: TopologyDatabase, id: string, state: EntityState): TopologyDatabase {
  requireDevice(db, id);
  const result = next(db, { devices: db.devices.map((d) => (d.id === id ? { ...d, state } : d)) });
  carryUsage(db, result);
  return result;
}

/** Removes a device without bricks (also without retired bricks whose remains are still on it). */
export function removeDevice(db: TopologyDatabase, id: string): TopologyDatabase {
  requireDevice(db, id);
  if (deviceBrickCount(db, id) > 0) throw new TopologyError(`device ${id} still has ${deviceBrickCount(db, id)} bricks; move them first`);
  const retired = db.volumes.find((v) => v.retiredBricks?.some((b) => b.device === id));
  if (retired) throw new TopologyError(`device ${id} still holds the remains of a replaced brick of volume ${retired.name}`);
  const result = next(db, { devices: db.devices.filter((d) => d.id !== id) });
  carryUsage(db, result);
  return result;
}

/**
 * Adds a volume with its bricks. Refuses duplicates, unknown devices, devices outside the volume's cluster
 * and bricks that do not fit: the database never holds an over-committed device because of an update.
 */
export function addVolume(db: TopologyDatabase, volume: TopologyVolume): TopologyDatabase {
  if (findVolume(db, volume.name)) throw new TopologyError(`volume ${volume.name} already exists`);
  const cluster = findCluster(db, volume.cluster);
  if (!cluster) throw new TopologyError(`volume ${volume.name}: cluster ${volume.cluster} does not exist`);
  const problems = volumeProblems(volume);
  if (problems.length > 0) throw new TopologyError(`volume ${volume.name}: ${problems.join('; ')}`);
  const taking = new Map<string, number>();
  for (const brick of volume.bricks) {
    const device = requireDevice(db, brick.device);
    if (requireNode(db, device.node).cluster !== volume.cluster) {
      throw new TopologyError(`volume ${volume.name}: brick ${brick.id} is on device ${device.id} outside cluster ${volume.cluster}`);
    }
    taking.set(device.id, (taking.get(device.id) ?? 0) + brickAllocation(brick.size, volume.snapshotFactor, cluster.brickBackend));
  }
  for (const [id, amount] of taking) {
    if (amount > deviceFree(db, id)) throw new TopologyError(`volume ${volume.name}: device ${id} has ${deviceFree(db, id)} bytes free, needs ${amount}`);
  }
  const result = next(db, { volumes: appendVolume(db.volumes, volume) });
  withVolumeUsage(db, result, volume, +1);
  return result;
}

/** Removes a volume and, with it, its bricks (their space becomes free). */
export function removeVolume(db: TopologyDatabase, name: string): TopologyDatabase {
  const volume = findVolume(db, name);
  if (!volume) throw new TopologyError(`volume ${name} is not in the topology`);
  const result = next(db, { volumes: db.volumes.filter((v) => v !== volume) });
  withVolumeUsage(db, result, volume, -1);
  return result;
}

/** Replaces a volume record (e.g. to set glusterId, or after replacing a brick), re-checking space. */
export function replaceVolume(db: TopologyDatabase, volume: TopologyVolume): TopologyDatabase {
  const checked = addVolume(removeVolume(db, volume.name), volume);
  // Same content as `checked`, but the volume keeps its position and the generation moves by one.
  const result = next(db, { volumes: db.volumes.map((v) => (v.name === volume.name ? volume : v)) });
  const index = usageIndexes.get(checked);
  if (index) usageIndexes.set(result, index);
  return result;
}

/**
 * Updates that leave volumes alone keep the usage index (clusters are only added, never changed); an index whose
 * devices array is not the database's is rebuilt on first use (usage()).
 */
function carryUsage(from: TopologyDatabase, to: TopologyDatabase): void {
  const index = usageIndexes.get(from);
  if (!index || from.volumes !== to.volumes) return;
  if (index.devices === to.devices) {
    usageIndexes.set(to, index);
    return;
  }
  // Same devices at the same positions, maybe more appended (addDevice, setDeviceState): extend, keep the sums.
  if (to.devices.length < index.devices.length) return;
  for (let i = 0; i < index.devices.length; i++) if (index.devices[i]!.id !== to.devices[i]!.id) return;
  const used = new Float64Array(to.devices.length);
  used.set(index.used);
  const bricks = new Int32Array(to.devices.length);
  bricks.set(index.bricks);
  usageIndexes.set(to, { devices: to.devices, used, bricks });
}

// ---------------------------------------------------------------------------------------------------------
// Integrity: what the schema checks beyond shapes (unique names, references, set structure).

interface Problem {
  message: string;
  path: (string | number)[];
}

function volumeProblems(volume: TopologyVolume): string[] {
  const problems: string[] = [];
  const perSet = setSize(volume.durability);
  const counts = new Array<number>(volume.sets).fill(0);
  const ids = new Set<string>();
  for (const brick of volume.bricks) {
    if (ids.has(brick.id)) problems.push(`brick id ${brick.id} appears twice`);
    ids.add(brick.id);
    if (brick.set >= volume.sets) problems.push(`brick ${brick.id} is in set ${brick.set} but the volume has ${volume.sets} sets`);
    else counts[brick.set] = (counts[brick.set] ?? 0) + 1;
  }
  counts.forEach((count, set) => {
    if (count !== perSet) problems.push(`set ${set} has ${count} bricks, expected ${perSet}`);
  });
  return problems;
}

function integrityProblems(db: {
  clusters: TopologyCluster[];
  nodes: TopologyNode[];
  devices: TopologyDevice[];
  volumes: TopologyVolume[];
}): Problem[] {
  const problems: Problem[] = [];
  const clusters = new Set<string>();
  db.clusters.forEach((c, i) => {
    if (clusters.has(c.name)) problems.push({ message: `duplicate cluster ${c.name}`, path: ['clusters', i, 'name'] });
    if (c.minBrickSize > c.maxBrickSize) problems.push({ message: `minBrickSize exceeds maxBrickSize`, path: ['clusters', i, 'minBrickSize'] });
    clusters.add(c.name);
  });
  const nodeCluster = new Map<string, string>();
  db.nodes.forEach((n, i) => {
    if (nodeCluster.has(n.name)) problems.push({ message: `duplicate node ${n.name}`, path: ['nodes', i, 'name'] });
    if (!clusters.has(n.cluster)) problems.push({ message: `node ${n.name}: unknown cluster ${n.cluster}`, path: ['nodes', i, 'cluster'] });
    nodeCluster.set(n.name, n.cluster);
  });
  const deviceCluster = new Map<string, string>();
  const devicePaths = new Set<string>();
  db.devices.forEach((d, i) => {
    if (deviceCluster.has(d.id)) problems.push({ message: `duplicate device id ${d.id}`, path: ['devices', i, 'id'] });
    const cluster = nodeCluster.get(d.node);
    if (cluster === undefined) problems.push({ message: `device ${d.id}: unknown node ${d.node}`, path: ['devices', i, 'node'] });
    const key = `${d.node}\0${d.name}`;
    if (devicePaths.has(key)) problems.push({ message: `node ${d.node} lists device ${d.name} twice`, path: ['devices', i, 'name'] });
    devicePaths.add(key);
    deviceCluster.set(d.id, cluster ?? '');
  });
  const volumes = new Set<string>();
  const brickIds = new Set<string>();
  db.volumes.forEach((v, i) => {
    if (volumes.has(v.name)) problems.push({ message: `duplicate volume ${v.name}`, path: ['volumes', i, 'name'] });
    volumes.add(v.name);
    if (!clusters.has(v.cluster)) problems.push({ message: `volume ${v.name}: unknown cluster ${v.cluster}`, path: ['volumes', i, 'cluster'] });
    for (const message of volumeProblems(v)) problems.push({ message: `volume ${v.name}: ${message}`, path: ['volumes', i, 'bricks'] });
    v.bricks.forEach((b, j) => {
      if (brickIds.has(b.id)) problems.push({ message: `brick id ${b.id} is used twice`, path: ['volumes', i, 'bricks', j, 'id'] });
      brickIds.add(b.id);
      const cluster = deviceCluster.get(b.device);
      if (cluster === undefined) problems.push({ message: `brick ${b.id}: unknown device ${b.device}`, path: ['volumes', i, 'bricks', j, 'device'] });
      else if (cluster !== v.cluster) problems.push({ message: `brick ${b.id}: device ${b.device} is outside cluster ${v.cluster}`, path: ['volumes', i, 'bricks', j, 'device'] });
    });
    v.retiredBricks?.forEach((b, j) => {
      if (!deviceCluster.has(b.device)) problems.push({ message: `retired brick ${b.id}: unknown device ${b.device}`, path: ['volumes', i, 'retiredBricks', j, 'device'] });
    });
  });
  return problems;
}
