import { DESTROY_DATA_CONFIRMATION, isDirectoryVolume, type GlusterVolume } from '../../api/index.ts';
import { isConditionTrue } from '../../controller/conditions.ts';
import type { NodeCommand } from '../../gluster/commands/command.ts';
import { findmnt, glusterFuseMount, installGroupDirectory, mkdirP, readXattr, rmdir, rmRf, statPath, umount, writeXattr } from '../../gluster/commands/fs.ts';
import { volumeQuotaEnable, volumeQuotaLimitUsage, volumeQuotaList } from '../../gluster/commands/gluster.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import { errorMessage } from '../../runtime/error-message.ts';
import type { ReconcileResult } from '../../runtime/work-queue.ts';
import { formatBytes, parseQuantity } from '../../topology/sizing.ts';
import { AccessConfigError, nodeTarget, type ClusterAccess } from '../cluster-access.ts';
import { REQUEUE, type ReconcileContext } from '../context.ts';
import { ensureFinalizer, removeFinalizer } from '../finalizers.ts';
import { namespaceTerminating } from '../namespace-state.ts';
import {
  decideDirectory,
  decideDirectoryDeletion,
  directoryOwnerMark,
  DIRECTORY_OWNER_XATTR,
  type DirectoryDeletionWorld,
  type DirectoryWorld,
  type ObservedDirectory,
  type ParentVolume,
} from './directory-decisions.ts';
import { observeLive } from './volume-actions.ts';
import { persistentVolumesOf } from './volume-deletion.ts';
import { stopPass, writeStatus } from './volume.ts';

/**
 * A GlusterVolume with spec.directoryOf (claims as directories of a shared volume): observe the parent, its
 * cluster and the directory; decide (directory-decisions.ts, pure); act one step; report. The directory is
 * made, marked and removed through a FUSE mount of the parent's Gluster volume on one of the cluster's nodes,
 * mounted for the step and unmounted after it; its size is Gluster's directory quota (limit-usage).
 */
export async function reconcileDirectory(ctx: ReconcileContext, volume: GlusterVolume): Promise<ReconcileResult> {
  if (volume.metadata.deletionTimestamp) return finalizeDirectory(ctx, volume);
  volume = await ensureFinalizer(ctx.volumes, volume);
  const observed = await observe(ctx, volume);
  const { world } = observed;
  for (let steps = 0; steps < 16; steps++) {
    const step = decideDirectory(world);
    ctx.logger.debug('directory step', { volume: `${volume.metadata.namespace}/${volume.metadata.name}`, step: step.kind });
    switch (step.kind) {
      case 'fail':
      case 'wait':
        return stopPass(ctx, volume, step);
      case 'observeQuota': {
        const live = await observeLive(observed.access!, observed.worker!, world.parent!.glusterVolumeName!);
        if (live.kind !== 'present') {
          const message = `Gluster volume ${world.parent!.glusterVolumeName} of GlusterVolume ${world.parent!.name} is not in Gluster`;
          await writeStatus(ctx, volume, { state: 'progressing', reason: 'ParentNotReady', message });
          return { requeueAfterMs: REQUEUE.waiting };
        }
        world.quotaEnabled = live.info.options['features.quota'] === 'on';
        break;
      }
      case 'enableQuota':
        await observed.access!.executor.run(observed.worker!, volumeQuotaEnable(world.parent!.glusterVolumeName!));
        await ctx.events.normal(volume, 'QuotaEnabled', `directory quota turned on for Gluster volume ${world.parent!.glusterVolumeName} (features.quota)`);
        world.quotaEnabled = true;
        break;
      case 'ensureDirectory':
        world.directory = await inMount(observed, world.parent!.glusterVolumeName!, (run, root) => ensureDirectory(run, `${root}${world.path}`, world.me, volume.spec.gid));
        break;
      case 'observeLimit': {
        const quota = await observed.access!.executor.run(observed.worker!, volumeQuotaList(world.parent!.glusterVolumeName!, world.path));
        world.limitBytes = quota?.hardLimitBytes ?? null;
        break;
      }
      case 'setLimit':
        await observed.access!.executor.run(observed.worker!, volumeQuotaLimitUsage(world.parent!.glusterVolumeName!, world.path, step.bytes));
        if (world.limitBytes !== null) await ctx.events.normal(volume, 'DirectoryResized', `quota limit of ${world.path} set to ${formatBytes(step.bytes)}`);
        world.limitBytes = step.bytes;
        break;
      case 'ready':
        return report(ctx, volume, world, observed.parentObject!);
    }
  }
  throw new Error(`directory ${volume.metadata.namespace}/${volume.metadata.name}: no decision after 16 steps`);
}

/** Where commands run for this object: the cluster's access and one Ready node, with the mount point used there. */
interface NodeSession {
  access?: ClusterAccess;
  worker?: NodeTarget;
  /** Where the parent is mounted on the worker for a step: one path per object (a key is never reconciled twice at once). */
  mountPoint: string;
}

interface Observed extends NodeSession {
  world: DirectoryWorld;
  parentObject?: GlusterVolume;
}

const MOUNT_ROOT = '/run/gluster-operator/directories';

function mountPointOf(namespace: string, name: string): string {
  return `${MOUNT_ROOT}/${namespace}.${name}`;
}

async function observe(ctx: ReconcileContext, volume: GlusterVolume): Promise<Observed> {
  const namespace = volume.metadata.namespace ?? 'default';
  const name = volume.metadata.name;
  const path = `/${name}`;
  const parentObject = await ctx.volumes.get(namespace, volume.spec.directoryOf!);
  const world: DirectoryWorld = {
    me: directoryOwnerMark(namespace, name, volume.metadata.uid ?? ''),
    path,
    cluster: volume.spec.cluster,
    requested: requestedBytes(volume.spec.size),
    parent: parentObject ? parentOf(parentObject) : undefined,
    madeBefore: volume.status?.directory === path,
  };
  const session = await reach(ctx, namespace, volume.spec.cluster, name);
  return { world: { ...world, ...session.problems }, ...session.session, ...(parentObject ? { parentObject } : {}) };
}

/** The cluster's access and one Ready node, spread by the object's name so directories of one volume use several nodes. */
async function reach(ctx: ReconcileContext, namespace: string, clusterName: string, name: string): Promise<{ session: NodeSession; problems: { unreachable?: string; noWorker?: boolean } }> {
  const session: NodeSession = { mountPoint: mountPointOf(namespace, name) };
  const cluster = await ctx.clusters.get(namespace, clusterName);
  if (!cluster) return { session, problems: { unreachable: `GlusterCluster ${clusterName} not found` } };
  try {
    session.access = await ctx.access.forCluster(cluster);
  } catch (error) {
    if (!(error instanceof AccessConfigError)) throw error;
    return { session, problems: { unreachable: error.message } };
  }
  const ready = (await ctx.nodes.list(namespace))
    .filter((node) => node.spec.cluster === clusterName && isConditionTrue(node.status?.conditions, 'Ready'))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  if (ready.length === 0) return { session, problems: { noWorker: true } };
  session.worker = nodeTarget(ready[spread(name, ready.length)]!);
  return { session, problems: {} };
}

function spread(name: string, count: number): number {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % count;
}

function parentOf(parent: GlusterVolume): ParentVolume {
  const status = parent.status ?? {};
  return {
    name: parent.metadata.name,
    cluster: parent.spec.cluster,
    deleting: parent.metadata.deletionTimestamp !== undefined,
    isDirectory: isDirectoryVolume(parent),
    ready: isConditionTrue(status.conditions, 'Ready'),
    ...(status.glusterVolumeName !== undefined ? { glusterVolumeName: status.glusterVolumeName } : {}),
    ...(status.mountSource !== undefined ? { mountSource: status.mountSource } : {}),
  };
}

function requestedBytes(size: string): number | { error: string } {
  try {
    return parseQuantity(size);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * Runs `body` with Gluster volume `volume` mounted at the session's mount point on its worker. A mount left by a
 * pass that died half-way is unmounted first; the mount goes at the end whatever `body` did.
 */
async function inMount<T>(session: NodeSession, volume: string, body: (run: <R>(command: NodeCommand<R>) => Promise<R>, root: string) => Promise<T>): Promise<T> {
  const run = <R>(command: NodeCommand<R>): Promise<R> => session.access!.executor.run(session.worker!, command);
  const mountPoint = session.mountPoint;
  if ((await run(findmnt(mountPoint))).length > 0) await run(umount(mountPoint));
  await run(mkdirP(mountPoint));
  await run(glusterFuseMount(volume, mountPoint));
  try {
    return await body(run, mountPoint);
  } finally {
    await run(umount(mountPoint));
    await run(rmdir(mountPoint));
  }
}

/** Makes and marks the directory when missing; reports what is there. An existing directory is only read. */
async function ensureDirectory(run: <R>(command: NodeCommand<R>) => Promise<R>, path: string, me: string, gid: number | undefined): Promise<ObservedDirectory> {
  if ((await run(statPath(path))) !== null) return { exists: true, mark: await run(readXattr(path, DIRECTORY_OWNER_XATTR)) };
  // Made, then marked: a pass that dies between the two leaves an unmarked directory, which the next pass
  // refuses (DirectoryNotOurs) rather than guessing; it holds no files yet, and the message says so.
  await run(installGroupDirectory(path, gid ?? 0));
  await run(writeXattr(path, DIRECTORY_OWNER_XATTR, me));
  return { exists: true, mark: me };
}

/** Ready: the parent's mount source, the directory and its limit, as the provisioner's PV needs them. */
async function report(ctx: ReconcileContext, volume: GlusterVolume, world: DirectoryWorld, parent: GlusterVolume): Promise<ReconcileResult> {
  const status = parent.status ?? {};
  const gluster = world.parent!.glusterVolumeName!;
  // spec.size as written (exact): the provisioner compares it with the claim's request.
  const capacity = volume.spec.size;
  await writeStatus(
    ctx,
    volume,
    { state: 'ready', reason: 'DirectoryReady', message: `directory ${world.path} of Gluster volume ${gluster}, limited to ${capacity}` },
    {
      glusterVolumeName: gluster,
      mountSource: status.mountSource!,
      directory: world.path,
      capacity,
      durability: `directory of ${parent.metadata.name}${status.durability ? ` (${status.durability})` : ''}`,
      backupVolfileServers: status.backupVolfileServers ?? null,
      tls: status.tls ?? null,
    },
  );
  if (!world.madeBefore) await ctx.events.normal(volume, 'DirectoryCreated', `directory ${world.path} of Gluster volume ${gluster} made, limited to ${capacity}`);
  return;
}

/** Deleting a directory GlusterVolume: its files go only as decideDirectoryDeletion allows. */
async function finalizeDirectory(ctx: ReconcileContext, volume: GlusterVolume): Promise<ReconcileResult> {
  const namespace = volume.metadata.namespace ?? 'default';
  const name = volume.metadata.name;
  const path = `/${name}`;
  const parentObject = volume.spec.directoryOf ? await ctx.volumes.get(namespace, volume.spec.directoryOf) : undefined;
  const cluster = await ctx.clusters.get(namespace, volume.spec.cluster);
  const world: DirectoryDeletionWorld = {
    me: directoryOwnerMark(namespace, name, volume.metadata.uid ?? ''),
    path,
    reclaimPolicy: volume.spec.reclaimPolicy,
    namespaceTerminating: await namespaceTerminating(ctx, namespace),
    cleanupConfirmed: cluster?.spec.cleanupPolicy?.confirmation === DESTROY_DATA_CONFIRMATION,
    madeBefore: volume.status?.directory === path,
    parent: parentObject ? parentOf(parentObject) : undefined,
  };
  let session: NodeSession = { mountPoint: mountPointOf(namespace, name) };
  try {
    const reached = await reach(ctx, namespace, volume.spec.cluster, name);
    session = reached.session;
    Object.assign(world, reached.problems);
  } catch (error) {
    // In a namespace being deleted the operator's own grants there may be gone already (403): unreachable.
    if (!world.namespaceTerminating) throw error;
    world.unreachable = errorMessage(error);
  }
  for (let steps = 0; steps < 8; steps++) {
    const step = decideDirectoryDeletion(world);
    switch (step.kind) {
      case 'observePersistentVolumes':
        world.persistentVolumes = await persistentVolumesOf(ctx, namespace, name);
        break;
      case 'wait':
        await writeStatus(ctx, volume, { state: 'progressing', reason: step.reason, message: step.message });
        await ctx.events.warning(volume, step.reason, step.message);
        return { requeueAfterMs: step.requeueAfterMs };
      case 'keep':
        await (step.warning ? ctx.events.warning(volume, step.reason, step.message) : ctx.events.normal(volume, step.reason, step.message));
        await removeFinalizer(ctx.volumes, volume);
        return;
      case 'removeDirectory':
        world.removed = await inMount(session, world.parent!.glusterVolumeName!, (run, root) => removeIfOurs(run, `${root}${path}`, world.me));
        break;
      case 'done':
        await ctx.events.normal(volume, 'DirectoryDeleted', `directory ${path} of Gluster volume ${world.parent?.glusterVolumeName ?? ''} and its files deleted`);
        await removeFinalizer(ctx.volumes, volume);
        return;
    }
  }
  throw new Error(`directory ${namespace}/${name}: no deletion decision after 8 steps`);
}

/** Removes the directory only when it carries this object's mark; its quota limit goes with it. */
async function removeIfOurs(run: <R>(command: NodeCommand<R>) => Promise<R>, path: string, me: string): Promise<ObservedDirectory> {
  if ((await run(statPath(path))) === null) return { exists: false };
  const mark = await run(readXattr(path, DIRECTORY_OWNER_XATTR));
  if (mark !== me) return { exists: true, mark };
  await run(rmRf(path));
  return { exists: false };
}
