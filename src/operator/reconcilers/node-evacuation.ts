import type { GlusterNode } from '../../api/index.ts';
import { errorMessage } from '../../controller/manager.ts';
import { poolList, volumeHealFull, volumeHealInfo, volumeHealStatistics, volumeReplaceBrick } from '../../gluster/commands/gluster.ts';
import { isRetryable } from '../../gluster/errors.ts';
import { failureReason } from '../../gluster/executor.ts';
import { totalPendingHeals } from '../../gluster/parsers/heal-info.ts';
import type { GlusterPeer } from '../../gluster/parsers/peer-status.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import { brickCountOnNode, retiredBricksOnNode, volumesOnNode, withoutRetired } from '../../topology/evacuation.ts';
import { brickGlusterName, brickNode, findVolume, replaceVolume, topologyName, type TopologyVolume } from '../../topology/model.ts';
import { topologyNodeTarget, type ClusterAccess } from '../cluster-access.ts';
import type { ReconcileContext } from '../context.ts';
import { decideVolumeEvacuation, type EvacuationStep, type HealObservation } from './evacuation-decisions.ts';
import { brickRecordOf } from './volume-layout.ts';
import { createBrick, findLiveVolume } from './volume.ts';

/**
 * Moves every brick off a GlusterNode (being deleted, or spec.state Failed). Per volume, a loop of observe
 * (the database, `volume info` from another node, heal state when asked), decide (evacuation-decisions.ts,
 * pure), act (one step), until the decision is to wait, is blocked or is done. The steps: plan the
 * replacements and make the plan durable, create the new bricks, `replace-brick … commit force`, heal, and
 * only then remove the old bricks' remains. A crash anywhere is finished by the next pass, which observes
 * again; an old brick's data stays on the node until Gluster shows its replacement in place and healed.
 */
export interface EvacuationProgress {
  done: boolean;
  remainingBricks: number;
  healingVolumes: string[];
  blocked: Array<{ volume: string; reason: string }>;
  message: string;
}

/** Steps one volume may take in one pass; each ends in a wait long before this in practice. */
const MAX_STEPS = 16;

export async function evacuateNode(ctx: ReconcileContext, access: ClusterAccess, node: GlusterNode): Promise<EvacuationProgress> {
  const leaving = topologyName(node.metadata.namespace, node.metadata.name);
  const peerUuids = await peerUuidsOf(ctx, node.metadata.namespace);
  const healingVolumes: string[] = [];
  const blocked: Array<{ volume: string; reason: string }> = [];
  const waiting: string[] = [];

  for (const { name } of volumesOnNode(ctx.topology.db, leaving)) {
    const step = await evacuateVolume(ctx, access, node, leaving, name, peerUuids);
    if (step.kind === 'done') continue;
    if (step.kind === 'blocked') blocked.push({ volume: step.gluster, reason: step.reason });
    else waiting.push(`${step.gluster}: ${step.reason}`);
    if (step.kind === 'healing') healingVolumes.push(step.gluster);
  }

  const remainingBricks = brickCountOnNode(ctx.topology.db, leaving);
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

async function evacuateVolume(
  ctx: ReconcileContext,
  access: ClusterAccess,
  node: GlusterNode,
  leaving: string,
  volumeName: string,
  peerUuids: ReadonlyMap<string, string>,
): Promise<VolumeStep> {
  const pass = { created: new Set<string>(), fullHealTried: false };
  let heal: HealObservation | 'unobserved' = 'unobserved';
  let pool: readonly GlusterPeer[] | 'unobserved' = 'unobserved';
  let gluster = findVolume(ctx.topology.db, volumeName)?.gluster ?? volumeName;
  for (let count = 0; count < MAX_STEPS; count += 1) {
    // Observe.
    const volume = findVolume(ctx.topology.db, volumeName);
    if (!volume) return { kind: 'done', gluster }; // deleted meanwhile, bricks and remains with it
    gluster = volume.gluster;
    const worker = workerFor(ctx, volume, leaving);
    const live = worker ? ((await findLiveVolume(access, worker, gluster)) ?? 'missing') : 'missing';
    // Decide.
    const step = decideVolumeEvacuation({ db: ctx.topology.db, volume, leaving, worker: worker?.name, live, heal, pool, peerUuids, force: node.spec.forceRemoval, now: ctx.clock.now(), pass });
    if (step.action !== 'observeHeal' && step.action !== 'observePool') ctx.logger.debug('evacuation step', { node: leaving, volume: gluster, step: step.action });
    // Act (one step), then observe again.
    const outcome = await act(ctx, access, node, volume, worker!, step, pass);
    if (outcome === 'changedGluster') [heal, pool] = ['unobserved', 'unobserved'];
    else if (outcome !== 'continue' && 'heal' in outcome) heal = outcome.heal;
    else if (outcome !== 'continue' && 'pool' in outcome) pool = outcome.pool;
    else if (outcome !== 'continue') return { ...outcome, gluster };
  }
  return { kind: 'waiting', gluster, reason: 'still moving' };
}

type ActOutcome = 'continue' | 'changedGluster' | { heal: HealObservation } | { pool: readonly GlusterPeer[] } | { kind: 'done' } | { kind: 'blocked' | 'waiting' | 'healing'; reason: string };

async function act(
  ctx: ReconcileContext,
  access: ClusterAccess,
  node: GlusterNode,
  volume: TopologyVolume,
  worker: NodeTarget,
  step: EvacuationStep,
  pass: { created: Set<string>; fullHealTried: boolean },
): Promise<ActOutcome> {
  const gluster = volume.gluster;
  switch (step.action) {
    case 'done':
      return { kind: 'done' };
    case 'blocked':
      // Logged on every pass (its Warning Event is not repeated): a blocked evacuation is looked at again and again.
      ctx.logger.warn('evacuation blocked', { node: node.metadata.name, volume: gluster, reason: step.reason });
      return { kind: 'blocked', reason: step.reason };
    case 'wait':
      return { kind: 'waiting', reason: step.why };
    case 'waitForHeal':
      ctx.logger.info('evacuation waits for self-heal', { node: node.metadata.name, volume: gluster, why: step.why });
      return { kind: 'healing', reason: step.why };
    case 'commitPlan': {
      ctx.topology.commit((db) => replaceVolume(db, step.plan.volume));
      await ctx.topology.flush(); // the plan is durable before Gluster changes
      const db = ctx.topology.db;
      const moved = step.plan.moves.map(({ from, to }) => `${brickGlusterName(db, from)} → ${brickGlusterName(db, to)}`);
      await ctx.events.normal(node, 'BricksMovePlanned', `volume ${gluster}: ${moved.join(', ')}`);
      return 'continue';
    }
    case 'createReplacementBrick':
      await createBrick(ctx, access, volume, step.replacement);
      pass.created.add(step.replacement.id);
      return 'continue';
    case 'replaceBrick': {
      const refused = await notFound(() => access.executor.run(worker, volumeReplaceBrick(gluster, step.oldName, step.newName)));
      if (refused) return { kind: 'blocked', reason: `replace-brick ${step.oldName} → ${step.newName} of volume ${gluster}: glusterd on ${worker.name} answered ${refused}` };
      stampRetired(ctx, volume.name, [step.old.id], 'replacedAt');
      await ctx.events.normal(node, 'BrickReplaced', `volume ${gluster}: ${step.oldName} replaced by ${step.newName}; self-heal fills it`);
      return 'changedGluster';
    }
    case 'recordReplaced':
      stampRetired(ctx, volume.name, step.bricks, 'replacedAt');
      return 'continue';
    case 'observePool':
      return { pool: await access.executor.run(worker, poolList()) };
    case 'observeHeal':
      return observeHeal(access, worker, volume);
    case 'startFullHeal': {
      pass.fullHealTried = true;
      try {
        await access.executor.run(worker, volumeHealFull(gluster));
      } catch (error) {
        if (failureReason(error) === 'not-found') return { kind: 'blocked', reason: `heal full of volume ${gluster}: glusterd on ${worker.name} answered ${errorMessage(error)}` };
        // Best effort: it fails while the self-heal daemons restart after the replace; a later step or pass tries again.
        ctx.logger.info('full self-heal not started yet', { volume: gluster, error: errorMessage(error) });
        return 'continue';
      }
      const leaving = topologyName(node.metadata.namespace, node.metadata.name);
      stampRetired(ctx, volume.name, retiredBricksOnNode(ctx.topology.db, volume, leaving).map((brick) => brick.id), 'fullHealStartedAt');
      return 'changedGluster';
    }
    case 'removeOldBrick':
      await removeOldBrick(ctx, access, node, volume, step);
      return 'continue';
  }
}

/** The error text when the command failed with "not found" (an answer that stops the evacuation); rethrows others. */
async function notFound(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    if (failureReason(error) === 'not-found') return errorMessage(error);
    throw error;
  }
}

async function observeHeal(access: ClusterAccess, worker: NodeTarget, volume: TopologyVolume): Promise<ActOutcome> {
  const gluster = volume.gluster;
  try {
    const pending = totalPendingHeals(await access.executor.run(worker, volumeHealInfo(gluster)));
    if (volume.durability.type !== 'Replicate') return { heal: { pending, statistics: null } };
    return { heal: { pending, statistics: await access.executor.run(worker, volumeHealStatistics(gluster)) } };
  } catch (error) {
    if (failureReason(error) === 'not-found') return { kind: 'blocked', reason: `heal info of volume ${gluster}: glusterd on ${worker.name} answered ${errorMessage(error)}` };
    throw error;
  }
}

async function removeOldBrick(ctx: ReconcileContext, access: ClusterAccess, node: GlusterNode, volume: TopologyVolume, step: Extract<EvacuationStep, { action: 'removeOldBrick' }>): Promise<void> {
  const db = ctx.topology.db;
  try {
    await access.backend.deleteBrick(topologyNodeTarget(brickNode(db, step.old)), brickRecordOf(db, volume, step.old));
  } catch (error) {
    if (!node.spec.forceRemoval || !isRetryable(error)) throw error;
    await ctx.events.warning(node, 'BrickRemainsLeft', `forceRemoval: ${step.oldName} of volume ${volume.gluster} left on the unreachable node (${errorMessage(error)})`);
  }
  ctx.topology.commit((current) => replaceVolume(current, withoutRetired(findVolume(current, volume.name)!, new Set([step.old.id]))));
  await ctx.topology.flush();
  await ctx.events.normal(node, 'BricksMoved', `volume ${volume.gluster}: ${step.oldName} moved off this node (replaced and healed)`);
}

/** Sets a timestamp (now) on retired bricks of the volume, read fresh inside the commit. */
function stampRetired(ctx: ReconcileContext, volumeName: string, ids: readonly string[], field: 'replacedAt' | 'fullHealStartedAt'): void {
  const at = new Date(ctx.clock.now()).toISOString();
  const wanted = new Set(ids);
  ctx.topology.commit((db) => {
    const fresh = findVolume(db, volumeName);
    if (!fresh) return db;
    return replaceVolume(db, { ...fresh, retiredBricks: (fresh.retiredBricks ?? []).map((brick) => (wanted.has(brick.id) ? { ...brick, [field]: at } : brick)) });
  });
}

/** Gluster commands for the volume run on a node that holds one of its bricks and is not the one leaving. */
function workerFor(ctx: ReconcileContext, volume: TopologyVolume, leaving: string): NodeTarget | undefined {
  const db = ctx.topology.db;
  const others = volume.bricks.map((brick) => brickNode(db, brick)).filter((n) => n.name !== leaving);
  const node = others[0] ?? db.nodes.find((n) => n.cluster === volume.cluster && n.name !== leaving);
  return node ? topologyNodeTarget(node) : undefined;
}

/** Peer UUID each GlusterNode's own glusterd reports (its status.peerUUID), by topology name. */
async function peerUuidsOf(ctx: ReconcileContext, namespace: string | undefined): Promise<Map<string, string>> {
  const nodes = await ctx.nodes.list(namespace);
  return new Map(nodes.flatMap((n) => (n.status?.peerUUID ? [[topologyName(n.metadata.namespace, n.metadata.name), n.status.peerUUID] as const] : [])));
}
