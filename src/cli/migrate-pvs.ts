import { MigrationKube } from '../migration/kube.ts';
import { runMigration, type PvOutcome } from '../migration/run.ts';
import { systemClock } from '../runtime/clock.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { kubeConfigOf, usageError, type Command } from './command.ts';
import type { CommandOutput } from './output.ts';

/**
 * `kubectl gluster migrate pvs`: claims bound to in-tree `glusterfs` PVs (which mount nowhere since
 * Kubernetes 1.26) moved onto CSI PVs of the same Gluster volumes, in place: no byte of data moves.
 */

export const MIGRATE_PVS_USAGE = `Usage: kubectl gluster migrate pvs [--apply | --rollback [--apply]] [--pv NAME ...] [options]

Moves every claim bound to an in-tree glusterfs PersistentVolume (spec.glusterfs) onto a new CSI
PersistentVolume, gluster-<old PV name>, that mounts the same Gluster volume through the operator's
GlusterVolume (import heketi's volumes first: kubectl gluster heketi import). The claim keeps its name,
labels and annotations; the application keeps its data. Without --apply it prints the plan and changes
nothing.

For each PV, in order: save the PV, its claim and the in-tree Endpoints and Service in a ConfigMap
(migration-<PV name>, next to the GlusterVolume); set the old PV to Retain; create the CSI PV; delete
the claim and create it again bound to the CSI PV; wait until it is Bound; remove the old Endpoints and
Service. A PV is refused, and left untouched, while a pod uses its claim (stop the workload first), or
when no Ready GlusterVolume matches its Gluster volume, heketi volume id and servers. A run stopped at
any point is finished by running it again. --rollback undoes it from the saved objects.

Options:
  --apply              do it (default: print the plan)
  --rollback           put the claims back on their in-tree PVs, restore the Endpoints and Services and
                       the old reclaim policy, remove the CSI PVs (never the Gluster volume)
  --pv NAME            only this in-tree PV (repeatable; default: all)
  --wait-timeout SEC   how long to wait for a claim to go or be Bound (default 120)
  -h, --help           show this help

Exit code: 0 when every PV is done (or planned), 1 when one is refused or failed.
`;

function outcomeLines(outcome: PvOutcome, apply: boolean): string[] {
  const head = `pv/${outcome.persistentVolume}`;
  switch (outcome.result) {
    case 'planned':
      return outcome.steps.length === 0 ? [`${head}: nothing left to do`] : [`${head}:`, ...outcome.steps.map((step, index) => `  ${index + 1}. ${step}`)];
    case 'done':
      return [`${head}: ${outcome.steps.length === 0 ? 'nothing left to do' : `done (${outcome.steps.length} step${outcome.steps.length === 1 ? '' : 's'})`}`];
    case 'refused':
      return [`${head}: refused${apply && outcome.steps.length > 0 ? ` after ${outcome.steps.length} steps` : ', nothing changed'}:`, ...outcome.problems.map((problem) => `  ${problem}`)];
    case 'failed':
      return [`${head}: failed after ${outcome.steps.length} step${outcome.steps.length === 1 ? '' : 's'}:`, ...outcome.problems.map((problem) => `  ${problem}`)];
  }
}

export const migratePvsCommand: Command = {
  usage: MIGRATE_PVS_USAGE,
  options: {
    apply: { type: 'boolean', default: false },
    rollback: { type: 'boolean', default: false },
    pv: { type: 'string', multiple: true },
    'wait-timeout': { type: 'string', default: '120' },
  },
  async run(values, io): Promise<CommandOutput> {
    const timeout = Number(values['wait-timeout']);
    if (!Number.isFinite(timeout) || timeout <= 0) return usageError(`--wait-timeout must be a positive number of seconds, not ${String(values['wait-timeout'])}`, MIGRATE_PVS_USAGE);
    const only = (values as Record<string, unknown>).pv;
    const apply = values.apply === true;
    try {
      const kube = new MigrationKube(kubeConfigOf(io));
      const outcomes = await runMigration(kube, {
        direction: values.rollback === true ? 'rollback' : 'migrate',
        apply,
        only: Array.isArray(only) ? only.map(String) : [],
        waitTimeoutMs: timeout * 1000,
        clock: systemClock,
        progress: (line) => io.progress?.(line),
      });
      const lines = outcomes.flatMap((outcome) => outcomeLines(outcome, apply));
      if (outcomes.length === 0) lines.push(values.rollback === true ? 'no migrated PersistentVolume to roll back' : 'no PersistentVolume with spec.glusterfs');
      else if (!apply) lines.push('', 'This is the plan; nothing was changed. Run again with --apply to do it.');
      const bad = outcomes.filter((outcome) => outcome.result === 'refused' || outcome.result === 'failed').length;
      return { stdout: `${lines.join('\n')}\n`, stderr: '', code: bad > 0 ? 1 : 0 };
    } catch (error) {
      return { stdout: '', stderr: `error: ${errorMessage(error)}\n`, code: 1 };
    }
  },
};
