import { EventOnce } from '../controller/event-once.ts';
import type { EventRecorder } from '../controller/events.ts';
import { systemClock, type Clock } from '../runtime/clock.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ReconcileResult } from '../runtime/work-queue.ts';
import { PV_REFERENCE } from './constants.ts';
import { decidePersistentVolume, isOurPersistentVolume } from './decisions.ts';
import type { ProvisionerKube } from './kube-io.ts';
import type { PersistentVolume } from './kube-objects.ts';
import { parseVolumeHandle } from './pv-builder.ts';

/**
 * Reclaim of the PVs this provisioner made. Released + Delete: the GlusterVolume is deleted first (its
 * finalizer removes the Gluster volume and bricks), the PV only once the GlusterVolume is gone, so a PV never
 * disappears while its data still exists somewhere. Released + Retain: both are kept. Nothing is done for a
 * PV that is not provably the one the provisioner made for its GlusterVolume (decidePersistentVolume): a
 * Warning Event on it says what does not match.
 */
export interface PersistentVolumeReconcilerDeps {
  kube: ProvisionerKube;
  events: EventRecorder;
  logger: Logger;
  /** Only PVs whose volume lives in this namespace (see ProvisionerOptions.namespace). */
  namespace?: string;
  /** For deduplicating Events (default: the system clock). */
  clock?: Clock;
}

/** After acting, look again soon: the GlusterVolume watch usually wakes us earlier. */
const AFTER_ACTION_MS = 2_000;

function reference(pv: PersistentVolume) {
  return { ...PV_REFERENCE, metadata: { name: pv.metadata.name, uid: pv.metadata.uid, resourceVersion: pv.metadata.resourceVersion } };
}

export class PersistentVolumeReconciler {
  private readonly deps: PersistentVolumeReconcilerDeps;
  private readonly once: EventOnce;

  constructor(deps: PersistentVolumeReconcilerDeps) {
    this.deps = deps;
    this.once = new EventOnce(deps.events, deps.clock ?? systemClock);
  }

  readonly reconcile = async (key: string): Promise<ReconcileResult> => {
    const { kube, logger, events } = this.deps;
    const pv = await kube.readPersistentVolume(key);
    if (!isOurPersistentVolume(pv)) return;
    const handle = parseVolumeHandle(pv.spec.csi!.volumeHandle);
    if (handle && this.deps.namespace !== undefined && handle.namespace !== this.deps.namespace) return;
    if (!handle) {
      logger.warn('PersistentVolume has a volumeHandle this provisioner cannot read; leaving it alone', { pv: key, volumeHandle: pv.spec.csi!.volumeHandle });
      return;
    }
    const volume = await kube.volumes.get(handle.namespace, handle.name);
    const decision = decidePersistentVolume({ persistentVolume: pv, volume });
    switch (decision.action) {
      case 'ignore':
        logger.debug('pv: nothing to do', { pv: key, why: decision.why });
        return;
      case 'wait':
        logger.debug('pv: waiting', { pv: key, why: decision.why });
        return decision.requeueAfterMs === undefined ? undefined : { requeueAfterMs: decision.requeueAfterMs };
      case 'refuse':
        logger.warn('pv: not provably ours; leaving it alone', { pv: key, message: decision.message });
        await this.once.record(reference(pv), 'Warning', decision.reason, decision.message);
        return;
      case 'syncReclaimPolicy':
        await kube.patchGlusterVolumeSpec(handle.namespace, handle.name, { reclaimPolicy: decision.policy });
        logger.info('pv: reclaim policy carried to the GlusterVolume', { pv: key, policy: decision.policy });
        return { requeueAfterMs: 0 };
      case 'deleteVolume':
        await kube.volumes.delete(handle.namespace, handle.name);
        logger.info('pv: released with reclaim policy Delete; GlusterVolume deleted', { pv: key, volume: `${handle.namespace}/${handle.name}` });
        await events.normal(reference(pv), 'VolumeDelete', `Deleting GlusterVolume ${handle.namespace}/${handle.name}: the claim was deleted and the reclaim policy is Delete`);
        return { requeueAfterMs: AFTER_ACTION_MS };
      case 'deletePersistentVolume':
        await kube.deletePersistentVolume(key);
        logger.info('pv: GlusterVolume gone; PersistentVolume deleted', { pv: key });
        return;
    }
  };
}
