import { persistentVolumeClassName } from './claim-class.ts';
import { ANN_GID, ANN_STORAGE_CLASS, LABEL_PROVISIONED_BY, PROVISIONER_NAME } from './constants.ts';
import type { PersistentVolume } from './kube-objects.ts';
import type { GlusterVolume } from '../api/index.ts';

/**
 * GIDs, as the in-tree provisioner handed them out: each volume of a StorageClass gets a group of its own
 * from [gidMin, gidMax], so pods sharing the group can write and pods of other volumes cannot. Pure: the
 * caller gathers the GIDs in use (from this class's GlusterVolumes and PVs, including PVs the in-tree
 * provisioner made) and serializes allocation, so two claims never take the same one.
 */
export function allocateGid(used: ReadonlySet<number>, min: number, max: number): number | undefined {
  if (min > max) return undefined;
  // Lowest free: deterministic, and (as in-tree) reuses GIDs of deleted volumes. Ends within used.size + 1 steps.
  for (let gid = min; gid <= max; gid += 1) if (!used.has(gid)) return gid;
  return undefined;
}

/** GIDs held by volumes of storage class `storageClass`: PVs' `pv.beta.kubernetes.io/gid` and our GlusterVolumes' spec.gid. */
export function gidsInUse(storageClass: string, volumes: readonly PersistentVolume[], glusterVolumes: readonly GlusterVolume[]): Set<number> {
  const used = new Set<number>();
  for (const pv of volumes) {
    if (persistentVolumeClassName(pv) !== storageClass) continue;
    const raw = pv.metadata.annotations?.[ANN_GID];
    if (raw !== undefined && /^[0-9]+$/.test(raw.trim())) used.add(Number(raw.trim()));
  }
  for (const volume of glusterVolumes) {
    if (volume.metadata.labels?.[LABEL_PROVISIONED_BY] !== PROVISIONER_NAME) continue;
    if (volume.metadata.annotations?.[ANN_STORAGE_CLASS] !== storageClass) continue;
    if (volume.spec.gid !== undefined) used.add(volume.spec.gid);
  }
  return used;
}
