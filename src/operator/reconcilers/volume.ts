import { createHash } from 'node:crypto';
import type { GlusterCluster, GlusterVolume } from '../../api/index.ts';
import { isConditionTrue, type ConditionUpdate, type Phase } from '../../controller/conditions.ts';
import {
  volumeAddBrick,
  volumeCreate,
  volumeDelete,
  volumeInfo,
  volumeRebalanceStart,
  volumeRebalanceStatus,
  volumeSet,
  volumeStart,
  volumeStatus,
  volumeStop,
} from '../../gluster/commands/gluster.ts';
import { isRetryable } from '../../gluster/errors.ts';
import { failureReason } from '../../gluster/executor.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import type { ReconcileResult } from '../../runtime/work-queue.ts';
import {
  addVolume,
  brickGlusterName,
  brickNode,
  findVolume,
  objectNameOf,
  removeVolume,
  topologyName,
  replaceVolume,
  volumeCapacity,
  type TopologyBrick,
  type TopologyVolume,
} from '../../topology/model.ts';
import { placeVolume } from '../../topology/placement/index.ts';
import { formatBytes, parseQuantity } from '../../topology/sizing.ts';
import { seededRandom } from '../../topology/random.ts';
import { AccessConfigError, nodeTarget, topologyNodeTarget, type ClusterAccess } from '../cluster-access.ts';
import { REQUEUE, splitKey, type ReconcileContext } from '../context.ts';
import { writeStatus as writeObjectStatus } from '../status.ts';
import { rebalanceOutcome } from '../../gluster/parsers/rebalance-status.ts';
import { anyBrickDown, bricksToRestart } from './brick-restart.ts';
import { ensureFinalizer, removeFinalizer } from '../finalizers.ts';
import { syncCluster } from '../topology-sync.ts';
import {
  backendBrickRequest,
  bricksInSetOrder,
  brickRecordOf,
  describeLayout,
  glusterLayout,
  glusterVolumeNameOf,
  modelDurability,
} from './volume-layout.ts';

/**
 * GlusterVolume: converges Gluster to the spec from whatever a previous attempt left. Each step observes
 * first — the database's placement, each brick (the backends are idempotent), `gluster volume info` — and
 * does only what is missing, so a crash at any point is finished by the next reconcile: one volume, no
 * orphan bricks. Growth adds sets and rebalances; the rebalance result is reported as Gluster reports it.
 */
export async function reconcileVolume(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  let volume = await ctx.volumes.get(namespace, name);
  if (!volume) return;
  if (volume.metadata.deletionTimestamp) return finalizeVolume(ctx, volume);
  volume = await ensureFinalizer(ctx.volumes, volume);

  const cluster = await ctx.clusters.get(namespace, volume.spec.cluster);
  if (!cluster) {
    return fail(ctx, volume, 'ClusterNotFound', `spec.cluster: GlusterCluster ${namespace}/${volume.spec.cluster} does not exist`, REQUEUE.waiting);
  }
  let access: ClusterAccess;
  try {
    access = await ctx.access.forCluster(cluster);
  } catch (error) {
    if (error instanceof AccessConfigError) return fail(ctx, volume, 'AccessNotConfigured', error.message, REQUEUE.waiting);
    throw error;
  }
  ctx.topology.commit((db) => syncCluster(db, cluster));
  const clusterNodes = (await ctx.nodes.list(namespace)).filter((node) => node.spec.cluster === cluster.metadata.name);
  const readyNodes = clusterNodes.filter((node) => isConditionTrue(node.status?.conditions, 'Ready'));
  if (readyNodes.length === 0) {
    await writeStatus(ctx, volume, { state: 'progressing', reason: 'WaitingForNodes', message: `no GlusterNode of cluster ${cluster.metadata.name} is Ready yet` });
    return { requeueAfterMs: REQUEUE.waiting };
  }

  const gluster = glusterVolumeNameOf(volume);
  const requested = parseQuantity(volume.spec.size);
  const dbName = topologyName(namespace, name);
  let record = findVolume(ctx.topology.db, dbName);
  if (record && record.gluster !== gluster) {
    return fail(ctx, volume, 'NameConflict', `topology volume ${record.name} is Gluster volume ${record.gluster}, not ${gluster}`, REQUEUE.unreachable);
  }
  // Placed by this pass: Gluster cannot have the volume unless an earlier attempt created it and crashed
  // before its placement was backed up; `volume create` says "already exists" then, and only then is
  // `volume info` asked (a round trip off the provisioning path).
  let placedNow = false;
  if (!record) {
    placedNow = true;
    const placed = placeVolume(
      ctx.topology.db,
      {
        volume: dbName,
        cluster: topologyName(namespace, cluster.metadata.name),
        size: requested,
        durability: modelDurability(volume.spec.durability),
        snapshotFactor: volume.spec.snapshotFactor,
        gluster,
        ...(volume.spec.deviceSelector ? { deviceSelector: volume.spec.deviceSelector } : {}),
        ...(volume.spec.gid !== undefined ? { gid: volume.spec.gid } : {}),
      },
      seededRandom(seedOf(volume.metadata.uid ?? volume.metadata.name)),
    );
    if (!placed.ok) return fail(ctx, volume, 'PlacementFailed', `no brick layout for ${volume.spec.size}: ${placed.reason}`, 60_000);
    ctx.topology.commit((db) => addVolume(db, placed.volume));
    record = placed.volume;
    await ctx.events.normal(volume, 'BricksPlaced', `${record.bricks.length} bricks in ${record.sets} set(s) of ${formatBytes(placed.brickSize)}`);
  }

  const anyNode = nodeTarget(readyNodes[0]!);
  await createBricks(ctx, access, record);
  let live = placedNow ? undefined : await findLiveVolume(access, anyNode, gluster);
  let createdNow = false;
  if (!live) {
    const bricks = bricksInSetOrder(record).map((brick) => brickGlusterName(ctx.topology.db, brick));
    const create = volumeCreate({ name: gluster, layout: glusterLayout(record.durability), bricks, force: cluster.spec.brickBackend === 'Directory' });
    const created = await access.executor.run(anyNode, create).catch((error: unknown) => {
      if (placedNow && failureReason(error) === 'already-exists') return undefined;
      throw error;
    });
    if (created) {
      createdNow = true;
      await ctx.events.normal(volume, 'VolumeCreated', `Gluster volume ${gluster} created from ${bricks.length} bricks`);
      // What `volume info` would say of a volume just created; saves a round trip on the provisioning path.
      live = { name: gluster, id: created.id, status: 'Created', options: {}, distCount: record.sets } as GlusterVolumeInfo;
    } else {
      live = await findLiveVolume(access, anyNode, gluster);
      if (!live) throw new Error(`volume create said ${gluster} already exists, volume info does not find it`);
    }
  }
  if (live.status !== 'Started') {
    await access.executor.run(anyNode, volumeStart(gluster));
    await ctx.events.normal(volume, 'VolumeStarted', `Gluster volume ${gluster} started`);
  }
  const wantedOptions = { ...(cluster.spec.volumeOptions ?? {}), ...(volume.spec.options ?? {}) };
  for (const [option, value] of Object.entries(wantedOptions)) {
    if (live.options[option] !== value) await access.executor.run(anyNode, volumeSet(gluster, option, value));
  }

  const extra: ConditionUpdate[] = [];
  if (requested > volumeCapacity(record)) {
    const grown = await growVolume(ctx, access, volume, cluster, record, requested, anyNode);
    if (!grown.ok) return fail(ctx, volume, 'ExpansionFailed', grown.message, 60_000);
    record = grown.record;
  }
  if (record.sets > 1 || live.distCount !== record.sets) {
    extra.push(await rebalanceCondition(access, anyNode, gluster));
  }
  if (record.glusterId !== live.id || record.size !== Math.max(record.size, requested)) {
    const liveId = live.id;
    // Read again inside the commit: a node evacuation may have swapped bricks of this volume meanwhile.
    ctx.topology.commit((db) => {
      const fresh = findVolume(db, dbName)!;
      return replaceVolume(db, { ...fresh, glusterId: liveId, size: Math.max(fresh.size, requested) });
    });
    record = findVolume(ctx.topology.db, record.name)!;
  }

  // Brick processes of a volume started a moment ago are up; their state is read from the next pass on,
  // which keeps `volume status` (a slow CLI call) off the provisioning path.
  let online = createdNow ? new Map<string, boolean>() : await brickOnline(access, anyNode, gluster);
  const db = ctx.topology.db;
  const restart = bricksToRestart(
    bricksInSetOrder(record).map((brick) => ({ glusterName: brickGlusterName(db, brick), node: objectNameOf(brickNode(db, brick).name) })),
    online,
    new Set(readyNodes.map((node) => node.metadata.name)),
  );
  if (restart.length > 0) {
    await access.executor.run(anyNode, volumeStart(gluster, { force: true }));
    await ctx.events.normal(volume, 'BricksRestarted', `brick process(es) ${restart.join(', ')} were down on Ready nodes; started them (volume start force)`);
    online = await brickOnline(access, anyNode, gluster);
  }
  const brickNodes = [...new Map(bricksInSetOrder(record).map((brick) => [brickNode(db, brick).name, brickNode(db, brick)])).values()];
  const [primary, ...backups] = brickNodes;
  await writeStatus(
    ctx,
    volume,
    { state: 'ready', reason: 'VolumeStarted', message: `Gluster volume ${gluster} is started (${describeLayout(record.durability, record.sets)})` },
    {
      glusterVolumeName: gluster,
      glusterVolumeId: live.id,
      capacity: formatBytes(volumeCapacity(record)),
      durability: describeLayout(record.durability, record.sets),
      mountSource: `${primary!.storage}:${gluster}`,
      backupVolfileServers: backups.map((node) => node.storage),
      bricks: bricksInSetOrder(record).map((brick) => {
        const glusterName = brickGlusterName(db, brick);
        return {
          node: objectNameOf(brickNode(db, brick).name),
          path: glusterName,
          device: brick.device,
          size: formatBytes(brick.size),
          set: brick.set,
          ...(brick.arbiter ? { arbiter: true } : {}),
          ...(online.has(glusterName) ? { online: online.get(glusterName)! } : {}),
        };
      }),
    },
    extra,
  );
  await ctx.topology.flush();
  return { requeueAfterMs: anyBrickDown(online) ? REQUEUE.waiting : REQUEUE.steady };
}

/** Placement is deterministic per volume: a retried reconcile of the same object places the same way. */
function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

/** Every brick, nodes in parallel (each node's bricks one after another: they may share a device). */
async function createBricks(ctx: ReconcileContext, access: ClusterAccess, record: TopologyVolume): Promise<void> {
  const db = ctx.topology.db;
  const byNode = Map.groupBy(record.bricks, (brick) => brickNode(db, brick).name);
  await Promise.all([...byNode.values()].map((bricks) => createBricksInOrder(ctx, access, record, bricks)));
}

async function createBricksInOrder(ctx: ReconcileContext, access: ClusterAccess, record: TopologyVolume, bricks: TopologyVolume['bricks']): Promise<void> {
  for (const brick of bricks) await createBrick(ctx, access, record, brick);
}

/** One brick of the volume, where the database says; idempotent (the backends observe before acting). */
export async function createBrick(ctx: ReconcileContext, access: ClusterAccess, record: TopologyVolume, brick: TopologyBrick): Promise<void> {
  const db = ctx.topology.db;
  const { id, location } = backendBrickRequest(db, record, brick);
  const created = await access.backend.createBrick(topologyNodeTarget(brickNode(db, brick)), {
    id,
    location,
    sizeBytes: brick.size,
    snapshotFactor: record.snapshotFactor,
    ...(record.gid !== undefined ? { gid: record.gid } : {}),
  });
  const expected = brickRecordOf(db, record, brick).path;
  if (created.path !== expected) throw new Error(`brick ${brick.id}: backend put it at ${created.path}, the database expects ${expected}`);
}

export async function findLiveVolume(access: ClusterAccess, node: NodeTarget, gluster: string): Promise<GlusterVolumeInfo | undefined> {
  try {
    const [info] = await access.executor.run(node, volumeInfo(gluster));
    return info;
  } catch (error) {
    if (failureReason(error) === 'not-found') return undefined;
    throw error;
  }
}

async function brickOnline(access: ClusterAccess, node: NodeTarget, gluster: string): Promise<Map<string, boolean>> {
  try {
    const [status] = await access.executor.run(node, volumeStatus(gluster));
    return new Map((status?.bricks ?? []).map((brick) => [`${brick.host}:${brick.path}`, brick.online]));
  } catch (error) {
    if (isRetryable(error)) return new Map();
    throw error;
  }
}

/**
 * Adds sets for the missing capacity: placement of a volume of the missing size with the same durability,
 * its sets renumbered after the existing ones; bricks created; add-brick; rebalance started.
 */
async function growVolume(
  ctx: ReconcileContext,
  access: ClusterAccess,
  volume: GlusterVolume,
  cluster: GlusterCluster,
  record: TopologyVolume,
  requested: number,
  node: NodeTarget,
): Promise<{ ok: true; record: TopologyVolume } | { ok: false; message: string }> {
  const missing = requested - volumeCapacity(record);
  const extension = placeVolume(
    // Placed as if a separate volume, against the database that holds this volume's bricks: their space is taken.
    ctx.topology.db,
    {
      volume: `${record.name}-grow-${record.sets}`,
      cluster: record.cluster,
      size: missing,
      durability: record.durability,
      snapshotFactor: record.snapshotFactor,
      gluster: record.gluster,
      ...(volume.spec.deviceSelector ? { deviceSelector: volume.spec.deviceSelector } : {}),
    },
    seededRandom(seedOf(`${volume.metadata.uid}-${record.sets}`)),
  );
  if (!extension.ok) return { ok: false, message: `cannot grow to ${volume.spec.size}: ${extension.reason}` };
  const added = extension.volume.bricks.map((brick) => ({ ...brick, set: brick.set + record.sets }));
  ctx.topology.commit((db) => {
    const fresh = findVolume(db, record.name)!; // bricks an evacuation swapped meanwhile stay swapped
    return replaceVolume(db, { ...fresh, size: requested, sets: fresh.sets + extension.sets, bricks: [...fresh.bricks, ...added] });
  });
  const grown = findVolume(ctx.topology.db, record.name)!;
  await createBricks(ctx, access, grown);
  const newBricks = bricksInSetOrder({ ...grown, bricks: added }).map((brick) => brickGlusterName(ctx.topology.db, brick));
  await access.executor.run(node, volumeAddBrick(record.gluster, glusterLayout(record.durability), newBricks, { force: cluster.spec.brickBackend === 'Directory' }));
  await access.executor.run(node, volumeRebalanceStart(record.gluster));
  await ctx.events.normal(volume, 'VolumeExpanded', `added ${extension.sets} set(s) (${newBricks.length} bricks) and started a rebalance`);
  return { ok: true, record: grown };
}

async function rebalanceCondition(access: ClusterAccess, node: NodeTarget, gluster: string): Promise<ConditionUpdate> {
  try {
    const status = await access.executor.run(node, volumeRebalanceStatus(gluster));
    const { failures, files } = status.aggregate;
    // Not the aggregate alone: glusterd reports a node that failed beside others still running as "in progress".
    const outcome = rebalanceOutcome(status);
    if (outcome === 'failed' || failures > 0) {
      const failed = status.nodes.filter((n) => n.state === 'failed').map((n) => n.nodeName);
      return {
        type: 'Rebalanced',
        status: 'False',
        reason: 'RebalanceFailed',
        message: `rebalance failed${failed.length ? ` on ${failed.join(', ')}` : ''}: ${failures} failure(s), ${files} file(s) moved`,
      };
    }
    if (outcome === 'completed') return { type: 'Rebalanced', status: 'True', reason: 'RebalanceCompleted', message: `${files} file(s) moved` };
    return { type: 'Rebalanced', status: 'Unknown', reason: 'RebalanceInProgress', message: `rebalance ${status.aggregate.statusStr}` };
  } catch (error) {
    if (failureReason(error) === 'not-started' || failureReason(error) === 'not-found') {
      return { type: 'Rebalanced', status: 'True', reason: 'NoRebalanceNeeded', message: 'no rebalance has run on this volume' };
    }
    throw error;
  }
}

async function finalizeVolume(ctx: ReconcileContext, volume: GlusterVolume): Promise<ReconcileResult> {
  const record = findVolume(ctx.topology.db, topologyName(volume.metadata.namespace, volume.metadata.name));
  if (volume.spec.reclaimPolicy === 'Retain' || !record) {
    if (volume.spec.reclaimPolicy === 'Retain' && record) {
      await ctx.events.normal(volume, 'VolumeRetained', `reclaimPolicy Retain: Gluster volume ${record.gluster} and its bricks are kept`);
    }
    await removeFinalizer(ctx.volumes, volume);
    return;
  }
  const cluster = await ctx.clusters.get(volume.metadata.namespace ?? 'default', objectNameOf(record.cluster));
  if (!cluster) return fail(ctx, volume, 'ClusterNotFound', `cannot delete: GlusterCluster ${record.cluster} is gone`, REQUEUE.unreachable);
  const access = await ctx.access.forCluster(cluster);
  const db = ctx.topology.db;
  const node = topologyNodeTarget(brickNode(db, record.bricks[0]!));
  const live = await findLiveVolume(access, node, record.gluster);
  if (live) {
    if (live.status === 'Started') await access.executor.run(node, volumeStop(record.gluster, { force: true }));
    await access.executor.run(node, volumeDelete(record.gluster));
    await ctx.events.normal(volume, 'VolumeDeleted', `Gluster volume ${record.gluster} deleted`);
  }
  // Remains of bricks replaced by a node evacuation that had not been removed yet go too.
  for (const brick of [...record.bricks, ...(record.retiredBricks ?? [])]) {
    await access.backend.deleteBrick(topologyNodeTarget(brickNode(db, brick)), brickRecordOf(db, record, brick));
  }
  ctx.topology.commit((current) => removeVolume(current, record.name));
  await ctx.topology.flush();
  await removeFinalizer(ctx.volumes, volume);
  return;
}

async function fail(ctx: ReconcileContext, volume: GlusterVolume, reason: string, message: string, requeueAfterMs: number): Promise<ReconcileResult> {
  await writeStatus(ctx, volume, { state: 'failed', reason, message });
  await ctx.events.warning(volume, reason, message);
  return { requeueAfterMs };
}

/** This kind's status write: the shared one (status.ts) with this kind's client. */
function writeStatus(
  ctx: ReconcileContext,
  object: GlusterVolume,
  phase: Phase,
  fields: Partial<NonNullable<GlusterVolume['status']>> = {},
  conditions: ConditionUpdate[] = [],
): Promise<void> {
  return writeObjectStatus(ctx.volumes, ctx.clock, object, phase, fields, conditions);
}
