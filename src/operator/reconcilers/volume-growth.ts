import {
  brickFootprint,
  brickNode,
  dataBricksPerSet,
  deviceFree,
  findCluster,
  findDevice,
  volumeCapacity,
  type TopologyBrick,
  type TopologyDatabase,
  type TopologyVolume,
} from '../../topology/model.ts';
import { alignUp, arbiterBrickSize, formatBytes } from '../../topology/sizing.ts';

/**
 * How a GlusterVolume whose spec.size grew gets the capacity (pure): every brick grown in place (lvextend and
 * xfs_growfs, no add-brick, no rebalance, no new bricks to spread) when that can be done, else new sets as
 * before (volume-actions.ts, growVolume). In place needs LVM bricks the operator made, one new size for every
 * data brick within maxBrickSize, every brick's node and device Online, and room on each device for the
 * growth of all this volume's bricks on it, counted by the one sizing rule (brickFootprint: thin pool and
 * metadata with the volume's snapshot factor), the same the database's own update checks.
 */
export type GrowthPlan =
  | {
      kind: 'inPlace';
      /** Every data brick's new size (whole extents, so whole KiB as lvextend takes them). */
      dataBrickSize: number;
      /** Every arbiter brick's new size (arbiterBrickSize of the data brick), 0 without arbiters. */
      arbiterBrickSize: number;
      reason: string;
    }
  | { kind: 'addSets'; reason: string };

export function planGrowth(db: TopologyDatabase, record: TopologyVolume, requested: number): GrowthPlan {
  const addSets = (why: string): GrowthPlan => ({ kind: 'addSets', reason: `sets are added: ${why}` });
  const cluster = findCluster(db, record.cluster);
  if (!cluster) return addSets(`cluster ${record.cluster} is not in the topology database`);
  if (cluster.brickBackend !== 'LVM') return addSets(`${cluster.brickBackend} bricks take the space of the file system under them and have no size of their own to grow`);
  // Adopted or rebuilt bricks named otherwise are never created, formatted or resized by the operator (createBricks skips them).
  const foreign = record.bricks.find((brick) => brick.path !== undefined || brick.lv !== undefined || brick.pool !== undefined);
  if (foreign) return addSets(`brick ${foreign.id} was not made by the operator (adopted), and such bricks are left as they are`);
  const dataBricks = record.bricks.filter((brick) => !brick.arbiter);
  if (dataBricks.length === 0) return addSets('the volume has no data bricks');

  // volumeCapacity counts one data brick per set × data bricks per set; with every data brick at N that is
  // sets × dataBricksPerSet × N, so N is the request divided by that, aligned as placement aligns brick sizes.
  const sets = new Set(dataBricks.map((brick) => brick.set)).size;
  const needed = alignUp(Math.ceil(requested / (sets * dataBricksPerSet(record.durability))));
  // Never shrinks: a set added later with larger bricks keeps them, and the others grow to their size.
  const dataBrickSize = Math.max(needed, ...dataBricks.map((brick) => brick.size));
  if (dataBrickSize > cluster.maxBrickSize) return addSets(`bricks of ${formatBytes(dataBrickSize)} would exceed maxBrickSize ${formatBytes(cluster.maxBrickSize)}`);
  const hasArbiter = record.bricks.some((brick) => brick.arbiter);
  const plan = { dataBrickSize, arbiterBrickSize: hasArbiter ? arbiterBrickSize(dataBrickSize) : 0 };
  const grown = grownVolume(record, plan, requested);
  if (volumeCapacity(grown) < requested) return addSets(`bricks of ${formatBytes(dataBrickSize)} would give ${formatBytes(volumeCapacity(grown))}, less than ${formatBytes(requested)}`);

  // lvextend runs on every brick's node now: a brick that cannot be reached would leave the growth half done.
  for (const brick of record.bricks) {
    const device = findDevice(db, brick.device);
    if (!device) return addSets(`brick ${brick.id}: device ${brick.device} is not in the topology database`);
    const node = brickNode(db, brick);
    if (node.state !== 'Online' || device.state !== 'Online') return addSets(`brick ${brick.id} is on ${device.state !== 'Online' ? `device ${device.id}` : `node ${node.name}`}, which is not Online`);
  }
  const more = growthByDevice(db, record, grown);
  for (const [device, bytes] of more) {
    const free = deviceFree(db, device);
    if (bytes > free) return addSets(`device ${device} has ${formatBytes(free)} free, growing this volume's bricks on it needs ${formatBytes(bytes)}`);
  }
  return { kind: 'inPlace', ...plan, reason: `every data brick grows in place to ${formatBytes(dataBrickSize)} (${record.bricks.length} bricks)` };
}

/**
 * The record with its bricks grown by the plan (each to the larger of its size and the plan's) and the
 * requested size: what the in-place action commits, read from the fresh record so a brick an evacuation
 * swapped in meanwhile grows too.
 */
export function grownVolume(record: TopologyVolume, plan: { dataBrickSize: number; arbiterBrickSize: number }, requested: number): TopologyVolume {
  const grow = (brick: TopologyBrick): TopologyBrick => ({ ...brick, size: Math.max(brick.size, brick.arbiter ? plan.arbiterBrickSize : plan.dataBrickSize) });
  return { ...record, size: Math.max(record.size, requested), bricks: record.bricks.map(grow) };
}

/** Extra device bytes the grown bricks take, by device (several bricks of the volume may share one). */
function growthByDevice(db: TopologyDatabase, before: TopologyVolume, after: TopologyVolume): Map<string, number> {
  const more = new Map<string, number>();
  before.bricks.forEach((brick, i) => {
    const extra = brickFootprint(db, after, after.bricks[i]!) - brickFootprint(db, before, brick);
    more.set(brick.device, (more.get(brick.device) ?? 0) + extra);
  });
  return more;
}
