import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import type { TopologyDurability } from '../../topology/model.ts';
import { markedOwner } from '../../gluster/owner-mark.ts';
import { durabilityFromGluster } from '../../topology/rebuild/rebuild.ts';

/** Ownership of a Gluster volume from this object's point of view (the mark itself: src/gluster/owner-mark.ts). Pure. */
export { OWNER_OPTION, RELEASED_MARK, ownerMark } from '../../gluster/owner-mark.ts';

export type Ownership =
  /** Marked as this object's. */
  | { kind: 'ours' }
  /** No mark, and its bricks are exactly the ones the database placed for this object: ours, created by a pass that ended before marking it. */
  | { kind: 'oursUnmarked' }
  /** Marked as another object's. */
  | { kind: 'other'; owner: string }
  /** No mark and not our bricks: someone else's volume (heketi's, a hand-made one, one released by Retain). */
  | { kind: 'unowned' };

export function ownershipOf(info: GlusterVolumeInfo, me: string, placedBricks: readonly string[] | undefined): Ownership {
  const mark = markedOwner(info.options);
  if (mark === me) return { kind: 'ours' };
  if (mark !== undefined) return { kind: 'other', owner: mark };
  // Brick paths carry ids the placement generated for this object, so another volume cannot have the same list.
  if (placedBricks && placedBricks.length > 0 && sameList(info.bricks.map((brick) => brick.name), placedBricks)) return { kind: 'oursUnmarked' };
  return { kind: 'unowned' };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/**
 * Why an existing volume cannot be adopted as the spec describes it, or undefined when it can: the durability
 * Gluster reports must be the one asked for (adoption never converts a volume), and every brick must be on a
 * node of the cluster (the reconciler passes the storage addresses it knows).
 */
export function adoptionMismatch(info: GlusterVolumeInfo, wanted: TopologyDurability, clusterAddresses: ReadonlySet<string>): string | undefined {
  const live = durabilityFromGluster(info);
  if (JSON.stringify(live) !== JSON.stringify(wanted)) {
    return `spec.durability asks for ${describeDurability(wanted)}, Gluster volume ${info.name} is ${describeDurability(live)}`;
  }
  const strangers = info.bricks.filter((brick) => !clusterAddresses.has(brick.host)).map((brick) => brick.name);
  if (strangers.length > 0) return `brick(s) ${strangers.join(', ')} of ${info.name} are on hosts that are not GlusterNodes of this cluster`;
  if (info.status === 'Stopped' && info.bricks.length === 0) return `Gluster volume ${info.name} has no bricks`;
  return undefined;
}

function describeDurability(durability: TopologyDurability): string {
  switch (durability.type) {
    case 'None':
      return 'distribute (no redundancy)';
    case 'Replicate':
      return `replica ${durability.replica}${durability.arbiter ? ' arbiter' : ''}`;
    case 'Disperse':
      return `disperse ${durability.data}+${durability.redundancy}`;
  }
}
