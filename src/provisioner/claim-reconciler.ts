import { EventOnce } from '../controller/event-once.ts';
import { operatorMetrics } from '../metrics/operator-metrics.ts';
import type { EventRecorder } from '../controller/events.ts';
import { KeyedLock } from '../runtime/keyed-lock.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ReconcileResult } from '../runtime/work-queue.ts';
import { parseStorageClassParameters } from './storage-class-parameters.ts';
import { ANN_CLAIM_NAME, ANN_CLAIM_NAMESPACE, ANN_PERSISTENT_VOLUME_UID, LABEL_PROVISIONED_BY, PROVISIONER_NAME, PVC_REFERENCE, provisionedName } from './constants.ts';
import { claimClassName, classService } from './claim-class.ts';
import { isHeketiId, volumeNamespaceFor } from './cluster-resolution.ts';
import { decideClaim, isOrphanedVolume, isOurPersistentVolume, RESIZE_POLL_MS, resizeFinishedStatus, resizeStartedStatus, WAIT_REQUEUE_MS, type ClaimDecision } from './decisions.ts';
import { allocateGid, gidsInUse } from './gid-allocator.ts';
import type { ProvisionerKube } from './kube-io.ts';
import { persistentVolumeSchema, type Claim, type PersistentVolume, type StorageClass } from './kube-objects.ts';
import { parseVolumeHandle } from './pv-builder.ts';
import { buildGlusterVolume } from './volume-builder.ts';
import { copyRequestOf, observeCopySource } from './copy-source.ts';
import { buildSharedVolume, isSharedVolumeOf, placeDirectory, sharedVolumesOfClass } from './directory-placement.ts';
import type { ProvisioningParameters } from './storage-class-parameters.ts';
import { glusterVolumeSchema, type GlusterVolume } from '../api/index.ts';
import { parseQuantity } from '../topology/sizing.ts';

/** Moved to src/controller/event-once.ts (the PV reconciler deduplicates its Events too). */
export { EventOnce } from '../controller/event-once.ts';

export interface ClaimReconcilerDeps {
  kube: ProvisionerKube;
  events: EventRecorder;
  logger: Logger;
  clock: Clock;
  /** Where GlusterVolumes go when the StorageClass has no `clusternamespace` (the operator's namespace). */
  defaultVolumeNamespace?: string;
  /** Serve classes of the removed in-tree `kubernetes.io/glusterfs` plugin too (claim-class.ts, classService). */
  serveInTreeClasses: boolean;
  /**
   * The watches' copies of all PVs and of the provisioner's GlusterVolumes, undefined until synced. With them,
   * a claim's GID and shared volume are chosen without two LISTs of every PV and volume per claim, which made a
   * burst of claims of one class quadratic; without them (not synced yet), the LISTs.
   */
  cached?: { persistentVolumes(): readonly unknown[] | undefined; glusterVolumes(): readonly unknown[] | undefined };
}

/** A GlusterVolume made under the class lock, counted until the watch's copy has it (or a GET finds it gone). */
interface Reservation {
  volume: GlusterVolume;
  at: number;
}
/** How long a watch event may take to arrive before a reservation is checked with a GET. */
const RESERVATION_RECHECK_MS = 5_000;

function claimReference(claim: Claim) {
  return { ...PVC_REFERENCE, metadata: { name: claim.metadata.name, namespace: claim.metadata.namespace, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion } };
}

export class ClaimReconciler {
  private readonly deps: ClaimReconcilerDeps;
  private readonly once: EventOnce;
  /** GIDs of one StorageClass are allocated one claim at a time. */
  private readonly gidLock = new KeyedLock();
  /** By `<namespace>/<name>`: what this process made that the watch may not show yet. */
  private readonly reservations = new Map<string, Reservation>();
  /** Claim keys by StorageClass name, from every claim seen, so a StorageClass change wakes its claims. */
  private readonly claimsByClass = new Map<string, Set<string>>();

  constructor(deps: ClaimReconcilerDeps) {
    this.deps = deps;
    this.once = new EventOnce(deps.events, deps.clock);
  }

  claimKeysOfClass(storageClass: string): string[] {
    return [...(this.claimsByClass.get(storageClass) ?? [])];
  }

  private index(key: string, storageClass: string | undefined): void {
    for (const [className, keys] of this.claimsByClass) {
      if (className !== storageClass && keys.delete(key) && keys.size === 0) this.claimsByClass.delete(className);
    }
    if (storageClass === undefined) return;
    let keys = this.claimsByClass.get(storageClass);
    if (!keys) this.claimsByClass.set(storageClass, (keys = new Set()));
    keys.add(key);
  }

  readonly reconcile = async (key: string): Promise<ReconcileResult> => {
    const { kube, logger } = this.deps;
    const [namespace, name] = key.split('/', 2) as [string, string];
    const claim = await kube.observeClaim(namespace, name);
    const className = claim ? claimClassName(claim) : undefined;
    this.index(key, className);
    if (!claim) return this.collectOrphans(namespace, name, undefined);
    const storageClass = className ? await kube.observeStorageClass(className) : undefined;
    if (!storageClass || !classService(storageClass, this.deps.serveInTreeClasses)) return;

    const objectName = provisionedName(claim.metadata.uid);
    const persistentVolume = await kube.observePersistentVolume(objectName);
    const volumeNamespace = await this.volumeNamespaceOf(storageClass, claim, persistentVolume);
    const volume = await kube.observeGlusterVolume(volumeNamespace, objectName);
    // Which cluster the class means matters only until the GlusterVolume exists (it names its cluster then): no LIST after.
    const unprovisioned = !claim.spec.volumeName && !volume && !persistentVolume;
    const clusters = unprovisioned ? await kube.listGlusterClusters(volumeNamespace) : [];
    // A copy's source is read only while the copy is still to be made.
    const copyRequest = unprovisioned ? copyRequestOf(claim) : undefined;
    const copySource = copyRequest && copyRequest.kind !== 'unsupported' ? await observeCopySource(kube, claim, copyRequest) : undefined;
    const decision = decideClaim({
      claim,
      storageClass,
      volume,
      persistentVolume,
      volumeNamespace,
      clusters,
      ...(copySource ? { copySource } : {}),
      serveInTreeClasses: this.deps.serveInTreeClasses,
      now: this.deps.clock.now(),
    });
    const log = { key, decision: decision.action };
    switch (decision.action) {
      case 'ignore':
        logger.debug('claim: nothing to do', { ...log, why: decision.why });
        return;
      case 'wait':
        logger.debug('claim: waiting', { ...log, why: decision.why });
        return decision.requeueAfterMs === undefined ? undefined : { requeueAfterMs: decision.requeueAfterMs };
      case 'fail':
        logger.info('claim: failed', { ...log, reason: decision.reason, message: decision.message });
        await this.once.record(claimReference(claim), 'Warning', decision.reason, decision.message);
        return decision.requeueAfterMs === undefined ? undefined : { requeueAfterMs: decision.requeueAfterMs };
      case 'createVolume':
        return this.createVolume(claim, storageClass, decision, volumeNamespace);
      case 'createPersistentVolume': {
        const { persistentVolume: created, created: fresh } = await kube.createPersistentVolume(decision.persistentVolume);
        if (created.spec.claimRef?.uid !== claim.metadata.uid) {
          throw new Error(`PersistentVolume ${created.metadata.name} exists and is bound to claim uid ${created.spec.claimRef?.uid}, not ${claim.metadata.uid}`);
        }
        // The PV's uid on its GlusterVolume: the proof the PV reconciler asks for before it acts (decisions.ts).
        const recorded = volume?.metadata.annotations?.[ANN_PERSISTENT_VOLUME_UID];
        if (volume && created.metadata.uid && (fresh || recorded === undefined) && recorded !== created.metadata.uid) {
          await kube.annotateGlusterVolume(volumeNamespace, objectName, { [ANN_PERSISTENT_VOLUME_UID]: created.metadata.uid });
        }
        if (fresh) {
          operatorMetrics.observeClaimProvisioned(storageClass.metadata.name, claim.metadata.creationTimestamp, this.deps.clock.now());
          logger.info('claim: provisioned', { key, persistentVolume: created.metadata.name });
          await this.once.record(claimReference(claim), 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${created.metadata.name}`);
        }
        return;
      }
      case 'expandVolume': {
        await kube.patchGlusterVolumeSpec(volumeNamespace, objectName, { size: decision.size });
        await kube.patchClaimStatus(namespace, name, resizeStartedStatus(claim, decision.size, new Date(this.deps.clock.now())));
        logger.info('claim: resizing', { key, size: decision.size });
        await this.once.record(claimReference(claim), 'Normal', 'Resizing', `External resizer is resizing volume ${objectName} to ${decision.size}`);
        return { requeueAfterMs: RESIZE_POLL_MS };
      }
      case 'expandPersistentVolume': {
        await kube.patchPersistentVolumeCapacity(objectName, decision.capacity);
        await kube.patchClaimStatus(namespace, name, resizeFinishedStatus(claim, decision.capacity));
        logger.info('claim: resized', { key, capacity: decision.capacity });
        await this.once.record(claimReference(claim), 'Normal', 'VolumeResizeSuccessful', `Resize volume ${objectName} to ${decision.capacity} succeeded`);
        return;
      }
      case 'finishResize':
        await kube.patchClaimStatus(namespace, name, resizeFinishedStatus(claim, decision.capacity));
        return;
    }
  };

  /** The GlusterCluster's namespace: `clusternamespace`, else the default, else the claim's own. */
  private async volumeNamespaceOf(storageClass: StorageClass, claim: Claim, persistentVolume: PersistentVolume | undefined): Promise<string> {
    const parsed = parseStorageClassParameters(storageClass.parameters);
    const clusterNamespace = parsed.success ? parsed.parameters.clusterNamespace : undefined;
    const clusterIds = parsed.success ? parsed.parameters.clusterIds : [];
    const handle = isOurPersistentVolume(persistentVolume) ? parseVolumeHandle(persistentVolume.spec.csi?.volumeHandle ?? '') : undefined;
    // A LIST of every namespace's GlusterClusters only for an unprovisioned claim of a heketi-era class.
    const everywhere = clusterNamespace === undefined && !handle && clusterIds.some(isHeketiId) ? await this.deps.kube.listGlusterClusters(undefined) : [];
    return volumeNamespaceFor({
      clusterNamespace,
      clusterIds,
      persistentVolumeNamespace: handle?.namespace,
      clustersEverywhere: everywhere,
      defaultNamespace: this.deps.defaultVolumeNamespace ?? claim.metadata.namespace,
    });
  }

  private async createVolume(
    claim: Claim,
    storageClass: StorageClass,
    decision: Extract<ClaimDecision, { action: 'createVolume' }>,
    volumeNamespace: string,
  ): Promise<ReconcileResult> {
    const { kube, logger } = this.deps;
    const { parameters, cluster, size, copy } = decision;
    const reference = claimReference(claim);
    for (const event of decision.events) await this.once.record(reference, event.type, event.reason, event.message);
    // Allocation and creation under one lock per class, from fresh (quorum) lists: no two claims get one GID.
    const outcome = await this.gidLock.run(storageClass.metadata.name, async () => {
      const existing = await kube.volumes.get(volumeNamespace, provisionedName(claim.metadata.uid));
      if (existing) return { created: false as const, volume: existing };
      const { pvs, volumes } = await this.inventory();
      // A copy's files keep their source's group, so it keeps the source's gid (pods of both share it).
      const gid = copy?.gid ?? allocateGid(gidsInUse(storageClass.metadata.name, pvs, volumes), parameters.gidMin, parameters.gidMax);
      if (gid === undefined) return { created: false as const, exhausted: true as const };
      const directoryOf = parameters.claimLayout === 'directory' ? await this.sharedVolumeFor(storageClass, parameters, cluster, size, volumeNamespace, volumes) : undefined;
      const made = await kube.createGlusterVolume(
        buildGlusterVolume({ claim, storageClass, parameters, cluster, size, gid, namespace: volumeNamespace, ...(directoryOf ? { directoryOf } : {}), ...(copy ? { copy } : {}) }),
      );
      this.reserve(made.volume);
      return made;
    });
    if ('exhausted' in outcome) {
      await this.once.record(reference, 'Warning', 'ProvisioningFailed', `no free GID left in ${parameters.gidMin}..${parameters.gidMax} of StorageClass ${storageClass.metadata.name}`);
      return { requeueAfterMs: WAIT_REQUEUE_MS };
    }
    if (outcome.created) {
      logger.info('claim: GlusterVolume created', { claim: `${claim.metadata.namespace}/${claim.metadata.name}`, volume: outcome.volume.metadata.name, gid: outcome.volume.spec.gid });
      await this.once.record(reference, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${claim.metadata.namespace}/${claim.metadata.name}": GlusterVolume ${outcome.volume.metadata.name}`);
    }
    // The GlusterVolume's status changes wake this claim (related watch); the requeue is a safety net.
    return { requeueAfterMs: WAIT_REQUEUE_MS };
  }

  /**
   * Every PV and every GlusterVolume of the provisioner, as the class lock's decisions need them: the watches'
   * copies when synced, with what this process made since that they may not show yet; else fresh LISTs.
   */
  private async inventory(): Promise<{ pvs: PersistentVolume[]; volumes: GlusterVolume[] }> {
    const { kube, cached } = this.deps;
    const cachedPvs = cached?.persistentVolumes();
    const cachedVolumes = cached?.glusterVolumes();
    if (cachedPvs === undefined || cachedVolumes === undefined) {
      const [pvs, volumes] = await Promise.all([kube.listPersistentVolumes(), kube.listGlusterVolumes(`${LABEL_PROVISIONED_BY}=${PROVISIONER_NAME}`)]);
      return { pvs, volumes };
    }
    const pvs = parsedAll(cachedPvs, persistentVolumeSchema);
    const volumes = parsedAll(cachedVolumes, glusterVolumeSchema);
    const now = this.deps.clock.now();
    const seen = new Set(volumes.map((volume) => `${volume.metadata.namespace}/${volume.metadata.name}`));
    for (const [key, reservation] of this.reservations) {
      if (seen.has(key)) {
        this.reservations.delete(key);
        continue;
      }
      if (now - reservation.at < RESERVATION_RECHECK_MS) {
        volumes.push(reservation.volume);
        continue;
      }
      // Not in the copies after the watch has had time to bring it: gone already (made and deleted in between)
      // or the watch lags. One GET tells which.
      const current = await kube.volumes.get(reservation.volume.metadata.namespace!, reservation.volume.metadata.name);
      if (current) volumes.push(current);
      else this.reservations.delete(key);
    }
    return { pvs, volumes };
  }

  private reserve(volume: GlusterVolume): void {
    this.reservations.set(`${volume.metadata.namespace}/${volume.metadata.name}`, { volume, at: this.deps.clock.now() });
  }

  /**
   * claimLayout directory: the class's shared volume with room for `size`, made when none has (under the class
   * lock, from the fresh list: two claims never make two shared volumes of one name, and a 409 means it exists).
   */
  private async sharedVolumeFor(
    storageClass: StorageClass,
    parameters: ProvisioningParameters,
    cluster: string,
    size: string,
    namespace: string,
    volumes: readonly GlusterVolume[],
  ): Promise<string> {
    const className = storageClass.metadata.name;
    const placement = placeDirectory({
      storageClass: className,
      shared: sharedVolumesOfClass(className, namespace, volumes),
      requestBytes: parseQuantity(size),
      sharedVolumeBytes: parseQuantity(parameters.sharedVolumeSize),
      taken: new Set(volumes.filter((volume) => volume.metadata.namespace === namespace).map((volume) => volume.metadata.name)),
    });
    if (placement.kind === 'use') return placement.shared;
    const sizeText = placement.sizeBytes === parseQuantity(parameters.sharedVolumeSize) ? parameters.sharedVolumeSize : size;
    const made = await this.deps.kube.createGlusterVolume(buildSharedVolume({ name: placement.shared, namespace, storageClass: className, cluster, size: sizeText, parameters }));
    this.reserve(made.volume);
    if (!made.created && !isSharedVolumeOf(made.volume, className, namespace)) {
      // A GlusterVolume of that name the provisioner did not make for this class: never put claims in it.
      throw new Error(`GlusterVolume ${namespace}/${placement.shared} exists and is not a shared volume of StorageClass ${className}; rename it, or it blocks this class's next shared volume`);
    }
    if (made.created) this.deps.logger.info('claim: shared volume created', { storageClass: className, volume: `${namespace}/${placement.shared}`, size: sizeText });
    return placement.shared;
  }

  /** Claim `namespace/name` is gone (or is another one now): GlusterVolumes made for it that never got a PV. */
  private async collectOrphans(namespace: string, name: string, claimUid: string | undefined): Promise<ReconcileResult> {
    const { kube, logger } = this.deps;
    // The claim's GlusterVolumes may live in another namespace (the cluster's): find them by annotation.
    const volumes = await kube.listGlusterVolumes(`${LABEL_PROVISIONED_BY}=${PROVISIONER_NAME}`);
    for (const volume of volumes) {
      const annotations = volume.metadata.annotations ?? {};
      if (annotations[ANN_CLAIM_NAME] !== name || (annotations[ANN_CLAIM_NAMESPACE] ?? volume.metadata.namespace) !== namespace) continue;
      const persistentVolumeExists = (await kube.readPersistentVolume(volume.metadata.name)) !== undefined;
      if (!isOrphanedVolume({ volume, claimUid, persistentVolumeExists })) continue;
      logger.info('claim deleted before its volume was provisioned: deleting its GlusterVolume (reclaim policy Delete)', {
        claim: `${namespace}/${name}`,
        volume: volume.metadata.name,
      });
      await kube.volumes.delete(volume.metadata.namespace ?? namespace, volume.metadata.name);
    }
  }
}

/**
 * Parsed copies of a watch's objects, remembered by object: an informer hands out the same object until the
 * next event replaces it, so each version is parsed once, not once per claim (a burst of 1,000 claims would
 * otherwise parse the whole cache a thousand times).
 */
const parsedBySchema = new WeakMap<object, WeakMap<object, { data: unknown } | null>>();

/** The objects of a watch that parse; one that does not (an object of another shape) is not counted. */
function parsedAll<T>(objects: readonly unknown[], schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }): T[] {
  let parsedByObject = parsedBySchema.get(schema);
  if (!parsedByObject) parsedBySchema.set(schema, (parsedByObject = new WeakMap()));
  const parsed: T[] = [];
  for (const object of objects) {
    if (object === null || typeof object !== 'object') continue;
    let entry = parsedByObject.get(object);
    if (entry === undefined) {
      const result = schema.safeParse(object);
      entry = result.success ? { data: result.data } : null;
      parsedByObject.set(object, entry);
    }
    // Shared with the next call: callers add to the list, never change an object in it.
    if (entry !== null) parsed.push(entry.data as T);
  }
  return parsed;
}
