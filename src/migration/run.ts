import type { GlusterVolume } from '../api/index.ts';
import type { Clock } from '../runtime/clock.ts';
import { errorMessage } from '../runtime/error-message.ts';
import type { MigrationKube } from './kube.ts';
import type { InTreePersistentVolume } from './objects.ts';
import { describeStep, isWait, planMigration, planRollback, type Plan, type PvWorld, type Step } from './plan.ts';
import type { MigrationRecord } from './record.ts';

/**
 * Runs `migrate pvs` over every in-tree PV (or the ones named): plan only, or apply step by step
 * (observe, plan, do the first step, observe again) until each PV is done or refused. One PV refused or
 * failing never stops the others.
 */

export type Direction = 'migrate' | 'rollback';

export interface PvOutcome {
  persistentVolume: string;
  /** planned: the steps left (plan mode); done: what was done (apply); refused/failed: why. */
  result: 'planned' | 'done' | 'refused' | 'failed';
  steps: string[];
  problems: string[];
}

export interface RunOptions {
  direction: Direction;
  apply: boolean;
  /** Only these PVs (in-tree PV names); all when empty. */
  only: readonly string[];
  /** How long one wait (claim gone, claim Bound) may take. */
  waitTimeoutMs: number;
  clock: Clock;
  progress(line: string): void;
}

const POLL_MS = 500;

function plan(direction: Direction, world: PvWorld): Plan {
  return direction === 'migrate' ? planMigration(world) : planRollback(world);
}

export async function runMigration(kube: MigrationKube, options: RunOptions): Promise<PvOutcome[]> {
  const [pvs, records] = await Promise.all([kube.inTreePersistentVolumes(), kube.records()]);
  const recordOf = new Map(records.map((record) => [record.persistentVolume.metadata.name, record]));
  const unknown = options.only.filter((name) => !pvs.some((pv) => pv.metadata.name === name));
  const chosen = pvs
    .filter((pv) => options.only.length === 0 || options.only.includes(pv.metadata.name))
    // Rollback concerns only what was migrated (has a record); migrate, every in-tree PV.
    .filter((pv) => options.direction === 'migrate' || recordOf.has(pv.metadata.name))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const outcomes: PvOutcome[] = unknown.map((name) => ({ persistentVolume: name, result: 'refused', steps: [], problems: [`no PersistentVolume ${name} with spec.glusterfs`] }));
  let volumes: GlusterVolume[] | undefined;
  for (const pv of chosen) {
    volumes ??= await kube.glusterVolumes();
    outcomes.push(options.apply ? await applyOne(kube, pv, recordOf.get(pv.metadata.name), volumes, options) : planOne(await kube.world(pv, recordOf.get(pv.metadata.name), volumes), options.direction));
  }
  return outcomes;
}

function planOne(world: PvWorld, direction: Direction): PvOutcome {
  const name = world.old.metadata.name;
  const decided = plan(direction, world);
  if (decided.outcome === 'refused') return { persistentVolume: name, result: 'refused', steps: [], problems: decided.problems };
  return { persistentVolume: name, result: 'planned', steps: decided.steps.map(describeStep), problems: [] };
}

async function applyOne(kube: MigrationKube, first: InTreePersistentVolume, firstRecord: MigrationRecord | undefined, volumes: GlusterVolume[], options: RunOptions): Promise<PvOutcome> {
  const name = first.metadata.name;
  const done: string[] = [];
  let old = first;
  let record = firstRecord;
  let waitingSince: number | undefined;
  try {
    for (;;) {
      const world = await kube.world(old, record, volumes);
      const decided = plan(options.direction, world);
      if (decided.outcome === 'refused') return { persistentVolume: name, result: 'refused', steps: done, problems: decided.problems };
      const step: Step | undefined = decided.steps[0];
      if (!step) return { persistentVolume: name, result: 'done', steps: done, problems: [] };
      if (isWait(step)) {
        waitingSince ??= options.clock.now();
        if (options.clock.now() - waitingSince > options.waitTimeoutMs) {
          const claim = world.claim ? `claim ${world.claim.metadata.namespace}/${world.claim.metadata.name} is ${world.claim.status?.phase ?? 'without phase'}, volumeName ${world.claim.spec.volumeName ?? '(none)'}${world.claim.metadata.deletionTimestamp ? ', being deleted' : ''}` : 'the claim is absent';
          throw new Error(`gave up after ${Math.round(options.waitTimeoutMs / 1000)} s: ${describeStep(step)}; last seen: ${claim}. Run the command again to go on.`);
        }
        await options.clock.sleep(POLL_MS);
      } else {
        waitingSince = undefined;
        const line = describeStep(step);
        options.progress(`pv/${name}: ${line}`);
        await kube.act(step, record);
        done.push(line);
        if (step.kind === 'save') record = step.record;
        // The record gone is the last step of a rollback: with it goes what planRollback would read.
        if (step.kind === 'forget') return { persistentVolume: name, result: 'done', steps: done, problems: [] };
        if (step.kind === 'markMigrated' && record) record = { ...record, phase: 'Migrated' };
      }
      // The PV itself changes (reclaim policy, claimRef): read it again for the next decision.
      const fresh = await kube.inTreePersistentVolume(name);
      if (!fresh) return { persistentVolume: name, result: 'failed', steps: done, problems: [`PersistentVolume ${name} disappeared while it was being migrated`] };
      old = fresh;
    }
  } catch (error) {
    return { persistentVolume: name, result: 'failed', steps: done, problems: [errorMessage(error)] };
  }
}
