import { API_GROUP, DRIVER_NAME } from '../api/group.ts';

/** The PV annotation the in-tree provisioners and external-provisioner use to say who made a PV. */
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
/** The PV annotation kubelet reads to add a supplemental group to pods using the volume (in-tree glusterfs set it). */
export const ANN_GID = 'pv.beta.kubernetes.io/gid';
/** Set on a PVC by the PV controller when it wants a dynamically provisioned volume from this provisioner. */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/**
 * The StorageClass a claim (or PV) named before spec.storageClassName existed; Kubernetes still reads it
 * first (claim-class.ts), and StatefulSet templates written years ago still set it.
 */
export const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
/** Set on a PVC by the scheduler when a WaitForFirstConsumer claim's first pod is placed. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';

/** Labels and annotations on the GlusterVolumes the provisioner creates. */
export const LABEL_PROVISIONED_BY = `${API_GROUP}/provisioned-by`;
export const LABEL_CLAIM_UID = `${API_GROUP}/claim-uid`;
/** Label only when the claim name fits a label value (63 chars); the annotation always carries it. */
export const LABEL_CLAIM_NAME = `${API_GROUP}/claim-name`;
export const ANN_CLAIM_NAME = `${API_GROUP}/claim-name`;
/** The GlusterVolume lives with its GlusterCluster, not always with the claim: where the claim is. */
export const ANN_CLAIM_NAMESPACE = `${API_GROUP}/claim-namespace`;
export const ANN_STORAGE_CLASS = `${API_GROUP}/storage-class`;
/**
 * The uid of the PV the provisioner made for the GlusterVolume, recorded once it exists: a PV deleted and
 * made again by hand under the same name (and claimRef) has another uid. GlusterVolumes of earlier versions
 * lack it; their PV is then proven by name and claimRef uid alone (decisions.ts, persistentVolumeMismatch).
 */
export const ANN_PERSISTENT_VOLUME_UID = `${API_GROUP}/persistent-volume-uid`;

export const PROVISIONER_NAME = DRIVER_NAME;
/** The removed in-tree plugin (gone since Kubernetes 1.26) whose StorageClasses the provisioner can serve. */
export const IN_TREE_GLUSTERFS_PROVISIONER = 'kubernetes.io/glusterfs';

/** Kind and apiVersion of the objects events are recorded on. */
export const PVC_REFERENCE = { apiVersion: 'v1', kind: 'PersistentVolumeClaim' } as const;
export const PV_REFERENCE = { apiVersion: 'v1', kind: 'PersistentVolume' } as const;

/** Both the PV and the GlusterVolume of a claim are named like this: deterministic, so a retry never makes a second one. */
export function provisionedName(claimUid: string): string {
  return `pvc-${claimUid}`;
}
