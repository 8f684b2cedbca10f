import * as k8s from '@kubernetes/client-node';
import { DESTROY_DATA_CONFIRMATION, DRIVER_NAME, type GlusterVolume } from '../../api/index.ts';
import { volumeClientList, volumeDelete, volumeSet, volumeStop } from '../../gluster/commands/gluster.ts';
import { userClients } from '../../gluster/parsers/client-list.ts';
import type { ReconcileResult } from '../../runtime/work-queue.ts';
import { errorMessage } from '../../runtime/error-message.ts';
import { NodeCommandError } from '../../gluster/errors.ts';
import { brickGlusterName, brickNode, findVolume, objectNameOf, removeVolume, topologyName } from '../../topology/model.ts';
import { parseVolumeHandle } from '../../provisioner/pv-builder.ts';
import type { BrickRecord } from '../../bricks/backend.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import { AccessConfigError, topologyNodeTarget, type ClusterAccess } from '../cluster-access.ts';
import { stopOrphanedBrickProcesses } from './orphan-brick-processes.ts';
import { REQUEUE, type ReconcileContext } from '../context.ts';
import { removeFinalizer } from '../finalizers.ts';
import { namespaceTerminating } from '../namespace-state.ts';
import { observeLive } from './volume-actions.ts';
import { decideDeletion, type DeletionWorld, type PersistentVolumeUse } from './volume-deletion-decisions.ts';
import { brickRecordOf, bricksInSetOrder } from './volume-layout.ts';
import { ownerMark, OWNER_OPTION, RELEASED_MARK } from './volume-ownership.ts';
import { writeStatus } from './volume.ts';

/**
 * A GlusterVolume being deleted: observe (placement, namespace, PVs, Gluster as asked), decide
 * (volume-deletion-decisions.ts, pure: what may be destroyed and when), act one step, again. The finalizer
 * goes only when the decision is to keep the data or the data is gone.
 */
export async function finalizeVolume(ctx: ReconcileContext, volume: GlusterVolume): Promise<ReconcileResult> {
  const namespace = volume.metadata.namespace ?? 'default';
  const dbName = topologyName(namespace, volume.metadata.name);
  const record = findVolume(ctx.topology.db, dbName);
  const cluster = await ctx.clusters.get(namespace, record ? objectNameOf(record.cluster) : volume.spec.cluster);
  const world: DeletionWorld = {
    me: ownerMark(namespace, volume.metadata.name),
    reclaimPolicy: volume.spec.reclaimPolicy,
    namespaceTerminating: await namespaceTerminating(ctx, namespace),
    cleanupConfirmed: cluster?.spec.cleanupPolicy?.confirmation === DESTROY_DATA_CONFIRMATION,
    directories: (await ctx.volumes.list(namespace)).filter((other) => other.spec.directoryOf === volume.metadata.name).map((other) => other.metadata.name),
    ...(record ? { gluster: record.gluster, placedBricks: bricksInSetOrder(record).map((brick) => brickGlusterName(ctx.topology.db, brick)) } : {}),
  };
  if (record && !cluster) {
    if (volume.spec.reclaimPolicy === 'Retain') {
      ctx.topology.commit((db) => removeVolume(db, record.name));
      await ctx.topology.flush();
      return keep(ctx, volume, 'VolumeRetained', `reclaimPolicy Retain: Gluster volume ${record.gluster} and its bricks are kept (its owner mark could not be released: the GlusterCluster is gone)`, false);
    }
    return failDeletion(ctx, volume, 'ClusterNotFound', `cannot delete Gluster volume ${record.gluster}: GlusterCluster ${record.cluster} is gone`, REQUEUE.unreachable);
  }
  let access;
  try {
    access = record && cluster ? await ctx.access.forCluster(cluster) : undefined;
  } catch (error) {
    // In a namespace being deleted, the operator's own grants there (Role, RoleBinding) go with the rest:
    // a 403 then means the same as a missing Secret. Elsewhere only a configuration problem is decided on.
    if (!(error instanceof AccessConfigError) && !world.namespaceTerminating) throw error;
    world.unreachable = errorMessage(error);
  }
  // Commands run on a node that holds a brick of the volume: it knows the volume as long as anyone does.
  const worker = record ? topologyNodeTarget(brickNode(ctx.topology.db, record.bricks[0]!)) : undefined;

  for (let steps = 0; steps < 16; steps++) {
    const step = decideDeletion(world);
    ctx.logger.debug('volume deletion step', { volume: dbName, step: step.kind });
    switch (step.kind) {
      case 'observeLive':
        try {
          world.live = await observeLive(access!, worker!, world.gluster!);
        } catch (error) {
          // Glusterd pods deleted with their namespace (InCluster) answer nothing: decided as unreachable there;
          // elsewhere a failure is retried as any other.
          if (!world.namespaceTerminating) throw error;
          world.unreachable = errorMessage(error);
        }
        break;
      case 'observePersistentVolumes':
        world.persistentVolumes = await persistentVolumesOf(ctx, namespace, volume.metadata.name);
        break;
      case 'observeClients':
        world.clients = userClients(await access!.executor.run(worker!, volumeClientList(world.gluster!)));
        break;
      case 'wait':
        await writeStatus(ctx, volume, { state: 'progressing', reason: step.reason, message: step.message }, world.clients !== undefined ? { clients: world.clients } : {});
        await ctx.events.warning(volume, step.reason, step.message);
        return { requeueAfterMs: step.requeueAfterMs };
      case 'keep':
        if (step.unmark) await access!.executor.run(worker!, volumeSet(world.gluster!, OWNER_OPTION, RELEASED_MARK));
        // The placement goes in every case: a kept volume is no longer managed (like any Gluster volume no
        // GlusterVolume names, the operator leaves it alone: no evacuation moves its bricks, no rebuild
        // records it) until a GlusterVolume adopts it; one that was never this object's was never ours.
        if (record) {
          ctx.topology.commit((db) => removeVolume(db, record.name));
          await ctx.topology.flush();
        }
        return keep(ctx, volume, step.reason, step.message, step.warning);
      case 'deleteVolume': {
        const live = world.live!;
        if (live.kind === 'present' && live.info.status === 'Started') await access!.executor.run(worker!, volumeStop(world.gluster!, { force: true }));
        await access!.executor.run(worker!, volumeDelete(world.gluster!));
        await ctx.events.normal(volume, 'VolumeDeleted', `Gluster volume ${world.gluster} deleted`);
        world.volumeDeleted = true;
        break;
      }
      case 'removeBricks': {
        const db = ctx.topology.db;
        // Remains of bricks replaced by a node evacuation that had not been removed yet go too.
        for (const brick of [...record!.bricks, ...(record!.retiredBricks ?? [])]) {
          const name = brickGlusterName(db, brick);
          try {
            await removeBrickOfDeletedVolume(ctx, volume, access!, topologyNodeTarget(brickNode(db, brick)), brickRecordOf(db, record!, brick), name);
          } catch (error) {
            if (!(error instanceof NodeCommandError)) throw error;
            // Said on the object: the volume is gone from Gluster but not yet from its disks, and why.
            return failDeletion(ctx, volume, 'BrickRemovalFailed', brickRemovalMessage(world.gluster ?? record!.gluster, name, error), REQUEUE.unreachable);
          }
        }
        ctx.topology.commit((current) => removeVolume(current, record!.name));
        await ctx.topology.flush();
        await removeFinalizer(ctx.volumes, volume);
        return;
      }
    }
  }
  throw new Error(`volume ${dbName}: no deletion decision after 16 steps`);
}

/** Time for a stopped glusterfsd to close its bricks and exit before the brick is removed again. */
const ORPHAN_EXIT_MS = 2_000;

/**
 * Removes a brick of a Gluster volume already deleted. A "target is busy" umount is tried once more after
 * stopping the glusterfsd processes that hold the brick and serve no brick glusterd knows of
 * (orphan-brick-processes.ts); anything else is thrown to the caller, which reports it.
 */
async function removeBrickOfDeletedVolume(ctx: ReconcileContext, volume: GlusterVolume, access: ClusterAccess, node: NodeTarget, record: BrickRecord, name: string): Promise<void> {
  try {
    await access.backend.deleteBrick(node, record);
    return;
  } catch (error) {
    if (!(error instanceof NodeCommandError) || !isBusyMount(error)) throw error;
    const stopped = await stopOrphanedBrickProcesses(access, node, record);
    if (stopped.length === 0) throw error;
    await ctx.events.warning(
      volume,
      'OrphanedBrickProcessStopped',
      `brick ${name}: glusterfsd ${stopped.join(', ')} on ${node.name} held it open and served no brick glusterd lists (a multiplexed brick process left behind); stopped`,
    );
  }
  await new Promise((resolve) => setTimeout(resolve, ORPHAN_EXIT_MS));
  await access.backend.deleteBrick(node, record);
}

/** umount refused because a process still has files open on the mount. */
function isBusyMount(error: NodeCommandError): boolean {
  return /target is busy/i.test(error.message);
}

/**
 * A brick that could not be removed after its Gluster volume was deleted. A "target is busy" that is left
 * after removeBrickOfDeletedVolume stopped any orphaned glusterfsd is some other process's: the operator
 * stops no process that glusterd lists for a brick, nor any that is not a glusterfsd.
 */
export function brickRemovalMessage(gluster: string, brick: string, error: NodeCommandError): string {
  const busy = isBusyMount(error)
    ? ' (a process other than an orphaned glusterfsd, which the operator stops itself, still has it open: `fuser -vm` on the brick\'s mount names it)'
    : '';
  return `Gluster volume ${gluster} is deleted, but removing its brick ${brick} failed${busy}: ${error.message}; retried every 30 s`;
}

async function keep(ctx: ReconcileContext, volume: GlusterVolume, reason: string, message: string, warning: boolean): Promise<ReconcileResult> {
  await (warning ? ctx.events.warning(volume, reason, message) : ctx.events.normal(volume, reason, message));
  await removeFinalizer(ctx.volumes, volume);
  return;
}

async function failDeletion(ctx: ReconcileContext, volume: GlusterVolume, reason: string, message: string, requeueAfterMs: number): Promise<ReconcileResult> {
  await writeStatus(ctx, volume, { state: 'failed', reason, message });
  await ctx.events.warning(volume, reason, message);
  return { requeueAfterMs };
}


/** PVs of our CSI driver whose volumeHandle names this GlusterVolume (the provisioner's, or made by hand). */
export async function persistentVolumesOf(ctx: ReconcileContext, namespace: string, name: string): Promise<PersistentVolumeUse[]> {
  // The watch's copy when synced: deleting 1,000 directories made 1,000 LISTs of every PV, and each took
  // longer the more there were. It is no weaker a guard than the LIST, which is as old as it is when acted on.
  const cached = ctx.cachedPersistentVolumes?.() as readonly k8s.V1PersistentVolume[] | undefined;
  const items = cached ?? (await ctx.kubeConfig.makeApiClient(k8s.CoreV1Api).listPersistentVolume()).items;
  return items
    .filter((pv) => {
      if (pv.spec?.csi?.driver !== DRIVER_NAME) return false;
      const handle = parseVolumeHandle(pv.spec.csi.volumeHandle);
      return handle?.namespace === namespace && handle.name === name;
    })
    .map((pv) => ({
      name: pv.metadata?.name ?? '',
      phase: pv.status?.phase,
      ...(pv.spec?.claimRef?.name ? { claim: `${pv.spec.claimRef.namespace ?? ''}/${pv.spec.claimRef.name}` } : {}),
      ...(pv.spec?.persistentVolumeReclaimPolicy ? { reclaimPolicy: pv.spec.persistentVolumeReclaimPolicy } : {}),
    }));
}
