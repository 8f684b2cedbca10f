import type { GlusterNode } from '../../api/index.ts';
import { brickCountOnNode, volumesOnNode } from '../../topology/evacuation.ts';
import { brickNode, findNode, topologyName, type TopologyDatabase, type TopologyVolume } from '../../topology/model.ts';
import type { VolumeEvacuationReport } from '../evacuation-reports.ts';

/**
 * The hand-over between the two reconcilers, pure: a leaving GlusterNode wakes the volumes it holds bricks
 * of (volumeKeysToWake); each volume's reconcile moves its own bricks off it (leavingNodesToEvacuate says
 * which nodes, and when); the node reports what the volumes said (summarizeEvacuation). The node
 * reconciler never changes a volume's bricks.
 */
export interface EvacuationProgress {
  done: boolean;
  remainingBricks: number;
  healingVolumes: string[];
  blocked: Array<{ volume: string; reason: string }>;
  message: string;
}

type NodeLike = Pick<GlusterNode, 'metadata' | 'spec'>;

/** Leaving: being deleted, or spec.state Failed. Both move every brick off the node first. */
export function isLeavingNode(node: NodeLike): boolean {
  return node.metadata.deletionTimestamp !== undefined || node.spec.state === 'Failed';
}

/** The GlusterVolume keys (`<namespace>/<name>`, as topology names are) with bricks on a leaving node; none otherwise. */
export function volumeKeysToWake(db: TopologyDatabase, node: NodeLike): string[] {
  if (!isLeavingNode(node)) return [];
  return volumesOnNode(db, topologyName(node.metadata.namespace, node.metadata.name)).map((volume) => volume.name);
}

export type LeavingNodesDecision<N extends NodeLike = NodeLike> = { kind: 'none' } | { kind: 'evacuate'; nodes: N[] } | { kind: 'wait'; why: string };

/**
 * Which leaving nodes of the volume's namespace this reconcile moves the volume's bricks off. Only once the
 * node reconciler has marked every leaving node of the cluster Failed in the database: a replacement is
 * placed on Online nodes only, and a node deleted a moment ago but not marked yet would otherwise be chosen
 * to receive bricks it must give away again.
 */
export function leavingNodesToEvacuate<N extends NodeLike>(db: TopologyDatabase, volume: TopologyVolume, nodes: readonly N[]): LeavingNodesDecision<N> {
  const leaving = nodes.filter(isLeavingNode);
  const holding = new Set(nodesOfVolume(db, volume));
  const mine = leaving.filter((node) => holding.has(topologyName(node.metadata.namespace, node.metadata.name)));
  if (mine.length === 0) return { kind: 'none' };
  const unmarked = leaving.filter((node) => {
    const known = findNode(db, topologyName(node.metadata.namespace, node.metadata.name));
    return known !== undefined && known.cluster === volume.cluster && known.state !== 'Failed';
  });
  if (unmarked.length > 0) {
    return { kind: 'wait', why: `node(s) ${unmarked.map((node) => node.metadata.name).join(', ')} leaving but not yet marked Failed by the node reconciler` };
  }
  return { kind: 'evacuate', nodes: mine };
}

/** Topology names of the nodes holding a brick (or a replaced brick's remains) of the volume. */
function nodesOfVolume(db: TopologyDatabase, volume: TopologyVolume): string[] {
  return [...volume.bricks, ...(volume.retiredBricks ?? [])].map((brick) => brickNode(db, brick).name);
}

/** The node's progress from the database (what is left on it) and what each volume's last pass said. */
export function summarizeEvacuation(db: TopologyDatabase, leaving: string, reports: ReadonlyMap<string, VolumeEvacuationReport>): EvacuationProgress {
  const healingVolumes: string[] = [];
  const blocked: Array<{ volume: string; reason: string }> = [];
  const waiting: string[] = [];
  for (const volume of volumesOnNode(db, leaving)) {
    const report = reports.get(volume.name);
    if (!report) {
      waiting.push(`${volume.gluster}: waiting for its GlusterVolume's reconcile to move it`);
      continue;
    }
    const { state } = report;
    if (state.kind === 'done') continue;
    if (state.kind === 'blocked') blocked.push({ volume: report.gluster, reason: state.reason });
    else waiting.push(`${report.gluster}: ${state.reason}`);
    if (state.kind === 'healing') healingVolumes.push(report.gluster);
  }
  const remainingBricks = brickCountOnNode(db, leaving);
  const parts = [...blocked.map(({ volume, reason }) => `cannot move ${volume}: ${reason}`), ...waiting];
  return {
    done: remainingBricks === 0,
    remainingBricks,
    healingVolumes,
    blocked,
    message: remainingBricks === 0 ? 'no bricks left on this node' : `${remainingBricks} brick(s) still on this node; ${parts.join('; ') || 'moving'}`,
  };
}
