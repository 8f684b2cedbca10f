import type { BrickRecord } from '../../bricks/backend.ts';
import { volumeStatus } from '../../gluster/commands/gluster.ts';
import { processHoldsPath, processIds, terminateProcess } from '../../gluster/commands/process.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import type { ClusterAccess } from '../cluster-access.ts';

/**
 * A deleted volume's brick whose umount says "target is busy". Seen on the test bed with brick
 * multiplexing: after its node restarted, one glusterfsd served the bricks of two volumes; both volumes
 * were stopped (glusterd logged each brick's detach "sent successfully with grace") and deleted, and the
 * process stayed, serving nothing, with hundreds of the detached brick's files open. Such a process is no
 * brick of anything glusterd knows: `volume status` lists no brick with its PID. Stopping it loses nothing;
 * a glusterfsd that glusterd does list serves other volumes' bricks and is never touched.
 */
export function orphanedBrickProcesses(world: { glusterfsd: readonly number[]; serving: ReadonlySet<number>; holding: ReadonlySet<number> }): number[] {
  return [...new Set(world.glusterfsd)].filter((pid) => !world.serving.has(pid) && world.holding.has(pid)).sort((a, b) => a - b);
}

/** The brick's directory that a process could hold open: its mount point when mounted, else its path. */
export function heldPathOf(record: BrickRecord): string {
  return record.mount?.target ?? record.path;
}

/**
 * Observes the node's glusterfsd processes and the PIDs glusterd lists for bricks, decides with
 * orphanedBrickProcesses, and stops those. Returns their PIDs (none: nothing was stopped).
 */
export async function stopOrphanedBrickProcesses(access: ClusterAccess, node: NodeTarget, record: BrickRecord): Promise<number[]> {
  const glusterfsd = await access.executor.run(node, processIds('glusterfsd'));
  if (glusterfsd.length === 0) return [];
  // Every brick PID of every started volume: a PID of another node that equals one here only spares a process.
  const serving = new Set((await access.executor.run(node, volumeStatus())).flatMap((volume) => volume.bricks.map((brick) => brick.pid)).filter((pid): pid is number => pid !== null));
  const holding = new Set<number>();
  for (const pid of glusterfsd.filter((p) => !serving.has(p))) {
    if (await access.executor.run(node, processHoldsPath(pid, heldPathOf(record)))) holding.add(pid);
  }
  const orphans = orphanedBrickProcesses({ glusterfsd, serving, holding });
  for (const pid of orphans) await access.executor.run(node, terminateProcess(pid));
  return orphans;
}
