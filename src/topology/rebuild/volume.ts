import { createHash } from 'node:crypto';
import { MAX_VOLUME_SIZE, type GlusterVolume } from '../../api/index.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import {
  BRICK_MOUNT_ROOT,
  SCHEMA_VERSION,
  brickGlusterName,
  dataBricksPerSet,
  setSize,
  topologyName,
  type TopologyBrick,
  type TopologyCluster,
  type TopologyDatabase,
  type TopologyDevice,
  type TopologyDurability,
  type TopologyNode,
  type TopologyVolume,
} from '../model.ts';
import { arbiterBrickSize, formatBytes, parseQuantity, quantityOrUndefined } from '../sizing.ts';
import { type Finding, type NodeObservation } from './inputs.ts';
import { errorMessage } from '../../runtime/error-message.ts';

/**
 * One volume's record rebuilt from what Gluster shows of it (its bricks, in order), LVM on its nodes, its
 * GlusterVolume and, for what those cannot show, the old database (rebuild.ts calls it per volume).
 */

/** Stable id for a brick whose path does not carry one (adopted, or made by hand): same inputs, same id. */
export function adoptedBrickId(volume: string, brickName: string): string {
  return createHash('sha256').update(`${volume}\0${brickName}`).digest('hex').slice(0, 16);
}

const BRICK_ID_IN_PATH = /\/brick_([0-9a-f]{8,64})\/brick$/;
const VG_IN_PATH = new RegExp(`^${BRICK_MOUNT_ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/([^/]+)/brick_[0-9a-f]{8,64}/brick$`);

/**
 * A brick of a volume made by `gluster snapshot clone`: glusterd mounts the clone's thin LV `<clone id>_<i>`
 * (the volume id without dashes, the brick's 0-based position) at `/run/gluster/snaps/<clone id>/brick<i+1>`
 * and serves the origin brick's directory under it. The LV is in the origin brick's thin pool. Seen on the VM
 * nodes with glusterd 10.3: `/run/gluster/snaps/c6a27faf…/brick1/brick` on LV `c6a27faf…_0`. `volume delete`
 * of a clone leaves the LV and its mount, which the operator removes as it does its own bricks.
 */
const CLONE_BRICK_PATH = /^\/run\/gluster\/snaps\/([0-9a-f]{32})\/brick([1-9]\d{0,3})\/[^/]+$/;

/** The thin LV a clone brick at `path` is, or undefined when the path is not a clone brick's. */
export function cloneBrickLvName(path: string): string | undefined {
  const match = CLONE_BRICK_PATH.exec(path);
  return match ? `${match[1]}_${Number(match[2]) - 1}` : undefined;
}

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
      message: `GlusterVolume ${name}: spec.size: ${errorMessage(error)}; recorded as ${formatBytes(size)} (${source})`,
    });
    return size;
  }
}

export interface VolumeContext {
  nodes: TopologyNode[];
  devices: TopologyDevice[];
  nodeByAddress: (cluster: string, host: string, hostUuid: string) => TopologyNode | undefined;
  observationOf: Map<string, NodeObservation>;
  hint: TopologyDatabase | undefined;
  find: (finding: Finding) => void;
}

export function rebuildVolume(cr: GlusterVolume, info: GlusterVolumeInfo, cluster: TopologyCluster, ctx: VolumeContext): TopologyVolume | undefined {
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
    const cloneLv = cloneBrickLvName(live.path);
    const lv = idInPath ? observation?.lvs?.find((l) => l.name === `brick_${id}`) : cloneLv ? observation?.lvs?.find((l) => l.name === cloneLv) : undefined;
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
