import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { MAX_VOLUME_SIZE, glusterVolumeNameOf, type GlusterCluster, type GlusterNode, type GlusterVolume } from '../../api/index.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import type { LogicalVolume, PhysicalVolume, VolumeGroup } from '../../gluster/parsers/lvm.ts';
import {
  BRICK_MOUNT_ROOT,
  SCHEMA_VERSION,
  brickGlusterName,
  clusterSchema,
  dataBricksPerSet,
  deviceId,
  deviceSchema,
  nodeSchema,
  setSize,
  topologyDatabaseSchema,
  volumeSchema,
  type TopologyBrick,
  type TopologyCluster,
  type TopologyDatabase,
  type TopologyDevice,
  type TopologyDurability,
  type TopologyNode,
  type TopologyVolume,
  topologyName,
} from '../model.ts';
import { arbiterBrickSize, formatBytes, parseQuantity } from '../sizing.ts';
import { clusterRecordOf } from './cluster-record.ts';

/**
 * Rebuilding the topology database from what the cluster itself shows, for when the backup is missing,
 * corrupt or behind. Pure: the caller gathers the custom resources and each node's command output
 * (`gluster volume info --xml`, `pvs`/`vgs`/`lvs --reportformat json`, already parsed) and passes them in.
 *
 * Sources, by trust:
 *  1. The live Gluster volumes: which bricks exist, on which host and path, in which order (= which set),
 *     which are arbiters, the volume's durability and UUID. This is the truth about data.
 *  2. LVM on the nodes: brick LV sizes and thin pools, which VG (device) holds a brick, VG sizes.
 *  3. The custom resources: clusters, nodes, devices, zones, volume names, requested sizes and options;
 *     GlusterVolume status (bricks' devices and sizes as last reported).
 *  4. A backup that is readable but behind (`hint`): only for facts 1-3 cannot show (brick sizes of the
 *     Directory backend, device sizes of unreachable nodes).
 *  5. Otherwise an estimate, reported as a finding.
 *
 * Only volumes that a GlusterVolume names are taken: the pool may hold volumes someone else made, and
 * adopting them silently would let the operator place bricks over them or delete them.
 *
 * One object the rebuild cannot take (a size or name out of the API's bounds, stored before the CRD refused
 * it; a record the database schema refuses) is a finding naming it, never an exception: start-up depends on
 * the rebuild, so one bad object would otherwise keep the operator from starting for everyone.
 */

export type FindingSeverity = 'info' | 'warning' | 'error';

export interface Finding {
  severity: FindingSeverity;
  /** CamelCase, stable: for tests, metrics and Event reasons. */
  code: string;
  message: string;
  cluster?: string;
  volume?: string;
  node?: string;
}

/** What was learned from one Gluster node; absent parts could not be obtained (see `errors`). */
export interface NodeObservation {
  /** GlusterNode metadata.name. */
  node: string;
  /** `gluster volume info` as this node's glusterd reports it (the whole pool's volumes). */
  volumeInfo?: GlusterVolumeInfo[];
  pvs?: PhysicalVolume[];
  vgs?: VolumeGroup[];
  lvs?: LogicalVolume[];
  errors?: string[];
}

export interface RebuildInputs {
  clusters: readonly GlusterCluster[];
  nodes: readonly GlusterNode[];
  volumes: readonly GlusterVolume[];
  observations: readonly NodeObservation[];
  /** A readable but outdated database, consulted only for facts the cluster cannot show. */
  hint?: TopologyDatabase;
  /** Generation of the result: past every generation seen anywhere. */
  generation: number;
}

export interface RebuildResult {
  db: TopologyDatabase;
  findings: Finding[];
  /** Clusters of which no node answered `gluster volume info`: their volumes could not be rebuilt. */
  unreachableClusters: string[];
}

/**
 * The name a GlusterVolume has inside Gluster (glusterVolumeNameOf: spec, else status, else the default), or
 * undefined with a finding when it is not a name Gluster takes.
 */
export function glusterNameOrFinding(volume: GlusterVolume, find: (finding: Finding) => void, cluster?: string): string | undefined {
  try {
    return glusterVolumeNameOf(volume);
  } catch (error) {
    const name = topologyName(volume.metadata.namespace, volume.metadata.name);
    find({ severity: 'error', code: 'InvalidGlusterVolumeName', ...(cluster ? { cluster } : {}), volume: name, message: `${(error as Error).message}; left out` });
    return undefined;
  }
}

/** Whether a record fits the database's schema; a finding says why not. */
function fits<T>(schema: z.ZodType<T>, record: T, refuse: (problems: string) => void): boolean {
  const parsed = schema.safeParse(record);
  if (!parsed.success) refuse(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`).join('; '));
  return parsed.success;
}

/** Stable id for a brick whose path does not carry one (adopted, or made by hand): same inputs, same id. */
export function adoptedBrickId(volume: string, brickName: string): string {
  return createHash('sha256').update(`${volume}\0${brickName}`).digest('hex').slice(0, 16);
}

const BRICK_ID_IN_PATH = /\/brick_([0-9a-f]{8,64})\/brick$/;
const VG_IN_PATH = new RegExp(`^${BRICK_MOUNT_ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/([^/]+)/brick_[0-9a-f]{8,64}/brick$`);

export function durabilityFromGluster(info: GlusterVolumeInfo): TopologyDurability {
  if (info.disperseCount > 0) return { type: 'Disperse', data: info.disperseCount - info.redundancyCount, redundancy: info.redundancyCount };
  if (info.replicaCount > 1) return { type: 'Replicate', replica: info.replicaCount, arbiter: info.arbiterCount > 0 };
  return { type: 'None' };
}

function durabilityFromSpec(volume: GlusterVolume): TopologyDurability {
  const d = volume.spec.durability;
  if (d.type === 'Disperse' && d.disperse) return { type: 'Disperse', data: d.disperse.data, redundancy: d.disperse.redundancy };
  if (d.type === 'Replicate') return { type: 'Replicate', replica: d.replicate?.replica ?? 3, arbiter: d.replicate?.arbiter ?? false };
  return { type: 'None' };
}

function quantityOrUndefined(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseQuantity(value);
  } catch {
    return undefined;
  }
}

export function rebuildTopology(inputs: RebuildInputs): RebuildResult {
  const findings: Finding[] = [];
  const find = (f: Finding) => findings.push(f);
  const observationOf = new Map(inputs.observations.map((o) => [o.node, o]));
  const hint = inputs.hint;

  // Clusters ----------------------------------------------------------------------------------------------
  const clusters: TopologyCluster[] = [];
  const clusterNames = new Set<string>();
  for (const cr of inputs.clusters) {
    const name = topologyName(cr.metadata.namespace, cr.metadata.name);
    if (clusterNames.has(name)) {
      find({ severity: 'warning', code: 'DuplicateCluster', cluster: name, message: `GlusterCluster ${name} is listed twice; only the first is used` });
      continue;
    }
    const { record, problems } = clusterRecordOf(cr);
    if (!fits(clusterSchema, record, (why) => find({ severity: 'error', code: 'InvalidCluster', cluster: name, message: `GlusterCluster ${name} cannot be recorded (${why}); it, its nodes and its volumes are left out` }))) {
      continue;
    }
    for (const problem of problems) find({ severity: 'warning', code: 'ClusterSpecOutOfRange', cluster: name, message: `GlusterCluster ${name}: ${problem}` });
    clusterNames.add(name);
    clusters.push(record);
  }

  // Nodes and devices ---------------------------------------------------------------------------------------
  const nodes: TopologyNode[] = [];
  const devices: TopologyDevice[] = [];
  const nodeCrs = new Map<string, GlusterNode>();
  for (const cr of inputs.nodes) {
    const name = topologyName(cr.metadata.namespace, cr.metadata.name);
    const clusterName = topologyName(cr.metadata.namespace, cr.spec.cluster);
    if (!clusterNames.has(clusterName)) {
      find({ severity: 'warning', code: 'NodeWithoutCluster', node: name, message: `GlusterNode ${name} names cluster ${cr.spec.cluster}, which does not exist; left out` });
      continue;
    }
    if (nodeCrs.has(name)) continue;
    const node: TopologyNode = {
      name,
      cluster: clusterName,
      zone: cr.spec.zone,
      manage: cr.spec.manageAddress,
      storage: cr.spec.storageAddress,
      state: cr.spec.state,
      ...(cr.spec.tags && Object.keys(cr.spec.tags).length > 0 ? { tags: cr.spec.tags } : {}),
    };
    if (!fits(nodeSchema, node, (why) => find({ severity: 'error', code: 'InvalidNode', node: name, message: `GlusterNode ${name} cannot be recorded (${why}); left out` }))) continue;
    nodeCrs.set(name, cr);
    nodes.push(node);
    const observation = observationOf.get(name);
    for (const device of cr.spec.devices) {
      const id = deviceId(name, device.name);
      const hinted = hint?.devices.find((d) => d.id === id);
      const pv = observation?.pvs?.find((p) => p.name === device.name);
      const vgName = pv?.vgName ?? hinted?.vg ?? `vg_${id}`;
      const vg = observation?.vgs?.find((v) => v.name === vgName);
      let size = vg?.sizeBytes;
      if (size === undefined) size = quantityOrUndefined(cr.status?.devices?.find((d) => d.name === device.name)?.size);
      if (size === undefined) size = hinted?.size;
      if (size === undefined) {
        size = 0;
        find({ severity: 'warning', code: 'DeviceSizeUnknown', node: name, message: `size of ${name}:${device.name} unknown (no vgs output, status or backup); recorded as 0, no bricks will be placed on it until it is measured` });
      }
      const record: TopologyDevice = {
        id,
        node: name,
        name: device.name,
        size,
        state: hinted?.state ?? 'Online',
        vg: vgName,
        ...(device.tags && Object.keys(device.tags).length > 0 ? { tags: device.tags } : {}),
      };
      const refuse = (why: string) => find({ severity: 'error', code: 'InvalidDevice', node: name, message: `device ${name}:${device.name} cannot be recorded (${why}); left out` });
      if (fits(deviceSchema, record, refuse)) devices.push(record);
    }
  }
  const nodeByAddress = (cluster: string, host: string, hostUuid: string): TopologyNode | undefined =>
    nodes.find((n) => n.cluster === cluster && (n.storage === host || n.manage === host)) ??
    nodes.find((n) => n.cluster === cluster && nodeCrs.get(n.name)?.status?.peerUUID === hostUuid);

  // Live volumes per cluster: the first node that answered speaks for the pool --------------------------------
  const unreachableClusters: string[] = [];
  const liveByCluster = new Map<string, { from: string; volumes: GlusterVolumeInfo[] }>();
  for (const cluster of clusters) {
    const answering = nodes.filter((n) => n.cluster === cluster.name && observationOf.get(n.name)?.volumeInfo);
    const first = answering[0];
    if (!first) {
      unreachableClusters.push(cluster.name);
      find({ severity: 'error', code: 'ClusterUnreachable', cluster: cluster.name, message: `no node of cluster ${cluster.name} answered gluster volume info; its volumes cannot be rebuilt` });
      continue;
    }
    liveByCluster.set(cluster.name, { from: first.name, volumes: observationOf.get(first.name)!.volumeInfo! });
    for (const other of answering.slice(1)) {
      const mine = new Set(observationOf.get(first.name)!.volumeInfo!.map((v) => `${v.name}=${v.bricks.map((b) => b.name).join(',')}`));
      const theirs = observationOf.get(other.name)!.volumeInfo!.map((v) => `${v.name}=${v.bricks.map((b) => b.name).join(',')}`);
      if (theirs.length !== mine.size || theirs.some((v) => !mine.has(v))) {
        find({ severity: 'warning', code: 'PeersDisagree', cluster: cluster.name, node: other.name, message: `${other.name} reports other volumes or bricks than ${first.name}; using ${first.name}'s view` });
      }
    }
  }

  // Volumes --------------------------------------------------------------------------------------------------
  const volumes: TopologyVolume[] = [];
  const claimed = new Set<string>();
  for (const cr of inputs.volumes) {
    const name = topologyName(cr.metadata.namespace, cr.metadata.name);
    const cluster = clusters.find((c) => c.name === topologyName(cr.metadata.namespace, cr.spec.cluster));
    if (!cluster) {
      find({ severity: 'warning', code: 'VolumeWithoutCluster', volume: name, message: `GlusterVolume ${name} names cluster ${cr.spec.cluster}, which does not exist; left out` });
      continue;
    }
    const live = liveByCluster.get(cluster.name);
    if (!live) continue; // ClusterUnreachable already says so
    const glusterName = glusterNameOrFinding(cr, find, cluster.name);
    if (glusterName === undefined) continue;
    const info = live.volumes.find((v) => v.name === glusterName) ?? (cr.status?.glusterVolumeId ? live.volumes.find((v) => v.id === cr.status!.glusterVolumeId) : undefined);
    if (!info) {
      if (cr.status?.glusterVolumeId) {
        find({ severity: 'warning', code: 'VolumeMissingInGluster', cluster: cluster.name, volume: name, message: `GlusterVolume ${name} says Gluster volume ${glusterName} (${cr.status.glusterVolumeId}) exists, but glusterd does not know it` });
      }
      continue; // never created: the volume reconciler places it
    }
    if (claimed.has(info.name)) {
      find({ severity: 'error', code: 'VolumeClaimedTwice', cluster: cluster.name, volume: name, message: `Gluster volume ${info.name} is named by more than one GlusterVolume; left to the first` });
      continue;
    }
    claimed.add(info.name);
    let volume: TopologyVolume | undefined;
    try {
      volume = rebuildVolume(cr, info, cluster, { nodes, devices, nodeByAddress, observationOf, hint, find });
    } catch (error) {
      // A fact shaped as nothing here expects; the volume is reported and left out, the others go on.
      find({ severity: 'error', code: 'VolumeNotRebuilt', cluster: cluster.name, volume: name, message: `GlusterVolume ${name} (Gluster volume ${info.name}) could not be rebuilt: ${(error as Error).message}; left out` });
      continue;
    }
    const refuse = (why: string) => find({ severity: 'error', code: 'VolumeNotRebuilt', cluster: cluster.name, volume: name, message: `GlusterVolume ${name} (Gluster volume ${info.name}) cannot be recorded (${why}); left out` });
    if (volume && fits(volumeSchema, volume, refuse)) volumes.push(volume);
  }
  for (const [cluster, live] of liveByCluster) {
    const unmanaged = live.volumes.filter((v) => !claimed.has(v.name)).map((v) => v.name);
    if (unmanaged.length > 0) {
      find({ severity: 'info', code: 'UnmanagedVolumes', cluster, message: `Gluster volumes no GlusterVolume names, left alone: ${unmanaged.slice(0, 20).join(', ')}${unmanaged.length > 20 ? ` and ${unmanaged.length - 20} more` : ''}` });
    }
  }

  const candidate = { schemaVersion: SCHEMA_VERSION, generation: inputs.generation, clusters, nodes, devices, volumes };
  const parsed = topologyDatabaseSchema.safeParse(candidate);
  if (!parsed.success) {
    // Each volume was checked on its own, so this is a cross-volume conflict (e.g. one brick in two volumes).
    throw new Error(`rebuilt topology is inconsistent: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  return { db: parsed.data, findings, unreachableClusters };
}

/**
 * spec.size in bytes. One above MAX_VOLUME_SIZE (stored before the CRD refused it) is recorded as what the
 * old database said, else the capacity status reports, else the maximum, with a finding: the size only decides
 * growth (which the volume's own reconcile refuses for that volume) and estimates of brick sizes no LVM or
 * status shows.
 */
function requestedSize(cr: GlusterVolume, hinted: TopologyVolume | undefined, cluster: TopologyCluster, find: (finding: Finding) => void): number {
  try {
    return parseQuantity(cr.spec.size, MAX_VOLUME_SIZE.bytes);
  } catch (error) {
    const name = topologyName(cr.metadata.namespace, cr.metadata.name);
    const capacity = quantityOrUndefined(cr.status?.capacity);
    const [size, source] =
      hinted !== undefined
        ? [hinted.size, "the backup's size"]
        : capacity !== undefined && capacity <= MAX_VOLUME_SIZE.bytes
          ? [capacity, 'status.capacity']
          : [MAX_VOLUME_SIZE.bytes, `the maximum, ${MAX_VOLUME_SIZE.what}`];
    find({
      severity: 'warning',
      code: 'VolumeSizeOutOfRange',
      cluster: cluster.name,
      volume: name,
      message: `GlusterVolume ${name}: spec.size: ${(error as Error).message}; recorded as ${formatBytes(size)} (${source})`,
    });
    return size;
  }
}

interface VolumeContext {
  nodes: TopologyNode[];
  devices: TopologyDevice[];
  nodeByAddress: (cluster: string, host: string, hostUuid: string) => TopologyNode | undefined;
  observationOf: Map<string, NodeObservation>;
  hint: TopologyDatabase | undefined;
  find: (finding: Finding) => void;
}

function rebuildVolume(cr: GlusterVolume, info: GlusterVolumeInfo, cluster: TopologyCluster, ctx: VolumeContext): TopologyVolume | undefined {
  const name = topologyName(cr.metadata.namespace, cr.metadata.name);
  const durability = durabilityFromGluster(info);
  const requested = durabilityFromSpec(cr);
  if (JSON.stringify(requested) !== JSON.stringify(durability)) {
    ctx.find({ severity: 'warning', code: 'DurabilityMismatch', cluster: cluster.name, volume: name, message: `GlusterVolume ${name} asks for ${JSON.stringify(requested)} but Gluster volume ${info.name} is ${JSON.stringify(durability)}; recorded as Gluster has it` });
  }
  const perSet = setSize(durability);
  if (info.bricks.length === 0 || info.bricks.length % perSet !== 0) {
    ctx.find({ severity: 'error', code: 'BrickCountMismatch', cluster: cluster.name, volume: name, message: `${info.name} has ${info.bricks.length} bricks, not a multiple of ${perSet}; left out` });
    return undefined;
  }
  const sets = info.bricks.length / perSet;
  const hinted = ctx.hint?.volumes.find((v) => v.gluster === info.name);
  const size = requestedSize(cr, hinted, cluster, ctx.find);
  const statusBricks = cr.status?.bricks ?? [];
  const estimate = Math.ceil(size / sets / dataBricksPerSet(durability));
  const bricks: TopologyBrick[] = [];
  for (const [index, live] of info.bricks.entries()) {
    const node = ctx.nodeByAddress(cluster.name, live.host, live.hostUuid);
    if (!node) {
      ctx.find({ severity: 'error', code: 'BrickOnUnknownNode', cluster: cluster.name, volume: name, message: `brick ${live.name} of ${info.name} is on a host no GlusterNode of cluster ${cluster.name} has; volume left out` });
      return undefined;
    }
    const idInPath = BRICK_ID_IN_PATH.exec(live.path)?.[1];
    const id = idInPath ?? adoptedBrickId(name, live.name);
    const observation = ctx.observationOf.get(node.name);
    const nodeDevices = ctx.devices.filter((d) => d.node === node.name);
    const lv = idInPath ? observation?.lvs?.find((l) => l.name === `brick_${id}`) : undefined;
    const fromHint = hinted?.bricks.find((b) => b.id === id);
    const fromStatus = statusBricks.find((b) => b.path === live.name);
    // Device: the LV's VG, the VG in the path, the GlusterVolume status, the old database, the only device.
    const vgName = lv?.vgName ?? VG_IN_PATH.exec(live.path)?.[1];
    const device =
      (vgName ? nodeDevices.find((d) => d.vg === vgName) : undefined) ??
      (fromStatus?.device ? nodeDevices.find((d) => d.name === fromStatus.device || d.id === fromStatus.device) : undefined) ??
      (fromHint ? nodeDevices.find((d) => d.id === fromHint.device) : undefined) ??
      (nodeDevices.length === 1 ? nodeDevices[0] : undefined);
    if (!device) {
      ctx.find({ severity: 'error', code: 'BrickDeviceUnknown', cluster: cluster.name, volume: name, node: node.name, message: `cannot tell which device of ${node.name} holds brick ${live.name} (${nodeDevices.length} devices, no LVM or status information); volume left out` });
      return undefined;
    }
    const isArbiter = live.isArbiter;
    let brickSize = lv?.sizeBytes ?? fromHint?.size ?? quantityOrUndefined(fromStatus?.size);
    if (brickSize === undefined) {
      brickSize = isArbiter ? arbiterBrickSize(estimate) : estimate;
      if (cluster.brickBackend === 'LVM') {
        ctx.find({ severity: 'info', code: 'BrickSizeEstimated', cluster: cluster.name, volume: name, message: `size of brick ${live.name} estimated from the volume size (${brickSize} bytes)` });
      }
    }
    const brick: TopologyBrick = { id, device: device.id, size: brickSize, set: Math.floor(index / perSet) };
    if (isArbiter) brick.arbiter = true;
    if (lv && lv.name !== `brick_${id}`) brick.lv = lv.name;
    if (lv?.poolLv && lv.poolLv !== `tp_${id}`) brick.pool = lv.poolLv;
    bricks.push(brick);
    // Path override when the id-derived path would not name this brick.
    const derived = brickGlusterName(
      { schemaVersion: SCHEMA_VERSION, generation: 0, clusters: [cluster], nodes: [node], devices: [device], volumes: [] },
      brick,
    );
    if (derived !== `${node.storage}:${live.path}`) brick.path = live.path;
  }
  const volume: TopologyVolume = {
    name,
    cluster: cluster.name,
    gluster: info.name,
    glusterId: info.id,
    durability,
    size,
    sets,
    snapshotFactor: cr.spec.snapshotFactor,
    bricks,
  };
  if (cr.spec.gid !== undefined) volume.gid = cr.spec.gid;
  if (cr.spec.options && Object.keys(cr.spec.options).length > 0) volume.options = cr.spec.options;
  return volume;
}
