import type { GlusterNode } from '../../api/index.ts';
import type { Phase } from '../../controller/conditions.ts';
import type { GlusterPeer } from '../../gluster/parsers/peer-status.ts';
import { REQUEUE } from '../context.ts';
import type { ClusterRefusal } from './cluster-policy.ts';
import type { HeldChange } from '../topology-sync.ts';
import type { EvacuationProgress } from './evacuation-handover.ts';

/**
 * The GlusterNode reconcile's decisions, as pure functions of what it observed (node.ts observes, acts and
 * reports): whether the node's cluster is served at all, which guard stops the pass, who probes whom into the
 * trusted pool, what a failed device preparation means, the node's phase, how an evacuation is reported, and
 * the steps of a deletion (evacuate, detach from the pool, remove the finalizer). Each case has a unit test (test/unit/operator-node-decisions.test.ts).
 */
type DeviceStatus = NonNullable<NonNullable<GlusterNode['status']>['devices']>[number];

/** A status to write (and maybe a Warning Event under the phase's reason), then requeue. */
export interface NodeReport {
  phase: Phase;
  fields: Partial<NonNullable<GlusterNode['status']>>;
  warn: boolean;
  requeueAfterMs: number;
}

export type NodeGuard = { kind: 'stop'; report: NodeReport } | { kind: 'proceed' };

/**
 * The node's cluster is not served (cluster-policy.ts): said in status, and nothing else is done for the node
 * (no finalizer, no database entry, no command). Its cluster carries the Warning Event.
 */
export function refusedNodeReport(clusterName: string, refusal: ClusterRefusal): NodeReport {
  return { phase: { state: 'failed', reason: refusal.reason, message: `GlusterCluster ${clusterName}: ${refusal.message}` }, fields: {}, warn: false, requeueAfterMs: REQUEUE.steady };
}

/** Before the topology database is touched: the cluster must exist and its access be configured. */
export function decideAccessGuard(world: { namespace: string; clusterName: string; clusterExists: boolean; accessError?: string }): NodeGuard {
  if (!world.clusterExists) {
    return stop({ state: 'failed', reason: 'ClusterNotFound', message: `spec.cluster: GlusterCluster ${world.namespace}/${world.clusterName} does not exist` }, {}, false, REQUEUE.waiting);
  }
  if (world.accessError !== undefined) return stop({ state: 'failed', reason: 'AccessNotConfigured', message: world.accessError }, {}, false, REQUEUE.waiting);
  return { kind: 'proceed' };
}

/** After syncing the node into the database: a Failed node is evacuated; a held change stops before the pool is touched. */
export type NodeRoute = { kind: 'evacuate' } | { kind: 'stop'; report: NodeReport } | { kind: 'join' };

export function decideNodeRoute(world: { specState: GlusterNode['spec']['state']; held: HeldChange[]; heldMessage: string }): NodeRoute {
  if (world.specState === 'Failed') return { kind: 'evacuate' };
  // Before anything reaches the trusted pool: a held storageAddress must not be probed as a new peer name.
  if (world.held.length > 0) {
    return stop({ state: 'degraded', reason: 'StorageAddressInUse', message: world.heldMessage }, { bricks: world.held[0]!.bricks }, true, REQUEUE.waiting);
  }
  return { kind: 'join' };
}

/** The node's own pool list could not be had (a retryable failure). */
export function unreachableReport(message: string): NodeReport {
  return { phase: { state: 'failed', reason: 'Unreachable', message }, fields: {}, warn: true, requeueAfterMs: REQUEUE.unreachable };
}

/**
 * The node's SSH host key was refused (not spec.sshHostKey's, or not the pinned one): nothing runs on it until
 * a human acts. The message names both fingerprints and what to do; checked again at the unreachable pace,
 * since removing a pin (a Secret edit) does not trigger a reconcile.
 */
export function hostKeyRefusedReport(message: string): NodeReport {
  return { phase: { state: 'failed', reason: 'HostKeyRefused', message }, fields: {}, warn: true, requeueAfterMs: REQUEUE.unreachable };
}

/** The pool entry of the peer with this address, as its hostname or any of its other names. */
export function peerAt(pool: readonly GlusterPeer[], address: string): GlusterPeer | undefined {
  return pool.find((peer) => peer.hostname === address || peer.hostnames.includes(address));
}

export interface JoinWorld {
  node: { name: string; address: string };
  /** The pool as this node lists it. */
  pool: readonly GlusterPeer[];
  /** The other member asked, in name order. */
  other: { name: string; address: string };
  /** The pool as the other member lists it; undefined until asked. */
  otherPool?: readonly GlusterPeer[];
}

export type JoinStep = { kind: 'joined' } | { kind: 'observeOther' } | { kind: 'probe'; from: 'self' | 'other'; address: string };

/**
 * One member of the pool, in name order, so every node joins the same pool (two nodes probing each other
 * from separate pools would make two clusters): the lexically first reachable node is the anchor.
 */
export function decideJoin(world: JoinWorld): JoinStep {
  // Already a peer of ours: nothing to ask the other node (the usual case, one command fewer per member).
  if (peerAt(world.pool, world.other.address)) return { kind: 'joined' };
  if (world.otherPool === undefined) return { kind: 'observeOther' };
  if (peerAt(world.otherPool, world.node.address)) return { kind: 'joined' };
  // The anchor (first reachable by name) probes newcomers; a newcomer that sorts first waits to be probed.
  if (world.node.name.localeCompare(world.other.name) < 0 && world.pool.length <= 1 && world.otherPool.length <= 1) {
    return { kind: 'probe', from: 'self', address: world.other.address };
  }
  return { kind: 'probe', from: 'other', address: world.node.address };
}

/** Joining the pool did not finish this pass. */
export function joiningReport(message: string, peerUUID: string | undefined): NodeReport {
  return { phase: { state: 'progressing', reason: 'JoiningPool', message }, fields: { peerUUID }, warn: false, requeueAfterMs: REQUEUE.waiting };
}

/** Bricks come from the filesystem under directoryRoot unless the cluster's layout (as the database holds it) is LVM. */
export function preparesDirectory(layout: { brickBackend?: string }): boolean {
  return layout.brickBackend !== 'LVM';
}

/** Device preparation is reused for the same spec generation for a while. */
export const PREPARED_DEVICES_TTL_MS = 60_000;

export function preparedStillValid(cached: { generation: number | undefined; at: number } | undefined, generation: number | undefined, now: number): boolean {
  return cached !== undefined && cached.generation === generation && now - cached.at < PREPARED_DEVICES_TTL_MS;
}

/** A device preparation that failed: passed on (retry the whole pass), or the device reported Missing or Refused, untouched. */
export type DeviceFailure = { kind: 'rethrow' } | { kind: 'report'; state: 'Missing' | 'Refused'; event: 'DeviceMissing' | 'DeviceRefused' };

export function classifyDeviceFailure(failure: { retryable: boolean; nodeCommand: boolean; reason: string | undefined }): DeviceFailure {
  if (failure.retryable || !failure.nodeCommand) return { kind: 'rethrow' };
  const missing = failure.reason === 'no-such-device';
  return { kind: 'report', state: missing ? 'Missing' : 'Refused', event: missing ? 'DeviceMissing' : 'DeviceRefused' };
}

export function nodePhase(specState: GlusterNode['spec']['state'], devices: readonly DeviceStatus[]): Phase {
  const ready = devices.filter((device) => device.state === 'Ready');
  const refused = devices.filter((device) => device.state !== 'Ready');
  if (specState !== 'Online') return { state: 'degraded', reason: `Node${specState}`, message: `spec.state is ${specState}: no new bricks are placed here` };
  if (refused.length > 0) return { state: 'degraded', reason: 'DeviceRefused', message: refused.map((d) => `${d.name}: ${d.message ?? d.state}`).join('; ') };
  return { state: 'ready', reason: 'NodeReady', message: `in the trusted pool with ${ready.length} device(s) ready` };
}

/** An evacuation not done yet: progressing, or blocked (a Warning Event, and a longer wait). */
/** A finished evacuation, with the lists of the last pass that moved something emptied (a merge patch keeps what it does not name). */
const NOTHING_MOVING = { remainingBricks: 0, healingVolumes: [], blockedVolumes: [] };

export function evacuationReport(progress: EvacuationProgress, why: string): NodeReport {
  const blocked = progress.blocked.length > 0;
  const message = `${why}: ${progress.message}`;
  return {
    phase: { state: blocked ? 'degraded' : 'progressing', reason: blocked ? 'EvacuationBlocked' : 'Evacuating', message },
    fields: {
      bricks: progress.remainingBricks,
      evacuation: {
        remainingBricks: progress.remainingBricks,
        // Written even when empty: status is merge-patched, and a list left out would keep the last pass's entries.
        healingVolumes: progress.healingVolumes,
        blockedVolumes: progress.blocked.map((entry) => entry.volume),
        message: progress.message,
      },
    },
    warn: blocked,
    requeueAfterMs: blocked ? REQUEUE.unreachable : REQUEUE.waiting,
  };
}

/** spec.state Failed: reported while bricks remain, NodeFailed once none do. */
export function failedNodeReport(progress: EvacuationProgress): NodeReport {
  if (!progress.done) return evacuationReport(progress, 'spec.state is Failed');
  return {
    phase: { state: 'degraded', reason: 'NodeFailed', message: 'spec.state is Failed: all bricks moved to other nodes; no new bricks are placed here' },
    fields: { bricks: 0, evacuation: { ...NOTHING_MOVING, message: progress.message } },
    warn: false,
    requeueAfterMs: REQUEUE.steady,
  };
}

/** A node being deleted is marked Failed in the database (it takes no bricks) unless it already is or is unknown. */
export function marksFailedOnDeletion(known: { state: string } | undefined): boolean {
  return known !== undefined && known.state !== 'Failed';
}

export interface NodeDeletionWorld {
  clusterName: string;
  clusterExists: boolean;
  hasAccess: boolean;
  holdsBricks: boolean;
  /** This pass's evacuation, once run. */
  evacuation?: EvacuationProgress;
  /** This pass's detach from the pool, once tried. */
  detached?: { ok: true } | { ok: false; message: string };
}

export type NodeDeletionStep = { kind: 'report'; report: NodeReport } | { kind: 'evacuate' } | { kind: 'detach' } | { kind: 'remove' };

/** Deletion: bricks move away first, then the node leaves the pool, then the database and the finalizer. */
export function decideNodeDeletion(world: NodeDeletionWorld): NodeDeletionStep {
  if (world.holdsBricks) {
    if (!world.hasAccess) {
      const message = `deletion waits: the node holds bricks and GlusterCluster ${world.clusterName} is ${world.clusterExists ? 'not reachable (access not configured)' : 'gone'}, so they cannot be moved`;
      return { kind: 'report', report: { phase: { state: 'degraded', reason: 'DeletionBlocked', message }, fields: {}, warn: false, requeueAfterMs: REQUEUE.unreachable } };
    }
    if (world.evacuation === undefined) return { kind: 'evacuate' };
    if (!world.evacuation.done) return { kind: 'report', report: evacuationReport(world.evacuation, 'deletion waits') };
  }
  if (world.hasAccess) {
    if (world.detached === undefined) return { kind: 'detach' };
    if (!world.detached.ok) {
      return {
        kind: 'report',
        report: {
          phase: { state: 'degraded', reason: 'PeerDetachFailed', message: world.detached.message },
          fields: { evacuation: { ...NOTHING_MOVING, message: 'no bricks left on this node' } },
          warn: true,
          requeueAfterMs: REQUEUE.unreachable,
        },
      };
    }
  }
  return { kind: 'remove' };
}

/** The address the pool knows the node by: the database's, which a refused storageAddress change did not touch. */
export function detachAddress(known: { storage: string } | undefined, specAddress: string): string {
  return known?.storage ?? specAddress;
}

/**
 * What one reachable member's pool list says of the leaving node: gone already, detach it (force only for a
 * lost server), or nothing: a member with no peers at all has left the pool itself (it was detached first, as
 * when several nodes are deleted together), so its list cannot show whether the leaving node is still peered
 * with the others; ask another member.
 */
export type DetachStep = { kind: 'gone' } | { kind: 'detach'; peer: GlusterPeer; force: boolean } | { kind: 'cannotTell' };

export function decideDetach(pool: readonly GlusterPeer[], address: string, forceRemoval: boolean): DetachStep {
  const peers = pool.filter((entry) => !entry.isLocal);
  if (peers.length === 0) return { kind: 'cannotTell' };
  const peer = peerAt(peers, address);
  if (!peer) return { kind: 'gone' };
  return { kind: 'detach', peer, force: forceRemoval && !peer.connected };
}

export function detachFailedMessage(peer: GlusterPeer, error: string): string {
  return `gluster peer detach ${peer.hostname} failed: ${error}${peer.connected ? '' : ' (the peer is disconnected; spec.forceRemoval detaches it anyway)'}`;
}

function stop(phase: Phase, fields: NodeReport['fields'], warn: boolean, requeueAfterMs: number): NodeGuard & { kind: 'stop' } {
  return { kind: 'stop', report: { phase, fields, warn, requeueAfterMs } };
}
