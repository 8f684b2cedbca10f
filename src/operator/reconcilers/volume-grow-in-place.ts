import type { GlusterVolume } from '../../api/index.ts';
import { findVolume, replaceVolume, TopologyError, volumeCapacity, type TopologyVolume } from '../../topology/model.ts';
import { formatBytes } from '../../topology/sizing.ts';
import type { ClusterAccess } from '../cluster-access.ts';
import type { ReconcileContext } from '../context.ts';
import { createBricks } from './volume-actions.ts';
import { StepRefused } from './volume-errors.ts';
import { grownVolume, type GrowthPlan } from './volume-growth.ts';

/**
 * Grows every brick of the volume in place (volume-growth.ts decided it can). The new brick sizes and the
 * volume's new size are in the backup before any LV is extended; the extension itself is createBricks, the
 * "ensure" every pass runs (the LVM backend extends an LV smaller than its brick's size), so a pass that ends
 * after the commit (operator killed, node unreachable) is finished by the next one's ensureBricks. Gluster
 * needs no command: it reads a brick's size from its file system.
 */
export async function growBricksInPlace(
  ctx: ReconcileContext,
  access: ClusterAccess,
  volume: GlusterVolume,
  record: TopologyVolume,
  requested: number,
  plan: Extract<GrowthPlan, { kind: 'inPlace' }>,
): Promise<TopologyVolume> {
  try {
    ctx.topology.commit((db) => {
      const fresh = findVolume(db, record.name)!; // bricks an evacuation swapped meanwhile grow too
      return replaceVolume(db, grownVolume(fresh, plan, requested));
    });
  } catch (error) {
    // replaceVolume re-checks device room: another volume may have taken it since the decision read the database.
    if (!(error instanceof TopologyError)) throw error;
    throw new StepRefused('ExpansionFailed', `cannot grow the bricks in place to ${formatBytes(plan.dataBrickSize)}: ${error.message}; the next pass decides again`, 60_000);
  }
  await ctx.topology.flush();
  const grown = findVolume(ctx.topology.db, record.name)!;
  await createBricks(ctx, access, grown);
  await ctx.events.normal(
    volume,
    'VolumeExpanded',
    `grew the bricks in place to ${formatBytes(plan.dataBrickSize)} each (${grown.bricks.length} bricks, lvextend and xfs_growfs, no new sets): capacity ${formatBytes(volumeCapacity(grown))}`,
  );
  return grown;
}
