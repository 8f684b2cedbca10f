import { expect } from 'chai';
import { brickMultiplexingOf, glusterClusterSpecSchema, type BrickMultiplexingSpec } from '../../src/api/index.ts';
import { brickMultiplexSet, maxBricksPerProcessSet, volumeGetGlobal } from '../../src/gluster/commands/gluster.ts';
import {
  decideBrickMultiplex,
  type BrickMultiplexStatus,
  type BrickMultiplexStep,
  type BrickMultiplexWorld,
} from '../../src/operator/reconcilers/brick-multiplex-decisions.ts';

const GLUSTER = ['gluster', '--mode=script', '--xml'];

function world(overrides: Partial<BrickMultiplexWorld> & { mode?: BrickMultiplexingSpec['mode']; max?: number } = {}): BrickMultiplexWorld {
  const { mode = 'Auto', max = 250, ...rest } = overrides;
  return {
    spec: { mode, maxBricksPerProcess: max },
    live: { enabled: false, maxBricksPerProcess: 250 },
    poolHasVolumes: undefined,
    recorded: undefined,
    ...rest,
  };
}

const status = (enabled: boolean, decidedBy: BrickMultiplexStatus['decidedBy'], maxBricksPerProcess = 250): BrickMultiplexStatus => ({ enabled, maxBricksPerProcess, decidedBy });
const changesPool = (step: BrickMultiplexStep) => step.kind === 'setMultiplex' || step.kind === 'setMaxBricksPerProcess';

/** Runs the decision as cluster.ts does, against a pool that takes every step, until nothing is left to do. */
function converge(start: BrickMultiplexWorld, poolHasVolumes: boolean): { steps: BrickMultiplexStep[]; final: BrickMultiplexWorld } {
  let current = start;
  const steps: BrickMultiplexStep[] = [];
  for (let pass = 0; pass < 10; pass++) {
    let step = decideBrickMultiplex({ ...current, poolHasVolumes: undefined });
    if (step.kind === 'observePoolVolumes') step = decideBrickMultiplex({ ...current, poolHasVolumes });
    steps.push(step);
    if (step.kind === 'observePoolVolumes') throw new Error('asked for the volumes twice');
    if (step.kind === 'setMultiplex') current = { ...current, live: { ...current.live, enabled: step.enabled } };
    if (step.kind === 'setMaxBricksPerProcess') current = { ...current, live: { ...current.live, maxBricksPerProcess: step.count } };
    current = { ...current, recorded: step.status };
    if (step.kind === 'none') return { steps, final: current };
  }
  throw new Error(`did not converge: ${steps.map((s) => s.kind).join(', ')}`);
}

describe('brick multiplexing: the API', () => {
  const spec = (brickMultiplexing: unknown) =>
    glusterClusterSpecSchema.safeParse({ access: { mode: 'InCluster' }, ...(brickMultiplexing === undefined ? {} : { brickMultiplexing }) });

  it('is mode Auto with 250 bricks per process when unset, and fills either default', () => {
    const unset = spec(undefined);
    expect(unset.success).to.equal(true);
    expect(brickMultiplexingOf(unset.data!)).to.deep.equal({ mode: 'Auto', maxBricksPerProcess: 250 });
    expect(spec({}).data!.brickMultiplexing).to.deep.equal({ mode: 'Auto', maxBricksPerProcess: 250 });
    expect(spec({ mode: 'Disabled' }).data!.brickMultiplexing).to.deep.equal({ mode: 'Disabled', maxBricksPerProcess: 250 });
    expect(brickMultiplexingOf(spec({ mode: 'Enabled', maxBricksPerProcess: 100 }).data!)).to.deep.equal({ mode: 'Enabled', maxBricksPerProcess: 100 });
  });

  it('refuses 1 brick per process (glusterd does, while multiplexing is on), more than 1000, fractions and unknown modes', () => {
    expect(spec({ maxBricksPerProcess: 2 }).success).to.equal(true);
    expect(spec({ maxBricksPerProcess: 1000 }).success).to.equal(true);
    for (const bad of [1, 0, 1001, 2.5]) expect(spec({ maxBricksPerProcess: bad }).success, String(bad)).to.equal(false);
    expect(spec({ mode: 'On' }).success).to.equal(false);
  });
});

describe('brick multiplexing: gluster commands', () => {
  it('reads the pool-wide options, all or one', () => {
    expect(volumeGetGlobal().argv).to.deep.equal([...GLUSTER, 'volume', 'get', 'all', 'all']);
    expect(volumeGetGlobal('cluster.brick-multiplex').argv).to.deep.equal([...GLUSTER, 'volume', 'get', 'all', 'cluster.brick-multiplex']);
    expect(volumeGetGlobal('cluster.max-bricks-per-process').argv).to.deep.equal([...GLUSTER, 'volume', 'get', 'all', 'cluster.max-bricks-per-process']);
    expect(volumeGetGlobal().mutatesCluster).to.equal(false);
  });

  it('sets them with `volume set all`', () => {
    expect(brickMultiplexSet(true).argv).to.deep.equal([...GLUSTER, 'volume', 'set', 'all', 'cluster.brick-multiplex', 'on']);
    expect(brickMultiplexSet(false).argv).to.deep.equal([...GLUSTER, 'volume', 'set', 'all', 'cluster.brick-multiplex', 'off']);
    expect(maxBricksPerProcessSet(100).argv).to.deep.equal([...GLUSTER, 'volume', 'set', 'all', 'cluster.max-bricks-per-process', '100']);
    expect(brickMultiplexSet(true).mutatesCluster).to.equal(true);
    expect(maxBricksPerProcessSet(2).mutatesCluster).to.equal(true);
    for (const bad of [1, 0, -5, 2.5]) expect(() => maxBricksPerProcessSet(bad), String(bad)).to.throw(/integer >= 2/);
  });
});

describe('brick multiplexing: decisions', () => {
  describe('Auto', () => {
    it('asks whether the pool has volumes before its first decision, and only then', () => {
      expect(decideBrickMultiplex(world())).to.deep.equal({ kind: 'observePoolVolumes' });
      expect(decideBrickMultiplex(world({ live: { enabled: true, maxBricksPerProcess: 250 } }))).to.deep.equal({ kind: 'observePoolVolumes' });
      expect(decideBrickMultiplex(world({ recorded: status(false, 'Found') })).kind).to.equal('none');
      expect(decideBrickMultiplex(world({ live: { enabled: true, maxBricksPerProcess: 250 }, recorded: status(true, 'Operator') })).kind).to.equal('none');
    });

    it('turns multiplexing on for a pool with no volume yet (a pool it forms), saying the old and new value', () => {
      const step = decideBrickMultiplex(world({ poolHasVolumes: false }));
      expect(step).to.deep.equal({
        kind: 'setMultiplex',
        enabled: true,
        status: status(true, 'Operator'),
        event: { reason: 'BrickMultiplexingChanged', message: 'cluster.brick-multiplex off → on (mode Auto: the pool has no volume yet): bricks started from now on follow it' },
      });
    });

    it('an empty pool already multiplexed becomes the operator\'s without a change', () => {
      expect(decideBrickMultiplex(world({ poolHasVolumes: false, live: { enabled: true, maxBricksPerProcess: 250 } }))).to.deep.equal({ kind: 'record', status: status(true, 'Operator') });
    });

    it('leaves a pool that has volumes exactly as found, and records it with an Event', () => {
      for (const enabled of [false, true]) {
        const step = decideBrickMultiplex(world({ poolHasVolumes: true, live: { enabled, maxBricksPerProcess: 100 } }));
        expect(step.kind).to.equal('record');
        expect(step.kind === 'record' && step.status).to.deep.equal(status(enabled, 'Found', 100));
        expect(step.kind === 'record' && step.event?.reason).to.equal('BrickMultiplexingFound');
        expect(step.kind === 'record' && step.event?.message).to.contain(`cluster.brick-multiplex left ${enabled ? 'on' : 'off'} as found`);
      }
    });

    it('keeps a recorded decision: the pool it formed stays multiplexed once volumes exist, a found pool stays as found once they are gone', () => {
      // Recorded Operator and on: the volumes are not even asked about.
      const formed = decideBrickMultiplex(world({ live: { enabled: true, maxBricksPerProcess: 250 }, recorded: status(true, 'Operator'), poolHasVolumes: true }));
      expect(formed).to.deep.equal({ kind: 'none', status: status(true, 'Operator') });
      // Recorded Found: an empty pool is not switched on later.
      const found = decideBrickMultiplex(world({ recorded: status(false, 'Found'), poolHasVolumes: false }));
      expect(found).to.deep.equal({ kind: 'none', status: status(false, 'Found') });
    });

    it('tunes cluster.max-bricks-per-process on the pool it multiplexes, never on a found one', () => {
      const tuned = decideBrickMultiplex(world({ max: 100, live: { enabled: true, maxBricksPerProcess: 250 }, recorded: status(true, 'Operator') }));
      expect(tuned).to.deep.equal({
        kind: 'setMaxBricksPerProcess',
        count: 100,
        status: status(true, 'Operator', 100),
        event: { reason: 'MaxBricksPerProcessChanged', message: 'cluster.max-bricks-per-process 250 → 100 (spec.brickMultiplexing.maxBricksPerProcess): applies to bricks started from now on' },
      });
      const found = decideBrickMultiplex(world({ max: 100, live: { enabled: true, maxBricksPerProcess: 250 }, recorded: status(true, 'Found') }));
      expect(found.kind).to.equal('none');
    });

    it('the pool it formed, found with multiplexing off: switched back on only while it has no volume, else left off and Found', () => {
      const off = { live: { enabled: false, maxBricksPerProcess: 250 }, recorded: status(true, 'Operator') };
      expect(decideBrickMultiplex(world(off))).to.deep.equal({ kind: 'observePoolVolumes' });
      expect(decideBrickMultiplex(world({ ...off, poolHasVolumes: false })).kind).to.equal('setMultiplex');
      const withVolumes = decideBrickMultiplex(world({ ...off, poolHasVolumes: true }));
      expect(withVolumes.kind).to.equal('record');
      expect(withVolumes.kind === 'record' && withVolumes.status).to.deep.equal(status(false, 'Found'));
    });

    it('never switches a pool that already has volumes, whatever it has and whatever was recorded', () => {
      const recordings: Array<BrickMultiplexStatus | undefined> = [undefined, status(false, 'Operator'), status(true, 'Operator'), status(false, 'Found'), status(true, 'Found')];
      for (const enabled of [false, true]) {
        for (const recorded of recordings) {
          const step = decideBrickMultiplex(world({ poolHasVolumes: true, live: { enabled, maxBricksPerProcess: 250 }, recorded }));
          expect(step.kind === 'setMultiplex', `live ${enabled}, recorded ${JSON.stringify(recorded)}: ${JSON.stringify(step)}`).to.equal(false);
        }
      }
    });

    it('converges on a new pool: on, then the max, then nothing; and does nothing to a found one', () => {
      const fresh = converge(world({ max: 50 }), false);
      expect(fresh.steps.map((s) => s.kind)).to.deep.equal(['setMultiplex', 'setMaxBricksPerProcess', 'none']);
      expect(fresh.final.live).to.deep.equal({ enabled: true, maxBricksPerProcess: 50 });
      expect(fresh.final.recorded).to.deep.equal(status(true, 'Operator', 50));
      const existing = converge(world({ max: 50 }), true);
      expect(existing.steps.some(changesPool)).to.equal(false);
      expect(existing.final.recorded).to.deep.equal(status(false, 'Found'));
    });
  });

  describe('Enabled', () => {
    it('turns multiplexing on whatever the pool has, saying running bricks keep their processes', () => {
      for (const poolHasVolumes of [undefined, true]) {
        const step = decideBrickMultiplex(world({ mode: 'Enabled', poolHasVolumes, recorded: status(false, 'Found') }));
        expect(step.kind).to.equal('setMultiplex');
        expect(step.kind === 'setMultiplex' && step.enabled).to.equal(true);
        expect(step.kind === 'setMultiplex' && step.status).to.deep.equal(status(true, 'Operator'));
        expect(step.kind === 'setMultiplex' && step.event.message).to.equal(
          'cluster.brick-multiplex off → on (mode Enabled): bricks started from now on follow it; bricks already running keep their own processes until their volume is restarted',
        );
      }
    });

    it('then tunes the max, then does nothing', () => {
      const on = { mode: 'Enabled' as const, live: { enabled: true, maxBricksPerProcess: 250 } };
      expect(decideBrickMultiplex(world({ ...on, max: 10 })).kind).to.equal('setMaxBricksPerProcess');
      expect(decideBrickMultiplex(world({ ...on, recorded: status(true, 'Found') }))).to.deep.equal({ kind: 'record', status: status(true, 'Operator') });
      expect(decideBrickMultiplex(world({ ...on, recorded: status(true, 'Operator') }))).to.deep.equal({ kind: 'none', status: status(true, 'Operator') });
      expect(converge(world({ mode: 'Enabled', max: 10 }), true).steps.map((s) => s.kind)).to.deep.equal(['setMultiplex', 'setMaxBricksPerProcess', 'none']);
    });
  });

  describe('Disabled', () => {
    it('turns multiplexing off whatever the pool has', () => {
      const step = decideBrickMultiplex(world({ mode: 'Disabled', live: { enabled: true, maxBricksPerProcess: 100 }, recorded: status(true, 'Operator', 100) }));
      expect(step).to.deep.include({ kind: 'setMultiplex', enabled: false, status: status(false, 'Operator', 100) });
      expect(step.kind === 'setMultiplex' && step.event.message).to.contain('cluster.brick-multiplex on → off (mode Disabled)');
    });

    it('leaves cluster.max-bricks-per-process alone (glusterd refuses it while multiplexing is off)', () => {
      const step = decideBrickMultiplex(world({ mode: 'Disabled', max: 10, live: { enabled: false, maxBricksPerProcess: 250 } }));
      expect(step).to.deep.equal({ kind: 'record', status: status(false, 'Operator') });
      expect(converge(world({ mode: 'Disabled', max: 10, live: { enabled: true, maxBricksPerProcess: 250 } }), true).steps.map((s) => s.kind)).to.deep.equal(['setMultiplex', 'none']);
    });
  });

  describe('Unmanaged', () => {
    it('never touches the pool and reports what it has as Found', () => {
      for (const enabled of [false, true]) {
        for (const poolHasVolumes of [undefined, false, true]) {
          const step = decideBrickMultiplex(world({ mode: 'Unmanaged', max: 10, poolHasVolumes, live: { enabled, maxBricksPerProcess: 250 } }));
          expect(step).to.deep.equal({ kind: 'record', status: status(enabled, 'Found') });
        }
      }
      expect(decideBrickMultiplex(world({ mode: 'Unmanaged', recorded: status(false, 'Found') }))).to.deep.equal({ kind: 'none', status: status(false, 'Found') });
    });

    it('a pool first seen as Unmanaged counts as found when the mode becomes Auto', () => {
      expect(converge(world({ mode: 'Unmanaged' }), false).final.recorded).to.deep.equal(status(false, 'Found'));
      expect(decideBrickMultiplex(world({ recorded: status(false, 'Found'), poolHasVolumes: false })).kind).to.equal('none');
    });
  });

  it('a live value without max-bricks-per-process (a one-key read) is not "tuned" blindly', () => {
    const step = decideBrickMultiplex(world({ mode: 'Enabled', max: 10, live: { enabled: true, maxBricksPerProcess: undefined }, recorded: undefined }));
    expect(step).to.deep.equal({ kind: 'record', status: { enabled: true, decidedBy: 'Operator' } });
  });
});
