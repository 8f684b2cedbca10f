import type { Phase } from '../../controller/conditions.ts';
import { REQUEUE } from '../context.ts';
import type { ClusterRefusal } from './cluster-policy.ts';

/**
 * The GlusterCluster reconcile's decisions, as pure functions of what it observed (cluster.ts observes,
 * acts and reports): whether the cluster is served at all, whether a deletion may go ahead, whether the
 * glusterd DaemonSet is ready, which phase the node counts, peer count and held spec changes add up to, and
 * when the topology generation is recorded. Each case has a unit test (test/unit/operator-cluster-decisions.test.ts
 * and, for serving, operator-cluster-policy.test.ts).
 */

/** What the cluster's finalizer does: wait while anything still names the cluster, or let it go. */
export type ClusterDeletionStep = { kind: 'blocked'; message: string; requeueAfterMs: number } | { kind: 'remove' };

export function decideClusterDeletion(volumes: number, nodes: number): ClusterDeletionStep {
  if (volumes > 0 || nodes > 0) {
    return {
      kind: 'blocked',
      message: `deletion waits: ${volumes} GlusterVolume(s) and ${nodes} GlusterNode(s) still name this cluster; delete them first`,
      requeueAfterMs: REQUEUE.waiting,
    };
  }
  return { kind: 'remove' };
}

/** An External cluster whose access cannot be set up: failed, said in status and a Warning Event. */
export function accessNotConfigured(message: string): { phase: Phase; requeueAfterMs: number } {
  return { phase: { state: 'failed', reason: 'AccessNotConfigured', message }, requeueAfterMs: REQUEUE.waiting };
}

/**
 * A cluster the operator's settings do not serve (cluster-policy.ts): failed, said in status and a Warning
 * Event, and nothing else. Only a spec change (a watch event) or new settings (a restart) change the answer.
 */
export function refusedCluster(refusal: ClusterRefusal): { phase: Phase; requeueAfterMs: number } {
  return { phase: { state: 'failed', reason: refusal.reason, message: refusal.message }, requeueAfterMs: REQUEUE.steady };
}

/** What the applied DaemonSet reports, with the nodeSelector it was rendered with. */
export interface DaemonSetObservation {
  name: string | undefined;
  desired: number;
  ready: number;
  nodeSelector: unknown;
}

/** Why glusterd is not ready yet, or undefined when all its pods are. */
export function daemonSetWait(observed: DaemonSetObservation): string | undefined {
  if (observed.desired === 0) return `glusterd DaemonSet ${observed.name} matches no node (nodeSelector ${JSON.stringify(observed.nodeSelector)})`;
  if (observed.ready < observed.desired) return `glusterd pods ready: ${observed.ready} of ${observed.desired}`;
  return undefined;
}

/** The reason a held spec change is reported under: the first held field's. */
export function heldReason(held: ReadonlyArray<{ field: string }>): string {
  return held[0]!.field === 'spec.brickBackend' ? 'BrickBackendInUse' : 'DirectoryRootInUse';
}

export interface ClusterWorld {
  /** Spec changes the topology database did not take, and how they are described. */
  held: ReadonlyArray<{ field: string }>;
  heldMessage: string;
  /** InCluster: why the glusterd DaemonSet is not ready; undefined when it is (or the cluster is External). */
  daemonSetMessage: string | undefined;
  /** The cluster's GlusterNodes in list order, and whether each is Ready. */
  nodes: ReadonlyArray<{ name: string; ready: boolean }>;
  /** Peers in the pool as a Ready node lists it; undefined when no Ready node answered. */
  peers: number | undefined;
}

export function clusterPhase(world: ClusterWorld): Phase {
  const { held, nodes } = world;
  const ready = nodes.filter((node) => node.ready).length;
  if (held.length > 0) return { state: 'degraded', reason: heldReason(held), message: world.heldMessage };
  if (world.daemonSetMessage !== undefined) return { state: 'progressing', reason: 'WaitingForGlusterd', message: world.daemonSetMessage };
  if (nodes.length === 0) return { state: 'progressing', reason: 'NoNodes', message: 'no GlusterNode names this cluster yet' };
  if (ready === 0) return { state: 'failed', reason: 'NoNodeReady', message: `none of ${nodes.length} node(s) is Ready` };
  if (ready < nodes.length) {
    const notReady = nodes.filter((node) => !node.ready).map((node) => node.name);
    return { state: 'degraded', reason: 'NodesNotReady', message: `${nodes.length - ready} of ${nodes.length} node(s) not Ready: ${notReady.join(', ')}` };
  }
  return { state: 'ready', reason: 'ClusterReady', message: `${nodes.length} node(s) Ready, ${world.peers ?? '?'} peer(s) in the pool` };
}

export function clusterRequeue(phase: Phase): number {
  return phase.state === 'ready' ? REQUEUE.steady : REQUEUE.waiting;
}

/**
 * Whether the database generation is written to the cluster's annotation: only for a cluster the database
 * knows, and only when the annotation does not say it already.
 */
export function shouldRecordGeneration(known: boolean, annotation: string | undefined, generation: string): boolean {
  return known && annotation !== generation;
}
