import { replacementHealVerdict } from '../../gluster/heal-progress.ts';
import type { UnavailableStatistics } from '../../gluster/commands/gluster.ts';
import type { BrickCrawlStatistics } from '../../gluster/parsers/heal-statistics.ts';
import type { GlusterPeer } from '../../gluster/parsers/peer-status.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import { bricksOnNode, currentReplacement, planEvacuation, retiredBricksOnNode, type EvacuationPlan } from '../../topology/evacuation.ts';
import { brickGlusterName, brickNode, objectNameOf, type RetiredBrick, type TopologyBrick, type TopologyDatabase, type TopologyVolume } from '../../topology/model.ts';

/**
 * The next step of moving one volume's bricks off a leaving node, decided from what was observed, with no
 * I/O (node-evacuation.ts observes, acts and reports). An old brick's remains are removed only when Gluster,
 * asked on another node, shows its replacement in its place (path, and the host UUID of the replacement's
 * node) and no longer the old brick, and a heal that started after the replacement finished clean. Anything
 * Gluster says that does not fit the database — the volume missing, another volume under its name, a brick
 * neither old nor new — stops the volume's evacuation (blocked): a glusterd whose state was lost answers
 * "does not exist", and acting on that answer would delete the only copy of the data.
 */
export interface HealObservation {
  /** Entries heal info reports pending; null when a brick could not say. */
  pending: number | null;
  /** Replicate: crawl statistics, or glusterd's reason they are unavailable. Disperse has none (null). */
  statistics: BrickCrawlStatistics[] | UnavailableStatistics | null;
}

export interface VolumeEvacuationWorld {
  db: TopologyDatabase;
  volume: TopologyVolume;
  /** Topology name of the node being evacuated. */
  leaving: string;
  /** GlusterNode name of the node Gluster was asked on (holds the volume, is not leaving); undefined when none. */
  worker: string | undefined;
  /** `volume info` from the worker; 'missing' when glusterd there says the volume does not exist. */
  live: GlusterVolumeInfo | 'missing';
  /** Asked for only once the replacements are in place (observeHeal). */
  heal: HealObservation | 'unobserved';
  /** `pool list` from the worker, asked for only right before a replace-brick (observePool). */
  pool: readonly GlusterPeer[] | 'unobserved';
  /** Peer UUID glusterd reports for each node (by topology name), from the GlusterNodes' status. */
  peerUuids: ReadonlyMap<string, string>;
  /** spec.forceRemoval of the leaving node: no waiting for self-heal (the replacement must still be in place). */
  force: boolean;
  now: number;
  /** What this pass already did: bricks created (the backends are idempotent), a full heal asked for. */
  pass: { created: ReadonlySet<string>; fullHealTried: boolean };
}

export type EvacuationStep =
  | { action: 'commitPlan'; plan: Extract<EvacuationPlan, { ok: true }> }
  | { action: 'createReplacementBrick'; old: RetiredBrick; replacement: TopologyBrick }
  | { action: 'replaceBrick'; old: RetiredBrick; oldName: string; newName: string }
  /** Replacements Gluster already shows in place whose time the database does not have yet. */
  | { action: 'recordReplaced'; bricks: string[] }
  | { action: 'observePool' }
  | { action: 'observeHeal' }
  | { action: 'startFullHeal'; why: string }
  | { action: 'waitForHeal'; why: string }
  | { action: 'wait'; why: string }
  | { action: 'removeOldBrick'; old: RetiredBrick; oldName: string }
  | { action: 'blocked'; reason: string }
  | { action: 'done' };

export function decideVolumeEvacuation(world: VolumeEvacuationWorld): EvacuationStep {
  const { db, volume, leaving, worker, live } = world;
  const gluster = volume.gluster;
  if (worker === undefined) return { action: 'wait', why: 'no other node of the cluster to run Gluster commands on' };
  const asked = `glusterd on ${worker}`;
  if (live === 'missing') {
    return blocked(
      `${asked} says Gluster volume ${gluster} does not exist; the evacuation of this volume stops and removes nothing until Gluster ` +
        'shows the volume again (was that node\'s glusterd state lost? restore /var/lib/glusterd/vols from a peer or a backup)',
    );
  }
  if (live.name !== gluster || (volume.glusterId !== undefined && live.id !== volume.glusterId)) {
    return blocked(`${asked} shows Gluster volume ${live.name} with id ${live.id}, the database has ${gluster} with id ${volume.glusterId ?? '(none)'}: not the volume whose bricks were placed; nothing is moved or removed`);
  }
  if (bricksOnNode(db, volume, leaving).length > 0) {
    const plan = planEvacuation(db, volume, leaving);
    return plan.ok ? { action: 'commitPlan', plan } : blocked(plan.reason);
  }
  const retired = retiredBricksOnNode(db, volume, leaving);
  if (retired.length === 0) return { action: 'done' };

  const listed = new Map(live.bricks.map((brick) => [brick.name, brick]));
  for (const old of retired) {
    const oldName = brickGlusterName(db, old);
    const replacement = currentReplacement(volume, old);
    if (!replacement) return blocked(`the database has no brick replacing ${oldName} (replacedBy ${old.replacedBy}); its remains are kept`);
    const newName = brickGlusterName(db, replacement);
    const oldListed = listed.has(oldName);
    const shown = listed.get(newName);
    if (oldListed && shown) return blocked(`${asked} lists both ${oldName} and its replacement ${newName} in volume ${gluster}`);
    if (oldListed) {
      if (!world.pass.created.has(replacement.id)) return { action: 'createReplacementBrick', old, replacement };
      if (world.pool === 'unobserved') return { action: 'observePool' };
      const absent = serversNotInPool(world, world.pool);
      if (absent.length > 0) {
        return {
          action: 'wait',
          why:
            `replace-brick waits until ${asked} has every server of the volume connected (${absent.join('; ')}): a server that misses ` +
            'the change imports it when it reconnects, and glusterd can then leave its self-heal daemon detached from the volume, so the ' +
            `heal is never confirmed${leavingMayBeDown(world) ? '' : `; if node ${objectNameOf(leaving)} is gone for good, set its spec.forceRemoval`}`,
        };
      }
      return { action: 'replaceBrick', old, oldName, newName };
    }
    if (!shown) return blocked(`${asked} lists neither ${oldName} nor its replacement ${newName} in volume ${gluster}; its remains are kept`);
    const node = brickNode(db, replacement).name;
    const uuid = world.peerUuids.get(node);
    if (uuid === undefined) return { action: 'wait', why: `peer UUID of node ${objectNameOf(node)} not known yet (its status.peerUUID)` };
    if (shown.hostUuid !== uuid) {
      return { action: 'wait', why: `${asked} lists ${newName} on peer ${shown.hostUuid}, but node ${objectNameOf(node)} is peer ${uuid}: the replacement is not in its place` };
    }
  }

  const unrecorded = retired.filter((brick) => brick.replacedAt === undefined);
  if (unrecorded.length > 0) return { action: 'recordReplaced', bricks: unrecorded.map((brick) => brick.id) };
  const replacedAt = latestReplacement(volume);
  const first = retired[0]!;
  const removeFirst: EvacuationStep = { action: 'removeOldBrick', old: first, oldName: brickGlusterName(db, first) };

  if (world.force) {
    // forceRemoval: the server is gone for good, so nothing waits for self-heal; a full heal is still asked for once.
    const requested = retired.every((brick) => brick.fullHealStartedAt !== undefined && Date.parse(brick.fullHealStartedAt) > replacedAt);
    return requested || world.pass.fullHealTried ? removeFirst : { action: 'startFullHeal', why: 'forceRemoval: a full self-heal fills the new bricks; nothing waits for it' };
  }
  if (world.heal === 'unobserved') return { action: 'observeHeal' };
  const started = retired.map((brick) => brick.fullHealStartedAt).filter((at): at is string => at !== undefined);
  const verdict = replacementHealVerdict({
    durability: volume.durability.type === 'Disperse' ? 'Disperse' : 'Replicate',
    pending: world.heal.pending,
    statistics: world.heal.statistics,
    replacedAt,
    now: world.now,
    // Disperse: the heal counts from its oldest start among these bricks (all were started together).
    ...(started.length === retired.length ? { fullHealStartedAt: Math.min(...started.map((at) => Date.parse(at))) } : {}),
  });
  if (verdict.healed) return removeFirst;
  if (verdict.startFullHeal && !world.pass.fullHealTried) return { action: 'startFullHeal', why: verdict.why };
  return { action: 'waitForHeal', why: verdict.why };
}

/**
 * The volume's servers (its bricks' nodes, and the leaving node unless it is Failed or forceRemoval excuses it)
 * that the worker's pool list does not show connected and in the cluster; each as "node: what was seen".
 * Measured on the test bed: a replace-brick committed while the leaving node's glusterd was still
 * reconnecting after a restart left that node's self-heal daemon "not running" for the volume (it attached
 * the volume with no bricks during the import), and `heal statistics` failed in staging there from then on.
 */
function serversNotInPool(world: VolumeEvacuationWorld, pool: readonly GlusterPeer[]): string[] {
  const { db, volume, leaving } = world;
  const servers = new Set([...volume.bricks.map((brick) => brickNode(db, brick).name), ...(leavingMayBeDown(world) ? [] : [leaving])]);
  return [...servers].sort().flatMap((server) => {
    const uuid = world.peerUuids.get(server);
    if (uuid === undefined) return [`${objectNameOf(server)}: peer UUID not known yet`];
    const peer = pool.find((entry) => entry.uuid === uuid);
    if (!peer) return [`${objectNameOf(server)}: peer ${uuid} not in its pool list`];
    if (!peer.connected) return [`${objectNameOf(server)}: disconnected`];
    if (!peer.isLocal && peer.state !== 'Peer in Cluster') return [`${objectNameOf(server)}: ${peer.state ?? 'no state'}`];
    return [];
  });
}

/** A Failed leaving node, or one with forceRemoval, need not answer: it may be the server that is gone. */
function leavingMayBeDown(world: VolumeEvacuationWorld): boolean {
  return world.force || world.db.nodes.find((node) => node.name === world.leaving)?.state === 'Failed';
}

/** When the volume's latest recorded replacement happened: a heal has to start after every one of them. */
function latestReplacement(volume: TopologyVolume): number {
  return Math.max(...(volume.retiredBricks ?? []).map((brick) => (brick.replacedAt ? Date.parse(brick.replacedAt) : -Infinity)));
}

function blocked(reason: string): EvacuationStep {
  return { action: 'blocked', reason };
}
