import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import type { TopologyDurability } from '../../topology/model.ts';
import { durabilityFromGluster } from '../../topology/rebuild/rebuild.ts';

/**
 * Who a Gluster volume belongs to. The operator marks every volume it creates or adopts with a `user.*`
 * option (Gluster stores those with the volume and replicates them to every peer), so the binding to one
 * GlusterVolume is part of Gluster's own state: it survives the loss of the topology database and its
 * backup, and a second object naming the same volume is refused instead of sharing (and later deleting) it.
 * Pure functions; the reconciler reads the options from `volume info`.
 */
export const OWNER_OPTION = 'user.gluster-operator.owner';

/**
 * The mark of a volume released by reclaimPolicy Retain. glusterd 10.3 cannot `volume reset` a `user.*`
 * option ("Option ... does not exist") nor set it empty, so a release overwrites it with a word no
 * namespace/name can be.
 */
export const RELEASED_MARK = 'released';

/** The mark's value: the GlusterVolume as namespace/name (what `kubectl get -n NS glustervolume NAME` takes). */
export function ownerMark(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

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
  const mark = info.options[OWNER_OPTION];
  if (mark === me) return { kind: 'ours' };
  if (mark !== undefined && mark !== '' && mark !== RELEASED_MARK) return { kind: 'other', owner: mark };
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
