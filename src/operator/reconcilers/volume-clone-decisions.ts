import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import type { TopologyDurability } from '../../topology/model.ts';
import { cloneBrickLvName } from '../../topology/rebuild/volume.ts';
import { REQUEUE } from '../context.ts';
import { adoptionMismatch, ownershipOf } from './volume-ownership.ts';

/**
 * Volumes that start as a copy (spec.dataSource), decided from what was observed, with no I/O
 * (volume-clone.ts acts). A copy is `gluster snapshot clone` of an activated snapshot: of the snapshot the
 * spec names, or of one the operator takes of the source GlusterVolume (`<new volume>-source`, deleted once the
 * copy is recorded). Rules that protect data:
 *   - a clone carries its origin's options, the owner mark among them: it is taken as this object's only when
 *     its bricks are clone bricks of that very volume and its mark is this object's, the origin's or none;
 *   - nothing is ever cloned over an existing volume, and the source is never changed (only snapshotted);
 *   - a copy keeps its origin's layout, so a spec asking for another durability is refused before cloning.
 */

/** What the spec asks to copy, with what the reconciler knows of a GlusterVolume source. */
export type CopySource =
  | { kind: 'snapshot'; snapshot: string }
  | {
      kind: 'volume';
      volume: string;
      /** Why the source cannot be copied now (missing, another cluster, not Ready), or undefined. */
      unavailable?: string;
      /** Its owner mark (namespace/name), which its clones carry until marked. */
      mark: string;
      /** Its Gluster volume, when it can be copied. */
      gluster?: string;
    };

/** The snapshot a copy is made from, as Gluster and the topology database show it. */
export type SourceSnapshot =
  | { kind: 'missing' }
  | {
      kind: 'present';
      originVolume: string;
      activated: boolean;
      /** The origin's placement in the database (its owner mark and layout), when it is a volume the operator manages. */
      origin?: { mark: string; durability: TopologyDurability };
    };

export type CloneStep =
  | { kind: 'fail'; reason: string; message: string; requeueAfterMs: number }
  | { kind: 'wait'; reason: string; message: string; requeueAfterMs: number }
  | { kind: 'observeSource' }
  /** The operator's own snapshot of a GlusterVolume source. */
  | { kind: 'takeSourceSnapshot' }
  | { kind: 'activateSnapshot' }
  | { kind: 'clone' }
  /** The owner mark on the clone, then its placement in the database from Gluster and LVM. */
  | { kind: 'recordClone' }
  /** The operator's own snapshot of a GlusterVolume source, once the copy is recorded. */
  | { kind: 'dropSourceSnapshot' };

export interface CloneWorld {
  me: string;
  gluster: string;
  durability: TopologyDurability;
  /** Storage addresses of the cluster's GlusterNodes: a copy's bricks are on them. */
  clusterAddresses: ReadonlySet<string>;
  source: CopySource;
  sourceSnapshot?: SourceSnapshot;
}

/** The snapshot the operator takes of a GlusterVolume source for the copy named `gluster`. */
export function sourceSnapshotName(gluster: string): string {
  return `${gluster}-source`;
}

/** The snapshot a copy is cloned from: the spec's, or the operator's own of the source volume. */
export function cloneSnapshotName(world: Pick<CloneWorld, 'gluster' | 'source'>): string {
  return world.source.kind === 'snapshot' ? world.source.snapshot : sourceSnapshotName(world.gluster);
}

const fail = (reason: string, message: string, requeueAfterMs: number = REQUEUE.waiting): CloneStep => ({ kind: 'fail', reason, message, requeueAfterMs });

/** Every brick is a clone brick of this very volume (its id in the path): what `snapshot clone` made it. */
export function isCloneOf(info: GlusterVolumeInfo): boolean {
  const id = info.id.replace(/-/g, '');
  return info.bricks.length > 0 && info.bricks.every((brick) => cloneBrickLvName(brick.path)?.startsWith(`${id}_`) === true);
}

/** No placement yet and the spec asks for a copy: the next step towards it, from a Gluster volume that may not exist yet. */
export function decideCopy(world: CloneWorld, live: { kind: 'missing' } | { kind: 'present'; info: GlusterVolumeInfo }): CloneStep {
  const { source, sourceSnapshot } = world;
  const snapshot = cloneSnapshotName(world);
  if (live.kind === 'present') return decideMadeCopy(world, live.info);
  if (source.kind === 'volume' && source.unavailable !== undefined) return { kind: 'wait', reason: 'WaitingForDataSource', message: source.unavailable, requeueAfterMs: REQUEUE.waiting };
  if (sourceSnapshot === undefined) return { kind: 'observeSource' };
  if (sourceSnapshot.kind === 'missing') {
    if (source.kind === 'volume') return { kind: 'takeSourceSnapshot' };
    return fail('SnapshotNotFound', `dataSource.snapshot: Gluster snapshot ${snapshot} does not exist; nothing was created`);
  }
  if (source.kind === 'volume' && sourceSnapshot.originVolume === world.gluster) {
    return fail('DataSourceInvalid', `dataSource.volume: snapshot ${snapshot} is of ${sourceSnapshot.originVolume}, this volume itself`, REQUEUE.unreachable);
  }
  if (!sourceSnapshot.origin) {
    return fail(
      'DataSourceNotManaged',
      `dataSource: snapshot ${snapshot} is of Gluster volume ${sourceSnapshot.originVolume}, which no GlusterVolume of this cluster manages; restore it by hand (gluster snapshot clone) and adopt the result`,
      REQUEUE.unreachable,
    );
  }
  if (JSON.stringify(sourceSnapshot.origin.durability) !== JSON.stringify(world.durability)) {
    return fail(
      'DataSourceMismatch',
      `spec.durability asks for ${JSON.stringify(world.durability)}, but a copy keeps the layout of ${sourceSnapshot.originVolume} (${JSON.stringify(sourceSnapshot.origin.durability)}); nothing was created`,
      REQUEUE.unreachable,
    );
  }
  if (!sourceSnapshot.activated) return { kind: 'activateSnapshot' };
  return { kind: 'clone' };
}

/**
 * The Gluster volume exists and nothing is recorded: a clone this object made (a pass that ended before it was
 * recorded) is recorded; anything else is left to the ordinary rules, which refuse it.
 */
function decideMadeCopy(world: CloneWorld, info: GlusterVolumeInfo): CloneStep {
  if (!isCloneOf(info)) {
    return fail('VolumeExists', `glusterVolumeName: Gluster volume ${world.gluster} already exists and is not a copy this object made; nothing was changed`, REQUEUE.unreachable);
  }
  const ownership = ownershipOf(info, world.me, undefined);
  if (ownership.kind === 'ours') return { kind: 'recordClone' };
  const originMark = world.source.kind === 'volume' ? world.source.mark : world.sourceSnapshot?.kind === 'present' ? world.sourceSnapshot.origin?.mark : undefined;
  if (ownership.kind === 'other' && originMark === undefined) {
    // The origin's mark is learnt from the snapshot; a snapshot source that vanished meanwhile leaves no proof.
    if (world.sourceSnapshot === undefined) return { kind: 'observeSource' };
    return fail('OwnedByAnother', `Gluster volume ${world.gluster} is marked as GlusterVolume ${ownership.owner}'s, and its snapshot is gone: nothing proves it is this object's copy; it is left alone`, REQUEUE.unreachable);
  }
  if (ownership.kind === 'other' && ownership.owner !== originMark) {
    return fail('OwnedByAnother', `Gluster volume ${world.gluster} belongs to GlusterVolume ${ownership.owner}; it is left alone`, REQUEUE.unreachable);
  }
  const mismatch = adoptionMismatch(info, world.durability, world.clusterAddresses);
  if (mismatch) return fail('DataSourceMismatch', `${mismatch}; nothing was changed`, REQUEUE.unreachable);
  return { kind: 'recordClone' };
}

/** Placed: the operator's own snapshot of a volume source goes once the copy is recorded (observed until the copy has been Ready once). */
export function decideCopyCleanup(world: Pick<CloneWorld, 'source' | 'sourceSnapshot'>, copyReported: boolean): CloneStep | undefined {
  if (world.source.kind !== 'volume' || copyReported) return undefined;
  if (world.sourceSnapshot === undefined) return { kind: 'observeSource' };
  return world.sourceSnapshot.kind === 'present' ? { kind: 'dropSourceSnapshot' } : undefined;
}
