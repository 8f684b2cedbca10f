import { REQUEUE } from '../context.ts';
import { holdsVolume, type PersistentVolumeUse } from './volume-deletion-decisions.ts';

/**
 * A GlusterVolume with spec.directoryOf: the directory `/<name>` of its parent's Gluster volume, limited by
 * Gluster's directory quota. What to do next, decided from what was observed (pure; directory.ts acts).
 *
 * The directory carries an owner mark (extended attribute user.gluster-operator.owner = `<namespace>/<name>@<uid>`),
 * written when it is made. A directory that exists without this object's mark is never written, limited or
 * removed: it is someone else's (another object of the same name before, a directory made by hand).
 */

export const DIRECTORY_OWNER_XATTR = 'user.gluster-operator.owner';

export function directoryOwnerMark(namespace: string, name: string, uid: string): string {
  return `${namespace}/${name}@${uid}`;
}

/** What the make-or-read step found: a directory it made now, or one that was there, with its owner mark. */
export type ObservedDirectory = { made: true } | { made: false; mark: string | undefined };

/** What the remove step found: nothing left (removed now, or never there), or a directory it would not remove. */
export type RemovedDirectory = { gone: true } | { gone: false; mark: string | undefined };

/** The parent GlusterVolume as read. */
export interface ParentVolume {
  name: string;
  cluster: string;
  deleting: boolean;
  /** Itself a directory: directories do not nest. */
  isDirectory: boolean;
  ready: boolean;
  /** Its own word on why it is not Ready, when it has given up (Ready False and Degraded True). */
  failure?: string;
  glusterVolumeName?: string;
  mountSource?: string;
}

export interface DirectoryWorld {
  me: string;
  /** `/<name>`: where the directory is in the parent's Gluster volume. */
  path: string;
  cluster: string;
  requested: number | { error: string };
  /** undefined: no GlusterVolume of that name. */
  parent: ParentVolume | undefined;
  /** Why the parent's cluster cannot be reached (its Secret, its glusterd pods), when it cannot. */
  unreachable?: string;
  /** No Ready GlusterNode to run commands on. */
  noWorker?: boolean;
  /** features.quota of the parent's Gluster volume; undefined until read. */
  quotaEnabled?: boolean;
  /** Set once the directory was made and marked by an earlier pass (status.directory): no mount needed to know it. */
  madeBefore: boolean;
  directory?: ObservedDirectory;
  /**
   * The quota limit known to be set, in bytes: what an earlier pass reported (status.capacity) or this pass set;
   * undefined when not known (a directory made now has none). Gluster is not asked: `quota list` takes glusterd's
   * volume lock, which every claim's limit-usage already queues for.
   */
  limitBytes?: number;
}

export type DirectoryStep =
  | { kind: 'fail'; reason: string; message: string; requeueAfterMs: number }
  | { kind: 'wait'; reason: string; message: string; requeueAfterMs: number }
  | { kind: 'observeQuota' }
  | { kind: 'enableQuota' }
  /** Mount the parent; make and mark the directory when missing; report what is there. */
  | { kind: 'ensureDirectory' }
  | { kind: 'setLimit'; bytes: number }
  | { kind: 'ready' };

/** A directory waiting for its parent checks again after this long even if no change of the parent woke it. */
export const PARENT_WAIT_REQUEUE_MS = 60_000;

/**
 * Keys (namespace/name) of the directories made in `parent`, from the GlusterVolumes' watch cache: a change of
 * a volume wakes the directories waiting for it. A directory is never a parent, so its own changes wake none.
 */
export function directoryKeysOf(volumes: readonly { metadata?: { name?: string; namespace?: string }; spec?: unknown }[], parent: { metadata?: { name?: string; namespace?: string }; spec?: unknown }): string[] {
  const name = parent.metadata?.name;
  if (!name || (parent.spec as { directoryOf?: string } | undefined)?.directoryOf) return [];
  const namespace = parent.metadata?.namespace;
  return volumes
    .filter((volume) => volume.metadata?.namespace === namespace && (volume.spec as { directoryOf?: string } | undefined)?.directoryOf === name)
    .map((volume) => `${namespace}/${volume.metadata!.name}`);
}

export function decideDirectory(world: DirectoryWorld): DirectoryStep {
  const fail = (reason: string, message: string): DirectoryStep => ({ kind: 'fail', reason, message, requeueAfterMs: 60_000 });
  const wait = (reason: string, message: string): DirectoryStep => ({ kind: 'wait', reason, message, requeueAfterMs: REQUEUE.waiting });
  // The parent's own changes wake its directories (directoryKeysOf, watched in operator.ts): no 10 s polling,
  // which with hundreds of claims waiting for a new shared volume filled the queue the shared volume needed.
  const waitForParent = (reason: string, message: string): DirectoryStep => ({ kind: 'wait', reason, message, requeueAfterMs: PARENT_WAIT_REQUEUE_MS });
  if (typeof world.requested !== 'number') return fail('InvalidSize', `spec.size: ${world.requested.error}`);
  const parent = world.parent;
  if (!parent) return waitForParent('ParentNotFound', `spec.directoryOf: GlusterVolume ${directoryParentName(world)} not found in this namespace`);
  if (parent.isDirectory) return fail('InvalidParent', `spec.directoryOf: GlusterVolume ${parent.name} is itself a directory; directories are made in a GlusterVolume that is a Gluster volume`);
  if (parent.cluster !== world.cluster) return fail('InvalidParent', `spec.directoryOf: GlusterVolume ${parent.name} is on GlusterCluster ${parent.cluster}, not ${world.cluster} (spec.cluster)`);
  if (parent.deleting) return fail('ParentDeleting', `GlusterVolume ${parent.name} is being deleted`);
  if (!parent.ready && parent.failure !== undefined) return fail('ParentFailed', `GlusterVolume ${parent.name} failed: ${parent.failure}`);
  if (!parent.ready || parent.glusterVolumeName === undefined || parent.mountSource === undefined) {
    return waitForParent('ParentNotReady', `waiting for GlusterVolume ${parent.name} to be Ready`);
  }
  if (world.unreachable !== undefined) return wait('AccessNotConfigured', world.unreachable);
  if (world.noWorker) return wait('NoReadyNode', `no Ready GlusterNode of cluster ${world.cluster} to run Gluster commands on`);
  if (!world.madeBefore) {
    if (world.quotaEnabled === undefined) return { kind: 'observeQuota' };
    if (!world.quotaEnabled) return { kind: 'enableQuota' };
    if (world.directory === undefined) return { kind: 'ensureDirectory' };
    if (!world.directory.made && world.directory.mark !== world.me) return fail('DirectoryNotOurs', notOursMessage(world, parent.glusterVolumeName, world.directory.mark));
  }
  if (world.limitBytes !== world.requested) return { kind: 'setLimit', bytes: world.requested };
  return { kind: 'ready' };
}

function directoryParentName(world: DirectoryWorld): string {
  return world.parent?.name ?? '(spec.directoryOf)';
}

function notOursMessage(world: DirectoryWorld, gluster: string, mark: string | undefined): string {
  const whose = mark === undefined ? 'it carries no owner mark (made by hand, or by an earlier release)' : `it is marked as ${mark}'s`;
  return `directory ${world.path} of Gluster volume ${gluster} exists and is not this object's: ${whose}. It is left untouched; delete this GlusterVolume, or move the directory away`;
}

export interface DirectoryDeletionWorld {
  me: string;
  path: string;
  reclaimPolicy: 'Delete' | 'Retain';
  namespaceTerminating: boolean;
  cleanupConfirmed: boolean;
  /** Nothing was ever made (status.directory unset): no directory can be ours. */
  madeBefore: boolean;
  parent: ParentVolume | undefined;
  unreachable?: string;
  noWorker?: boolean;
  persistentVolumes?: readonly PersistentVolumeUse[];
  /** What the removal step found and did, when it ran. */
  removed?: RemovedDirectory;
}

export type DirectoryDeletionStep =
  | { kind: 'observePersistentVolumes' }
  | { kind: 'wait'; reason: string; message: string; requeueAfterMs: number }
  /** The object goes, the directory and its files stay. */
  | { kind: 'keep'; reason: string; message: string; warning: boolean }
  /** Mount the parent; remove the directory if it carries this object's mark (its limit goes with it). */
  | { kind: 'removeDirectory' }
  | { kind: 'done' };

/**
 * Files go only when all hold (each has a unit test that fails without it): reclaimPolicy Delete; the directory
 * carries this object's mark; no PersistentVolume is bound to it; its namespace is not being deleted unless the
 * cluster's cleanupPolicy confirms it or the provisioner started the deletion for a released PV.
 */
export function decideDirectoryDeletion(world: DirectoryDeletionWorld): DirectoryDeletionStep {
  if (!world.madeBefore) return { kind: 'keep', reason: 'NothingMade', message: 'no directory was made for this object; nothing to delete', warning: false };
  if (world.reclaimPolicy === 'Retain') {
    return { kind: 'keep', reason: 'DirectoryRetained', message: `reclaimPolicy Retain: directory ${world.path} and its files are kept, with their quota limit`, warning: false };
  }
  if (world.persistentVolumes === undefined) return { kind: 'observePersistentVolumes' };
  const holding = world.persistentVolumes.filter(holdsVolume);
  if (holding.length > 0) {
    const names = holding.map((pv) => `${pv.name}${pv.claim ? ` (claim ${pv.claim})` : ''}`).join(', ');
    return { kind: 'wait', reason: 'VolumeInUse', message: `deletion waits: PersistentVolume ${names} is bound to directory ${world.path}; delete the claim first`, requeueAfterMs: REQUEUE.waiting };
  }
  const releasedByProvisioner = world.persistentVolumes.some((pv) => pv.phase === 'Released' && pv.reclaimPolicy === 'Delete');
  if (world.namespaceTerminating && !world.cleanupConfirmed && !releasedByProvisioner) {
    return {
      kind: 'keep',
      reason: 'NamespaceDeletionRetained',
      message: `the namespace is being deleted: directory ${world.path} and its files are kept (set the GlusterCluster's spec.cleanupPolicy.confirmation to destroy data with the namespace)`,
      warning: true,
    };
  }
  const parent = world.parent;
  if (!parent || parent.glusterVolumeName === undefined || parent.isDirectory) {
    return { kind: 'keep', reason: 'ParentNotFound', message: `GlusterVolume ${parent?.name ?? '(spec.directoryOf)'} is gone: directory ${world.path} cannot be reached and is left as it is`, warning: true };
  }
  if (world.unreachable !== undefined) {
    if (world.namespaceTerminating) return { kind: 'keep', reason: 'NamespaceDeletionRetained', message: `the namespace is being deleted and Gluster cannot be reached (${world.unreachable}): directory ${world.path} is kept`, warning: true };
    return { kind: 'wait', reason: 'AccessNotConfigured', message: `deletion waits: ${world.unreachable}`, requeueAfterMs: REQUEUE.unreachable };
  }
  if (world.noWorker) return { kind: 'wait', reason: 'NoReadyNode', message: 'deletion waits: no Ready GlusterNode to run Gluster commands on', requeueAfterMs: REQUEUE.waiting };
  if (world.removed === undefined) return { kind: 'removeDirectory' };
  if (!world.removed.gone) {
    const whose = world.removed.mark === undefined ? 'it carries no owner mark' : `it is marked as ${world.removed.mark}'s`;
    return { kind: 'keep', reason: 'DirectoryNotOurs', message: `directory ${world.path} of Gluster volume ${parent.glusterVolumeName} left untouched: ${whose}`, warning: true };
  }
  return { kind: 'done' };
}
