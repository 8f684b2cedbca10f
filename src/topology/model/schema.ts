import { z } from 'zod';

/**
 * The database's schemas and types, the integrity rules the schema checks, names, and parsing
 * (src/topology/model.ts re-exports it).
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
// Integrity: what the schema checks beyond shapes (unique names, references, set structure).

interface Problem {
  message: string;
  path: (string | number)[];
}

export function volumeProblems(volume: TopologyVolume): string[] {
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

export function integrityProblems(db: {
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
