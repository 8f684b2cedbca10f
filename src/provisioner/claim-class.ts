import { DRIVER_NAME } from '../api/group.ts';
import { ANN_BETA_STORAGE_CLASS, IN_TREE_GLUSTERFS_PROVISIONER } from './constants.ts';
import type { Claim, PersistentVolume, StorageClass } from './kube-objects.ts';

/**
 * Which StorageClass a claim names, and whether (and how) this provisioner serves that class. One home for
 * the rule, used by the decision, the claim reconciler's class index and the GID count.
 */

/**
 * The class a claim names, as Kubernetes reads it (k8s.io/component-helpers storage/volume,
 * GetPersistentVolumeClaimClass): the beta annotation `volume.beta.kubernetes.io/storage-class` first, even
 * when spec.storageClassName is set too and even when it is empty, then spec.storageClassName. The PV binder
 * matches PVs by this name, so reading the field alone would provision for a class the binder does not use.
 * A claim that names none gets the default StorageClass written into spec.storageClassName by the admission
 * plugin (at creation, or later once a default exists): its watch event brings it back here. Undefined: no
 * class (`""` is Kubernetes' "no class, static PVs only").
 */
export function claimClassName(claim: Pick<Claim, 'metadata' | 'spec'>): string | undefined {
  return annotationFirst(claim.metadata.annotations, claim.spec.storageClassName);
}

/** The same rule for a PV (GetPersistentVolumeClass): PVs of the in-tree era may carry the annotation alone. */
export function persistentVolumeClassName(pv: Pick<PersistentVolume, 'metadata' | 'spec'>): string | undefined {
  return annotationFirst(pv.metadata.annotations, pv.spec.storageClassName);
}

function annotationFirst(annotations: Record<string, string> | undefined, field: string | undefined): string | undefined {
  const name = annotations !== undefined && ANN_BETA_STORAGE_CLASS in annotations ? annotations[ANN_BETA_STORAGE_CLASS] : field;
  return name ? name : undefined;
}

/**
 * How claims of a class are served: `driver` when its provisioner is our CSI driver name (the PV controller
 * asks us through the storage-provisioner annotation), `inTree` when it is the removed `kubernetes.io/glusterfs`
 * plugin and the operator setting allows it (nothing asks: see decideClaim), undefined when not ours.
 *
 * In-tree classes are served by default (SERVE_IN_TREE_GLUSTERFS_CLASSES=true): since Kubernetes 1.26 nothing
 * else can serve them (the plugin is gone, the PV controller only reports "no volume plugin matched"), and a
 * class's provisioner is immutable, so without this every such class would have to be deleted and recreated.
 * Off is for clusters where another component already serves those classes.
 */
export type ClassService = 'driver' | 'inTree';

export function classService(storageClass: StorageClass | undefined, serveInTreeClasses: boolean): ClassService | undefined {
  if (storageClass?.provisioner === DRIVER_NAME) return 'driver';
  if (storageClass?.provisioner === IN_TREE_GLUSTERFS_PROVISIONER && serveInTreeClasses) return 'inTree';
  return undefined;
}

/**
 * How long a claim of an in-tree class must have existed before it is provisioned. For our own classes the
 * PV controller's storage-provisioner annotation says it looked for an existing PV first; for in-tree classes
 * it sets none, so we give its first sync (which runs on the claim's creation) this long to bind a static PV.
 */
export const IN_TREE_GRACE_MS = 5_000;

/** Milliseconds of the grace left at `now` (0: provision). A claim without creationTimestamp (the apiserver always sets one) has no age to wait on. */
export function inTreeGraceLeftMs(claim: Pick<Claim, 'metadata'>, now: number): number {
  const created = Date.parse(claim.metadata.creationTimestamp ?? '');
  if (Number.isNaN(created)) return 0;
  return Math.max(0, created + IN_TREE_GRACE_MS - now);
}

/** The Normal Event that explains the PV controller's ProvisioningFailed warning on a claim of an in-tree class. */
export const SERVED_BY_OPERATOR_REASON = 'ServedByGlusterOperator';

export function servedByOperatorMessage(storageClass: string): string {
  return (
    `StorageClass ${storageClass} names the removed in-tree provisioner ${IN_TREE_GLUSTERFS_PROVISIONER}; gluster-operator provisions this claim ` +
    '(the ProvisioningFailed event from persistentvolume-controller can be ignored)'
  );
}
