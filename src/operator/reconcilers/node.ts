import type { GlusterCluster, GlusterNode } from '../../api/index.ts';
import type { ConditionUpdate, Phase } from '../../controller/conditions.ts';
import { errorMessage } from '../../controller/manager.ts';
import { NodeCommandError, isRetryable } from '../../gluster/errors.ts';
import { failureReason } from '../../gluster/executor.ts';
import { peerDetach, peerProbe, poolList } from '../../gluster/commands/gluster.ts';
import type { GlusterPeer } from '../../gluster/parsers/peer-status.ts';
import type { ReconcileResult } from '../../runtime/work-queue.ts';
import { deviceBrickCount, deviceFree, deviceId, findCluster, findDevice, findNode, removeDevice, removeNode, setNodeState, topologyName, type TopologyDatabase } from '../../topology/model.ts';
import { formatBytes } from '../../topology/sizing.ts';
import { AccessConfigError, nodeTarget, type ClusterAccess } from '../cluster-access.ts';
import { REQUEUE, splitKey, type ReconcileContext } from '../context.ts';
import { writeStatus as writeObjectStatus } from '../status.ts';
import { ensureFinalizer, removeFinalizer } from '../finalizers.ts';
import { filesystemSize } from '../node-commands.ts';
import { describeHeldChange, heldNodeChanges, syncDevice, syncNode, type HeldChange } from '../topology-sync.ts';
import { brickCountOnNode, volumesOnNode } from '../../topology/evacuation.ts';
import { evacuateNode, type EvacuationProgress } from './node-evacuation.ts';

/**
 * GlusterNode: joins the node to its cluster's trusted pool (probing from a node already in it), prepares
 * its devices (wiping only with destroyData; a device with data on it is refused and reported, untouched),
 * records them in the topology database and reports per-device size, free space and bricks. Deleting a node
 * (or spec.state Failed) moves its bricks to other nodes first; the finalizer holds the deletion until then.
 */
type DeviceStatus = NonNullable<NonNullable<GlusterNode['status']>['devices']>[number];

export async function reconcileNode(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  let node = await ctx.nodes.get(namespace, name);
  if (!node) return;
  if (node.metadata.deletionTimestamp) return finalizeNode(ctx, node);
  node = await ensureFinalizer(ctx.nodes, node);

  const cluster = await ctx.clusters.get(namespace, node.spec.cluster);
  if (!cluster) {
    await writeStatus(ctx, node, { state: 'failed', reason: 'ClusterNotFound', message: `spec.cluster: GlusterCluster ${namespace}/${node.spec.cluster} does not exist` });
    return { requeueAfterMs: REQUEUE.waiting };
  }
  let access: ClusterAccess;
  try {
    access = await ctx.access.forCluster(cluster);
  } catch (error) {
    if (error instanceof AccessConfigError) {
      await writeStatus(ctx, node, { state: 'failed', reason: 'AccessNotConfigured', message: error.message });
      return { requeueAfterMs: REQUEUE.waiting };
    }
    throw error;
  }
  ctx.topology.commit((db) => syncNode(db, node));
  if (node.spec.state === 'Failed') return evacuateFailedNode(ctx, access, node);
  // Before anything reaches the trusted pool: a held storageAddress must not be probed as a new peer name.
  const held = heldNodeChanges(ctx.topology.db, node);
  if (held.length > 0) return reportHeldChange(ctx, node, held);

  const target = nodeTarget(node);
  let pool: GlusterPeer[];
  try {
    pool = await access.executor.run(target, poolList());
  } catch (error) {
    if (!isRetryable(error)) throw error;
    await writeStatus(ctx, node, { state: 'failed', reason: 'Unreachable', message: errorMessage(error) });
    await ctx.events.warning(node, 'Unreachable', errorMessage(error));
    return { requeueAfterMs: REQUEUE.unreachable };
  }
  const peerUUID = pool.find((peer) => peer.isLocal)?.uuid;

  const joined = await joinPool(ctx, access, cluster, node, pool);
  if (!joined.ok) {
    await writeStatus(ctx, node, { state: 'progressing', reason: 'JoiningPool', message: joined.message }, { peerUUID });
    return { requeueAfterMs: REQUEUE.waiting };
  }

  const devices = await preparedDevices(ctx, access, cluster, node);
  const db = ctx.topology.db;
  const deviceStatuses = devices.map((device) => withUsage(db, node, device));
  const ready = deviceStatuses.filter((device) => device.state === 'Ready');
  // From the database, replaced bricks not yet removed included: the CRD's storageAddress rule reads it.
  const bricks = brickCountOnNode(db, topologyName(node.metadata.namespace, node.metadata.name));
  const refused = deviceStatuses.filter((device) => device.state !== 'Ready');
  const phase: Phase =
    node.spec.state !== 'Online'
      ? { state: 'degraded', reason: `Node${node.spec.state}`, message: `spec.state is ${node.spec.state}: no new bricks are placed here` }
      : refused.length > 0
        ? { state: 'degraded', reason: 'DeviceRefused', message: refused.map((d) => `${d.name}: ${d.message ?? d.state}`).join('; ') }
        : { state: 'ready', reason: 'NodeReady', message: `in the trusted pool with ${ready.length} device(s) ready` };
  await writeStatus(ctx, node, phase, { peerUUID, devices: deviceStatuses, readyDevices: ready.length, bricks });
  return { requeueAfterMs: REQUEUE.steady };
}

/** A spec change the database did not take (topology-sync.ts): said in status and a Warning Event, nothing else done. */
async function reportHeldChange(ctx: ReconcileContext, node: GlusterNode, held: HeldChange[]): Promise<ReconcileResult> {
  const message = held.map((change) => describeHeldChange(change, 'on this node')).join('; ');
  await writeStatus(ctx, node, { state: 'degraded', reason: 'StorageAddressInUse', message }, { bricks: held[0]!.bricks });
  await ctx.events.warning(node, 'StorageAddressInUse', message);
  return { requeueAfterMs: REQUEUE.waiting };
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
  for (const other of await otherMembers(ctx, node)) {
    // Already a peer of ours: nothing to ask the other node (the usual case, one command fewer per member).
    if (peerAt(pool, other.spec.storageAddress)) return { ok: true };
    let otherPool: GlusterPeer[];
    try {
      otherPool = await access.executor.run(nodeTarget(other), poolList());
    } catch (error) {
      if (isRetryable(error)) continue; // that member is down; try the next one
      throw error;
    }
    if (peerAt(otherPool, node.spec.storageAddress)) return { ok: true };
    // The anchor (first reachable by name) probes newcomers; a newcomer that sorts first waits to be probed.
    if (node.metadata.name.localeCompare(other.metadata.name) < 0 && pool.length <= 1 && otherPool.length <= 1) {
      await access.executor.run(nodeTarget(node), peerProbe(other.spec.storageAddress));
    } else {
      await access.executor.run(nodeTarget(other), peerProbe(node.spec.storageAddress));
    }
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

/** The pool entry of the peer with this address, as its hostname or any of its other names. */
function peerAt(pool: GlusterPeer[], address: string): GlusterPeer | undefined {
  return pool.find((peer) => peer.hostname === address || peer.hostnames.includes(address));
}

/**
 * Device preparation observes every device over SSH (blkid, vgs, df…). A node is reconciled much more often
 * than its devices change — each status write of a volume with bricks on it triggers it — so the result is
 * reused for the same spec generation for a while; a spec change, or the time running out, prepares again.
 */
const PREPARED_DEVICES_TTL_MS = 60_000;
const preparedCache = new WeakMap<ReconcileContext, Map<string, { generation: number | undefined; at: number; devices: PreparedDeviceState[] }>>();

async function preparedDevices(ctx: ReconcileContext, access: ClusterAccess, cluster: GlusterCluster, node: GlusterNode): Promise<PreparedDeviceState[]> {
  let cache = preparedCache.get(ctx);
  if (!cache) preparedCache.set(ctx, (cache = new Map()));
  const key = `${node.metadata.namespace}/${node.metadata.name}/${node.metadata.uid ?? ''}`;
  const cached = cache.get(key);
  const now = ctx.clock.now();
  if (cached && cached.generation === node.metadata.generation && now - cached.at < PREPARED_DEVICES_TTL_MS) return cached.devices;
  const devices = await prepareDevices(ctx, access, cluster, node);
  cache.set(key, { generation: node.metadata.generation, at: now, devices });
  return devices;
}

interface PreparedDeviceState {
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
  if (layout.brickBackend !== 'LVM') {
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
  for (const device of node.spec.devices) {
    try {
      const prepared = await access.backend.prepareDevice(target, { path: device.name, id: deviceId(name, device.name), destroyData: device.destroyData });
      const size = prepared.sizeBytes ?? 0;
      ctx.topology.commit((db) => syncDevice(db, name, { path: device.name, sizeBytes: size, ...(device.tags ? { tags: device.tags } : {}) }));
      results.push({ name: device.name, state: 'Ready', size });
    } catch (error) {
      if (isRetryable(error)) throw error;
      if (!(error instanceof NodeCommandError)) throw error;
      const missing = failureReason(error) === 'no-such-device';
      results.push({ name: device.name, state: missing ? 'Missing' : 'Refused', message: error.message });
      await ctx.events.warning(node, missing ? 'DeviceMissing' : 'DeviceRefused', error.message);
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
  };
}

/**
 * Deletion: the node's bricks move to other nodes first (node-evacuation.ts); then the node leaves the
 * trusted pool and the topology database, and the finalizer goes. A volume whose bricks cannot move keeps
 * the deletion waiting, with the reason in status and an Event: nothing is dropped.
 */
async function finalizeNode(ctx: ReconcileContext, node: GlusterNode): Promise<ReconcileResult> {
  const dbName = topologyName(node.metadata.namespace, node.metadata.name);
  // A node on its way out takes no bricks: neither new volumes nor the bricks other leaving nodes give away
  // (nodes deleted together would otherwise pass bricks back and forth).
  const known = findNode(ctx.topology.db, dbName);
  if (known && known.state !== 'Failed') ctx.topology.commit((db) => setNodeState(db, dbName, 'Failed'));
  const holdsBricks = volumesOnNode(ctx.topology.db, dbName).length > 0;
  const cluster = await ctx.clusters.get(node.metadata.namespace ?? 'default', node.spec.cluster);
  let access: ClusterAccess | undefined;
  try {
    access = cluster ? await ctx.access.forCluster(cluster) : undefined;
  } catch (error) {
    if (!(error instanceof AccessConfigError)) throw error;
  }
  if (holdsBricks) {
    if (!access) {
      const message = `deletion waits: the node holds bricks and GlusterCluster ${node.spec.cluster} is ${cluster ? 'not reachable (access not configured)' : 'gone'}, so they cannot be moved`;
      await writeStatus(ctx, node, { state: 'degraded', reason: 'DeletionBlocked', message });
      return { requeueAfterMs: REQUEUE.unreachable };
    }
    const progress = await evacuateNode(ctx, access, node);
    if (!progress.done) return reportEvacuation(ctx, node, progress, 'deletion waits');
  }
  if (access) {
    // The address the pool knows the node by: the database's, which a refused storageAddress change did not touch.
    const detached = await leavePool(ctx, access, node, known?.storage ?? node.spec.storageAddress);
    if (!detached.ok) {
      await writeStatus(ctx, node, { state: 'degraded', reason: 'PeerDetachFailed', message: detached.message }, { evacuation: { remainingBricks: 0, message: 'no bricks left on this node' } });
      await ctx.events.warning(node, 'PeerDetachFailed', detached.message);
      return { requeueAfterMs: REQUEUE.unreachable };
    }
  }
  const deviceIds = new Set(ctx.topology.db.devices.filter((device) => device.node === dbName).map((device) => device.id));
  ctx.topology.commit((current) => {
    let next = current;
    for (const id of deviceIds) next = removeDevice(next, id);
    return findNode(next, dbName) ? removeNode(next, dbName) : next;
  });
  await ctx.topology.flush();
  await removeFinalizer(ctx.nodes, node);
  return;
}

/** spec.state Failed: the node takes no bricks and gives away the ones it has, without being deleted. */
async function evacuateFailedNode(ctx: ReconcileContext, access: ClusterAccess, node: GlusterNode): Promise<ReconcileResult> {
  const progress = await evacuateNode(ctx, access, node);
  if (!progress.done) return reportEvacuation(ctx, node, progress, 'spec.state is Failed');
  await writeStatus(
    ctx,
    node,
    { state: 'degraded', reason: 'NodeFailed', message: 'spec.state is Failed: all bricks moved to other nodes; no new bricks are placed here' },
    { bricks: 0, evacuation: { remainingBricks: 0, message: progress.message } },
  );
  return { requeueAfterMs: REQUEUE.steady };
}

async function reportEvacuation(ctx: ReconcileContext, node: GlusterNode, progress: EvacuationProgress, why: string): Promise<ReconcileResult> {
  const blocked = progress.blocked.length > 0;
  const message = `${why}: ${progress.message}`;
  await writeStatus(ctx, node, { state: blocked ? 'degraded' : 'progressing', reason: blocked ? 'EvacuationBlocked' : 'Evacuating', message }, {
    bricks: progress.remainingBricks,
    evacuation: {
      remainingBricks: progress.remainingBricks,
      ...(progress.healingVolumes.length > 0 ? { healingVolumes: progress.healingVolumes } : {}),
      ...(blocked ? { blockedVolumes: progress.blocked.map((entry) => entry.volume) } : {}),
      message: progress.message,
    },
  });
  if (blocked) await ctx.events.warning(node, 'EvacuationBlocked', message);
  return { requeueAfterMs: blocked ? REQUEUE.unreachable : REQUEUE.waiting };
}

/**
 * Detaches the node from the trusted pool, from another member (the node itself may be gone). Idempotent:
 * a node the pool no longer lists is done. A peer that cannot be reached is detached with `force` only
 * when spec.forceRemoval says the server is gone for good.
 */
async function leavePool(ctx: ReconcileContext, access: ClusterAccess, node: GlusterNode, address: string): Promise<{ ok: true } | { ok: false; message: string }> {
  for (const member of await otherMembers(ctx, node)) {
    let pool: GlusterPeer[];
    try {
      pool = await access.executor.run(nodeTarget(member), poolList());
    } catch (error) {
      if (isRetryable(error)) continue;
      throw error;
    }
    const peer = peerAt(pool.filter((entry) => !entry.isLocal), address);
    if (!peer) return { ok: true };
    try {
      await access.executor.run(nodeTarget(member), peerDetach(peer.hostname, { force: node.spec.forceRemoval && !peer.connected }));
    } catch (error) {
      return { ok: false, message: `gluster peer detach ${peer.hostname} failed: ${errorMessage(error)}${peer.connected ? '' : ' (the peer is disconnected; spec.forceRemoval detaches it anyway)'}` };
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
