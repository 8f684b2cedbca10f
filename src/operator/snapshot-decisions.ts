import { status } from '@grpc/grpc-js';
import type { GlusterCluster, GlusterVolume } from '../api/index.ts';
import { isConditionTrue } from '../controller/conditions.ts';
import type { LogicalVolume } from '../gluster/parsers/lvm.ts';
import { classifyFailure } from '../gluster/classify.ts';

/**
 * Pure rules of snapshots (src/operator/snapshots.ts does the I/O): what a snapshot id is, which volumes can
 * have snapshots, whether their thin pools have the room, and which CSI code a Gluster failure answers with.
 */

/** A refusal with the CSI code the sidecar acts on (retry, or report on the VolumeSnapshot). */
export interface SnapshotRefusal {
  code: status;
  message: string;
}

/**
 * `<namespace>/<GlusterCluster>/<Gluster snapshot name>`: the cluster, not the volume, because a snapshot
 * outlives neither its cluster nor its name there, and DeleteSnapshot must find it after the volume is gone.
 */
export function snapshotIdOf(namespace: string, cluster: string, name: string): string {
  return `${namespace}/${cluster}/${name}`;
}

export function parseSnapshotId(id: string): { namespace: string; cluster: string; name: string } | undefined {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([A-Za-z0-9][A-Za-z0-9_.-]{0,127})$/.exec(id);
  return match ? { namespace: match[1]!, cluster: match[3]!, name: match[5]! } : undefined;
}

/** The Gluster volume a snapshot of this GlusterVolume is taken of, or why none can be. */
export function snapshotSource(volumeId: string, volume: GlusterVolume | undefined, cluster: GlusterCluster | undefined): { gluster: string } | SnapshotRefusal {
  if (!volume) return { code: status.NOT_FOUND, message: `GlusterVolume ${volumeId} does not exist` };
  if (volume.spec.directoryOf) {
    return {
      code: status.FAILED_PRECONDITION,
      message: `GlusterVolume ${volumeId} is a directory of the shared volume ${volume.spec.directoryOf}: Gluster snapshots whole volumes; use a StorageClass with claimLayout: volume for claims that need snapshots`,
    };
  }
  if (!cluster) return { code: status.FAILED_PRECONDITION, message: `GlusterCluster ${volume.metadata.namespace}/${volume.spec.cluster} of GlusterVolume ${volumeId} does not exist` };
  if (cluster.spec.brickBackend !== 'LVM') {
    return {
      code: status.FAILED_PRECONDITION,
      message: `GlusterCluster ${volume.metadata.namespace}/${cluster.metadata.name} has brickBackend ${cluster.spec.brickBackend}: Gluster snapshots need thin LVM bricks (brickBackend: LVM)`,
    };
  }
  const gluster = volume.status?.glusterVolumeName;
  // Not yet Ready: the sidecar retries UNAVAILABLE with backoff, which is what waiting for the volume needs.
  if (!gluster || !isConditionTrue(volume.status?.conditions, 'Ready')) return { code: status.UNAVAILABLE, message: `GlusterVolume ${volumeId} is not Ready yet` };
  return { gluster };
}

/**
 * A snapshot keeps every block its bricks hold now; each block written afterwards takes new room in the thin
 * pool. The rule: after the snapshot, rewriting everything a brick holds must still fit in its pool, so a
 * snapshot can never be what fills a pool (a full thin pool stops writes to every LV in it: the volume, its
 * other snapshots, its clones). Metadata has a fixed margin for the same reason.
 */
export const POOL_METADATA_LIMIT_PERCENT = 80;

export function thinPoolRoom(bricks: ReadonlyArray<{ node: string; pool: LogicalVolume | undefined; thin: LogicalVolume | undefined }>): SnapshotRefusal | undefined {
  for (const { node, pool, thin } of bricks) {
    if (!pool || !thin) return { code: status.FAILED_PRECONDITION, message: `${node}: a brick's thin LV or thin pool is missing (${thin?.name ?? '?'} in ${pool?.name ?? '?'})` };
    const poolUsed = (pool.sizeBytes * (pool.dataPercent ?? 0)) / 100;
    const thinUsed = (thin.sizeBytes * (thin.dataPercent ?? 0)) / 100;
    const free = pool.sizeBytes - poolUsed;
    if (free < thinUsed) {
      return {
        code: status.RESOURCE_EXHAUSTED,
        message:
          `${node}: thin pool ${pool.vgName}/${pool.name} has ${mib(free)} MiB free, less than the ${mib(thinUsed)} MiB its brick ${thin.name} holds: ` +
          'a snapshot could fill it; delete snapshots, or give the volume a larger snapshotFactor',
      };
    }
    if ((pool.metadataPercent ?? 0) >= POOL_METADATA_LIMIT_PERCENT) {
      return { code: status.RESOURCE_EXHAUSTED, message: `${node}: thin pool ${pool.vgName}/${pool.name} metadata is ${pool.metadataPercent}% full (limit ${POOL_METADATA_LIMIT_PERCENT}%): delete snapshots first` };
    }
  }
  return undefined;
}

const mib = (bytes: number) => Math.floor(bytes / (1024 * 1024));

/** The CSI code for a failed `gluster snapshot create`. */
export function createFailure(message: string): SnapshotRefusal {
  if (/reached the effective maximum limit|snap-max-hard-limit/i.test(message)) return { code: status.RESOURCE_EXHAUSTED, message };
  if (/only for thin provisioned LV/i.test(message)) return { code: status.FAILED_PRECONDITION, message };
  const { errorClass } = classifyFailure(message);
  return { code: errorClass === 'retryable' ? status.UNAVAILABLE : status.INTERNAL, message };
}
