import * as k8s from '@kubernetes/client-node';
import { brickMultiplexingOf, GROUP_VERSION, type GlusterCluster } from '../../api/index.ts';
import { isConditionTrue, type ConditionUpdate, type Phase } from '../../controller/conditions.ts';
import { glusterdDaemonSetName, renderGlusterdDaemonSet } from '../../deploy/glusterd-daemonset.ts';
import { brickMultiplexSet, maxBricksPerProcessSet, poolList, volumeGetGlobal, volumeInfo } from '../../gluster/commands/gluster.ts';
import { isRetryable } from '../../gluster/errors.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import { brickMultiplexSettings } from '../../gluster/parsers/volume-get.ts';
import { errorMessage } from '../../runtime/error-message.ts';
import type { ReconcileResult } from '../../runtime/work-queue.ts';
import { deviceFree, findCluster, topologyName } from '../../topology/model.ts';
import { TOPOLOGY_GENERATION_ANNOTATION } from '../../topology/rebuild/observe.ts';
import { formatBytes } from '../../topology/sizing.ts';
import { AccessConfigError, nodeTarget } from '../cluster-access.ts';
import { REQUEUE, splitKey, type ReconcileContext } from '../context.ts';
import { writeStatus as writeObjectStatus } from '../status.ts';
import { ensureFinalizer, removeFinalizer } from '../finalizers.ts';
import { brickCountInCluster, describeHeldChange, heldClusterChanges, syncCluster } from '../topology-sync.ts';
import { accessNotConfigured, clusterPhase, clusterRequeue, daemonSetWait, decideClusterDeletion, heldReason, refusedCluster, shouldRecordGeneration } from './cluster-decisions.ts';
import { requestedGlusterdImage } from './cluster-policy.ts';
import { decideBrickMultiplex, type BrickMultiplexStatus, type BrickMultiplexWorld } from './brick-multiplex-decisions.ts';

/**
 * GlusterCluster: for InCluster clusters, deploys and updates the glusterd DaemonSet (server-side apply,
 * owned by the cluster so it goes with it) and waits for its pods; for External ones, nodes are checked by
 * their own reconcilers. Either way it summarizes: node counts, pool size, capacity, volumes, and the
 * Ready / Progressing / Degraded conditions. Deleting a cluster that still has volumes is refused (held by
 * the finalizer, said in status and Events) instead of silently doing nothing. A cluster outside the
 * operator's GLUSTER_NAMESPACES, or naming a glusterd image it does not allow, only gets that said in its
 * status and an Event (cluster-policy.ts). On a Ready node it also keeps the pool's brick multiplexing
 * (spec.brickMultiplexing, one step per pass). Every branch is decided in cluster-decisions.ts and
 * brick-multiplex-decisions.ts (pure, unit-tested); this file observes, acts and reports.
 */
const FIELD_MANAGER = 'gluster-operator';

export async function reconcileCluster(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  let cluster = await ctx.clusters.get(namespace, name);
  if (!cluster) return;
  const volumes = (await ctx.volumes.list(namespace)).filter((volume) => volume.spec.cluster === name);
  const nodes = (await ctx.nodes.list(namespace)).filter((node) => node.spec.cluster === name);
  if (cluster.metadata.deletionTimestamp) return finalizeCluster(ctx, cluster, volumes.length, nodes.length);
  // Before anything is done for it (finalizer, topology, DaemonSet, Secret, commands): is it served at all?
  const refusal = ctx.access.refusal(namespace, cluster);
  if (refusal) {
    const refused = refusedCluster(refusal);
    await writeStatus(ctx, cluster, refused.phase);
    await ctx.events.warning(cluster, refused.phase.reason, refused.phase.message);
    return { requeueAfterMs: refused.requeueAfterMs };
  }
  cluster = await ensureFinalizer(ctx.clusters, cluster);
  const current = cluster;
  ctx.topology.commit((db) => syncCluster(db, current));

  const extra: ConditionUpdate[] = [];
  if (ctx.topologyCondition) extra.push(ctx.topologyCondition);

  let daemonSetMessage: string | undefined;
  if (cluster.spec.access.mode === 'InCluster') {
    daemonSetMessage = await applyDaemonSet(ctx, cluster);
  } else {
    try {
      await ctx.access.forCluster(cluster);
    } catch (error) {
      if (error instanceof AccessConfigError) {
        const refused = accessNotConfigured(error.message);
        await writeStatus(ctx, cluster, refused.phase, {}, extra);
        await ctx.events.warning(cluster, refused.phase.reason, error.message);
        return { requeueAfterMs: refused.requeueAfterMs };
      }
      throw error;
    }
  }

  const readyNodes = nodes.filter((node) => isConditionTrue(node.status?.conditions, 'Ready'));
  let peers: number | undefined;
  let answering: NodeTarget | undefined;
  for (const node of readyNodes) {
    try {
      peers = (await (await ctx.access.forCluster(cluster)).executor.run(nodeTarget(node), poolList())).length;
      answering = nodeTarget(node);
      break;
    } catch (error) {
      if (!isRetryable(error)) throw error;
    }
  }
  const multiplexing = answering ? await keepBrickMultiplexing(ctx, cluster, answering) : { status: cluster.status?.brickMultiplexing, changed: false };

  const db = ctx.topology.db;
  // Said on every pass while the spec differs, since the database keeps the old value until it is set back.
  const held = heldClusterChanges(db, cluster);
  const heldMessage = held.map((change) => describeHeldChange(change, 'of this cluster')).join('; ');
  if (held.length > 0) await ctx.events.warning(cluster, heldReason(held), heldMessage);
  const nodeNames = new Set(nodes.map((node) => topologyName(namespace, node.metadata.name)));
  const devices = db.devices.filter((device) => nodeNames.has(device.node));
  const total = devices.reduce((sum, device) => sum + device.size, 0);
  const free = devices.reduce((sum, device) => sum + deviceFree(db, device.id), 0);

  const phase = clusterPhase({
    held,
    heldMessage,
    daemonSetMessage,
    nodes: nodes.map((node) => ({ name: node.metadata.name, ready: readyNodes.includes(node) })),
    peers,
  });

  await writeStatus(
    ctx,
    cluster,
    phase,
    {
      nodes: { total: nodes.length, ready: readyNodes.length },
      ...(peers !== undefined ? { peers } : {}),
      capacity: { total: formatBytes(total), free: formatBytes(free) },
      volumes: volumes.length,
      bricks: brickCountInCluster(db, topologyName(namespace, name)),
      ...(multiplexing.status ? { brickMultiplexing: multiplexing.status } : {}),
    },
    extra,
  );
  await recordTopologyGeneration(ctx, cluster);
  // A changed setting is read back soon: the next step (cluster.max-bricks-per-process after multiplexing) follows it.
  const requeueAfterMs = clusterRequeue(phase);
  return { requeueAfterMs: multiplexing.changed ? Math.min(requeueAfterMs, REQUEUE.waiting) : requeueAfterMs };
}

/**
 * spec.brickMultiplexing on the pool, from the node that answered: the pool-wide options read once, whether
 * the pool has volumes only when Auto decides, then at most one `volume set all`. Returns the status to write
 * (the recorded one when glusterd could not be asked) and whether the pool was changed. A failure here is a
 * Warning Event, never a failed cluster: the rest of the status is still written.
 */
async function keepBrickMultiplexing(
  ctx: ReconcileContext,
  cluster: GlusterCluster,
  target: NodeTarget,
): Promise<{ status: BrickMultiplexStatus | undefined; changed: boolean }> {
  const recorded = cluster.status?.brickMultiplexing;
  try {
    const { executor } = await ctx.access.forCluster(cluster);
    const live = brickMultiplexSettings(await executor.run(target, volumeGetGlobal('all')));
    let world: BrickMultiplexWorld = { spec: brickMultiplexingOf(cluster.spec), live, poolHasVolumes: undefined, recorded };
    let step = decideBrickMultiplex(world);
    if (step.kind === 'observePoolVolumes') {
      world = { ...world, poolHasVolumes: (await executor.run(target, volumeInfo())).length > 0 };
      step = decideBrickMultiplex(world);
    }
    switch (step.kind) {
      case 'observePoolVolumes':
        return { status: recorded, changed: false };
      case 'none':
        return { status: step.status, changed: false };
      case 'record':
        if (step.event) await ctx.events.normal(cluster, step.event.reason, step.event.message);
        return { status: step.status, changed: false };
      case 'setMultiplex':
      case 'setMaxBricksPerProcess':
        await executor.run(target, step.kind === 'setMultiplex' ? brickMultiplexSet(step.enabled) : maxBricksPerProcessSet(step.count));
        ctx.logger.info('brick multiplexing changed', { cluster: `${cluster.metadata.namespace}/${cluster.metadata.name}`, change: step.event.message });
        await ctx.events.normal(cluster, step.event.reason, step.event.message);
        return { status: step.status, changed: true };
    }
  } catch (error) {
    if (!isRetryable(error)) await ctx.events.warning(cluster, 'BrickMultiplexingFailed', `brick multiplexing (spec.brickMultiplexing): ${errorMessage(error)}`);
    return { status: recorded, changed: false };
  }
}

/** Server-side applies the DaemonSet; returns why it is not ready yet, or undefined when all pods are. */
async function applyDaemonSet(ctx: ReconcileContext, cluster: GlusterCluster): Promise<string | undefined> {
  const apps = ctx.kubeConfig.makeApiClient(k8s.AppsV1Api);
  const namespace = cluster.metadata.namespace ?? 'default';
  const daemonSet = renderGlusterdDaemonSet({
    clusterName: cluster.metadata.name,
    namespace,
    nodeSelector: cluster.spec.access.inCluster?.nodeSelector ?? { storagenode: 'glusterfs' },
    // Allowed, or the cluster was refused above: the DaemonSet's privileged pod settings are glusterd-daemonset.ts's own.
    image: requestedGlusterdImage(cluster.spec) ?? ctx.glusterdImage,
  }) as k8s.V1DaemonSet;
  daemonSet.metadata!.ownerReferences = [
    { apiVersion: GROUP_VERSION, kind: 'GlusterCluster', name: cluster.metadata.name, uid: cluster.metadata.uid!, controller: true, blockOwnerDeletion: true },
  ];
  const applied = await apps.patchNamespacedDaemonSet(
    { name: glusterdDaemonSetName(cluster.metadata.name), namespace, body: daemonSet, fieldManager: FIELD_MANAGER, force: true },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
  );
  return daemonSetWait({
    name: applied.metadata?.name,
    desired: applied.status?.desiredNumberScheduled ?? 0,
    ready: applied.status?.numberReady ?? 0,
    nodeSelector: daemonSet.spec?.template.spec?.nodeSelector,
  });
}

async function recordTopologyGeneration(ctx: ReconcileContext, cluster: GlusterCluster): Promise<void> {
  // The generation the backup must at least have; a lost backup is then known to be behind (see rebuild).
  const known = findCluster(ctx.topology.db, topologyName(cluster.metadata.namespace, cluster.metadata.name)) !== undefined;
  const generation = String(ctx.topology.db.generation);
  if (!shouldRecordGeneration(known, cluster.metadata.annotations?.[TOPOLOGY_GENERATION_ANNOTATION], generation)) return;
  await ctx.topology.flush();
  const custom = ctx.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  await custom.patchNamespacedCustomObject(
    {
      group: GROUP_VERSION.split('/')[0]!,
      version: GROUP_VERSION.split('/')[1]!,
      namespace: cluster.metadata.namespace ?? 'default',
      plural: 'glusterclusters',
      name: cluster.metadata.name,
      body: { metadata: { annotations: { [TOPOLOGY_GENERATION_ANNOTATION]: generation } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

async function finalizeCluster(ctx: ReconcileContext, cluster: GlusterCluster, volumes: number, nodes: number): Promise<ReconcileResult> {
  const step = decideClusterDeletion(volumes, nodes);
  if (step.kind === 'blocked') {
    await writeStatus(ctx, cluster, { state: 'degraded', reason: 'DeletionBlocked', message: step.message });
    await ctx.events.warning(cluster, 'DeletionBlocked', step.message);
    return { requeueAfterMs: step.requeueAfterMs };
  }
  const dbName = topologyName(cluster.metadata.namespace, cluster.metadata.name);
  ctx.topology.commit((db) => {
    if (!findCluster(db, dbName)) return db;
    return { ...db, generation: db.generation + 1, clusters: db.clusters.filter((c) => c.name !== dbName) };
  });
  await ctx.topology.flush();
  await ctx.access.forget(cluster);
  await removeFinalizer(ctx.clusters, cluster);
  return;
}

/** This kind's status write: the shared one (status.ts) with this kind's client. */
function writeStatus(
  ctx: ReconcileContext,
  object: GlusterCluster,
  phase: Phase,
  fields: Partial<NonNullable<GlusterCluster['status']>> = {},
  conditions: ConditionUpdate[] = [],
): Promise<void> {
  return writeObjectStatus(ctx.clusters, ctx.clock, object, phase, fields, conditions);
}
