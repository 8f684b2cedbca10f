import type { GlusterCluster, GlusterNode } from '../../api/index.ts';
import type { ConditionUpdate, Phase } from '../../controller/conditions.ts';
import { errorMessage } from '../../controller/manager.ts';
import { HostKeyMismatchError, NodeCommandError, isRetryable } from '../../gluster/errors.ts';
import { failureReason } from '../../gluster/executor.ts';
import { peerDetach, peerProbe, poolList } from '../../gluster/commands/gluster.ts';
import type { GlusterPeer } from '../../gluster/parsers/peer-status.ts';
import type { ReconcileResult } from '../../runtime/work-queue.ts';
import { deviceBrickCount, deviceFree, deviceId, findCluster, findDevice, findNode, removeDevice, removeNode, setNodeState, topologyName, type TopologyDatabase } from '../../topology/model.ts';
import { formatBytes } from '../../topology/sizing.ts';
import { AccessConfigError, nodeTarget, type ClusterAccess } from '../cluster-access.ts';
import { namespaceTerminating } from '../namespace-state.ts';
import { REQUEUE, splitKey, type ReconcileContext } from '../context.ts';
import { writeStatus as writeObjectStatus } from '../status.ts';
import { ensureFinalizer, removeFinalizer } from '../finalizers.ts';
import { filesystemSize } from '../node-commands.ts';
import { describeHeldChange, heldNodeChanges, syncDevice, syncNode } from '../topology-sync.ts';
import { brickCountOnNode, volumesOnNode } from '../../topology/evacuation.ts';
import { evacuationProgress } from './node-evacuation.ts';
import { carriedRecord, statusesAfterWipe, type DeviceRecord } from '../../bricks/device-decisions.ts';
import {
  classifyDeviceFailure,
  decideAccessGuard,
  decideDetach,
  decideJoin,
  decideNodeDeletion,
  decideNodeRoute,
  detachAddress,
  detachFailedMessage,
  failedNodeReport,
  hostKeyRefusedReport,
  joiningReport,
  marksFailedOnDeletion,
  nodePhase,
  preparedStillValid,
  preparesDirectory,
  refusedNodeReport,
  unreachableReport,
  type JoinWorld,
  type NodeDeletionWorld,
  type NodeReport,
} from './node-decisions.ts';

/**
 * GlusterNode: joins the node to its cluster's trusted pool (probing from a node already in it), prepares
 * its devices (wiping only with destroyData; a device with data on it is refused and reported, untouched),
 * records them in the topology database and reports per-device size, free space and bricks. Deleting a node
 * (or spec.state Failed) moves its bricks to other nodes first, done by each volume's own reconcile (which
 * this node's watch wakes; it never edits a volume's bricks itself); the finalizer holds the deletion until then.
 * A node of a cluster the operator does not serve (cluster-policy.ts) only has that said in its status.
 * Every branch is decided in node-decisions.ts (pure, unit-tested); this file observes, acts and reports.
 */
type DeviceStatus = NonNullable<NonNullable<GlusterNode['status']>['devices']>[number];

export async function reconcileNode(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  let node = await ctx.nodes.get(namespace, name);
  if (!node) return;
  if (node.metadata.deletionTimestamp) return finalizeNode(ctx, node);
  const cluster = await ctx.clusters.get(namespace, node.spec.cluster);
  const refusal = ctx.access.refusal(namespace, cluster);
  if (refusal) return report(ctx, node, refusedNodeReport(node.spec.cluster, refusal));
  node = await ensureFinalizer(ctx.nodes, node);

  let access: ClusterAccess | undefined;
  let accessError: string | undefined;
  try {
    access = cluster ? await ctx.access.forCluster(cluster) : undefined;
  } catch (error) {
    if (!(error instanceof AccessConfigError)) throw error;
    accessError = error.message;
  }
  const guard = decideAccessGuard({ namespace, clusterName: node.spec.cluster, clusterExists: cluster !== undefined, ...(accessError !== undefined ? { accessError } : {}) });
  if (guard.kind === 'stop') return report(ctx, node, guard.report);
  // The guard proceeds only with both: the cluster exists and its access was set up.
  const [theCluster, clusterAccess] = [cluster!, access!];
  ctx.topology.commit((db) => syncNode(db, node));
  const held = heldNodeChanges(ctx.topology.db, node);
  const route = decideNodeRoute({ specState: node.spec.state, held, heldMessage: held.map((change) => describeHeldChange(change, 'on this node')).join('; ') });
  // The volumes move their own bricks off a Failed node (woken by this node's watch); this reports their progress.
  if (route.kind === 'evacuate') return report(ctx, node, failedNodeReport(evacuationProgress(ctx, node)));
  ctx.evacuations.forgetNode(topologyName(node.metadata.namespace, node.metadata.name));
  if (route.kind === 'stop') return report(ctx, node, route.report);

  const target = nodeTarget(node);
  let pool: GlusterPeer[];
  try {
    pool = await clusterAccess.executor.run(target, poolList());
  } catch (error) {
    if (error instanceof HostKeyMismatchError) return report(ctx, node, hostKeyRefusedReport(error.message));
    if (!isRetryable(error)) throw error;
    return report(ctx, node, unreachableReport(errorMessage(error)));
  }
  const peerUUID = pool.find((peer) => peer.isLocal)?.uuid;

  const joined = await joinPool(ctx, clusterAccess, theCluster, node, pool);
  if (!joined.ok) return report(ctx, node, joiningReport(joined.message, peerUUID));

  const devices = await preparedDevices(ctx, clusterAccess, theCluster, node);
  const db = ctx.topology.db;
  const deviceStatuses = devices.map((device) => withUsage(db, node, device));
  const ready = deviceStatuses.filter((device) => device.state === 'Ready');
  // From the database, replaced bricks not yet removed included: the CRD's storageAddress rule reads it.
  const bricks = brickCountOnNode(db, topologyName(node.metadata.namespace, node.metadata.name));
  await writeStatus(ctx, node, nodePhase(node.spec.state, deviceStatuses), { peerUUID, devices: deviceStatuses, readyDevices: ready.length, bricks });
  return { requeueAfterMs: REQUEUE.steady };
}

/** Report: the status a decision chose, a Warning Event under its reason when it says so, and its requeue. */
async function report(ctx: ReconcileContext, node: GlusterNode, chosen: NodeReport): Promise<ReconcileResult> {
  await writeStatus(ctx, node, chosen.phase, chosen.fields);
  if (chosen.warn) await ctx.events.warning(node, chosen.phase.reason, chosen.phase.message);
  return { requeueAfterMs: chosen.requeueAfterMs };
}

/**
 * Probes this node into the pool from a member, in name order so every node joins the same pool (two
 * nodes probing each other from separate pools would make two clusters). The lexically first reachable
 * node is the anchor; it is "joined" by definition.
 */
async function joinPool(
  ctx: ReconcileContext,
  access: ClusterAccess,
  cluster: GlusterCluster,
  node: GlusterNode,
  pool: GlusterPeer[],
): Promise<{ ok: true } | { ok: false; message: string }> {
  const self = { name: node.metadata.name, address: node.spec.storageAddress };
  for (const other of await otherMembers(ctx, node)) {
    const world: JoinWorld = { node: self, pool, other: { name: other.metadata.name, address: other.spec.storageAddress } };
    let step = decideJoin(world);
    if (step.kind === 'observeOther') {
      try {
        world.otherPool = await access.executor.run(nodeTarget(other), poolList());
      } catch (error) {
        // That member is down, or its host key is refused (its own status says so): try the next one.
        if (isRetryable(error) || error instanceof HostKeyMismatchError) continue;
        throw error;
      }
      step = decideJoin(world);
    }
    if (step.kind !== 'probe') return { ok: true };
    await access.executor.run(nodeTarget(step.from === 'self' ? node : other), peerProbe(step.address));
    await ctx.events.normal(node, 'PeerProbed', `probed ${node.spec.storageAddress} into the pool of cluster ${cluster.metadata.name}`);
    return { ok: true };
  }
  return { ok: true }; // no other reachable member: this node is the pool for now
}

/** The other GlusterNodes of the node's cluster that are not being deleted, in name order. */
async function otherMembers(ctx: ReconcileContext, node: GlusterNode): Promise<GlusterNode[]> {
  return (await ctx.nodes.list(node.metadata.namespace))
    .filter((other) => other.spec.cluster === node.spec.cluster && other.metadata.name !== node.metadata.name && !other.metadata.deletionTimestamp)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/**
 * Device preparation observes every device over SSH (blkid, vgs, df…). A node is reconciled much more often
 * than its devices change — each status write of a volume with bricks on it triggers it — so the result is
 * reused for the same spec generation for a while; a spec change, or the time running out, prepares again.
 */
const preparedCache = new WeakMap<ReconcileContext, Map<string, { generation: number | undefined; at: number; devices: PreparedDeviceState[] }>>();

async function preparedDevices(ctx: ReconcileContext, access: ClusterAccess, cluster: GlusterCluster, node: GlusterNode): Promise<PreparedDeviceState[]> {
  let cache = preparedCache.get(ctx);
  if (!cache) preparedCache.set(ctx, (cache = new Map()));
  const key = `${node.metadata.namespace}/${node.metadata.name}/${node.metadata.uid ?? ''}`;
  const cached = cache.get(key);
  const now = ctx.clock.now();
  if (preparedStillValid(cached, node.metadata.generation, now)) return cached!.devices;
  const devices = await prepareDevices(ctx, access, cluster, node);
  cache.set(key, { generation: node.metadata.generation, at: now, devices });
  return devices;
}

interface PreparedDeviceState extends DeviceRecord {
  name: string;
  state: DeviceStatus['state'];
  size?: number;
  message?: string;
}

async function prepareDevices(ctx: ReconcileContext, access: ClusterAccess, cluster: GlusterCluster, node: GlusterNode): Promise<PreparedDeviceState[]> {
  const target = nodeTarget(node);
  const name = topologyName(node.metadata.namespace, node.metadata.name);
  // The brick layout as the database holds it: a change it did not take (bricks exist) is not prepared either.
  const layout = findCluster(ctx.topology.db, topologyName(cluster.metadata.namespace, cluster.metadata.name)) ?? cluster.spec;
  if (preparesDirectory(layout)) {
    // Bricks come from the filesystem under directoryRoot: it is this node's one "device".
    const root = layout.directoryRoot!;
    await access.backend.prepareDevice(target, { path: root, id: deviceId(name, root) });
    const fsSize = await access.executor.run(target, filesystemSize(root));
    const id = deviceId(name, root);
    // What our own bricks already take counts as capacity too: df only shows what is left.
    const ours = deviceUsedSafe(ctx.topology.db, id);
    ctx.topology.commit((db) => syncDevice(db, name, { path: root, sizeBytes: fsSize.availableBytes + ours }));
    return [{ name: root, state: 'Ready', size: fsSize.availableBytes + ours }];
  }
  const results: PreparedDeviceState[] = [];
  // The status as written so far: a wipe is recorded into it at once (below), so the next wipe's write keeps it.
  let written: DeviceStatus[] = [...(node.status?.devices ?? [])];
  for (const device of node.spec.devices) {
    const record = carriedRecord(written, device.name);
    const onRecord = async (update: DeviceRecord) => {
      Object.assign(record, update);
      if (update.wipedIdentity === undefined) return;
      // Right after the wipe, before pvcreate: a pass that dies now must still know this disk was wiped.
      written = statusesAfterWipe(written, device.name, record, { name: device.name, state: 'Pending' });
      await ctx.nodes.patchStatus(node.metadata.namespace ?? 'default', node.metadata.name, { devices: written });
    };
    try {
      const prepared = await access.backend.prepareDevice(target, { path: device.name, id: deviceId(name, device.name), destroyData: device.destroyData, recorded: { ...record }, record: onRecord });
      const size = prepared.sizeBytes ?? 0;
      ctx.topology.commit((db) => syncDevice(db, name, { path: device.name, sizeBytes: size, ...(device.tags ? { tags: device.tags } : {}) }));
      results.push({ name: device.name, state: 'Ready', size, ...record });
    } catch (error) {
      const failure = classifyDeviceFailure({ retryable: isRetryable(error), nodeCommand: error instanceof NodeCommandError, reason: failureReason(error) });
      if (failure.kind === 'rethrow') throw error;
      const message = (error as NodeCommandError).message;
      results.push({ name: device.name, state: failure.state, message, ...record });
      await ctx.events.warning(node, failure.event, message);
    }
  }
  return results;
}

function deviceUsedSafe(db: TopologyDatabase, id: string): number {
  const device = findDevice(db, id);
  return device ? device.size - deviceFree(db, id) : 0;
}

function withUsage(db: TopologyDatabase, node: GlusterNode, device: PreparedDeviceState): DeviceStatus {
  const id = deviceId(topologyName(node.metadata.namespace, node.metadata.name), device.name);
  const known = findDevice(db, id);
  return {
    name: device.name,
    state: device.state,
    ...(device.size !== undefined ? { size: formatBytes(device.size) } : {}),
    ...(known ? { free: formatBytes(deviceFree(db, id)), bricks: deviceBrickCount(db, id) } : {}),
    ...(device.message ? { message: device.message } : {}),
    ...(device.identity !== undefined ? { identity: device.identity } : {}),
    ...(device.wipedIdentity !== undefined ? { wipedIdentity: device.wipedIdentity } : {}),
  };
}

/**
 * Deletion: the node's bricks move to other nodes first (the volumes' reconciles, node-evacuation.ts); then the node leaves the
 * trusted pool and the topology database, and the finalizer goes. A volume whose bricks cannot move keeps
 * the deletion waiting, with the reason in status and an Event: nothing is dropped.
 */
async function finalizeNode(ctx: ReconcileContext, node: GlusterNode): Promise<ReconcileResult> {
  const dbName = topologyName(node.metadata.namespace, node.metadata.name);
  // A node on its way out takes no bricks: neither new volumes nor the bricks other leaving nodes give away
  // (nodes deleted together would otherwise pass bricks back and forth).
  const known = findNode(ctx.topology.db, dbName);
  if (marksFailedOnDeletion(known)) ctx.topology.commit((db) => setNodeState(db, dbName, 'Failed'));
  const holdsBricks = volumesOnNode(ctx.topology.db, dbName).length > 0;
  const cluster = await ctx.clusters.get(node.metadata.namespace ?? 'default', node.spec.cluster);
  // In a namespace being deleted, the Secret, the glusterd pods and the operator's grants there go first: what
  // fails then is decided as no access (the bricks stay on the disks; the pool is going with the namespace).
  const terminating = await namespaceTerminating(ctx, node.metadata.namespace ?? 'default');
  let access: ClusterAccess | undefined;
  try {
    access = cluster ? await ctx.access.forCluster(cluster) : undefined;
  } catch (error) {
    if (!(error instanceof AccessConfigError) && !terminating) throw error;
  }
  const world: NodeDeletionWorld = { clusterName: node.spec.cluster, clusterExists: cluster !== undefined, hasAccess: access !== undefined, holdsBricks };
  const orNoAccess = async <T>(act: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await act();
    } catch (error) {
      if (!terminating) throw error;
      world.hasAccess = false;
      return undefined;
    }
  };
  // Each step changes what the next decision sees: at most evacuate, detach, then remove or report.
  for (;;) {
    const step = decideNodeDeletion(world);
    switch (step.kind) {
      case 'report':
        return report(ctx, node, step.report);
      case 'evacuate':
        // What the volumes' own reconciles have done so far (they move the bricks; see node-evacuation.ts).
        world.evacuation = evacuationProgress(ctx, node);
        break;
      case 'detach':
        world.detached = await orNoAccess(() => leavePool(ctx, access!, node, detachAddress(known, node.spec.storageAddress)));
        break;
      case 'remove':
        return removeNodeRecord(ctx, node, dbName);
    }
  }
}

/** The node's devices and the node leave the topology database; once the backup holds that, the finalizer goes. */
async function removeNodeRecord(ctx: ReconcileContext, node: GlusterNode, dbName: string): Promise<ReconcileResult> {
  const deviceIds = new Set(ctx.topology.db.devices.filter((device) => device.node === dbName).map((device) => device.id));
  ctx.topology.commit((current) => {
    let next = current;
    for (const id of deviceIds) next = removeDevice(next, id);
    return findNode(next, dbName) ? removeNode(next, dbName) : next;
  });
  await ctx.topology.flush();
  ctx.evacuations.forgetNode(dbName);
  await removeFinalizer(ctx.nodes, node);
  return;
}

/**
 * The members to detach a leaving node through: those staying first, then those being deleted too (nodes
 * deleted together: the last two would otherwise each skip the other and stay peered).
 */
async function detachVia(ctx: ReconcileContext, node: GlusterNode): Promise<GlusterNode[]> {
  const members = (await ctx.nodes.list(node.metadata.namespace)).filter((other) => other.spec.cluster === node.spec.cluster && other.metadata.name !== node.metadata.name);
  const byName = (a: GlusterNode, b: GlusterNode) => a.metadata.name.localeCompare(b.metadata.name);
  return [...members.filter((other) => !other.metadata.deletionTimestamp).sort(byName), ...members.filter((other) => other.metadata.deletionTimestamp).sort(byName)];
}

/**
 * Detaches the node from the trusted pool, from another member (the node itself may be gone). Idempotent:
 * a node the pool no longer lists is done. A peer that cannot be reached is detached with `force` only
 * when spec.forceRemoval says the server is gone for good.
 */
async function leavePool(ctx: ReconcileContext, access: ClusterAccess, node: GlusterNode, address: string): Promise<{ ok: true } | { ok: false; message: string }> {
  for (const member of await detachVia(ctx, node)) {
    let pool: GlusterPeer[];
    try {
      pool = await access.executor.run(nodeTarget(member), poolList());
    } catch (error) {
      if (isRetryable(error) || error instanceof HostKeyMismatchError) continue;
      throw error;
    }
    const step = decideDetach(pool, address, node.spec.forceRemoval);
    if (step.kind === 'cannotTell') continue;
    if (step.kind === 'gone') return { ok: true };
    const { peer } = step;
    try {
      await access.executor.run(nodeTarget(member), peerDetach(peer.hostname, { force: step.force }));
    } catch (error) {
      // Through a member that is leaving too, detaching is best effort (glusterd refuses while a kept volume
      // has bricks on both): the next member is asked, and the deletion goes on when none could, as it did
      // before such members were asked at all. Not "done" at the first refusal: that member's pool list may
      // be stale (nodes deleted together detach one another through the cluster's mutation queue, so this one
      // may have left its pool just before), and stopping here left this node peered with the rest (fresh-clone
      // CI: the next suite's probe found "already part of another cluster").
      if (member.metadata.deletionTimestamp) continue;
      return { ok: false, message: detachFailedMessage(peer, errorMessage(error)) };
    }
    await ctx.events.normal(node, 'PeerDetached', `${peer.hostname} left the trusted pool of cluster ${node.spec.cluster}`);
    return { ok: true };
  }
  return { ok: true }; // no other reachable member: nothing left to detach from
}

/** This kind's status write: the shared one (status.ts) with this kind's client. */
function writeStatus(
  ctx: ReconcileContext,
  object: GlusterNode,
  phase: Phase,
  fields: Partial<NonNullable<GlusterNode['status']>> = {},
  conditions: ConditionUpdate[] = [],
): Promise<void> {
  return writeObjectStatus(ctx.nodes, ctx.clock, object, phase, fields, conditions);
}
