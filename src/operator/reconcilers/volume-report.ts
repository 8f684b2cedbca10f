import type { GlusterVolume } from '../../api/index.ts';
import { rebalanceOutcome, type RebalanceStatus } from '../../gluster/parsers/rebalance-status.ts';
import { brickGlusterName, brickNode, objectNameOf, volumeCapacity, type TopologyDatabase, type TopologyVolume } from '../../topology/model.ts';
import { formatBytes } from '../../topology/sizing.ts';
import { bricksInSetOrder, describeLayout } from './volume-layout.ts';

/** A Ready GlusterVolume's status fields, from the database's placement and what Gluster said (pure). */
export function volumeStatusFields(db: TopologyDatabase, record: TopologyVolume, glusterId: string, online: ReadonlyMap<string, boolean>): Partial<NonNullable<GlusterVolume['status']>> {
  const ordered = bricksInSetOrder(record);
  // The first brick's node serves the volfile; the others are the mount's fallbacks.
  const brickNodes = [...new Map(ordered.map((brick) => [brickNode(db, brick).name, brickNode(db, brick)])).values()];
  const [primary, ...backups] = brickNodes;
  return {
    glusterVolumeName: record.gluster,
    glusterVolumeId: glusterId,
    capacity: formatBytes(volumeCapacity(record)),
    durability: describeLayout(record.durability, record.sets),
    mountSource: `${primary!.storage}:${record.gluster}`,
    backupVolfileServers: backups.map((node) => node.storage),
    bricks: ordered.map((brick) => {
      const glusterName = brickGlusterName(db, brick);
      return {
        node: objectNameOf(brickNode(db, brick).name),
        path: glusterName,
        device: brick.device,
        size: formatBytes(brick.size),
        set: brick.set,
        ...(brick.arbiter ? { arbiter: true } : {}),
        ...(online.has(glusterName) ? { online: online.get(glusterName)! } : {}),
      };
    }),
  };
}

export type RebalanceProgress = NonNullable<NonNullable<GlusterVolume['status']>['rebalance']>;

/** status.rebalance from `rebalance status`: the whole task's state (every node's, rebalanceOutcome) and its counters. */
export function rebalanceProgress(status: RebalanceStatus, at: string): RebalanceProgress {
  const { lookups, files, failures } = status.aggregate;
  return { state: rebalanceOutcome(status), filesScanned: lookups, filesRebalanced: files, failures, checkedAt: at };
}
