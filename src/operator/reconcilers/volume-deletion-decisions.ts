import { REQUEUE } from '../context.ts';
import type { LiveVolume } from './volume-decisions.ts';
import { ownershipOf } from './volume-ownership.ts';

/**
 * What deleting a GlusterVolume may do, decided from what was observed (pure; volume-deletion.ts acts).
 * Data goes only when all of these hold, and each has a unit test that fails without it:
 *   - no GlusterVolume is a directory of it (spec.directoryOf), whatever the reclaim policy;
 *   - reclaimPolicy is Delete (the default is Retain);
 *   - the Gluster volume is provably this object's (owner mark, or exactly the bricks placed for it);
 *   - no PersistentVolume is bound to it (a Released PV is not: that is the provisioner deleting it);
 *   - no client mounts it (FUSE or gfapi connections, `volume status … client-list`);
 *   - it has no Gluster snapshots (VolumeSnapshots of its PVs: their data would go with it, and glusterd
 *     refuses the delete only after the stop has cut every client off);
 *   - its namespace is not being deleted, unless the GlusterCluster's cleanupPolicy confirms it or the
 *     provisioner started the deletion for a released PV (then the PV's own reclaim policy was the consent).
 * Anything else keeps the Gluster volume and its bricks: deletion waits (in use) or the object goes and
 * the data stays (Retain, not ours, namespace deletion without confirmation).
 */

/** A PersistentVolume whose volumeHandle names this GlusterVolume. */
export interface PersistentVolumeUse {
  name: string;
  phase: string | undefined;
  claim?: string;
  reclaimPolicy?: string;
}

export interface DeletionWorld {
  me: string;
  reclaimPolicy: 'Delete' | 'Retain';
  /** The object's placement; undefined when nothing was ever placed for it. */
  placedBricks?: readonly string[];
  gluster?: string;
  namespaceTerminating: boolean;
  cleanupConfirmed: boolean;
  persistentVolumes?: readonly PersistentVolumeUse[];
  live?: LiveVolume;
  /** FUSE and gfapi clients; undefined until asked. */
  clients?: number;
  /** GlusterVolumes that are directories of this one (spec.directoryOf): their files live in its Gluster volume. */
  directories?: readonly string[];
  /** The Gluster volume is gone (it was absent, or this pass deleted it). */
  volumeDeleted?: boolean;
  /**
   * Why Gluster cannot be reached, when it cannot (the cluster's SSH Secret or glusterd pods are gone, as
   * when the whole namespace is being deleted); undefined when it can, or has not been tried.
   */
  unreachable?: string;
}

export type DeletionStep =
  | { kind: 'observeLive' }
  | { kind: 'observePersistentVolumes' }
  | { kind: 'observeClients' }
  /** Deletion waits: something still uses the data. */
  | { kind: 'wait'; reason: string; message: string; requeueAfterMs: number }
  /**
   * The object goes, the Gluster volume and bricks stay, unmanaged (its placement leaves the database) until
   * a GlusterVolume adopts it; `unmark` releases the owner mark first.
   */
  | { kind: 'keep'; reason: string; message: string; warning: boolean; unmark: boolean }
  | { kind: 'deleteVolume' }
  /** Bricks, then the placement, then the finalizer: the last step. */
  | { kind: 'removeBricks' };

/** A PV holds its volume while it is bound or being bound to a claim; Released and Failed ones do not. */
export function holdsVolume(pv: PersistentVolumeUse): boolean {
  if (pv.phase === 'Released' || pv.phase === 'Failed') return false;
  return pv.phase === 'Bound' || pv.claim !== undefined;
}

export function decideDeletion(world: DeletionWorld): DeletionStep {
  if (world.directories !== undefined && world.directories.length > 0) {
    // Whatever the reclaim policy: Delete would take their files, Retain would leave them unmanaged.
    const names = world.directories.slice(0, 5).join(', ') + (world.directories.length > 5 ? ` and ${world.directories.length - 5} more` : '');
    return {
      kind: 'wait',
      reason: 'VolumeInUse',
      message: `deletion waits: GlusterVolume ${names} ${world.directories.length === 1 ? 'is a directory' : 'are directories'} of this volume (spec.directoryOf); delete ${world.directories.length === 1 ? 'it' : 'them'} first`,
      requeueAfterMs: REQUEUE.waiting,
    };
  }
  if (world.placedBricks === undefined || world.gluster === undefined) {
    return { kind: 'keep', reason: 'NothingPlaced', message: 'no Gluster volume was placed for this object; nothing to delete', warning: false, unmark: false };
  }
  const gluster = world.gluster;
  if (world.unreachable !== undefined) {
    // Nothing about the volume can be proven without Gluster: never destroy. In a namespace being deleted
    // (its Secret and pods go first) the object goes and the data stays, or the namespace would never go.
    if (world.namespaceTerminating) {
      return {
        kind: 'keep',
        reason: 'NamespaceDeletionRetained',
        message:
          `the namespace is being deleted and Gluster cannot be reached (${world.unreachable}): Gluster volume ${gluster} and its bricks are kept, ` +
          `still marked as owned by ${world.me}; to take it over later, release the mark on a Gluster node: gluster volume set ${gluster} user.gluster-operator.owner released`,
        warning: true,
        unmark: false,
      };
    }
    return { kind: 'wait', reason: 'AccessNotConfigured', message: `deletion waits: ${world.unreachable}`, requeueAfterMs: REQUEUE.waiting };
  }
  if (world.live === undefined) return { kind: 'observeLive' };
  const live = world.live;
  const ownership = live.kind === 'present' ? ownershipOf(live.info, world.me, world.placedBricks) : undefined;
  if (ownership?.kind === 'other' || ownership?.kind === 'unowned') {
    const whose = ownership.kind === 'other' ? `it belongs to GlusterVolume ${ownership.owner}` : 'it is not the volume placed for this object (other bricks, no owner mark)';
    return { kind: 'keep', reason: 'VolumeNotOurs', message: `Gluster volume ${gluster} left untouched: ${whose}`, warning: true, unmark: false };
  }
  // Only a mark of ours is released; an unmarked volume of ours has nothing to release.
  const ours = ownership?.kind === 'ours';
  if (world.reclaimPolicy === 'Retain') {
    return { kind: 'keep', reason: 'VolumeRetained', message: `reclaimPolicy Retain: Gluster volume ${gluster} and its bricks are kept, no longer managed; take it over again with glusterVolumeName: ${gluster} and adoptExisting: true`, warning: false, unmark: ours };
  }
  if (world.persistentVolumes === undefined) return { kind: 'observePersistentVolumes' };
  const holding = world.persistentVolumes.filter(holdsVolume);
  if (holding.length > 0) {
    const names = holding.map((pv) => `${pv.name}${pv.claim ? ` (claim ${pv.claim})` : ''}`).join(', ');
    return { kind: 'wait', reason: 'VolumeInUse', message: `deletion waits: PersistentVolume ${names} is bound to Gluster volume ${gluster}; delete the claim first`, requeueAfterMs: REQUEUE.waiting };
  }
  const releasedByProvisioner = world.persistentVolumes.some((pv) => pv.phase === 'Released' && pv.reclaimPolicy === 'Delete');
  if (world.namespaceTerminating && !world.cleanupConfirmed && !releasedByProvisioner) {
    return {
      kind: 'keep',
      reason: 'NamespaceDeletionRetained',
      message: `the namespace is being deleted: Gluster volume ${gluster} and its bricks are kept (set the GlusterCluster's spec.cleanupPolicy.confirmation to destroy data with the namespace)`,
      warning: true,
      unmark: ours,
    };
  }
  if (live.kind === 'present' && !world.volumeDeleted) {
    if (live.info.snapshotCount > 0) {
      return {
        kind: 'wait',
        reason: 'VolumeHasSnapshots',
        message: `deletion waits: Gluster volume ${gluster} has ${live.info.snapshotCount} snapshot(s); delete its VolumeSnapshots (or gluster snapshot delete) first`,
        requeueAfterMs: REQUEUE.waiting,
      };
    }
    if (live.info.status === 'Started') {
      if (world.clients === undefined) return { kind: 'observeClients' };
      if (world.clients > 0) {
        return { kind: 'wait', reason: 'VolumeInUse', message: `deletion waits: ${world.clients} client(s) still mount Gluster volume ${gluster}; unmount it first`, requeueAfterMs: REQUEUE.waiting };
      }
    }
    return { kind: 'deleteVolume' };
  }
  return { kind: 'removeBricks' };
}
