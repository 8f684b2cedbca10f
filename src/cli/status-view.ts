import type { V1Secret } from '@kubernetes/client-node';
import { z } from 'zod';
import { conditionMessage, type Condition, type GlusterCluster, type GlusterNode, type GlusterVolume } from '../api/index.ts';
import { findCondition } from '../controller/conditions.ts';
import { LABEL_ROLE, parseHeadMeta } from '../topology/backup/secret-objects.ts';
import { formatBytes } from '../topology/sizing.ts';
import { toYamlStream } from './output.ts';

/**
 * What `kubectl gluster status` prints, from objects already read and parsed: problems first (what is not
 * Ready or is Degraded, as the operator's conditions say), then a count line per kind, then the topology
 * backup's age. Pure; status.ts does the reading. The table and width helpers here are also volume-view.ts's.
 */

/** Lines are cut to the terminal's width, or this when stdout is not a terminal (a pipe, a file, a test). */
export const DEFAULT_WIDTH = 120;

export const OUTPUT_FORMATS = ['json', 'yaml'] as const;
export type OutputFormat = 'text' | (typeof OUTPUT_FORMATS)[number];

/** `-o` read: absent is text; anything else but json or yaml is undefined (the caller's usage error). */
export function outputFormatOf(value: unknown): OutputFormat | undefined {
  if (value === undefined) return 'text';
  return (OUTPUT_FORMATS as readonly unknown[]).includes(value) ? (value as OutputFormat) : undefined;
}

/** A report for scripts: JSON or YAML of the report object, never cut to a width. */
export function structured(report: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : toYamlStream([report]);
}

/** Messages carry command output: one line of it, whitespace runs as one space. */
export const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** A line no wider than `width` (code points), ending in `…` when cut. */
export const fitWidth = (line: string, width: number) => conditionMessage(line, Math.max(width, 1));

/** Aligned columns; the last one (a message) is what gets cut when a row is wider than the terminal. */
export function table(headers: string[], rows: string[][], width: number): string[] {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => fitWidth(cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd(), width);
  return [line(headers), ...rows.map(line)];
}

/** kubectl's age style: 45s, 12m, 5h, 3d. */
export function formatAge(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 2 * 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 2 * 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

export const KINDS = ['GlusterCluster', 'GlusterNode', 'GlusterVolume'] as const;
export type Kind = (typeof KINDS)[number];

/** Ready and not Degraded is fine; everything else is a problem. Unreadable: its object did not parse. */
export const HEALTHS = ['Ready', 'Degraded', 'NotReady', 'NoStatus', 'Unreadable'] as const;
export type Health = (typeof HEALTHS)[number];
const HEALTH_WORDS: Record<Health, string> = { Ready: 'Ready', Degraded: 'Degraded', NotReady: 'Not Ready', NoStatus: 'No status', Unreadable: 'Unreadable' };

export interface HealthOf {
  health: Health;
  reason: string;
  message: string;
}

/** An object's health from its conditions: Degraded True wins (a Ready volume can have a brick down), then Ready. */
export function healthOf(conditions: readonly Condition[] | undefined): HealthOf {
  const degraded = findCondition(conditions, 'Degraded');
  if (degraded?.status === 'True') return { health: 'Degraded', reason: degraded.reason, message: degraded.message };
  const ready = findCondition(conditions, 'Ready');
  if (ready?.status === 'True') return { health: 'Ready', reason: ready.reason, message: ready.message };
  if (ready) return { health: 'NotReady', reason: ready.reason, message: ready.message };
  return { health: 'NoStatus', reason: 'NoStatus', message: 'no status yet: is the operator serving this namespace?' };
}

const problemSchema = z.object({
  kind: z.enum([...KINDS, 'Secret']),
  namespace: z.string(),
  name: z.string(),
  health: z.enum(HEALTHS),
  reason: z.string(),
  message: z.string(),
});
export type Problem = z.infer<typeof problemSchema>;

const tally = z.number().int().min(0);
const countSchema = z.object({ kind: z.enum(KINDS), total: tally, Ready: tally, Degraded: tally, NotReady: tally, NoStatus: tally, Unreadable: tally });
export type KindCount = z.infer<typeof countSchema>;

const backupHeadSchema = z.object({
  name: z.string(),
  generation: z.number().int().min(0).optional(),
  compressedBytes: z.number().int().min(0).optional(),
  writtenAt: z.string().optional(),
  ageSeconds: z.number().int().min(0).optional(),
  writer: z.string().optional(),
  problem: z.string().optional(),
});

export const backupReportSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('read'), namespace: z.string(), heads: z.array(backupHeadSchema), quarantined: z.number().int().min(0) }),
  z.object({ state: z.literal('forbidden'), namespace: z.string(), message: z.string() }),
  z.object({ state: z.literal('error'), namespace: z.string(), message: z.string() }),
]);
export type BackupReport = z.infer<typeof backupReportSchema>;

/** What `-o json` prints: the same facts as the text, whole (messages not cut). */
export const statusReportSchema = z.object({
  /** The namespace looked at; absent: all of them (-A). */
  namespace: z.string().optional(),
  healthy: z.boolean(),
  problems: z.array(problemSchema),
  counts: z.array(countSchema),
  backup: backupReportSchema,
});
export type StatusReport = z.infer<typeof statusReportSchema>;

/** An object status.ts could not parse with its kind's schema: a problem of its own, never guessed at. */
export interface UnreadableObject {
  kind: Kind;
  namespace: string;
  name: string;
  problem: string;
}

export interface StatusWorld {
  namespace?: string;
  clusters: GlusterCluster[];
  nodes: GlusterNode[];
  volumes: GlusterVolume[];
  unreadable: UnreadableObject[];
  backup: BackupReport;
}

type Watched = GlusterCluster | GlusterNode | GlusterVolume;

/** The report: problems in kind order (clusters, nodes, volumes), then namespace and name. */
export function statusReport(world: StatusWorld): StatusReport {
  const byKind: Record<Kind, Watched[]> = { GlusterCluster: world.clusters, GlusterNode: world.nodes, GlusterVolume: world.volumes };
  const problems: Problem[] = [];
  const counts: KindCount[] = [];
  for (const kind of KINDS) {
    const count: KindCount = { kind, total: 0, Ready: 0, Degraded: 0, NotReady: 0, NoStatus: 0, Unreadable: 0 };
    const rows: Problem[] = [];
    for (const object of byKind[kind]) {
      const { health, reason, message } = healthOf(object.status?.conditions);
      count[health] += 1;
      if (health !== 'Ready') rows.push({ kind, namespace: object.metadata.namespace ?? '', name: object.metadata.name, health, reason, message });
    }
    for (const bad of world.unreadable.filter((u) => u.kind === kind)) {
      count.Unreadable += 1;
      rows.push({ kind, namespace: bad.namespace, name: bad.name, health: 'Unreadable', reason: 'InvalidObject', message: bad.problem });
    }
    count.total = HEALTHS.reduce((sum, h) => sum + count[h], 0);
    counts.push(count);
    problems.push(...rows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)));
  }
  if (world.backup.state === 'read') {
    for (const head of world.backup.heads.filter((h) => h.problem !== undefined)) {
      problems.push({ kind: 'Secret', namespace: world.backup.namespace, name: head.name, health: 'Unreadable', reason: 'BackupUnreadable', message: head.problem! });
    }
  }
  return { ...(world.namespace !== undefined ? { namespace: world.namespace } : {}), healthy: problems.length === 0, problems, counts, backup: world.backup };
}

/**
 * The topology backup as its Secrets say (status.ts lists those of the backup in the operator's namespace):
 * each head's generation, size and write time from its meta.json, and the quarantined copies of an unreadable one.
 */
export function backupReportOf(namespace: string, secrets: V1Secret[], nowMs: number): BackupReport {
  const heads = secrets
    .filter((secret) => secret.metadata?.labels?.[LABEL_ROLE] === 'head')
    .map((secret) => {
      const name = secret.metadata?.name ?? '';
      const meta = parseHeadMeta(secret);
      if (!meta.success) return { name, problem: `${meta.error.message}: the operator cannot restore from it (see the README, "Topology database")` };
      const written = Date.parse(meta.data.writtenAt);
      return {
        name,
        generation: meta.data.generation,
        compressedBytes: meta.data.compressedBytes,
        writtenAt: meta.data.writtenAt,
        ...(Number.isNaN(written) ? {} : { ageSeconds: Math.max(0, Math.floor((nowMs - written) / 1000)) }),
        ...(meta.data.writer ? { writer: meta.data.writer } : {}),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const quarantined = secrets.filter((secret) => secret.metadata?.labels?.[LABEL_ROLE] === 'corrupt').length;
  return { state: 'read', namespace, heads, quarantined };
}

const plural = (count: number, kind: string) => `${count} ${kind}${count === 1 ? '' : 's'}`;

/** `3 GlusterVolumes: 2 Ready, 1 Degraded` (states with none left out). */
export function countLine(count: KindCount): string {
  const parts = HEALTHS.filter((h) => count[h] > 0).map((h) => `${count[h]} ${HEALTH_WORDS[h]}`);
  return parts.length === 0 ? plural(0, count.kind) : `${plural(count.total, count.kind)}: ${parts.join(', ')}`;
}

function backupLines(backup: BackupReport): string[] {
  const where = backup.namespace;
  if (backup.state === 'forbidden') return [`Topology backup: not shown: your kubeconfig may not list Secrets in ${where} (${backup.message})`];
  if (backup.state === 'error') return [`Topology backup: not shown: listing the Secrets in ${where} failed: ${backup.message}`];
  const lines = backup.heads.map((head) => {
    if (head.problem !== undefined) return `Topology backup ${where}/${head.name}: unreadable (listed above)`;
    const age = head.ageSeconds === undefined ? `at ${head.writtenAt}` : `${formatAge(head.ageSeconds * 1000)} ago`;
    const size = head.compressedBytes === undefined ? '' : ` (${formatBytes(head.compressedBytes)})`;
    return `Topology backup ${where}/${head.name}: generation ${head.generation}${size}, written ${age}${head.writer ? ` by ${head.writer}` : ''}`;
  });
  if (lines.length === 0) lines.push(`Topology backup: none in ${where} (the operator writes it after its first change; another namespace? --operator-namespace)`);
  if (backup.quarantined > 0) lines.push(`  ${plural(backup.quarantined, 'quarantined Secret')} of an unreadable backup kept in ${where} for inspection`);
  return lines;
}

/** The screen: problems (or that there are none), the count lines, the backup. */
export function statusText(report: StatusReport, width: number = DEFAULT_WIDTH): string {
  const scope = report.namespace === undefined ? 'any namespace' : `namespace ${report.namespace}`;
  const lines: string[] = [];
  const none = report.counts.every((count) => count.total === 0);
  if (none && report.problems.length === 0) lines.push(`No GlusterCluster, GlusterNode or GlusterVolume in ${scope}${report.namespace === undefined ? '' : ' (-A looks in every namespace)'}.`);
  else if (report.problems.length === 0) lines.push(`No problems in ${scope}.`);
  else {
    lines.push(`${plural(report.problems.length, 'problem')} in ${scope}:`);
    const rows = report.problems.map((p) => [p.kind, p.namespace, p.name, HEALTH_WORDS[p.health], p.reason, oneLine(p.message)]);
    lines.push(...table(['KIND', 'NAMESPACE', 'NAME', 'STATE', 'REASON', 'MESSAGE'], rows, width));
  }
  lines.push('', ...report.counts.map(countLine), '', ...backupLines(report.backup).map((line) => fitWidth(line, width)));
  return `${lines.join('\n')}\n`;
}
