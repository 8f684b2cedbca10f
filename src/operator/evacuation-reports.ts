/**
 * Where the volume reconciler leaves, for each leaving node, what its last pass did for each volume with
 * bricks there; the node reconciler reads it to report the evacuation's progress. The volume reconciler
 * alone changes a volume's bricks: a node that leaves (deleted, or spec.state Failed) only wakes the volumes
 * it holds bricks of and waits for them. In memory: after a restart the volume reconciles, woken by the
 * node's watch and their own requeues, fill it again, and until they have, the node reports them as waiting.
 */
export type VolumeEvacuationState = { kind: 'done' } | { kind: 'blocked' | 'waiting' | 'healing'; reason: string };

export interface VolumeEvacuationReport {
  /** The Gluster volume's name, which the node's status names. */
  gluster: string;
  state: VolumeEvacuationState;
}

export class EvacuationReports {
  readonly #byNode = new Map<string, Map<string, VolumeEvacuationReport>>();

  /** `node` and `volume` are topology names (`<namespace>/<name>`). */
  record(node: string, volume: string, report: VolumeEvacuationReport): void {
    let reports = this.#byNode.get(node);
    if (!reports) this.#byNode.set(node, (reports = new Map()));
    reports.set(volume, report);
  }

  of(node: string): ReadonlyMap<string, VolumeEvacuationReport> {
    return this.#byNode.get(node) ?? new Map();
  }

  /** The node is gone, or no longer leaving: what its volumes said is stale. */
  forgetNode(node: string): void {
    this.#byNode.delete(node);
  }
}
