import type * as k8s from '@kubernetes/client-node';
import { DRIVER_NAME, type GlusterCluster, type GlusterVolume } from '../api/index.ts';
import { findCondition, givenUpReason } from '../controller/conditions.ts';
import { quantityOrUndefined } from '../topology/sizing.ts';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_PERSISTENT_VOLUME_UID,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  IN_TREE_GLUSTERFS_PROVISIONER,
  LABEL_CLAIM_UID,
  LABEL_PROVISIONED_BY,
  PROVISIONER_NAME,
  provisionedName,
} from './constants.ts';
import { claimClassName, classService, inTreeGraceLeftMs, SERVED_BY_OPERATOR_REASON, servedByOperatorMessage } from './claim-class.ts';
import { resolveCluster } from './cluster-resolution.ts';
import { copyRequestOf, decideCopySource, type CopyOfSource, type ObservedCopySource } from './copy-source.ts';
import { quantityString, type Claim, type ClaimCondition, type PersistentVolume, type StorageClass } from './kube-objects.ts';
import { buildPersistentVolume, isVolumeMountable, parseVolumeHandle, SUPPORTED_ACCESS_MODES, volumeHandleFor } from './pv-builder.ts';
import { formatParameterErrors, parseStorageClassParameters, type ProvisioningParameters } from './storage-class-parameters.ts';

/**
 * What to do next for a claim or a PV, decided from what was read, with no I/O: the reconcilers read the
 * world, ask here, do the one thing returned, and come back (level-triggered). Each decision is safe to
 * repeat: creates are of deterministic names, so a retry meets 409 AlreadyExists instead of a duplicate.
 */

/** How long to look again while something we wait for has no watch event to wake us (or as a safety net). */
export const WAIT_REQUEUE_MS = 30_000;
export const FAILED_REQUEUE_MS = 60_000;
export const RESIZE_POLL_MS = 5_000;

const RESIZE_CONDITION_TYPES = ['Resizing', 'FileSystemResizePending', 'ControllerResizeError', 'NodeResizeError'];

export type ClaimDecision =
  | { action: 'ignore'; why: string }
  | { action: 'wait'; why: string; requeueAfterMs?: number }
  /** Warning Event `reason` (ProvisioningFailed or VolumeResizeFailed) with `message` on the claim. */
  | { action: 'fail'; reason: 'ProvisioningFailed' | 'VolumeResizeFailed'; message: string; requeueAfterMs?: number }
  /** The GlusterVolume on GlusterCluster `cluster`; `events` go on the claim first (each once). */
  | { action: 'createVolume'; parameters: ProvisioningParameters; cluster: string; size: string; events: ClaimEvent[]; copy?: CopyOfSource }
  | { action: 'createPersistentVolume'; persistentVolume: k8s.V1PersistentVolume }
  /** Resize step 1: grow the GlusterVolume's spec.size and mark the claim Resizing. */
  | { action: 'expandVolume'; size: string }
  /** Resize step 2: the volume has grown; grow the PV, then finish on the claim. */
  | { action: 'expandPersistentVolume'; capacity: string }
  /** Resize step 3: the claim's status.capacity and conditions. */
  | { action: 'finishResize'; capacity: string };

export interface ClaimEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface ClaimWorld {
  claim: Claim;
  /** The class the claim names (claimClassName), if it exists. */
  storageClass: StorageClass | undefined;
  /** The GlusterVolume `pvc-<claim uid>` in `volumeNamespace`, if any. */
  volume: GlusterVolume | undefined;
  /** The PV `pvc-<claim uid>`, if any. */
  persistentVolume: PersistentVolume | undefined;
  /** Where the claim's GlusterVolume goes: the namespace of its GlusterCluster. */
  volumeNamespace: string;
  /** The GlusterClusters of `volumeNamespace`; read only while the claim is unbound and has no GlusterVolume (the only time they are asked). */
  clusters: readonly GlusterCluster[];
  /** The operator setting SERVE_IN_TREE_GLUSTERFS_CLASSES (claim-class.ts says why it defaults to true). */
  serveInTreeClasses: boolean;
  /** Clock time, ms: the in-tree grace is measured from the claim's creationTimestamp. */
  now: number;
  /** The claim's dataSource as read (copy-source.ts), while the claim is unbound and has no GlusterVolume. */
  copySource?: ObservedCopySource;
}

export function isOurPersistentVolume(pv: PersistentVolume | undefined): pv is PersistentVolume {
  return pv?.metadata.annotations?.[ANN_PROVISIONED_BY] === PROVISIONER_NAME && pv.spec.csi?.driver === DRIVER_NAME;
}

/** The GlusterVolume's own word on why it is not Ready, when it has given up (Ready False and Degraded True). */
function volumeFailure(volume: GlusterVolume): string | undefined {
  const reason = givenUpReason(volume.status?.conditions);
  return reason === undefined ? undefined : `GlusterVolume ${volume.metadata.namespace}/${volume.metadata.name} failed: ${reason}`;
}

/**
 * The kind a claim's dataSourceRef names when that is a volume populator's: anything but a claim (clone) or a
 * VolumeSnapshot, which are the provisioner's to serve (and this one does not).
 */
export function volumePopulatorOf(claim: Claim): string | undefined {
  const ref = claim.spec.dataSourceRef;
  if (!ref?.kind) return undefined;
  const group = ref.apiGroup ?? '';
  if (group === '' && ref.kind === 'PersistentVolumeClaim') return undefined;
  if (group === 'snapshot.storage.k8s.io' && ref.kind === 'VolumeSnapshot') return undefined;
  return group === '' ? ref.kind : `${ref.kind}.${group}`;
}

export function decideClaim(world: ClaimWorld): ClaimDecision {
  const { claim, storageClass, volume, persistentVolume } = world;
  const name = provisionedName(claim.metadata.uid);
  if (claim.metadata.deletionTimestamp) return { action: 'ignore', why: 'claim is being deleted' };
  const className = claimClassName(claim);
  // A claim naming no class gets the default one written into spec.storageClassName (admission), and comes back.
  if (!className) return { action: 'ignore', why: 'claim names no StorageClass (neither spec.storageClassName nor the beta annotation)' };
  if (!storageClass) return { action: 'ignore', why: `StorageClass ${className} not found` };
  const service = classService(storageClass, world.serveInTreeClasses);
  if (!service) {
    const off = storageClass.provisioner === IN_TREE_GLUSTERFS_PROVISIONER ? ' (not served: SERVE_IN_TREE_GLUSTERFS_CLASSES=false)' : '';
    return { action: 'ignore', why: `StorageClass ${className} belongs to ${storageClass.provisioner}${off}` };
  }

  if (claim.spec.volumeName) {
    if (claim.spec.volumeName === name && isOurPersistentVolume(persistentVolume)) {
      return decideResize({ claim, storageClass, persistentVolume, volume });
    }
    return { action: 'ignore', why: `claim is bound to ${claim.spec.volumeName}, which this provisioner did not make for it` };
  }
  if (persistentVolume) {
    // Made and pre-bound already; the PV binder completes the binding.
    return { action: 'ignore', why: `PersistentVolume ${name} exists; waiting for the PV binder` };
  }

  const annotations = claim.metadata.annotations ?? {};
  if (service === 'driver') {
    if (annotations[ANN_STORAGE_PROVISIONER] !== PROVISIONER_NAME && annotations[ANN_BETA_STORAGE_PROVISIONER] !== PROVISIONER_NAME) {
      // The PV controller sets this once it has found no existing PV to bind: provisioning earlier could race a static PV.
      return { action: 'wait', why: 'waiting for the PV controller to request provisioning', requeueAfterMs: WAIT_REQUEUE_MS };
    }
  } else {
    // Nothing asks for in-tree classes (the PV controller finds no plugin and sets no annotation): past the grace, an unbound claim found no static PV.
    const graceLeft = inTreeGraceLeftMs(claim, world.now);
    if (graceLeft > 0) return { action: 'wait', why: `in-tree class: giving the PV binder ${graceLeft} ms more to bind a static PV`, requeueAfterMs: graceLeft };
  }
  if (storageClass.volumeBindingMode === 'WaitForFirstConsumer' && !annotations[ANN_SELECTED_NODE]) {
    return { action: 'wait', why: 'WaitForFirstConsumer: waiting for a pod to select a node' };
  }

  const fail = (message: string): ClaimDecision => ({ action: 'fail', reason: 'ProvisioningFailed', message, requeueAfterMs: FAILED_REQUEUE_MS });
  if (claim.spec.selector) return fail('claim.spec.selector is not supported for dynamic provisioning');
  const populator = volumePopulatorOf(claim);
  if (populator) {
    // As Kubernetes' own external-provisioner does: the populator makes a claim of its own (no data source) in
    // this class, which is provisioned here, fills it, and binds its PV to this claim.
    return { action: 'ignore', why: `spec.dataSourceRef names ${populator}: a volume populator fills this claim` };
  }
  const copyRequest = copyRequestOf(claim);
  if (copyRequest?.kind === 'unsupported') return fail(copyRequest.why);
  if (claim.spec.volumeMode === 'Block') return fail('volumeMode Block is not supported: Gluster volumes are file systems');
  const modes = claim.spec.accessModes ?? [];
  if (modes.length === 0) return fail('claim has no accessModes');
  const unsupported = modes.filter((mode) => !(SUPPORTED_ACCESS_MODES as readonly string[]).includes(mode));
  if (unsupported.length > 0) return fail(`access mode ${unsupported.join(', ')} is not supported (supported: ${SUPPORTED_ACCESS_MODES.join(', ')})`);
  const request = quantityString(claim.spec.resources?.requests?.storage);
  const requestBytes = quantityOrUndefined(request);
  if (request === undefined || requestBytes === undefined || requestBytes <= 0) {
    return fail(`claim.spec.resources.requests.storage ${JSON.stringify(request ?? null)} is not a size this provisioner understands`);
  }

  const parsed = parseStorageClassParameters(storageClass.parameters);
  if (!parsed.success) return fail(formatParameterErrors(parsed.errors));

  if (!volume) {
    const events: ClaimEvent[] = parsed.warnings.map((message) => ({ type: 'Warning', reason: 'IgnoredParameters', message }));
    if (service === 'inTree') events.push({ type: 'Normal', reason: SERVED_BY_OPERATOR_REASON, message: servedByOperatorMessage(storageClass.metadata.name) });
    if (copyRequest) {
      // A copy is a Gluster volume of its own in its source's cluster: the class's cluster choice does not apply.
      if (parsed.parameters.claimLayout === 'directory') return fail(`StorageClass ${storageClass.metadata.name} has claimLayout: directory; copies (dataSource) need claimLayout: volume`);
      if (!world.copySource) return { action: 'wait', why: 'reading the claim\'s dataSource', requeueAfterMs: WAIT_REQUEUE_MS };
      const source = decideCopySource(world.copySource, requestBytes, world.volumeNamespace);
      if (!source.ok) return source.wait ? { action: 'wait', why: source.message, requeueAfterMs: WAIT_REQUEUE_MS } : fail(source.message);
      return { action: 'createVolume', parameters: parsed.parameters, cluster: source.copy.cluster, size: request, events, copy: source.copy };
    }
    const cluster = resolveCluster(parsed.parameters, world.clusters, world.volumeNamespace);
    if (!cluster.resolved) return fail(cluster.message);
    return { action: 'createVolume', parameters: parsed.parameters, cluster: cluster.cluster, size: request, events };
  }
  if (volume.metadata.labels?.[LABEL_CLAIM_UID] !== claim.metadata.uid) {
    return fail(`GlusterVolume ${volume.metadata.namespace}/${volume.metadata.name} exists and was not made for this claim`);
  }
  if (volume.metadata.deletionTimestamp) return { action: 'wait', why: `GlusterVolume ${volume.metadata.name} is being deleted`, requeueAfterMs: WAIT_REQUEUE_MS };
  if (isVolumeMountable(volume)) {
    return { action: 'createPersistentVolume', persistentVolume: buildPersistentVolume({ claim, storageClass, volume }) };
  }
  const failure = volumeFailure(volume);
  if (failure) return fail(failure);
  return { action: 'wait', why: `GlusterVolume ${volume.metadata.name} is not Ready yet`, requeueAfterMs: WAIT_REQUEUE_MS };
}

/** Growth of a bound claim: GlusterVolume first, PV once the volume has the space, the claim's status last. */
export function decideResize(world: { claim: Claim; storageClass: StorageClass; persistentVolume: PersistentVolume; volume: GlusterVolume | undefined }): ClaimDecision {
  const { claim, storageClass, persistentVolume, volume } = world;
  const request = quantityString(claim.spec.resources?.requests?.storage);
  const requestBytes = quantityOrUndefined(request);
  const pvCapacity = quantityString(persistentVolume.spec.capacity?.storage);
  const pvBytes = quantityOrUndefined(pvCapacity);
  if (request === undefined || requestBytes === undefined || pvCapacity === undefined || pvBytes === undefined) {
    return { action: 'ignore', why: 'bound; sizes not comparable' };
  }
  const fail = (message: string): ClaimDecision => ({ action: 'fail', reason: 'VolumeResizeFailed', message, requeueAfterMs: FAILED_REQUEUE_MS });

  if (requestBytes > pvBytes) {
    if (storageClass.allowVolumeExpansion !== true) return fail(`StorageClass ${storageClass.metadata.name} does not allow volume expansion`);
    if (!volume) return fail(`GlusterVolume of PersistentVolume ${persistentVolume.metadata.name} not found`);
    if (volume.metadata.deletionTimestamp) return fail(`GlusterVolume ${volume.metadata.name} is being deleted`);
    const specBytes = quantityOrUndefined(volume.spec.size) ?? 0;
    if (specBytes < requestBytes) return { action: 'expandVolume', size: request };
    const capacity = volume.status?.capacity;
    const capacityBytes = quantityOrUndefined(capacity);
    const ready = findCondition(volume.status?.conditions, 'Ready');
    const generation = volume.metadata.generation;
    const current = ready?.observedGeneration === undefined || generation === undefined || ready.observedGeneration >= generation;
    if (capacity !== undefined && capacityBytes !== undefined && capacityBytes >= requestBytes && ready?.status === 'True' && current) {
      return { action: 'expandPersistentVolume', capacity };
    }
    const failure = volumeFailure(volume);
    if (failure) return fail(failure);
    return { action: 'wait', why: `waiting for GlusterVolume ${volume.metadata.name} to grow to ${request}`, requeueAfterMs: RESIZE_POLL_MS };
  }

  const claimCapacityBytes = quantityOrUndefined(quantityString(claim.status?.capacity?.storage));
  const resizeMarked =
    (claim.status?.conditions ?? []).some((condition) => RESIZE_CONDITION_TYPES.includes(condition.type)) ||
    claim.status?.allocatedResourceStatuses?.storage !== undefined;
  if (claimCapacityBytes === undefined) return { action: 'ignore', why: 'bound; the PV binder has not written capacity yet' };
  if (claimCapacityBytes < pvBytes || resizeMarked) return { action: 'finishResize', capacity: pvCapacity };
  return { action: 'ignore', why: 'bound' };
}

/** The claim's /status merge patch when a resize starts (as external-resizer marks it). */
export function resizeStartedStatus(claim: Claim, request: string, now: Date): Record<string, unknown> {
  const others = (claim.status?.conditions ?? []).filter((condition) => !RESIZE_CONDITION_TYPES.includes(condition.type));
  const resizing: ClaimCondition = { type: 'Resizing', status: 'True', lastTransitionTime: now.toISOString() };
  return {
    conditions: [...others, resizing],
    allocatedResources: { storage: request },
    allocatedResourceStatuses: { storage: 'ControllerResizeInProgress' },
  };
}

/**
 * The claim's /status merge patch when a resize is done. Gluster needs no node-side file system resize (the
 * FUSE client sees the new size), so the resize conditions go and the capacity is final.
 */
export function resizeFinishedStatus(claim: Claim, capacity: string): Record<string, unknown> {
  const conditions = (claim.status?.conditions ?? []).filter((condition) => !RESIZE_CONDITION_TYPES.includes(condition.type));
  return {
    capacity: { ...(claim.status?.capacity ?? {}), storage: capacity },
    conditions,
    // Merge patch: null removes the key.
    allocatedResourceStatuses: claim.status?.allocatedResourceStatuses?.storage !== undefined ? { storage: null } : undefined,
    allocatedResources: { storage: capacity },
  };
}

export type PersistentVolumeDecision =
  | { action: 'ignore'; why: string }
  | { action: 'wait'; why: string; requeueAfterMs?: number }
  /** The PV's reclaim policy is the user's word (often changed by hand to Retain): carry it to the GlusterVolume. */
  | { action: 'syncReclaimPolicy'; policy: 'Delete' | 'Retain' }
  | { action: 'deleteVolume' }
  | { action: 'deletePersistentVolume' }
  /**
   * Something would be done, but the PV is not provably the one this provisioner made for that GlusterVolume
   * (a cloned or hand-made PV carrying our annotation): nothing is done; a Warning Event `reason` on the PV
   * says what does not match.
   */
  | { action: 'refuse'; reason: 'PersistentVolumeMismatch'; message: string };

/**
 * Why `pv` is not provably the PV the provisioner made for `volume`, the GlusterVolume its volumeHandle
 * names; undefined when it is. The provisioner makes both for one claim (claim-reconciler.ts): the
 * GlusterVolume `pvc-<claim uid>` labelled with the claim uid (volume-builder.ts), then the PV
 * `pvc-<claim uid>` pre-bound to that claim uid with the GlusterVolume as its volumeHandle (pv-builder.ts),
 * whose uid it then records on the GlusterVolume (ANN_PERSISTENT_VOLUME_UID). So the PV must be named after
 * the claim uid the GlusterVolume records, be bound to that uid, and, when a PV uid is recorded, be that PV.
 * Objects of earlier versions carry all but the PV uid, and are proven by the rest.
 *
 * With the GlusterVolume gone (deleted by the reclaim, the step before the PV goes) only the PV is left to
 * read: it must at least be consistent the way ours are (named after its claimRef uid, its handle naming a
 * GlusterVolume of that name).
 */
export function persistentVolumeMismatch(pv: PersistentVolume, volume: GlusterVolume | undefined): string | undefined {
  const name = pv.metadata.name;
  const claimRefUid = pv.spec.claimRef?.uid;
  const handle = pv.spec.csi?.volumeHandle;
  if (!volume) {
    if (!claimRefUid) return `PersistentVolume ${name} has no claimRef uid, and its GlusterVolume ${handle ?? ''} is gone`;
    if (name !== provisionedName(claimRefUid)) return `PersistentVolume ${name} is not named ${provisionedName(claimRefUid)} after its claimRef uid, as the provisioner names its PVs`;
    if (parseVolumeHandle(handle ?? '')?.name !== name) return `PersistentVolume ${name} has volumeHandle ${handle ?? '(none)'}, not a GlusterVolume named ${name}`;
    return undefined;
  }
  const ref = `GlusterVolume ${volumeHandleFor(volume)}`;
  const labels = volume.metadata.labels ?? {};
  if (labels[LABEL_PROVISIONED_BY] !== PROVISIONER_NAME) return `${ref} was not made by the provisioner (label ${LABEL_PROVISIONED_BY} is not ${PROVISIONER_NAME})`;
  const claimUid = labels[LABEL_CLAIM_UID];
  if (!claimUid) return `${ref} records no claim uid (label ${LABEL_CLAIM_UID})`;
  const expected = provisionedName(claimUid);
  if (volume.metadata.name !== expected) return `${ref} is not named ${expected} after the claim uid it records`;
  if (handle !== volumeHandleFor(volume)) return `PersistentVolume ${name} has volumeHandle ${handle ?? '(none)'}, not ${volumeHandleFor(volume)}`;
  if (name !== expected) return `PersistentVolume ${name} is not ${expected}, the PV the provisioner made for ${ref}`;
  if (claimRefUid !== claimUid) return `PersistentVolume ${name} is bound to claim uid ${claimRefUid ?? '(none)'}, not ${claimUid}, the claim ${ref} was made for`;
  const recordedUid = volume.metadata.annotations?.[ANN_PERSISTENT_VOLUME_UID];
  if (recordedUid !== undefined && pv.metadata.uid !== recordedUid) {
    return `PersistentVolume ${name} has uid ${pv.metadata.uid ?? '(none)'}, not ${recordedUid}, the uid of the PV made for ${ref} (made again under the same name?)`;
  }
  return undefined;
}

export function decidePersistentVolume(world: { persistentVolume: PersistentVolume; volume: GlusterVolume | undefined }): PersistentVolumeDecision {
  const decision = decideReclaim(world);
  if (decision.action === 'ignore' || decision.action === 'wait') return decision;
  // Only a PV proven ours may change or delete anything: a cloned PV could switch a Retain volume to Delete.
  const mismatch = persistentVolumeMismatch(world.persistentVolume, world.volume);
  if (mismatch === undefined) return decision;
  const pv = world.persistentVolume;
  const volume = world.volume ? `GlusterVolume ${volumeHandleFor(world.volume)}` : '';
  const step =
    decision.action === 'syncReclaimPolicy' ? `carry reclaim policy ${decision.policy} to ${volume}` : decision.action === 'deleteVolume' ? `delete ${volume}` : `delete PersistentVolume ${pv.metadata.name}`;
  return { action: 'refuse', reason: 'PersistentVolumeMismatch', message: `Not going to ${step}: ${mismatch}` };
}

/** The reclaim step for a PV of ours, before the proof that it is ours (decidePersistentVolume). */
function decideReclaim(world: { persistentVolume: PersistentVolume; volume: GlusterVolume | undefined }): PersistentVolumeDecision {
  const { persistentVolume: pv, volume } = world;
  if (!isOurPersistentVolume(pv)) return { action: 'ignore', why: 'not provisioned by us' };
  if (pv.metadata.deletionTimestamp) return { action: 'ignore', why: 'PersistentVolume is being deleted' };
  const policy = pv.spec.persistentVolumeReclaimPolicy;
  if (volume && !volume.metadata.deletionTimestamp && (policy === 'Delete' || policy === 'Retain') && volume.spec.reclaimPolicy !== policy) {
    return { action: 'syncReclaimPolicy', policy };
  }
  if (pv.status?.phase !== 'Released') return { action: 'ignore', why: `phase ${pv.status?.phase ?? 'unknown'}` };
  if (policy !== 'Delete') return { action: 'ignore', why: `Released with reclaim policy ${policy ?? 'unset'}: kept` };
  if (!volume) return { action: 'deletePersistentVolume' };
  if (volume.metadata.deletionTimestamp) return { action: 'wait', why: `GlusterVolume ${volume.metadata.name} is being deleted`, requeueAfterMs: WAIT_REQUEUE_MS };
  return { action: 'deleteVolume' };
}

/**
 * A GlusterVolume we made whose claim went away before its PV existed (deleted while provisioning): with
 * nothing to release it through, apply the StorageClass's reclaim policy here. Kept when Retain.
 */
export function isOrphanedVolume(world: { volume: GlusterVolume; claimUid: string | undefined; persistentVolumeExists: boolean }): boolean {
  const { volume, claimUid, persistentVolumeExists } = world;
  if (volume.metadata.labels?.[LABEL_PROVISIONED_BY] !== PROVISIONER_NAME) return false;
  if (volume.metadata.deletionTimestamp || persistentVolumeExists) return false;
  const owner = volume.metadata.labels?.[LABEL_CLAIM_UID];
  if (!owner || owner === claimUid) return false;
  return volume.spec.reclaimPolicy === 'Delete';
}
