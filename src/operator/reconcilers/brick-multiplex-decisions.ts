import type { BrickMultiplexingSpec, GlusterCluster } from '../../api/index.ts';
import type { BrickMultiplexSettings } from '../../gluster/parsers/volume-get.ts';

/**
 * Brick multiplexing of a GlusterCluster's pool (spec.brickMultiplexing), decided from what was read, with no
 * I/O: cluster.ts reads the pool-wide options once per pass on a Ready node, asks here, does the one step
 * returned and reports the status it comes with. Test: test/unit/operator-brick-multiplex.test.ts.
 *
 * Auto is decided once. The first time the operator sees the pool, a pool with no Gluster volume is one it
 * forms: multiplexing goes on and the status says `decidedBy: Operator`. A pool that already has volumes is
 * left exactly as found (`decidedBy: Found`), and later passes read the record instead of deciding again, so a
 * formed pool stays multiplexed once volumes exist and a found one stays as found. Auto never switches a pool
 * that has volumes: if a pool it multiplexed is found with multiplexing off and volumes on it (turned off by
 * hand, or the mode was Disabled before), it is left off and becomes Found.
 */

export type BrickMultiplexStatus = NonNullable<NonNullable<GlusterCluster['status']>['brickMultiplexing']>;

export interface BrickMultiplexWorld {
  spec: BrickMultiplexingSpec;
  /** cluster.brick-multiplex and cluster.max-bricks-per-process as glusterd reports them now. */
  live: BrickMultiplexSettings;
  /** Whether the pool has any Gluster volume: undefined until read, which is asked for (observePoolVolumes) only when it decides. */
  poolHasVolumes: boolean | undefined;
  /** status.brickMultiplexing as last written: Auto's decision, once made. */
  recorded: BrickMultiplexStatus | undefined;
}

export interface BrickMultiplexEvent {
  reason: 'BrickMultiplexingChanged' | 'MaxBricksPerProcessChanged' | 'BrickMultiplexingFound';
  message: string;
}

/** Every step but observePoolVolumes carries the status to write once it is done. */
export type BrickMultiplexStep =
  /** Nothing to do; the status is what was recorded. */
  | { kind: 'none'; status: BrickMultiplexStatus }
  /** Read whether the pool has volumes, then decide again. */
  | { kind: 'observePoolVolumes' }
  /** Nothing to change on the pool; write the status (and say the event, if any). */
  | { kind: 'record'; status: BrickMultiplexStatus; event?: BrickMultiplexEvent }
  | { kind: 'setMultiplex'; enabled: boolean; status: BrickMultiplexStatus; event: BrickMultiplexEvent }
  | { kind: 'setMaxBricksPerProcess'; count: number; status: BrickMultiplexStatus; event: BrickMultiplexEvent };

const onOff = (enabled: boolean) => (enabled ? 'on' : 'off');

function observed(live: BrickMultiplexSettings, decidedBy: BrickMultiplexStatus['decidedBy']): BrickMultiplexStatus {
  return { enabled: live.enabled, ...(live.maxBricksPerProcess !== undefined ? { maxBricksPerProcess: live.maxBricksPerProcess } : {}), decidedBy };
}

function sameStatus(a: BrickMultiplexStatus | undefined, b: BrickMultiplexStatus): boolean {
  return a !== undefined && a.enabled === b.enabled && a.maxBricksPerProcess === b.maxBricksPerProcess && a.decidedBy === b.decidedBy;
}

/** The pool stays as it is: record what it has (an event only when there is one to say). */
function keep(world: BrickMultiplexWorld, decidedBy: BrickMultiplexStatus['decidedBy'], event?: BrickMultiplexEvent): BrickMultiplexStep {
  const status = observed(world.live, decidedBy);
  if (!event && sameStatus(world.recorded, status)) return { kind: 'none', status };
  return { kind: 'record', status, ...(event ? { event } : {}) };
}

function setMultiplex(world: BrickMultiplexWorld, enabled: boolean, why: string): BrickMultiplexStep {
  const running = world.poolHasVolumes === false ? '' : `; bricks already running keep their own processes until their volume is restarted`;
  return {
    kind: 'setMultiplex',
    enabled,
    status: { ...observed(world.live, 'Operator'), enabled },
    event: {
      reason: 'BrickMultiplexingChanged',
      message: `cluster.brick-multiplex ${onOff(world.live.enabled)} → ${onOff(enabled)} (${why}): bricks started from now on follow it${running}`,
    },
  };
}

/** Multiplexing is on and the operator's: cluster.max-bricks-per-process as the spec says, then nothing. */
function tuneOrKeep(world: BrickMultiplexWorld): BrickMultiplexStep {
  const want = world.spec.maxBricksPerProcess;
  const have = world.live.maxBricksPerProcess;
  if (have !== undefined && have !== want) {
    return {
      kind: 'setMaxBricksPerProcess',
      count: want,
      status: { ...observed(world.live, 'Operator'), maxBricksPerProcess: want },
      event: {
        reason: 'MaxBricksPerProcessChanged',
        message: `cluster.max-bricks-per-process ${have} → ${want} (spec.brickMultiplexing.maxBricksPerProcess): applies to bricks started from now on`,
      },
    };
  }
  return keep(world, 'Operator');
}

function decideAuto(world: BrickMultiplexWorld): BrickMultiplexStep {
  const { live, recorded } = world;
  // Decided before: a pool left as found stays as found, whatever it has now.
  if (recorded?.decidedBy === 'Found') return keep(world, 'Found');
  // A pool the operator multiplexed stays so, volumes or not.
  if (recorded?.decidedBy === 'Operator' && live.enabled) return tuneOrKeep(world);
  // Undecided, or the operator's pool found with multiplexing off: only a pool without volumes is switched.
  if (world.poolHasVolumes === undefined) return { kind: 'observePoolVolumes' };
  if (world.poolHasVolumes) {
    const message =
      `the pool already has Gluster volumes: cluster.brick-multiplex left ${onOff(live.enabled)} as found (mode Auto switches only a pool ` +
      'that has no volume yet). Set spec.brickMultiplexing.mode to Enabled or Disabled to switch it; bricks already running keep their ' +
      'processes until their volume is restarted';
    return keep(world, 'Found', { reason: 'BrickMultiplexingFound', message });
  }
  if (!live.enabled) return setMultiplex(world, true, 'mode Auto: the pool has no volume yet');
  return tuneOrKeep(world);
}

export function decideBrickMultiplex(world: BrickMultiplexWorld): BrickMultiplexStep {
  const { spec, live } = world;
  switch (spec.mode) {
    case 'Unmanaged':
      return keep(world, 'Found');
    case 'Disabled':
      // cluster.max-bricks-per-process is left alone: glusterd refuses it while multiplexing is off.
      return live.enabled ? setMultiplex(world, false, 'mode Disabled') : keep(world, 'Operator');
    case 'Enabled':
      return live.enabled ? tuneOrKeep(world) : setMultiplex(world, true, 'mode Enabled');
    case 'Auto':
      return decideAuto(world);
  }
}
