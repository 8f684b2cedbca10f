import { createHash } from 'node:crypto';
import { brickAllocation } from '../sizing.ts';
import { findCluster, requireDevice, requireNode } from './lookups.ts';
import { BRICK_MOUNT_ROOT, dataBricksPerSet, type TopologyBrick, type TopologyDatabase, type TopologyNode, type TopologyVolume } from './schema.ts';

// Derived values: device ids, brick names and paths, the space a brick takes, a volume's capacity.

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
