import { DESTROY_DATA_CONFIRMATION, isDirectoryVolume, type GlusterCluster, type GlusterVolume } from '../../api/index.ts';
import { givenUpReason, isConditionTrue } from '../../controller/conditions.ts';
import { ensureMarkedDirectory, removeMarkedDirectory } from '../../gluster/commands/fs.ts';
import { volumeQuotaEnable, volumeQuotaLimitUsage, volumeSetOptions } from '../../gluster/commands/gluster.ts';
import { NodeCommandError } from '../../gluster/errors.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import { errorMessage } from '../../runtime/error-message.ts';
import type { ReconcileResult } from '../../runtime/work-queue.ts';
import { formatBytes } from '../../topology/sizing.ts';
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
  type ParentVolume,
} from './directory-decisions.ts';
import { observeLive } from './volume-actions.ts';
import { persistentVolumesOf } from './volume-deletion.ts';
import { requestedBytes, stopPass, writeStatus } from './volume.ts';

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
        const gluster = world.parent!.glusterVolumeName!;
        const live = await observeLive(observed.access!, observed.worker!, gluster);
        if (live.kind !== 'present') {
          const message = `Gluster volume ${gluster} of GlusterVolume ${world.parent!.name} is not in Gluster`;
          await writeStatus(ctx, volume, { state: 'progressing', reason: 'ParentNotReady', message });
          return { requeueAfterMs: REQUEUE.waiting };
        }
        world.quotaEnabled = quotaSettingsApplied(live.info.options);
        if (world.quotaEnabled) quotaKnownOn.add(quotaKey(volume, gluster));
        break;
      }
      case 'enableQuota': {
        const gluster = world.parent!.glusterVolumeName!;
        // Directories of one volume are reconciled side by side: another may have turned it on a moment ago.
        const turnedOn = await observed.access!.executor.run(observed.worker!, volumeQuotaEnable(gluster)).then(
          () => true,
          (error: unknown) => {
            if (error instanceof NodeCommandError && /quota is already enabled/i.test(error.message)) return false;
            throw error;
          },
        );
        await observed.access!.executor.run(observed.worker!, volumeSetOptions(gluster, QUOTA_SETTINGS));
        if (turnedOn) await ctx.events.normal(volume, 'QuotaEnabled', `directory quota turned on for Gluster volume ${gluster} (features.quota, ${QUOTA_SETTINGS.map(([key, value]) => `${key} ${value}`).join(', ')})`);
        quotaKnownOn.add(quotaKey(volume, gluster));
        world.quotaEnabled = true;
        break;
      }
      case 'ensureDirectory': {
        const outcome = await observed.access!.executor.run(
          observed.worker!,
          ensureMarkedDirectory({ volume: world.parent!.glusterVolumeName!, mountPoint: observed.mountPoint, directory: volume.metadata.name, attribute: DIRECTORY_OWNER_XATTR, mark: world.me, gid: volume.spec.gid ?? 0 }),
        );
        world.directory = outcome.kind === 'made' ? { made: true } : { made: false, mark: outcome.kind === 'found' ? outcome.mark : undefined };
        break;
      }
      case 'setLimit':
        await observed.access!.executor.run(observed.worker!, volumeQuotaLimitUsage(world.parent!.glusterVolumeName!, world.path, step.bytes));
        if (world.madeBefore) await ctx.events.normal(volume, 'DirectoryResized', `quota limit of ${world.path} set to ${formatBytes(step.bytes)}`);
        world.limitBytes = step.bytes;
        break;
      case 'ready':
        return report(ctx, volume, world, observed.parentObject!);
    }
  }
  throw new Error(`directory ${volume.metadata.namespace}/${volume.metadata.name}: no decision after 16 steps`);
}

/**
 * Gluster volumes (per cluster namespace) whose quota this process has seen on: later directories of them skip
 * the `volume info` that would tell. Lost on restart, which only costs one read again.
 */
const quotaKnownOn = new Set<string>();

/**
 * Gluster's quota accounting lags writes: a brick revalidates a directory's size every soft-timeout seconds
 * while it is under the soft limit (Gluster's default 60), every hard-timeout seconds above it (default 5). With
 * the default a claim could write past its size for a minute (measured on the test bed: 20 MiB into a 10 MiB
 * directory); 5 s keeps the overshoot to what a client writes in 5 s, for one size lookup per 5 s of writing.
 */
const QUOTA_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ['features.soft-timeout', '5'],
  ['features.hard-timeout', '5'],
];

function quotaSettingsApplied(options: Readonly<Record<string, string>>): boolean {
  return options['features.quota'] === 'on' && QUOTA_SETTINGS.every(([key, value]) => options[key] === value);
}

function quotaKey(volume: GlusterVolume, gluster: string): string {
  return `${volume.metadata.namespace}/${volume.spec.cluster}/${gluster}`;
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
  const recordedLimit = world.madeBefore ? requestedBytes(volume.status?.capacity ?? '') : undefined;
  if (typeof recordedLimit === 'number') world.limitBytes = recordedLimit;
  if (parentObject?.status?.glusterVolumeName !== undefined && quotaKnownOn.has(quotaKey(volume, parentObject.status.glusterVolumeName))) world.quotaEnabled = true;
  const session = await reach(ctx, namespace, volume.spec.cluster, await ctx.clusters.get(namespace, volume.spec.cluster), name);
  return { world: { ...world, ...session.problems }, ...session.session, ...(parentObject ? { parentObject } : {}) };
}

/** The cluster's access and one Ready node, spread by the object's name so directories of one volume use several nodes. */
async function reach(ctx: ReconcileContext, namespace: string, clusterName: string, cluster: GlusterCluster | undefined, name: string): Promise<{ session: NodeSession; problems: { unreachable?: string; noWorker?: boolean } }> {
  const session: NodeSession = { mountPoint: mountPointOf(namespace, name) };
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
  const failure = givenUpReason(status.conditions);
  return {
    name: parent.metadata.name,
    cluster: parent.spec.cluster,
    deleting: parent.metadata.deletionTimestamp !== undefined,
    isDirectory: isDirectoryVolume(parent),
    ready: isConditionTrue(status.conditions, 'Ready'),
    ...(failure !== undefined ? { failure } : {}),
    ...(status.glusterVolumeName !== undefined ? { glusterVolumeName: status.glusterVolumeName } : {}),
    ...(status.mountSource !== undefined ? { mountSource: status.mountSource } : {}),
  };
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
    const reached = await reach(ctx, namespace, volume.spec.cluster, cluster, name);
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
      case 'removeDirectory': {
        const outcome = await session.access!.executor.run(
          session.worker!,
          removeMarkedDirectory({ volume: world.parent!.glusterVolumeName!, mountPoint: session.mountPoint, directory: name, attribute: DIRECTORY_OWNER_XATTR, mark: world.me }),
        );
        world.removed = outcome.kind === 'removed' || outcome.kind === 'absent' ? { gone: true } : { gone: false, mark: outcome.kind === 'found' ? outcome.mark : undefined };
        break;
      }
      case 'done':
        await ctx.events.normal(volume, 'DirectoryDeleted', `directory ${path} of Gluster volume ${world.parent?.glusterVolumeName ?? ''} and its files deleted`);
        await removeFinalizer(ctx.volumes, volume);
        return;
    }
  }
  throw new Error(`directory ${namespace}/${name}: no deletion decision after 8 steps`);
}
