import type * as k8s from '@kubernetes/client-node';
import { DRIVER_NAME, type GlusterVolume } from '../api/index.ts';
import { isConditionTrue } from '../controller/conditions.ts';
import { ANN_GID, ANN_PROVISIONED_BY, PROVISIONER_NAME, provisionedName } from './constants.ts';
import { quantityString, type Claim, type StorageClass } from './kube-objects.ts';

/**
 * Access modes a FUSE-mounted Gluster volume serves. ReadWriteOncePod is enforced by Kubernetes itself (the
 * scheduler's VolumeRestrictions plugin and kubelet admit one pod at a time); kubelet then asks the node plugin
 * for SINGLE_NODE_WRITER, since it does not advertise SINGLE_NODE_MULTI_WRITER.
 */
export const SUPPORTED_ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;

/** `volumeHandle` of our PVs: the GlusterVolume's `<namespace>/<name>`, so the PV leads back to its volume. */
export function volumeHandleFor(volume: Pick<GlusterVolume, 'metadata'>): string {
  return `${volume.metadata.namespace}/${volume.metadata.name}`;
}

export function parseVolumeHandle(handle: string): { namespace: string; name: string } | undefined {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(handle);
  return match ? { namespace: match[1]!, name: match[3]! } : undefined;
}

/** What a PV can be built from: Ready, with somewhere to mount. */
export function isVolumeMountable(volume: GlusterVolume): boolean {
  return isConditionTrue(volume.status?.conditions, 'Ready') && Boolean(volume.status?.mountSource);
}

/**
 * The PV for a claim whose GlusterVolume is Ready: pre-bound to the claim (claimRef with uid, so the PV
 * binder binds exactly this claim and a deleted-and-recreated claim of the same name never gets it), named
 * `pvc-<claim uid>` as external-provisioner names them, mounted through our CSI driver. Pure.
 */
export function buildPersistentVolume(input: { claim: Claim; storageClass: StorageClass; volume: GlusterVolume }): k8s.V1PersistentVolume {
  const { claim, storageClass, volume } = input;
  const status = volume.status ?? {};
  if (!status.mountSource) throw new Error(`GlusterVolume ${volumeHandleFor(volume)} has no mountSource yet`);
  const request = quantityString(claim.spec.resources?.requests?.storage);
  const capacity = status.capacity ?? request ?? volume.spec.size;
  const gid = volume.spec.gid;
  const annotations: Record<string, string> = { [ANN_PROVISIONED_BY]: PROVISIONER_NAME };
  if (gid !== undefined) annotations[ANN_GID] = String(gid);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: provisionedName(claim.metadata.uid), annotations },
    spec: {
      capacity: { storage: capacity },
      accessModes: [...(claim.spec.accessModes ?? [])],
      persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
      storageClassName: storageClass.metadata.name,
      volumeMode: 'Filesystem',
      ...(storageClass.mountOptions && storageClass.mountOptions.length > 0 ? { mountOptions: [...storageClass.mountOptions] } : {}),
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
      },
      csi: csiVolumeSource(volume, { gid: gid === undefined ? undefined : String(gid) }),
    },
  };
}

/**
 * How a PV of ours mounts its GlusterVolume through the CSI driver: the one home of the volume attributes the
 * node plugin reads (src/csi/requests.ts), for provisioned PVs and for PVs migrated from in-tree ones.
 * `gid` (the supplemental group of the volume's root) and `readOnly` as the PV wants them. A volume with
 * `status.tls` also gets `tlsDir` and the Secret as nodePublishSecretRef.
 */
export function csiVolumeSource(volume: GlusterVolume, options: { gid: string | undefined; readOnly?: boolean; glusterVolumeName?: string }): k8s.V1CSIPersistentVolumeSource {
  const status = volume.status ?? {};
  if (!status.mountSource) throw new Error(`GlusterVolume ${volumeHandleFor(volume)} has no mountSource yet`);
  const attributes: Record<string, string> = {
    mountSource: status.mountSource,
    glusterVolumeName:
      status.glusterVolumeName ?? volume.spec.glusterVolumeName ?? options.glusterVolumeName ?? status.mountSource.slice(status.mountSource.indexOf(':') + 1),
  };
  if (status.backupVolfileServers && status.backupVolfileServers.length > 0) attributes.backupVolfileServers = status.backupVolfileServers.join(':');
  if (options.gid !== undefined) attributes.gid = options.gid;
  // A directory of a shared volume (spec.directoryOf): the node plugin mounts host:/volume/<subdirectory> alone.
  if (status.directory !== undefined) attributes.subdirectory = status.directory.replace(/^\//, '');
  // A TLS volume: the node plugin writes the cluster's Secret, which kubelet reads with its node credentials
  // and passes on NodePublishVolume, into the directory the volume's ssl.* options name.
  const tls = status.tls;
  if (tls) attributes.tlsDir = tls.dir;
  return {
    driver: DRIVER_NAME,
    volumeHandle: volumeHandleFor(volume),
    volumeAttributes: attributes,
    ...(tls ? { nodePublishSecretRef: { name: tls.secretName, namespace: tls.secretNamespace } } : {}),
    ...(options.readOnly ? { readOnly: true } : {}),
  };
}
