import { z } from 'zod';
import { findCondition } from '../controller/conditions.ts';
import { volumeHealSummary, volumeInfo } from '../gluster/commands/gluster.ts';
import type { GlusterHealSummaryBrick } from '../gluster/parsers/heal-summary.ts';
import type { GlusterVolumeInfo } from '../gluster/parsers/volume-info.ts';
import { healFigures } from '../operator/reconcilers/volume-health.ts';
import { systemClock } from '../runtime/clock.ts';
import type { Command, CommandIo, OptionValues } from './command.ts';
import { openLiveCluster, type OpenLive } from './heketi-check.ts';
import { readLive, VIA_OPTIONS, VIA_USAGE, viaTargetOf } from './live-via.ts';
import type { CommandOutput } from './output.ts';
import { NAMESPACE_OPTIONS, readFailure } from './status.ts';
import { DEFAULT_WIDTH, fitWidth, formatAge, oneLine, structured, table } from './status-view.ts';
import { resolveVolume, targetText, volumeArgument } from './volume-target.ts';
import { durabilityText, glusterNameOf, type DescribedVolume } from './volume-view.ts';

/**
 * `kubectl gluster heal-info`: the self-heal state of one GlusterVolume. By default from its status, which the
 * operator refreshes at most once a minute (volume-health.ts): the backlog of the whole volume, each brick's
 * online state, the Healing and Degraded conditions. With --via, read live (`heal info summary`, with `volume
 * info` for the sets) to have each brick's counts. Read-only either way; the pure part is healReport/healText.
 */

export const HEAL_INFO_USAGE = `Usage: kubectl gluster heal-info NAME | pvc:NAMESPACE/NAME [-n NAMESPACE] [-o json|yaml] [--via ...]

The self-heal state of one GlusterVolume: entries pending self-heal and entries in split-brain, when they were
checked, each brick (online, and with --via its own counts), and what to do. NAME and pvc:NAMESPACE/NAME are
read as by volume describe.

Without --via it shows what the operator recorded in the volume's status (checked at most once a minute);
with --via it asks Gluster now (gluster volume heal VOLUME info summary), read-only.

Options:
  -n, --namespace NS    where NAME (or pvc:NAME) is (default: your kubeconfig context's namespace, else default)
  -o, --output FORMAT   json or yaml: the whole report (default: text for a terminal)
${VIA_USAGE}
  -h, --help            show this help

Exit code: 0 when nothing is pending and nothing is in split-brain, 1 when something is (or it is not known, or
the volume was not found), 2 on a usage error.
`;

const count = z.number().int().min(0);
const healBrickSchema = z.object({
  name: z.string(),
  node: z.string().optional(),
  set: z.number().int().min(0).optional(),
  online: z.boolean().optional(),
  /** Live only: what glfsheal said of the brick (Connected, or why not). */
  status: z.string().optional(),
  /** Live only; null: the brick could not say. */
  pendingEntries: count.nullable().optional(),
  splitBrainEntries: count.nullable().optional(),
});
const conditionSummarySchema = z.object({ type: z.string(), status: z.string(), reason: z.string(), message: z.string() });

/** What `-o json` prints. */
export const healReportSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  glusterVolumeName: z.string().optional(),
  durability: z.string(),
  source: z.enum(['status', 'live']),
  /** Known: both counts read; unknown: not reported (yet) or some brick could not say; notApplicable: distribute. */
  state: z.enum(['healthy', 'pending', 'splitBrain', 'unknown', 'notApplicable']),
  healthy: z.boolean(),
  pendingEntries: count.optional(),
  splitBrainEntries: count.optional(),
  checkedAt: z.string().optional(),
  bricks: z.array(healBrickSchema),
  conditions: z.array(conditionSummarySchema),
  advice: z.array(z.string()),
});
export type HealReport = z.infer<typeof healReportSchema>;
type HealBrick = z.infer<typeof healBrickSchema>;

/** What Gluster said, live: the heal summary of each brick, and volume info for its sets. */
export interface LiveHeal {
  info: GlusterVolumeInfo;
  bricks: readonly GlusterHealSummaryBrick[];
  at: string;
}

function advice(report: Omit<HealReport, 'advice' | 'healthy'>): string[] {
  const gluster = report.glusterVolumeName ?? 'VOLUME';
  const lines: string[] = [];
  if ((report.splitBrainEntries ?? 0) > 0) {
    lines.push(
      `split-brain: self-heal cannot choose between the copies. List the entries with gluster volume heal ${gluster} info split-brain, ` +
        `then resolve each with gluster volume heal ${gluster} split-brain latest-mtime FILE (or bigger-file FILE, or source-brick HOST:BRICK [FILE] ` +
        'to take one brick\'s copy); run this again to see the count fall',
    );
  }
  const offline = report.bricks.filter((brick) => brick.online === false);
  if (offline.length > 0) {
    lines.push(
      `${offline.length} brick${offline.length === 1 ? '' : 's'} offline (${offline.map((b) => b.name).join(', ')}): what was written meanwhile heals once ` +
        'it is back; the operator restarts the bricks of Ready nodes (kubectl get gnode shows which node is not)',
    );
  }
  const silent = report.bricks.filter((brick) => brick.pendingEntries === null);
  if (silent.length > 0) lines.push(`${silent.map((b) => `${b.name} (${b.status ?? 'no answer'})`).join(', ')} could not say: its glusterd or brick process is not reachable`);
  if (report.state === 'pending' && (report.splitBrainEntries ?? 0) === 0) {
    lines.push(`self-heal is working through the pending entries; gluster volume heal ${gluster} starts an index heal now instead of at the next crawl`);
  }
  if (report.state === 'unknown' && report.source === 'status' && report.pendingEntries === undefined) {
    lines.push('the status carries no heal figures yet (the operator reads them within a minute of the volume starting); --via reads them now');
  }
  if (report.source === 'status' && report.state !== 'notApplicable') lines.push('per-brick counts are not in the status: --via pod:NS/POD or --via ssh:HOST reads them live');
  return lines;
}

function stateOf(pending: number | undefined, splitBrain: number | undefined, incomplete: boolean): HealReport['state'] {
  if ((splitBrain ?? 0) > 0) return 'splitBrain';
  if ((pending ?? 0) > 0) return 'pending';
  if (pending === undefined || splitBrain === undefined || incomplete) return 'unknown';
  return 'healthy';
}

/** The report from the volume's status, or (with `live`) from what Gluster said now; bricks named by the status' nodes and sets. */
export function healReport(volume: DescribedVolume, live?: LiveHeal): HealReport {
  const status = volume.status;
  const known = new Map((status?.bricks ?? []).map((brick) => [brick.path, brick]));
  const conditions = ['Healing', 'Degraded']
    .map((type) => findCondition(status?.conditions, type))
    .filter((c) => c !== undefined)
    .map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
  const base = {
    namespace: volume.metadata.namespace ?? '',
    name: volume.metadata.name,
    ...(glusterNameOf(volume) !== undefined ? { glusterVolumeName: glusterNameOf(volume)! } : {}),
    durability: durabilityText(volume.spec.durability),
    conditions,
  };
  let rest: Omit<HealReport, keyof typeof base | 'advice' | 'healthy'>;
  if (live) {
    const figures = healFigures(live.info, live.bricks);
    const bricks: HealBrick[] = live.bricks.map((brick) => {
      const recorded = known.get(brick.name);
      return {
        name: brick.name,
        ...(recorded ? { node: recorded.node, set: recorded.set } : {}),
        online: brick.connected,
        status: brick.status,
        pendingEntries: brick.healPending === null ? null : brick.healPending + (brick.possiblyHealing ?? 0),
        splitBrainEntries: brick.splitBrain,
      };
    });
    const state = live.info.durability === 'distribute' ? 'notApplicable' : stateOf(figures.pendingEntries, figures.splitBrainEntries, figures.unknown.length > 0);
    rest = { source: 'live', state, pendingEntries: figures.pendingEntries, splitBrainEntries: figures.splitBrainEntries, checkedAt: live.at, bricks };
  } else {
    const heal = status?.heal;
    const bricks: HealBrick[] = (status?.bricks ?? []).map((brick) => ({ name: brick.path, node: brick.node, set: brick.set, ...(brick.online !== undefined ? { online: brick.online } : {}) }));
    const incomplete = findCondition(status?.conditions, 'Healing')?.status === 'Unknown';
    const state = volume.spec.durability.type === 'None' ? 'notApplicable' : stateOf(heal?.pendingEntries, heal?.splitBrainEntries, incomplete);
    rest = {
      source: 'status',
      state,
      ...(heal?.pendingEntries !== undefined ? { pendingEntries: heal.pendingEntries } : {}),
      ...(heal?.splitBrainEntries !== undefined ? { splitBrainEntries: heal.splitBrainEntries } : {}),
      ...(heal?.checkedAt !== undefined ? { checkedAt: heal.checkedAt } : {}),
      bricks,
    };
  }
  const report = { ...base, ...rest };
  return { ...report, healthy: report.state === 'healthy' || report.state === 'notApplicable', advice: advice(report) };
}

const figure = (value: number | null | undefined) => (value === undefined ? '-' : value === null ? '?' : String(value));
const onlineWord = (value: boolean | undefined) => (value === undefined ? '?' : value ? 'yes' : 'NO');

function summaryLine(report: HealReport, nowMs: number): string {
  if (report.state === 'notApplicable') return 'Heal: nothing to heal (a distribute volume keeps one copy of each file)';
  const checked = report.checkedAt === undefined ? Number.NaN : Date.parse(report.checkedAt);
  const when = Number.isNaN(checked) ? '' : `, checked ${formatAge(nowMs - checked)} ago`;
  const source = report.source === 'live' ? 'live' : 'as the operator recorded it';
  if (report.pendingEntries === undefined) return `Heal: not reported in status yet (${source})`;
  const unknown = report.state === 'unknown' ? '; some bricks could not say' : '';
  return `Heal: ${report.pendingEntries} entries pending, ${report.splitBrainEntries ?? '?'} in split-brain (${source}${when})${unknown}`;
}

export function healText(report: HealReport, nowMs: number, width: number = DEFAULT_WIDTH): string {
  const gluster = report.glusterVolumeName ? `Gluster volume ${report.glusterVolumeName}, ` : '';
  const rows = report.bricks.map((b) => [b.set === undefined ? '' : String(b.set), b.name, b.node ?? '', onlineWord(b.online), figure(b.pendingEntries), figure(b.splitBrainEntries)]);
  const lines = [
    `GlusterVolume ${report.namespace}/${report.name} (${gluster}${report.durability})`,
    summaryLine(report, nowMs),
    '',
    ...(rows.length === 0 ? ['Bricks: none in status'] : ['Bricks:', ...table(['SET', 'BRICK', 'NODE', 'ONLINE', 'PENDING', 'SPLIT-BRAIN'], rows, width - 2).map((line) => `  ${line}`)]),
    ...report.conditions.map((c) => `${c.type}: ${c.status} ${c.reason}${c.message ? `: ${oneLine(c.message)}` : ''}`),
    ...(report.advice.length > 0 ? ['', 'What to do:', ...report.advice.map((line) => `  - ${line}`)] : []),
  ];
  return `${lines.map((line) => fitWidth(line, width)).join('\n')}\n`;
}

export function healInfoCommandWith(openLive: OpenLive = openLiveCluster): Command {
  return {
    usage: HEAL_INFO_USAGE,
    options: { ...NAMESPACE_OPTIONS, ...VIA_OPTIONS },
    maxArguments: 1,
    async run(values: OptionValues, io: CommandIo, args: string[] = []): Promise<CommandOutput> {
      const checked = volumeArgument(values, io, args, HEAL_INFO_USAGE);
      if ('code' in checked) return checked;
      const { format, kube, target } = checked;
      const via = viaTargetOf(values, HEAL_INFO_USAGE);
      if (via !== undefined && 'code' in via) return via;
      let volume: DescribedVolume;
      try {
        const found = await resolveVolume(kube, target);
        if (!('volume' in found)) return found;
        volume = found.volume;
      } catch (error) {
        return readFailure(targetText(target), error);
      }
      const nowMs = (io.clock ?? systemClock).now();
      let live: LiveHeal | undefined;
      if (via !== undefined) {
        const gluster = glusterNameOf(volume);
        if (gluster === undefined) return { stdout: '', stderr: `error: GlusterVolume ${volume.metadata.namespace}/${volume.metadata.name} has no Gluster volume yet (kubectl describe gvol ${volume.metadata.name} says why)\n`, code: 1 };
        const read = await readLive(via, io, openLive, async (run) => {
          const [info] = await run(volumeInfo(gluster));
          if (!info) throw new Error(`Gluster has no volume ${gluster}`);
          // Gluster refuses heal info on a distribute volume: it has one copy of each file, nothing to heal.
          const bricks = info.durability === 'distribute' ? [] : await run(volumeHealSummary(gluster));
          return { info, bricks, at: new Date(nowMs).toISOString() };
        });
        if ('failed' in read) return read.failed;
        live = read.live;
      }
      const report = healReport(volume, live);
      const stdout = format === 'text' ? healText(report, nowMs, io.columns ?? DEFAULT_WIDTH) : structured(report, format);
      return { stdout, stderr: '', code: report.healthy ? 0 : 1 };
    },
  };
}

export const healInfoCommand: Command = healInfoCommandWith();
