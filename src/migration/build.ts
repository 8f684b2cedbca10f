import type * as k8s from '@kubernetes/client-node';
import type { GlusterVolume } from '../api/index.ts';
import { csiVolumeSource, volumeHandleFor } from '../provisioner/pv-builder.ts';
import { ANN_MIGRATED_FROM_PV, restorable, type Claim, type InTreePersistentVolume } from './objects.ts';

/** Annotations the PV binder and provisioners write on a claim: a recreated claim must not carry them over. */
const BINDER_ANNOTATIONS = [
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  'volume.beta.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/selected-node',
];
/** What the in-tree PV carries that still means something on the CSI PV (kubelet reads the gid one). */
const CARRIED_PV_ANNOTATIONS = ['pv.beta.kubernetes.io/gid', 'gluster.kubernetes.io/heketi-volume-id', 'gluster.org/type'];

/**
 * The CSI PV for an in-tree PV's Gluster volume, mounted through the GlusterVolume that adopted it: same
 * capacity, access modes, class and mount options; reclaim Retain (the data was heketi's; the user decides
 * later); pre-bound by name to the claim (which is recreated, so no uid yet). Not annotated as provisioned by
 * us: it is a static PV, and the provisioner's reclaim never acts on it. Pure.
 */
export function buildCsiPersistentVolume(input: { name: string; old: InTreePersistentVolume; volume: GlusterVolume; claim?: Claim }): k8s.V1PersistentVolume {
  const { name, old, volume, claim } = input;
  const status = volume.status ?? {};
  if (!status.mountSource) throw new Error(`GlusterVolume ${volumeHandleFor(volume)} has no mountSource yet`);
  const annotations: Record<string, string> = { [ANN_MIGRATED_FROM_PV]: old.metadata.name };
  for (const key of CARRIED_PV_ANNOTATIONS) {
    const value = old.metadata.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
  }
  const gid = old.metadata.annotations?.['pv.beta.kubernetes.io/gid'] ?? (volume.spec.gid !== undefined ? String(volume.spec.gid) : undefined);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations, ...(old.metadata.labels ? { labels: { ...old.metadata.labels } } : {}) },
    spec: {
      capacity: { ...(old.spec.capacity as Record<string, string>) },
      accessModes: [...(old.spec.accessModes ?? [])],
      persistentVolumeReclaimPolicy: 'Retain',
      ...(old.spec.storageClassName !== undefined ? { storageClassName: old.spec.storageClassName } : {}),
      ...(old.spec.mountOptions && old.spec.mountOptions.length > 0 ? { mountOptions: [...old.spec.mountOptions] } : {}),
      volumeMode: 'Filesystem',
      ...(claim ? { claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name } } : {}),
      csi: csiVolumeSource(volume, { gid, readOnly: old.spec.glusterfs.readOnly === true, glusterVolumeName: old.spec.glusterfs.path }),
    },
  };
}

/**
 * The claim as it was (name, labels, annotations, requests, class), created again bound to `volumeName`:
 * the application keeps its claim name. Binder-written annotations are dropped: the binder writes them anew.
 */
export function rebuiltClaim(saved: Claim, volumeName: string, migratedFrom?: string): k8s.V1PersistentVolumeClaim {
  const claim = restorable(saved);
  const annotations = Object.fromEntries(Object.entries(claim.metadata.annotations ?? {}).filter(([key]) => !BINDER_ANNOTATIONS.includes(key)));
  if (migratedFrom !== undefined) annotations[ANN_MIGRATED_FROM_PV] = migratedFrom;
  else delete annotations[ANN_MIGRATED_FROM_PV];
  const { finalizers: _finalizers, ...metadata } = claim.metadata;
  return {
    ...claim,
    metadata: { ...metadata, annotations },
    spec: { ...claim.spec, volumeName },
  } as unknown as k8s.V1PersistentVolumeClaim;
}
