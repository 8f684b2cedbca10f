import { isDirectoryVolume, type GlusterCluster, type GlusterVolume } from '../../api/index.ts';
import type { ConditionUpdate, Phase } from '../../controller/conditions.ts';
import { isConditionTrue } from '../../controller/conditions.ts';
import { volumeSetOptions, volumeStart } from '../../gluster/commands/gluster.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import type { ReconcileResult } from '../../runtime/work-queue.ts';
import { brickGlusterName, brickNode, findVolume, objectNameOf, replaceVolume, topologyName, type TopologyVolume } from '../../topology/model.ts';
import { parseQuantity } from '../../topology/sizing.ts';
import { AccessConfigError, nodeTarget, type ClusterAccess } from '../cluster-access.ts';
import { splitKey, type ReconcileContext } from '../context.ts';
import { ensureFinalizer } from '../finalizers.ts';
import { writeStatus as writeObjectStatus } from '../status.ts';
import { syncCluster } from '../topology-sync.ts';
import {
  addMissingSets,
  adoptVolume,
  brickInfoOf,
  createBricks,
  createVolume,
  growVolume,
  observeLive,
  placeNewVolume,
  readBrickOnline,
  readHealSummary,
  readRebalance,
  recordAppliedOptions,
  resetOptions,
  restartBricks,
} from './volume-actions.ts';
import { wantedClientAccess } from './client-access.ts';
import { copyTlsFiles, observeTls, tlsStatus } from './volume-tls.ts';
import { changedGlusterBy, decideVolume, type VolumeStep, type VolumeWorld } from './volume-decisions.ts';
import { reconcileDirectory } from './directory.ts';
import { finalizeVolume } from './volume-deletion.ts';
import { evacuateFromLeavingNodes } from './node-evacuation.ts';
import { actCopy, copiedFrom, observeCopy } from './volume-clone.ts';
import { growBricksInPlace } from './volume-grow-in-place.ts';
import { planGrowth } from './volume-growth.ts';
import { StepRefused } from './volume-errors.ts';
import { NodeCommandError } from '../../gluster/errors.ts';
import { bricksInSetOrder, describeLayout, glusterVolumeNameOf, modelDurability } from './volume-layout.ts';
import { ownerMark, OWNER_OPTION } from './volume-ownership.ts';
import { healthEvents, healthPhase, healthRequeueMs, volumeHealth } from './volume-health.ts';
import { volumeStatusFields, type RebalanceProgress } from './volume-report.ts';

export { createBrick, observeLive } from './volume-actions.ts';

/**
 * GlusterVolume: observe (the object, its cluster and nodes, the topology database, then Gluster as the
 * decisions ask for it), decide (volume-decisions.ts, pure), act (one step, which updates what was
 * observed), and again, until the decision is to report. Placement is durable in the backup before any
 * brick or Gluster change that depends on it, and Ready is written only after the backup holds what it
 * reports. A crash anywhere is finished by the next reconcile: each step is idempotent or observed first.
 */
export async function reconcileVolume(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  let volume = await ctx.volumes.get(namespace, name);
  if (!volume) return;
  // A directory of another volume's Gluster volume, not a Gluster volume: its own reconciler.
  if (isDirectoryVolume(volume)) return reconcileDirectory(ctx, volume);
  if (volume.metadata.deletionTimestamp) return finalizeVolume(ctx, volume);
  volume = await ensureFinalizer(ctx.volumes, volume);

  // Bricks on leaving nodes move first, here and nowhere else (node-evacuation.ts); then the volume converges
  // as usual from what that left in the database.
  const evacuating = await evacuateFromLeavingNodes(ctx, volume);
  const result = await convergeVolume(ctx, key, volume);
  return evacuating === undefined ? result : { requeueAfterMs: Math.min(evacuating, result?.requeueAfterMs ?? Infinity) };
}

async function convergeVolume(ctx: ReconcileContext, key: string, volume: GlusterVolume): Promise<ReconcileResult> {
  const observed = await observeVolume(ctx, volume);
  const { world } = observed;
  const extra: ConditionUpdate[] = [];
  let rebalance: RebalanceProgress | undefined;
  const now = () => new Date(ctx.clock.now()).toISOString();
  // Each step either finishes the pass or changes what the next decision sees; a bound guards a bug.
  for (let steps = 0; steps < 32; steps++) {
    const step = decideVolume(world);
    ctx.logger.debug('volume step', { volume: key, step: step.kind });
    switch (step.kind) {
      case 'fail':
      case 'wait':
        return stopPass(ctx, volume, step);
      case 'ready':
        return report(ctx, volume, world, extra, rebalance);
      case 'observeRebalance': {
        const read = await readRebalance(observed.access!, observed.worker!, world.gluster, now());
        extra.push(read.condition);
        rebalance = read.progress;
        world.rebalanceObserved = true;
        break;
      }
      case 'observeHeal':
        world.heal = await readHealSummary(observed.access!, observed.worker!, world.gluster, now());
        break;
      default:
        try {
          await act(ctx, volume, observed, step);
          if (changedGlusterBy(step, world.online)) world.changedGluster = true;
        } catch (error) {
          if (!(error instanceof StepRefused)) {
            // A volume not Ready yet whose step failed for good (mkfs refused, a VG full, ...) says why on itself,
            // not only in the operator's log; the retries keep their backoff. A Ready volume keeps its status.
            if (error instanceof NodeCommandError && !error.retryable && !isConditionTrue(volume.status?.conditions, 'Ready')) {
              await writeStatus(ctx, volume, { state: 'failed', reason: 'CommandFailed', message: `${step.kind}: ${error.message}` });
              await ctx.events.warning(volume, 'CommandFailed', `${step.kind}: ${error.message}`);
            }
            throw error;
          }
          await writeStatus(ctx, volume, { state: 'failed', reason: error.reason, message: error.message });
          await ctx.events.warning(volume, error.reason, error.message);
          return { requeueAfterMs: error.requeueAfterMs };
        }
    }
  }
  throw new Error(`volume ${key}: no decision after 32 steps (last world: record ${world.record?.name ?? 'none'}, live ${world.live?.kind ?? 'unknown'})`);
}

interface ObservedVolume {
  world: VolumeWorld;
  cluster?: GlusterCluster;
  access?: ClusterAccess;
  /** A Ready node Gluster commands run on. */
  worker?: NodeTarget;
  /** The cluster's Ready nodes (the TLS files go to each). */
  servers?: NodeTarget[];
  dbName: string;
}

async function observeVolume(ctx: ReconcileContext, volume: GlusterVolume): Promise<ObservedVolume> {
  const namespace = volume.metadata.namespace ?? 'default';
  const dbName = topologyName(namespace, volume.metadata.name);
  const gluster = glusterVolumeNameOf(volume);
  const cluster = await ctx.clusters.get(namespace, volume.spec.cluster);
  const world: VolumeWorld = {
    me: ownerMark(namespace, volume.metadata.name),
    gluster,
    adoptExisting: volume.spec.adoptExisting === true,
    durability: modelDurability(volume.spec.durability),
    requested: requestedBytes(volume.spec.size),
    specOptions: volume.spec.options ?? {},
    clusterOptions: cluster?.spec.volumeOptions ?? {},
    appliedOptions: volume.status?.appliedOptions ?? [],
    // Set below, once the cluster's servers are known (no cluster: the pass fails before it is read).
    clientAccess: { kind: 'unmanaged' },
    tls: await observeTls(ctx.kubeConfig, cluster),
    tlsRecorded: false,
    clusterAddresses: undefined,
    readyNodes: new Set(),
    copy: await observeCopy(ctx, volume),
    now: ctx.clock.now(),
    ...(volume.status?.heal ? { healCheckedAt: volume.status.heal.checkedAt } : {}),
  };
  if (!cluster) return { world, dbName };
  let access: ClusterAccess | undefined;
  try {
    access = await ctx.access.forCluster(cluster);
  } catch (error) {
    if (!(error instanceof AccessConfigError)) throw error;
    world.accessError = error.message;
  }
  ctx.topology.commit((db) => syncCluster(db, cluster));
  const clusterNodes = (await ctx.nodes.list(namespace)).filter((node) => node.spec.cluster === cluster.metadata.name);
  const readyNodes = clusterNodes.filter((node) => isConditionTrue(node.status?.conditions, 'Ready'));
  world.clusterAddresses = new Set(clusterNodes.map((node) => node.spec.storageAddress));
  world.clientAccess = wantedClientAccess({
    clientAccess: cluster.spec.clientAccess,
    adopted: volume.spec.adoptExisting === true,
    kubernetesNodeAddresses: ctx.kubernetesNodeAddresses(),
    serverAddresses: [...world.clusterAddresses],
  });
  world.readyNodes = new Set(readyNodes.map((node) => node.metadata.name));
  world.tlsRecorded = world.tls.kind === 'on' && volume.status?.tls?.dir === world.tls.dir;
  const db = ctx.topology.db;
  const record = findVolume(db, dbName);
  if (record) setRecord(ctx, world, record);
  const clusterName = topologyName(namespace, cluster.metadata.name);
  const holder = db.volumes.find((other) => other.gluster === gluster && other.cluster === clusterName && other.name !== dbName);
  if (holder) {
    const holderObject = await ctx.volumes.get(holder.name.slice(0, holder.name.indexOf('/')), objectNameOf(holder.name));
    world.holder = { name: holder.name, objectExists: holderObject !== undefined };
  }
  return { world, cluster, ...(access ? { access } : {}), ...(readyNodes[0] ? { worker: nodeTarget(readyNodes[0]) } : {}), servers: readyNodes.map(nodeTarget), dbName };
}

/** A spec size in bytes, or why it does not parse (reported on the object, never thrown). */
export function requestedBytes(size: string): number | { error: string } {
  try {
    return parseQuantity(size);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The world sees the record and its bricks' Gluster names together, so the two never disagree. */
function setRecord(ctx: ReconcileContext, world: VolumeWorld, record: TopologyVolume): void {
  const db = ctx.topology.db;
  world.record = record;
  world.placedBricks = bricksInSetOrder(record).map((brick) => ({ glusterName: brickGlusterName(db, brick), node: objectNameOf(brickNode(db, brick).name) }));
}

/** One step. What it changed is written into the world, so the next decision sees it without asking Gluster again. */
async function act(ctx: ReconcileContext, volume: GlusterVolume, observed: ObservedVolume, step: Exclude<VolumeStep, { kind: 'fail' | 'wait' | 'ready' | 'observeRebalance' | 'observeHeal' }>): Promise<void> {
  const { world, cluster } = observed;
  const access = observed.access!;
  const worker = observed.worker!;
  const present = (): GlusterVolumeInfo => {
    if (world.live?.kind !== 'present') throw new Error(`step ${step.kind} needs the live volume`);
    return world.live.info;
  };
  switch (step.kind) {
    case 'observeLive':
      world.live = await observeLive(access, worker, world.gluster);
      return;
    case 'place': {
      const placed = await placeNewVolume(ctx, volume, cluster!, world.requested as number);
      if (!placed.ok) throw new StepRefused('PlacementFailed', placed.message, 60_000);
      setRecord(ctx, world, placed.record);
      return;
    }
    case 'adopt': {
      const adopted = await adoptVolume(ctx, volume, cluster!, present(), step.replacing);
      setRecord(ctx, world, adopted);
      world.bricksEnsured = true; // adopted bricks are never created, formatted or mounted by the operator
      return;
    }
    case 'observeSource':
    case 'takeSourceSnapshot':
    case 'activateSnapshot':
    case 'clone':
    case 'dropSourceSnapshot':
    case 'recordClone': {
      const recorded = await actCopy(ctx, { volume, cluster: cluster!, access, worker, world }, step);
      if (recorded) {
        setRecord(ctx, world, recorded);
        world.bricksEnsured = true; // glusterd made the clone's bricks; the operator never creates, formats or mounts them
      }
      return;
    }
    case 'ensureBricks':
      await createBricks(ctx, access, world.record!);
      world.bricksEnsured = true;
      return;
    case 'create': {
      world.live = await createVolume(ctx, volume, access, worker, world.record!, cluster!);
      // Brick processes of a volume started a moment ago are up: `volume status` (slow) is left to the next pass.
      world.online = new Map();
      return;
    }
    case 'copyTls':
      if (world.tls.kind === 'on') await copyTlsFiles(access, observed.servers ?? [], world.tls);
      world.tlsCopied = true;
      return;
    case 'markOwner': {
      const options: Array<[string, string]> = [[OWNER_OPTION, world.me], ...step.options];
      await access.executor.run(worker, volumeSetOptions(world.gluster, options));
      present().options = { ...present().options, ...Object.fromEntries(options) };
      return;
    }
    case 'start':
      await access.executor.run(worker, volumeStart(world.gluster));
      await ctx.events.normal(volume, 'VolumeStarted', `Gluster volume ${world.gluster} started`);
      present().status = 'Started';
      return;
    case 'setOptions':
      await access.executor.run(worker, volumeSetOptions(world.gluster, step.options));
      present().options = { ...present().options, ...Object.fromEntries(step.options) };
      return;
    case 'recordOptions':
      await recordAppliedOptions(ctx, volume, step.keys);
      world.appliedOptions = step.keys;
      return;
    case 'resetOptions': {
      const info = present();
      await resetOptions(ctx, volume, access, worker, world.gluster, step.keys, (key) => {
        info.options = Object.fromEntries(Object.entries(info.options).filter(([name]) => name !== key));
      });
      return;
    }
    case 'grow': {
      // In place when every brick can take its share (volume-growth.ts); otherwise new sets, as before.
      const plan = planGrowth(ctx.topology.db, world.record!, step.to);
      ctx.logger.info('volume growth', { volume: observed.dbName, to: step.to, plan: plan.kind, reason: plan.reason });
      if (plan.kind === 'inPlace') {
        setRecord(ctx, world, await growBricksInPlace(ctx, access, volume, world.record!, step.to, plan));
        return;
      }
      const grown = await growVolume(ctx, access, volume, cluster!, world.record!, step.to, worker);
      if (!grown.ok) throw new StepRefused('ExpansionFailed', grown.message, 60_000);
      setRecord(ctx, world, grown.record);
      // Gluster now lists the new sets too (add-brick ran): the world says so, or they would look missing.
      present().bricks = [...present().bricks, ...grown.added.map(brickInfoOf)];
      present().distCount = grown.record.sets;
      return;
    }
    case 'addBricks': {
      const added = await addMissingSets(ctx, volume, access, worker, world.record!, step.sets, cluster!);
      present().bricks = [...present().bricks, ...added];
      present().distCount = world.record!.sets;
      return;
    }
    case 'recordLive': {
      // Read again inside the commit: a node evacuation may have swapped bricks of this volume meanwhile.
      ctx.topology.commit((db) => {
        const fresh = findVolume(db, observed.dbName)!;
        return replaceVolume(db, { ...fresh, glusterId: step.glusterId, size: Math.max(fresh.size, step.size) });
      });
      setRecord(ctx, world, findVolume(ctx.topology.db, observed.dbName)!);
      return;
    }
    case 'observeBricks':
      world.online = await readBrickOnline(access, worker, world.gluster);
      return;
    case 'restartBricks': {
      const restarted = await restartBricks(ctx, volume, access, worker, world.gluster, step.bricks);
      world.online = restarted.online;
      if (restarted.failure !== undefined) world.restartFailure = restarted.failure;
      world.restartedBricks = true;
      return;
    }
  }
}


/**
 * Ready, or Degraded with what is wrong (volume-health.ts), from what was observed after acting, once the
 * backup holds the placement it describes. A change of health is an Event, once.
 */
async function report(ctx: ReconcileContext, volume: GlusterVolume, world: VolumeWorld, extra: ConditionUpdate[], rebalance: RebalanceProgress | undefined): Promise<ReconcileResult> {
  const record = world.record!;
  const info = (world.live as { kind: 'present'; info: GlusterVolumeInfo }).info;
  const health = volumeHealth({
    info,
    online: world.online ?? new Map(),
    heal: world.heal,
    previousHeal: volume.status?.heal,
    brickNodes: new Map((world.placedBricks ?? []).map((brick) => [brick.glusterName, brick.node])),
    readyNodes: world.readyNodes,
    ...(world.restartFailure !== undefined ? { restartFailure: world.restartFailure } : {}),
  });
  const phase = healthPhase(health, { state: 'ready', reason: 'VolumeStarted', message: `Gluster volume ${world.gluster} is started (${describeLayout(record.durability, record.sets)})` });
  await ctx.topology.flush();
  await writeStatus(
    ctx,
    volume,
    phase,
    { ...volumeStatusFields(ctx.topology.db, record, info.id, health.brickOnline), ...health.fields, ...(world.copy ? { copiedFrom: copiedFrom(world.copy.source) } : {}), ...(rebalance ? { rebalance } : {}), ...tlsField(world, info) },
    [...extra, ...health.conditions],
  );
  for (const event of healthEvents(volume.status?.conditions, health, phase)) {
    if (event.type === 'Warning') await ctx.events.warning(volume, event.reason, event.message);
    else await ctx.events.normal(volume, event.reason, event.message);
  }
  return { requeueAfterMs: healthRequeueMs(health) };
}

/** status.tls when the volume runs with TLS (absent otherwise; a volume never turns it off). */
function tlsField(world: VolumeWorld, info: GlusterVolumeInfo): { tls?: NonNullable<GlusterVolume['status']>['tls'] } {
  const tls = tlsStatus(world.tls, info);
  return tls ? { tls } : {};
}

/** A pass that stops short of Ready: the condition (and for a failure a Warning Event), and the requeue the step asked for. */
export async function stopPass(ctx: ReconcileContext, volume: GlusterVolume, step: { kind: 'fail' | 'wait'; reason: string; message: string; requeueAfterMs: number }): Promise<ReconcileResult> {
  await writeStatus(ctx, volume, { state: step.kind === 'fail' ? 'failed' : 'progressing', reason: step.reason, message: step.message });
  if (step.kind === 'fail') await ctx.events.warning(volume, step.reason, step.message);
  return { requeueAfterMs: step.requeueAfterMs };
}

/** A status patch: null removes a field (JSON merge patch), for what no longer applies or is no longer known. */
type StatusPatch = { [K in keyof NonNullable<GlusterVolume['status']>]?: NonNullable<GlusterVolume['status']>[K] | null };

/** This kind's status write: the shared one (status.ts) with this kind's client. */
export function writeStatus(
  ctx: ReconcileContext,
  object: GlusterVolume,
  phase: Phase,
  fields: StatusPatch = {},
  conditions: ConditionUpdate[] = [],
): Promise<void> {
  // The shared writer's type has no nulls; the merge patch it sends takes them as removals.
  return writeObjectStatus(ctx.volumes, ctx.clock, object, phase, fields as Partial<NonNullable<GlusterVolume['status']>>, conditions);
}
