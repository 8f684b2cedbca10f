import type { GlusterNode } from '../../api/index.ts';
import { errorMessage } from '../../controller/manager.ts';
import { volumeHealFull, volumeHealInfo, volumeHealStatistics, volumeReplaceBrick } from '../../gluster/commands/gluster.ts';
import { replacementHealVerdict, type HealVerdict } from '../../gluster/heal-progress.ts';
import { isRetryable } from '../../gluster/errors.ts';
import { totalPendingHeals } from '../../gluster/parsers/heal-info.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import { bricksOnNode, planEvacuation, retiredBricksOnNode, volumesOnNode, withoutRetired } from '../../topology/evacuation.ts';
import { brickGlusterName, brickNode, findNode, findVolume, replaceVolume, topologyName, type RetiredBrick, type TopologyVolume } from '../../topology/model.ts';
import { topologyNodeTarget, type ClusterAccess } from '../cluster-access.ts';
import type { ReconcileContext } from '../context.ts';
import { brickRecordOf } from './volume-layout.ts';
import { createBrick, findLiveVolume } from './volume.ts';

/**
 * Moves every brick off a GlusterNode (being deleted, or spec.state Failed), one converging pass per
 * reconcile. Per volume: plan the replacements and commit them to the database first (src/topology/
 * evacuation.ts), create the new bricks, `replace-brick … commit force` the ones Gluster still lists,
 * wait until self-heal has filled them (heal-progress.ts; not with spec.forceRemoval), then remove the old
 * bricks' remains from the node. Each step observes Gluster and skips what is done, so a crash anywhere is
 * finished by the next pass. The old brick's data stays on the node until its replacement is healed.
 */
export interface EvacuationProgress {
  done: boolean;
  remainingBricks: number;
  healingVolumes: string[];
  blocked: Array<{ volume: string; reason: string }>;
  message: string;
}

export async function evacuateNode(ctx: ReconcileContext, access: ClusterAccess, node: GlusterNode): Promise<EvacuationProgress> {
  const leaving = topologyName(node.metadata.namespace, node.metadata.name);
  const force = node.spec.forceRemoval;
  const healingVolumes: string[] = [];
  const blocked: Array<{ volume: string; reason: string }> = [];
  const waiting: string[] = [];

  for (const { name } of volumesOnNode(ctx.topology.db, leaving)) {
    const step = await evacuateVolume(ctx, access, node, leaving, name, force);
    if (step.kind === 'done') continue;
    if (step.kind === 'blocked') blocked.push({ volume: step.gluster, reason: step.reason });
    else waiting.push(`${step.gluster}: ${step.reason}`);
    if (step.kind === 'healing') healingVolumes.push(step.gluster);
  }

  const db = ctx.topology.db;
  const remainingBricks = volumesOnNode(db, leaving).reduce((sum, volume) => sum + bricksOnNode(db, volume, leaving).length + retiredBricksOnNode(db, volume, leaving).length, 0);
  const parts = [...blocked.map(({ volume, reason }) => `cannot move ${volume}: ${reason}`), ...waiting];
  return {
    done: remainingBricks === 0,
    remainingBricks,
    healingVolumes,
    blocked,
    message: remainingBricks === 0 ? 'no bricks left on this node' : `${remainingBricks} brick(s) still on this node; ${parts.join('; ') || 'moving'}`,
  };
}

type VolumeStep = { kind: 'done'; gluster: string } | { kind: 'blocked' | 'waiting' | 'healing'; gluster: string; reason: string };

async function evacuateVolume(ctx: ReconcileContext, access: ClusterAccess, node: GlusterNode, leaving: string, volumeName: string, force: boolean): Promise<VolumeStep> {
  let volume = findVolume(ctx.topology.db, volumeName)!;
  const gluster = volume.gluster;

  // 1. Plan and commit (nothing awaits in between, so the plan is made against the database it changes).
  if (bricksOnNode(ctx.topology.db, volume, leaving).length > 0) {
    const plan = planEvacuation(ctx.topology.db, volume, leaving);
    if (!plan.ok) return { kind: 'blocked', gluster, reason: plan.reason };
    ctx.topology.commit((db) => replaceVolume(db, plan.volume));
    await ctx.topology.flush(); // the plan is durable before Gluster changes
    volume = findVolume(ctx.topology.db, volumeName)!;
    const moved = plan.moves.map(({ from, to }) => `${brickGlusterName(ctx.topology.db, from)} → ${brickGlusterName(ctx.topology.db, to)}`);
    await ctx.events.normal(node, 'BricksMovePlanned', `volume ${gluster}: ${moved.join(', ')}`);
  }

  const db = ctx.topology.db;
  const retired = retiredBricksOnNode(db, volume, leaving);
  const worker = workerFor(ctx, volume, leaving);
  if (!worker) return { kind: 'waiting', gluster, reason: 'no other node of the cluster to run Gluster commands on' };

  // 2. New bricks, and replace-brick for each old brick Gluster still lists.
  const live = await findLiveVolume(access, worker, gluster);
  if (live) {
    const liveBricks = new Set(live.bricks.map((brick) => brick.name));
    for (const old of retired) {
      const replacement = volume.bricks.find((brick) => brick.id === old.replacedBy);
      const oldName = brickGlusterName(db, old);
      if (!replacement || !liveBricks.has(oldName)) continue;
      await createBrick(ctx, access, volume, replacement);
      const newName = brickGlusterName(db, replacement);
      await access.executor.run(worker, volumeReplaceBrick(gluster, oldName, newName));
      await ctx.events.normal(node, 'BrickReplaced', `volume ${gluster}: ${oldName} replaced by ${newName}; self-heal fills it`);
    }
    // 3. Until the new bricks hold everything, the old ones keep their data (heal-progress.ts says when).
    const verdict = await healVerdict(ctx, access, worker, volume, retired);
    if (!verdict.healed) {
      if (verdict.startFullHeal) await startFullHeal(ctx, access, worker, volume, retired);
      if (!force) {
        ctx.logger.info('evacuation waits for self-heal', { node: leaving, volume: gluster, why: verdict.why });
        return { kind: 'healing', gluster, reason: verdict.why };
      }
    }
  }

  // 4. The old bricks' remains.
  const removed = new Set<string>();
  for (const old of retired) {
    try {
      await access.backend.deleteBrick(topologyNodeTarget(findNode(db, leaving)!), brickRecordOf(db, volume, old));
      removed.add(old.id);
    } catch (error) {
      if (!force || !isRetryable(error)) throw error;
      removed.add(old.id);
      await ctx.events.warning(node, 'BrickRemainsLeft', `forceRemoval: ${brickGlusterName(db, old)} of volume ${gluster} left on the unreachable node (${errorMessage(error)})`);
    }
  }
  if (removed.size > 0) {
    ctx.topology.commit((current) => replaceVolume(current, withoutRetired(findVolume(current, volumeName)!, removed)));
    await ctx.topology.flush();
    await ctx.events.normal(node, 'BricksMoved', `volume ${gluster}: ${removed.size} brick(s) moved off this node`);
  }
  return { kind: 'done', gluster };
}

/** Gluster commands for the volume run on a node that holds one of its bricks and is not the one leaving. */
function workerFor(ctx: ReconcileContext, volume: TopologyVolume, leaving: string): NodeTarget | undefined {
  const db = ctx.topology.db;
  const others = volume.bricks.map((brick) => brickNode(db, brick)).filter((n) => n.name !== leaving);
  const node = others[0] ?? db.nodes.find((n) => n.cluster === volume.cluster && n.name !== leaving);
  return node ? topologyNodeTarget(node) : undefined;
}

async function healVerdict(ctx: ReconcileContext, access: ClusterAccess, worker: NodeTarget, volume: TopologyVolume, retired: RetiredBrick[]): Promise<HealVerdict> {
  if (retired.length === 0) return { healed: true };
  const pending = totalPendingHeals(await access.executor.run(worker, volumeHealInfo(volume.gluster)));
  if (volume.durability.type === 'Replicate') {
    const statistics = await access.executor.run(worker, volumeHealStatistics(volume.gluster));
    return replacementHealVerdict({ durability: 'Replicate', pending, statistics });
  }
  const started = retired.map((brick) => brick.fullHealStartedAt).filter((at): at is string => at !== undefined);
  const startedMsAgo = started.length === retired.length ? ctx.clock.now() - Math.max(...started.map((at) => Date.parse(at))) : undefined;
  return replacementHealVerdict({ durability: 'Disperse', pending, statistics: null, ...(startedMsAgo !== undefined ? { fullHealStartedMsAgo: startedMsAgo } : {}) });
}

/** Best effort: it fails while the self-heal daemons restart after the replace; the next pass tries again. */
async function startFullHeal(ctx: ReconcileContext, access: ClusterAccess, worker: NodeTarget, volume: TopologyVolume, retired: RetiredBrick[]): Promise<void> {
  try {
    await access.executor.run(worker, volumeHealFull(volume.gluster));
  } catch (error) {
    ctx.logger.info('full self-heal not started yet', { volume: volume.gluster, error: errorMessage(error) });
    return;
  }
  const at = new Date(ctx.clock.now()).toISOString();
  const ids = new Set(retired.map((brick) => brick.id));
  ctx.topology.commit((db) => {
    const fresh = findVolume(db, volume.name)!;
    return replaceVolume(db, { ...fresh, retiredBricks: (fresh.retiredBricks ?? []).map((brick) => (ids.has(brick.id) ? { ...brick, fullHealStartedAt: at } : brick)) });
  });
}
