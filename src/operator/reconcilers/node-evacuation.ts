import type { GlusterNode, GlusterVolume } from '../../api/index.ts';
import { errorMessage } from '../../controller/manager.ts';
import { poolList, volumeHealFull, volumeHealInfo, volumeHealStatistics, volumeReplaceBrick } from '../../gluster/commands/gluster.ts';
import { isRetryable } from '../../gluster/errors.ts';
import { failureReason } from '../../gluster/executor.ts';
import { totalPendingHeals } from '../../gluster/parsers/heal-info.ts';
import type { GlusterPeer } from '../../gluster/parsers/peer-status.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import { retiredBricksOnNode, withoutRetired } from '../../topology/evacuation.ts';
import { brickGlusterName, brickNode, findVolume, replaceVolume, topologyName, type TopologyVolume } from '../../topology/model.ts';
import { AccessConfigError, topologyNodeTarget, type ClusterAccess } from '../cluster-access.ts';
import { REQUEUE, type ReconcileContext } from '../context.ts';
import { decideVolumeEvacuation, type EvacuationStep, type HealObservation } from './evacuation-decisions.ts';
import { leavingNodesToEvacuate, summarizeEvacuation, type EvacuationProgress } from './evacuation-handover.ts';
import { brickRecordOf } from './volume-layout.ts';
import { createBrick, findLiveVolume } from './volume-actions.ts';

/**
 * Moves a volume's bricks off its leaving GlusterNodes (being deleted, or spec.state Failed), from the
 * volume's own reconcile: the volume reconciler alone changes a volume's bricks; the node reconciler wakes
 * the volumes it holds bricks of and reports what they say (evacuation-handover.ts). Per volume and node, a
 * loop of observe (the database, `volume info` from another node, heal state when asked), decide
 * (evacuation-decisions.ts, pure), act (one step), until the decision is to wait, is blocked or is done. The
 * steps: plan the replacements and make the plan durable, create the new bricks, `replace-brick … commit
 * force`, heal, and only then remove the old bricks' remains. A crash anywhere is finished by the next pass,
 * which observes again; an old brick's data stays on the node until Gluster shows its replacement in place
 * and healed.
 */

/** Steps one volume may take in one pass; each ends in a wait long before this in practice. */
const MAX_STEPS = 16;

/**
 * This volume's pass over its leaving nodes; what each said is left in ctx.evacuations for the node's
 * status. Returns when to look again (undefined: nothing left to move). A failed command is reported, not
 * thrown: the rest of the volume's reconcile (options, health, growth) goes on meanwhile.
 */
export async function evacuateFromLeavingNodes(ctx: ReconcileContext, volume: GlusterVolume): Promise<number | undefined> {
  const namespace = volume.metadata.namespace ?? 'default';
  const dbName = topologyName(namespace, volume.metadata.name);
  const record = findVolume(ctx.topology.db, dbName);
  if (!record) return undefined;
  const nodes = await ctx.nodes.list(namespace);
  const decision = leavingNodesToEvacuate(ctx.topology.db, record, nodes);
  if (decision.kind === 'none') return undefined;
  if (decision.kind === 'wait') {
    ctx.logger.debug('evacuation waits', { volume: dbName, why: decision.why });
    return REQUEUE.waiting;
  }
  const cluster = await ctx.clusters.get(namespace, volume.spec.cluster);
  let access: ClusterAccess | undefined;
  try {
    access = cluster ? await ctx.access.forCluster(cluster) : undefined;
  } catch (error) {
    if (!(error instanceof AccessConfigError)) throw error;
  }
  // The node's own status says "deletion waits: … not reachable" (node-decisions.ts); nothing can move.
  if (!access) return REQUEUE.unreachable;
  const peerUuids = peerUuidsOf(nodes);
  let next: number | undefined;
  for (const node of decision.nodes) {
    const leaving = topologyName(node.metadata.namespace, node.metadata.name);
    let step: VolumeStep;
    try {
      step = await evacuateVolume(ctx, access, node, leaving, dbName, peerUuids);
    } catch (error) {
      ctx.logger.warn('evacuation step failed', { node: leaving, volume: dbName, error: errorMessage(error) });
      step = { kind: 'waiting', gluster: record.gluster, reason: `a step failed, retried: ${errorMessage(error)}` };
    }
    const { gluster, ...state } = step;
    ctx.evacuations.record(leaving, dbName, { gluster, state });
    if (step.kind !== 'done') next = Math.min(next ?? Infinity, step.kind === 'blocked' ? REQUEUE.unreachable : REQUEUE.waiting);
  }
  return next;
}

/** The node's progress, for its status: the database and what its volumes' reconciles said. */
export function evacuationProgress(ctx: ReconcileContext, node: GlusterNode): EvacuationProgress {
  const leaving = topologyName(node.metadata.namespace, node.metadata.name);
  return summarizeEvacuation(ctx.topology.db, leaving, ctx.evacuations.of(leaving));
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
function peerUuidsOf(nodes: readonly GlusterNode[]): Map<string, string> {
  return new Map(nodes.flatMap((n) => (n.status?.peerUUID ? [[topologyName(n.metadata.namespace, n.metadata.name), n.status.peerUUID] as const] : [])));
}
