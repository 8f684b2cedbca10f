import { createHash } from 'node:crypto';
import {
  brickFootprint,
  brickNode,
  deviceFree,
  findCluster,
  findNode,
  type RetiredBrick,
  type TopologyBrick,
  type TopologyDatabase,
  type TopologyDevice,
  type TopologyVolume,
} from './model.ts';
import { formatBytes } from './sizing.ts';

/**
 * Evacuating a node: every brick it holds is replaced by a brick on another node (Gluster's
 * `replace-brick … commit force`, self-heal then fills the new brick from the rest of its set). Pure
 * decisions here; the node reconciler does the I/O.
 *
 * The plan is committed to the database before anything runs: the volume then lists the new brick and
 * keeps the old one in `retiredBricks` until its remains are removed. Every later step (create the new
 * brick, replace-brick, wait for heal, remove the old brick) observes Gluster and the node and is skipped
 * when already done, so a crash anywhere is finished by the next reconcile and never places twice.
 */

/** Volumes with a brick, or the remains of a replaced brick, on the node. */
export function volumesOnNode(db: TopologyDatabase, node: string): TopologyVolume[] {
  const onNode = (brick: TopologyBrick) => brickNode(db, brick).name === node;
  return db.volumes.filter((volume) => volume.bricks.some(onNode) || (volume.retiredBricks ?? []).some(onNode));
}

export function bricksOnNode(db: TopologyDatabase, volume: TopologyVolume, node: string): TopologyBrick[] {
  return volume.bricks.filter((brick) => brickNode(db, brick).name === node);
}

export function retiredBricksOnNode(db: TopologyDatabase, volume: TopologyVolume, node: string): RetiredBrick[] {
  return (volume.retiredBricks ?? []).filter((brick) => brickNode(db, brick).name === node);
}

/** Stable per old brick, so a plan recomputed after a crash names the same new brick. */
export function replacementBrickId(old: TopologyBrick): string {
  return createHash('sha256').update(`${old.id}/replacement`).digest('hex').slice(0, 16);
}

export type EvacuationPlan = { ok: true; volume: TopologyVolume; moves: Array<{ from: TopologyBrick; to: TopologyBrick }> } | { ok: false; reason: string };

/**
 * Replaces every brick of `volume` on `node` with one on another node of the same cluster. A new brick
 * goes on an Online device of an Online node that holds no other brick of the same set (a set keeps its
 * failure independence) and has room for the brick's footprint; with zoneChecking Strict also in a zone
 * none of the set's other bricks are in, otherwise such a zone is preferred. Among equals the device with
 * the most free space wins, then the lowest id (deterministic).
 */
export function planEvacuation(db: TopologyDatabase, volume: TopologyVolume, node: string): EvacuationPlan {
  const leaving = bricksOnNode(db, volume, node);
  if (leaving.length === 0) return { ok: true, volume, moves: [] };
  if (volume.durability.type === 'None') {
    return {
      ok: false,
      reason: `volume ${volume.name} is distribute-only (no replica or redundancy): replacing its brick would lose the files on it; delete the volume or move its data first`,
    };
  }
  const cluster = findCluster(db, volume.cluster);
  const strict = cluster?.zoneChecking === 'Strict';
  const taken = new Map<string, number>();
  let bricks = [...volume.bricks];
  const moves: Array<{ from: TopologyBrick; to: TopologyBrick }> = [];

  for (const old of leaving) {
    const footprint = brickFootprint(db, volume, old);
    const setMates = bricks.filter((brick) => brick.set === old.set && brick.id !== old.id);
    const mateNodes = new Set(setMates.map((brick) => brickNode(db, brick).name));
    const mateZones = new Set(setMates.map((brick) => brickNode(db, brick).zone));
    const candidates = db.devices
      .filter((device) => isCandidate(db, device, volume.cluster, node, mateNodes))
      .map((device) => ({ device, free: deviceFree(db, device.id) - (taken.get(device.id) ?? 0), newZone: !mateZones.has(findNode(db, device.node)!.zone) }))
      .filter((candidate) => candidate.free >= footprint && (!strict || candidate.newZone))
      .sort((a, b) => Number(b.newZone) - Number(a.newZone) || b.free - a.free || a.device.id.localeCompare(b.device.id));
    const chosen = candidates[0];
    if (!chosen) {
      return {
        ok: false,
        reason:
          `no device can take brick ${old.id} of volume ${volume.name} (set ${old.set}, ${formatBytes(footprint)}): it needs an Online device ` +
          `with that much free space on an Online node other than ${[node, ...mateNodes].join(', ')}${strict ? ` and outside zone(s) ${[...mateZones].join(', ')}` : ''}`,
      };
    }
    taken.set(chosen.device.id, (taken.get(chosen.device.id) ?? 0) + footprint);
    const replacement: TopologyBrick = { id: replacementBrickId(old), device: chosen.device.id, size: old.size, set: old.set, ...(old.arbiter ? { arbiter: true } : {}) };
    bricks = bricks.map((brick) => (brick.id === old.id ? replacement : brick));
    moves.push({ from: old, to: replacement });
  }
  const retired: RetiredBrick[] = moves.map(({ from, to }) => ({ ...from, replacedBy: to.id }));
  return { ok: true, volume: { ...volume, bricks, retiredBricks: [...(volume.retiredBricks ?? []), ...retired] }, moves };
}

function isCandidate(db: TopologyDatabase, device: TopologyDevice, cluster: string, leavingNode: string, mateNodes: Set<string>): boolean {
  if (device.state !== 'Online' || device.node === leavingNode || mateNodes.has(device.node)) return false;
  const node = findNode(db, device.node);
  return node !== undefined && node.cluster === cluster && node.state === 'Online';
}

/** Bricks of the node, with the replaced ones whose remains are still there (what its status.bricks says). */
export function brickCountOnNode(db: TopologyDatabase, node: string): number {
  return volumesOnNode(db, node).reduce((sum, volume) => sum + bricksOnNode(db, volume, node).length + retiredBricksOnNode(db, volume, node).length, 0);
}

/**
 * The brick of the volume that holds a retired brick's data now: its replacement, or, when that one was
 * replaced in turn (its node evacuated too), the brick at the end of that chain. Undefined when the chain
 * ends nowhere, which the database should never hold.
 */
export function currentReplacement(volume: TopologyVolume, retired: RetiredBrick): TopologyBrick | undefined {
  const retiredById = new Map((volume.retiredBricks ?? []).map((brick) => [brick.id, brick]));
  let id = retired.replacedBy;
  for (let hops = 0; hops <= retiredById.size; hops += 1) {
    const brick = volume.bricks.find((candidate) => candidate.id === id);
    if (brick) return brick;
    const next = retiredById.get(id);
    if (!next) return undefined;
    id = next.replacedBy;
  }
  return undefined;
}

/**
 * The volume once the remains of these retired bricks are gone. A retired brick that was replaced by one of
 * them now points at what replaced that one (keeping the later replacement time), so its chain stays whole.
 */
export function withoutRetired(volume: TopologyVolume, removed: ReadonlySet<string>): TopologyVolume {
  const all = volume.retiredBricks ?? [];
  const byId = new Map(all.map((brick) => [brick.id, brick]));
  const rest = all
    .filter((brick) => !removed.has(brick.id))
    .map((brick) => {
      let current = brick;
      for (let hops = 0; hops < all.length; hops += 1) {
        const via = byId.get(current.replacedBy);
        if (!via || !removed.has(via.id)) break;
        const replacedAt = [current.replacedAt, via.replacedAt].filter((at): at is string => at !== undefined).sort().at(-1);
        current = { ...current, replacedBy: via.replacedBy, ...(replacedAt ? { replacedAt } : {}) };
      }
      return current;
    });
  const { retiredBricks: _, ...withoutField } = volume;
  return rest.length > 0 ? { ...withoutField, retiredBricks: rest } : withoutField;
}
