/**
 * Bricks that are down while their node is back. After a node reboot or a glusterd pod replaced by its
 * DaemonSet, glusterd does not always start every brick process again (a brick whose filesystem was not yet
 * mounted stays down), and Gluster never retries by itself. The volume reconciler remounts the brick's
 * filesystem first (its create step is idempotent), then `volume start VOL force` starts exactly the brick
 * processes that are missing; running bricks and the data on them are left as they are. A brick whose node is
 * not Ready is not restartable from here and is only reported.
 */
export interface BrickState {
  /** host:path, as `volume status` names it. */
  glusterName: string;
  /** The GlusterNode (object name) the brick is on. */
  node: string;
}

export function bricksToRestart(bricks: readonly BrickState[], online: ReadonlyMap<string, boolean>, readyNodes: ReadonlySet<string>): string[] {
  return bricks.filter((brick) => online.get(brick.glusterName) === false && readyNodes.has(brick.node)).map((brick) => brick.glusterName);
}

/** Down bricks of any node: the volume is looked at again soon rather than at the steady period. */
export function anyBrickDown(online: ReadonlyMap<string, boolean>): boolean {
  return [...online.values()].some((up) => !up);
}
