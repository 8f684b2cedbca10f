import { posix } from 'node:path';
import type { GlusterVolume } from '../../api/index.ts';
import type { BrickRecord } from '../../bricks/index.ts';
import type { VolumeLayout } from '../../gluster/commands/gluster.ts';
import { BRICK_MOUNT_OPTIONS } from '../../gluster/commands/fs.ts';
import { brickLvName, brickPath, brickThinPoolName, findCluster, findDevice, type TopologyBrick, type TopologyDatabase, type TopologyDurability, type TopologyVolume } from '../../topology/model.ts';
import { BRICK_MOUNT_ROOT } from '../../topology/model.ts';

/** Pure translations between the API, the topology model, Gluster's CLI and the brick backends. */

export function modelDurability(spec: GlusterVolume['spec']['durability']): TopologyDurability {
  switch (spec.type) {
    case 'None':
      return { type: 'None' };
    case 'Replicate':
      return { type: 'Replicate', replica: spec.replicate?.replica ?? 3, arbiter: spec.replicate?.arbiter ?? false };
    case 'Disperse':
      return { type: 'Disperse', data: spec.disperse!.data, redundancy: spec.disperse!.redundancy };
  }
}

export function glusterLayout(durability: TopologyDurability): VolumeLayout {
  switch (durability.type) {
    case 'None':
      return { kind: 'distribute' };
    case 'Replicate':
      return { kind: 'replicate', replica: durability.replica, arbiter: durability.arbiter };
    case 'Disperse':
      return { kind: 'disperse', data: durability.data, redundancy: durability.redundancy };
  }
}

/**
 * A GlusterVolume's Gluster name and the default one: the rule and the generator have one home, src/api
 * (gluster-volume-name.ts), shared with the CRD, the provisioner and the start-up rebuild.
 */
export { defaultGlusterVolumeName, glusterVolumeNameOf } from '../../api/index.ts';

/** Bricks in Gluster's order: set by set, in position order within a set (arbiter last). */
export function bricksInSetOrder(volume: TopologyVolume): TopologyBrick[] {
  return [...volume.bricks].sort((a, b) => a.set - b.set || Number(a.arbiter ?? false) - Number(b.arbiter ?? false));
}

/**
 * What a brick backend calls the brick and where it lives, derived from the database (so deleting a brick
 * needs nothing but the database): LVM bricks are named by the backend `brick_<id>` in the device's VG;
 * LoopFile and Directory bricks are given the id `brick_<id>` under directoryRoot, which puts them where
 * brickPath() says.
 */
export function backendBrickRequest(db: TopologyDatabase, volume: TopologyVolume, brick: TopologyBrick): { id: string; location: string } {
  const cluster = findCluster(db, volume.cluster)!;
  if (cluster.brickBackend === 'LVM') return { id: brick.id, location: findDevice(db, brick.device)!.vg };
  return { id: `brick_${brick.id}`, location: cluster.directoryRoot! };
}

export function brickRecordOf(db: TopologyDatabase, volume: TopologyVolume, brick: TopologyBrick): BrickRecord {
  const cluster = findCluster(db, volume.cluster)!;
  const { id, location } = backendBrickRequest(db, volume, brick);
  const path = brickPath(db, brick);
  const base = { id, path, sizeBytes: brick.size, location, gid: volume.gid ?? null };
  switch (cluster.brickBackend) {
    case 'LVM': {
      const lv = brickLvName(brick);
      // A recorded path (a clone's, an adopted heketi brick's) is a directory at the root of its LV's mount.
      const target = brick.path ? posix.dirname(brick.path) : `${BRICK_MOUNT_ROOT}/${location}/${lv}`;
      return {
        ...base,
        backend: 'LVM',
        mount: { source: `/dev/${location}/${lv}`, target, fstype: 'xfs', options: BRICK_MOUNT_OPTIONS },
        lvm: { vg: location, thinPool: brickThinPoolName(brick), lv, thinPoolSizeBytes: 0, poolMetadataSizeBytes: 0 },
      };
    }
    case 'LoopFile':
      return {
        ...base,
        backend: 'LoopFile',
        mount: { source: '', target: `${location}/${id}`, fstype: 'xfs', options: BRICK_MOUNT_OPTIONS },
        loopFile: { file: `${location}/${id}.img` },
      };
    case 'Directory':
      return { ...base, backend: 'Directory', mount: null };
  }
}

/** "replicate 3 arbiter, 2 sets" and friends, for status and `kubectl get -o wide`. */
export function describeLayout(durability: TopologyDurability, sets: number): string {
  const kind =
    durability.type === 'None'
      ? 'distribute'
      : durability.type === 'Replicate'
        ? `replicate ${durability.replica}${durability.arbiter ? ' arbiter' : ''}`
        : `disperse ${durability.data}+${durability.redundancy}`;
  return `${kind}, ${sets} set${sets === 1 ? '' : 's'}`;
}
