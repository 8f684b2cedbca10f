import { type TopologyCluster, type TopologyDatabase } from '../model.ts';
import { formatBytes, brickAllocation, arbiterBrickSize } from '../sizing.ts';
import { setsFit, type CapacityView } from './capacity.ts';
import type { SizeAttempt } from './place-volume.ts';

/**
 * Why no layout exists, naming the constraint that failed, checked from the most basic (no nodes) to the
 * most specific (not enough room for that many sets). Computed only on failure, for the smallest brick size
 * tried, because a constraint that fails there fails for every larger brick too.
 */
export interface FailureContext {
  db: TopologyDatabase;
  request: {
    cluster: string;
    size: number;
    snapshotFactor: number;
    deviceSelector?: Record<string, string> | undefined;
    averageFileSize?: number | undefined;
  };
  cluster: TopologyCluster;
  view: CapacityView;
  free: Float64Array;
  layout: { perSet: number; arbiterPosition: number; strict: boolean };
  attempts: SizeAttempt[];
}

export function formatSelector(selector: Record<string, string>): string {
  return `{${Object.entries(selector)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')}}`;
}

export function explainFailure(ctx: FailureContext): string {
  const { cluster, view, free, layout, request } = ctx;
  const { entries } = view.ring;
  const name = cluster.name;
  if (view.ring.nodeCount === 0) return `cluster ${name} has no nodes`;
  if (entries.length === 0) return `cluster ${name} has no devices`;
  const online = entries.filter((e) => e.node.state === 'Online' && e.device.state === 'Online');
  if (!entries.some((e) => e.node.state === 'Online')) return `no node of cluster ${name} is Online (${view.ring.nodeCount} nodes)`;
  if (online.length === 0) return `no Online device on the Online nodes of cluster ${name}`;
  if (!view.eligible.includes(1)) return `no device matches deviceSelector ${formatSelector(request.deviceSelector ?? {})} (${online.length} Online devices in cluster ${name})`;

  const smallest = ctx.attempts[ctx.attempts.length - 1]!;
  const largest = ctx.attempts[0]!;
  const arbiter = layout.arbiterPosition >= 0;
  const dataBricks = layout.perSet - (arbiter ? 1 : 0);
  const dataAlloc = brickAllocation(smallest.brickSize, request.snapshotFactor, cluster.brickBackend);
  const arbiterAlloc = arbiter
    ? brickAllocation(arbiterBrickSize(smallest.brickSize, request.averageFileSize), request.snapshotFactor, cluster.brickBackend)
    : 0;
  const what = request.deviceSelector ? ` matching deviceSelector ${formatSelector(request.deviceSelector)}` : '';

  let largestFree = 0;
  const zonesWithRoom = new Set<number>();
  const nodesWithRoom = new Set<number>();
  const zonesWithAny = new Set<number>();
  const nodesWithAny = new Set<number>();
  entries.forEach((e, i) => {
    if (view.eligible[i] !== 1) return;
    largestFree = Math.max(largestFree, free[i]!);
    if (free[i]! >= dataAlloc) {
      zonesWithRoom.add(e.zoneIndex);
      nodesWithRoom.add(e.nodeIndex);
    }
    if (free[i]! >= Math.min(dataAlloc, arbiter ? arbiterAlloc : dataAlloc)) {
      zonesWithAny.add(e.zoneIndex);
      nodesWithAny.add(e.nodeIndex);
    }
  });
  const brick = formatBytes(smallest.brickSize);
  const withOverhead = dataAlloc !== smallest.brickSize ? ` (${formatBytes(dataAlloc)} with thin pool and metadata)` : '';
  if (largestFree < dataAlloc) {
    const floor = smallest.brickSize <= cluster.minBrickSize ? `min brick ${brick}` : `smallest brick tried ${brick}`;
    return `largest free device${what} has ${formatBytes(Math.max(0, largestFree))} < ${floor}${withOverhead}`;
  }
  if (layout.strict) {
    const zonesTotal = new Set(entries.filter((_, i) => view.eligible[i] === 1).map((e) => e.zoneIndex)).size;
    if (zonesTotal < layout.perSet) {
      return `strict zone checking needs ${layout.perSet} zones; cluster ${name} has Online devices${what} in only ${zonesTotal}`;
    }
    if (zonesWithRoom.size < dataBricks || zonesWithAny.size < layout.perSet) {
      return `only ${zonesWithRoom.size} zones have a device${what} with ${brick} free${withOverhead}; strict zone checking needs ${layout.perSet}`;
    }
  } else {
    const nodesTotal = new Set(entries.filter((_, i) => view.eligible[i] === 1).map((e) => e.nodeIndex)).size;
    if (nodesTotal < layout.perSet) {
      const devices = request.deviceSelector ? `a device${what}` : 'an Online device';
      return `only ${nodesTotal} nodes have ${devices}; a set of ${layout.perSet} bricks needs ${layout.perSet} distinct nodes`;
    }
    if (nodesWithRoom.size < dataBricks || nodesWithAny.size < layout.perSet) {
      return `only ${nodesWithRoom.size} nodes have a device${what} with ${brick} free${withOverhead}; a set of ${layout.perSet} bricks needs ${layout.perSet} distinct nodes`;
    }
  }
  let totalFree = 0;
  let devices = 0;
  entries.forEach((_, i) => {
    if (view.eligible[i] === 1 && free[i]! > 0) {
      totalFree += free[i]!;
      devices++;
    }
  });
  const rawNeeded = smallest.sets * (dataBricks * dataAlloc + arbiterAlloc);
  if (totalFree < rawNeeded) {
    return (
      `not enough free space: ${formatBytes(request.size)} in ${layout.perSet}-brick sets needs at least ${formatBytes(rawNeeded)} of devices${what}; ` +
      `cluster ${name} has ${formatBytes(totalFree)} free on ${devices} devices`
    );
  }
  if (!setsFit(view, free, smallest.sets, dataBricks, dataAlloc)) {
    const sizes = largest === smallest ? brick : `${formatBytes(largest.brickSize)} down to ${brick}`;
    return (
      `not enough free space for ${formatBytes(request.size)}: ${smallest.sets} sets of ${layout.perSet} bricks of ${brick} do not fit on distinct ` +
      `${layout.strict ? 'zones' : 'nodes'} (tried brick sizes ${sizes})`
    );
  }
  return `no layout for arbiter bricks of ${formatBytes(arbiterAlloc)}: every node with room is already in the set`;
}
