import * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import { glusterNodeSchema, glusterVolumeSchema, type GlusterNode, type GlusterVolume } from '../api/index.ts';
import { volumeInfo } from '../gluster/commands/gluster.ts';
import type { GlusterVolumeInfo } from '../gluster/parsers/volume-info.ts';
import { bricksInSetOrder } from '../operator/reconcilers/volume-layout.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { systemClock } from '../runtime/clock.ts';
import { BackupTooNewError, topologyCodec } from '../topology/backup/codec.ts';
import { DEFAULT_BACKUP_NAME, SecretBackupStore, type LoadResult, type SecretsApi } from '../topology/backup/secret-store.ts';
import { brickGlusterName, brickNode, objectNameOf, type TopologyDatabase } from '../topology/model.ts';
import { kubeConfigOf, usageError, type Command, type CommandIo, type OptionValues } from './command.ts';
import { openLiveCluster, type OpenLive } from './heketi-check.ts';
import { readLive, VIA_OPTIONS, VIA_USAGE, viaTargetOf } from './live-via.ts';
import type { CommandOutput } from './output.ts';
import { apiErrorText, listKind, readFailure } from './status.ts';
import { formatAge, outputFormatOf, structured } from './status-view.ts';

/**
 * `kubectl gluster backup verify`: is the topology backup one the operator could restore from, and does it
 * describe what is there? The Secrets are read and checked as the operator reads them (SecretBackupStore.load:
 * every chunk, every checksum, the decode, the generation), then the database is compared with the
 * GlusterNodes and GlusterVolumes in the apiserver and, with --via, with Gluster's own volume info. Read-only.
 * The comparison is pure: compareBackup.
 */

const DEFAULT_OPERATOR_NAMESPACE = 'gluster-operator';

export const BACKUP_VERIFY_USAGE = `Usage: kubectl gluster backup verify [-n NAMESPACE] [-o json|yaml] [--via ...]

Reads the operator's topology backup (the Secrets ${DEFAULT_BACKUP_NAME}* in the operator's namespace), checks it as
the operator would restore it (every chunk present, checksums, decoding, generation) and says its generation
and age; then compares the database with the GlusterNodes and GlusterVolumes in the apiserver (each present in
both, same cluster and addresses, same bricks) and, with --via, with the live cluster's volumes and bricks
(gluster volume info). Every difference is printed with the entry it is about.

Options:
  -n, --namespace NS        compare only the objects of NS (default: every namespace)
  -o, --output FORMAT       json or yaml: the whole report (default: text)
  --operator-namespace NS   where the operator keeps the backup (default ${DEFAULT_OPERATOR_NAMESPACE})
  --backup-name NAME        the backup's head Secret (default ${DEFAULT_BACKUP_NAME})
${VIA_USAGE}
  -h, --help                show this help

Exit code: 0 when the backup is whole and matches, 1 when it differs (or cannot be read), 2 on a usage error.
`;

const differenceSchema = z.object({ entry: z.string(), message: z.string() });
export type BackupDifference = z.infer<typeof differenceSchema>;

const backupSummarySchema = z.object({
  namespace: z.string(),
  name: z.string(),
  state: z.enum(['ok', 'missing', 'corrupt', 'tooNew']),
  generation: z.number().int().min(0).optional(),
  writtenAt: z.string().optional(),
  ageSeconds: z.number().int().min(0).optional(),
  writer: z.string().optional(),
  chunks: z.number().int().min(0).optional(),
  compressedBytes: z.number().int().min(0).optional(),
  problem: z.string().optional(),
});

/** What `-o json` prints. */
export const backupVerifyReportSchema = z.object({
  backup: backupSummarySchema,
  matches: z.boolean(),
  differences: z.array(differenceSchema),
  notes: z.array(z.string()),
  compared: z.object({ nodes: z.number().int().min(0), volumes: z.number().int().min(0), bricks: z.number().int().min(0), liveVolumes: z.number().int().min(0).optional() }),
});
export type BackupVerifyReport = z.infer<typeof backupVerifyReportSchema>;

/** The backup as read: LoadResult, or a backup of a newer schema this CLI cannot decode. */
export type BackupRead = LoadResult<TopologyDatabase> | { state: 'tooNew'; message: string };

export function backupSummary(namespace: string, name: string, read: BackupRead, nowMs: number): z.infer<typeof backupSummarySchema> {
  const where = { namespace, name };
  switch (read.state) {
    case 'missing':
      return { ...where, state: 'missing', problem: `no Secret ${namespace}/${name} (the operator writes it after its first change; another namespace? --operator-namespace)` };
    case 'tooNew':
      return { ...where, state: 'tooNew', problem: `${read.message}: use the kubectl-gluster of the operator's release` };
    case 'corrupt':
      return {
        ...where,
        state: 'corrupt',
        ...(read.generation !== undefined ? { generation: read.generation } : {}),
        problem: `${read.error.message}: the operator cannot restore from it (it rebuilds from the live cluster instead; see the README, "Topology database")`,
      };
    case 'ok': {
      const written = Date.parse(read.meta.writtenAt);
      return {
        ...where,
        state: 'ok',
        generation: read.meta.generation,
        writtenAt: read.meta.writtenAt,
        ...(Number.isNaN(written) ? {} : { ageSeconds: Math.max(0, Math.floor((nowMs - written) / 1000)) }),
        ...(read.meta.writer ? { writer: read.meta.writer } : {}),
        chunks: read.meta.chunks.length,
        compressedBytes: read.meta.compressedBytes,
      };
    }
  }
}

export interface CompareInput {
  db: TopologyDatabase;
  /** Only database entries of this namespace (and only its objects were read); undefined: all. */
  namespace?: string;
  nodes: readonly GlusterNode[];
  volumes: readonly GlusterVolume[];
  /** gluster volume info of the node of --via. */
  live?: readonly GlusterVolumeInfo[];
}

const key = (object: { metadata: { namespace?: string | undefined; name: string } }) => `${object.metadata.namespace ?? 'default'}/${object.metadata.name}`;
const inScope = (namespace: string | undefined) => (name: string) => namespace === undefined || name.startsWith(`${namespace}/`);
const hostKey = (brick: string) => {
  const colon = brick.indexOf(':');
  return `${brick.slice(0, colon).toLowerCase()}${brick.slice(colon)}`;
};

/** Bricks one side has and the other has not, said both ways; undefined when the lists are the same (in order). */
function brickDifference(ours: readonly string[], theirs: readonly string[], theirName: string): string | undefined {
  const a = ours.map(hostKey);
  const b = theirs.map(hostKey);
  if (a.length === b.length && a.every((brick, i) => brick === b[i])) return undefined;
  const missing = ours.filter((brick) => !b.includes(hostKey(brick)));
  const extra = theirs.filter((brick) => !a.includes(hostKey(brick)));
  const parts = [
    ...(missing.length > 0 ? [`not in ${theirName}: ${missing.join(', ')}`] : []),
    ...(extra.length > 0 ? [`only in ${theirName}: ${extra.join(', ')}`] : []),
  ];
  return parts.length > 0 ? `bricks differ (${parts.join('; ')})` : `bricks are in another order in ${theirName} (${theirs.join(', ')}): the sets differ`;
}

/** Every difference between the database and the objects (and the live volumes), each naming its entry. */
export function compareBackup(input: CompareInput): { differences: BackupDifference[]; notes: string[]; compared: BackupVerifyReport['compared'] } {
  const { db } = input;
  const scoped = inScope(input.namespace);
  const differences: BackupDifference[] = [];
  const notes: string[] = [];
  const differ = (entry: string, message: string) => differences.push({ entry, message });

  const dbNodes = db.nodes.filter((n) => scoped(n.name));
  const objectNodes = new Map(input.nodes.map((n) => [key(n), n]));
  for (const record of dbNodes) {
    const object = objectNodes.get(record.name);
    const entry = `node ${record.name}`;
    if (!object) {
      differ(entry, 'in the backup, but there is no such GlusterNode');
      continue;
    }
    const namespace = record.name.slice(0, record.name.indexOf('/'));
    const fields: Array<[string, string, string]> = [
      ['cluster', objectNameOf(record.cluster), object.spec.cluster],
      ['manage address', record.manage, object.spec.manageAddress],
      ['storage address', record.storage, object.spec.storageAddress],
    ];
    for (const [what, ours, theirs] of fields) if (ours !== theirs) differ(entry, `${what} ${ours} in the backup, ${theirs} in GlusterNode ${namespace}/${object.metadata.name}`);
  }
  const dbNodeNames = new Set(dbNodes.map((n) => n.name));
  for (const name of objectNodes.keys()) if (!dbNodeNames.has(name)) differ(`GlusterNode ${name}`, 'not in the backup');

  const dbVolumes = db.volumes.filter((v) => scoped(v.name));
  const objectVolumes = new Map(input.volumes.map((v) => [key(v), v]));
  let bricks = 0;
  for (const record of dbVolumes) {
    const entry = `volume ${record.name}`;
    const names = bricksInSetOrder(record).map((brick) => brickGlusterName(db, brick));
    bricks += names.length;
    const object = objectVolumes.get(record.name);
    if (!object) {
      differ(entry, `in the backup (Gluster volume ${record.gluster}), but there is no such GlusterVolume`);
      continue;
    }
    const glusterName = object.status?.glusterVolumeName ?? object.spec.glusterVolumeName;
    if (glusterName !== undefined && glusterName !== record.gluster) differ(entry, `Gluster volume ${record.gluster} in the backup, ${glusterName} in the GlusterVolume`);
    if (objectNameOf(record.cluster) !== object.spec.cluster) differ(entry, `cluster ${objectNameOf(record.cluster)} in the backup, ${object.spec.cluster} in the GlusterVolume`);
    const statusBricks = object.status?.bricks;
    if (statusBricks === undefined) {
      notes.push(`GlusterVolume ${record.name} has no bricks in its status yet: its bricks were not compared`);
      continue;
    }
    // The status lists the bricks in set order, as Gluster does (volume-report.ts).
    const brickText = brickDifference(names, statusBricks.map((b) => b.path), 'the GlusterVolume\'s status');
    if (brickText) differ(entry, brickText);
    record.bricks.forEach((brick) => {
      const node = objectNameOf(brickNode(db, brick).name);
      const shown = statusBricks.find((b) => hostKey(b.path) === hostKey(brickGlusterName(db, brick)));
      if (shown && shown.node !== node) differ(entry, `brick ${shown.path} is on node ${node} in the backup, ${shown.node} in the GlusterVolume's status`);
    });
  }
  const dbVolumeNames = new Set(dbVolumes.map((v) => v.name));
  for (const [name, object] of objectVolumes) {
    if (dbVolumeNames.has(name)) continue;
    // A volume the operator has not placed yet is in neither: placement writes the backup before any brick is made.
    if (object.status?.bricks === undefined) notes.push(`GlusterVolume ${name} is not placed yet (no bricks in its status), so not in the backup either`);
    else differ(`GlusterVolume ${name}`, `not in the backup, though its status lists ${object.status.bricks.length} bricks`);
  }

  let liveVolumes: number | undefined;
  if (input.live) {
    const live = input.live;
    liveVolumes = live.length;
    // The node of --via answers for its own pool: the database's clusters with a node whose bricks Gluster lists.
    const liveHosts = new Set(live.flatMap((v) => v.bricks.map((b) => b.host.toLowerCase())));
    let clusters = new Set(db.nodes.filter((n) => liveHosts.has(n.storage.toLowerCase())).map((n) => n.cluster));
    if (clusters.size === 0 && db.clusters.length === 1) clusters = new Set([db.clusters[0]!.name]);
    const byName = new Map(live.map((v) => [v.name, v]));
    const expected = dbVolumes.filter((v) => clusters.has(v.cluster));
    for (const record of expected) {
      const entry = `volume ${record.name}`;
      const info = byName.get(record.gluster);
      if (!info) {
        differ(entry, `Gluster volume ${record.gluster} does not exist in the live cluster`);
        continue;
      }
      const names = bricksInSetOrder(record).map((brick) => brickGlusterName(db, brick));
      const brickText = brickDifference(names, info.bricks.map((b) => b.name), 'Gluster');
      if (brickText) differ(entry, brickText);
    }
    const known = new Set(db.volumes.map((v) => v.gluster));
    for (const info of live.filter((v) => !known.has(v.name))) notes.push(`Gluster volume ${info.name} is live but in no GlusterVolume of the backup (not managed by the operator, or not adopted)`);
    if (clusters.size === 0 && db.volumes.length > 0) notes.push('no cluster of the backup has a node whose bricks the live cluster lists: is --via a node of this operator\'s pool?');
  }
  return { differences, notes, compared: { nodes: dbNodes.length, volumes: dbVolumes.length, bricks, ...(liveVolumes !== undefined ? { liveVolumes } : {}) } };
}

export function verifyReport(summary: z.infer<typeof backupSummarySchema>, comparison: ReturnType<typeof compareBackup> | undefined, extraNotes: string[] = []): BackupVerifyReport {
  const differences = [
    ...(summary.problem !== undefined ? [{ entry: `backup ${summary.namespace}/${summary.name}`, message: summary.problem }] : []),
    ...(comparison?.differences ?? []),
  ];
  return {
    backup: summary,
    matches: differences.length === 0,
    differences,
    notes: [...(comparison?.notes ?? []), ...extraNotes],
    compared: comparison?.compared ?? { nodes: 0, volumes: 0, bricks: 0 },
  };
}

const plural = (n: number, kind: string) => `${n} ${kind}${n === 1 ? '' : 's'}`;

export function verifyText(report: BackupVerifyReport): string {
  const { backup } = report;
  const lines: string[] = [];
  if (backup.state === 'ok') {
    const age = backup.ageSeconds === undefined ? `at ${backup.writtenAt}` : `${formatAge(backup.ageSeconds * 1000)} ago`;
    lines.push(
      `Topology backup ${backup.namespace}/${backup.name}: generation ${backup.generation}, ${plural(backup.chunks ?? 0, 'chunk')}, checksums verified, written ${age}${backup.writer ? ` by ${backup.writer}` : ''}`,
    );
  }
  lines.push(...report.differences.map((d) => `${d.entry}: ${d.message}`), ...report.notes.map((note) => `note: ${note}`));
  const { nodes, volumes, bricks, liveVolumes } = report.compared;
  const compared = `${plural(nodes, 'node')}, ${plural(volumes, 'volume')}, ${plural(bricks, 'brick')}${liveVolumes === undefined ? '' : `, ${plural(liveVolumes, 'live volume')}`}`;
  lines.push(
    report.matches
      ? `backup matches: ${compared}`
      : `${plural(report.differences.length, 'difference')} (compared ${compared}); a backup that lags a change is rewritten by the operator within seconds: run this again, and look at the operator's log if it stays`,
  );
  return `${lines.join('\n')}\n`;
}

/** The store reads only: a verify must never write, so the write calls are refused before they reach the apiserver. */
function readOnly(core: k8s.CoreV1Api): SecretsApi {
  const refuse = async (): Promise<never> => {
    throw new Error('backup verify does not write Secrets');
  };
  return {
    readNamespacedSecret: (request) => core.readNamespacedSecret(request),
    listNamespacedSecret: (request) => core.listNamespacedSecret(request),
    createNamespacedSecret: refuse,
    replaceNamespacedSecret: refuse,
    deleteNamespacedSecret: refuse,
  } as SecretsApi;
}

export function backupVerifyCommandWith(openLive: OpenLive = openLiveCluster): Command {
  return {
    usage: BACKUP_VERIFY_USAGE,
    options: {
      namespace: { type: 'string', short: 'n' },
      output: { type: 'string', short: 'o' },
      'operator-namespace': { type: 'string', default: DEFAULT_OPERATOR_NAMESPACE },
      'backup-name': { type: 'string', default: DEFAULT_BACKUP_NAME },
      ...VIA_OPTIONS,
    },
    async run(values: OptionValues, io: CommandIo): Promise<CommandOutput> {
      const format = outputFormatOf(values.output);
      if (format === undefined) return usageError(`-o must be json or yaml, not ${String(values.output)}`, BACKUP_VERIFY_USAGE);
      const via = viaTargetOf(values, BACKUP_VERIFY_USAGE);
      if (via !== undefined && 'code' in via) return via;
      const operatorNamespace = String(values['operator-namespace']);
      const name = String(values['backup-name']);
      let store: SecretBackupStore<TopologyDatabase>;
      const config = kubeConfigOf(io);
      try {
        store = new SecretBackupStore({ core: readOnly(config.makeApiClient(k8s.CoreV1Api)), namespace: operatorNamespace, codec: topologyCodec(), name });
      } catch (error) {
        return usageError(`--backup-name: ${errorMessage(error)}`, BACKUP_VERIFY_USAGE);
      }
      const namespace = typeof values.namespace === 'string' ? values.namespace : undefined;
      const nowMs = (io.clock ?? systemClock).now();
      let read: BackupRead;
      try {
        read = await store.load();
      } catch (error) {
        if (error instanceof BackupTooNewError) read = { state: 'tooNew', message: error.message };
        else return readFailure(`the topology backup in ${operatorNamespace}`, error, `is the operator's namespace ${operatorNamespace}? --operator-namespace NS`);
      }
      const extraNotes: string[] = [];
      try {
        const quarantined = await store.listQuarantined();
        if (quarantined.length > 0) extraNotes.push(`${plural(quarantined.length, 'quarantined Secret')} of an earlier unreadable backup kept in ${operatorNamespace} for inspection`);
      } catch (error) {
        extraNotes.push(`quarantined copies not looked for: ${apiErrorText(error)}`);
      }
      const summary = backupSummary(operatorNamespace, name, read, nowMs);
      let comparison: ReturnType<typeof compareBackup> | undefined;
      if (read.state === 'ok') {
        let nodes: GlusterNode[];
        let volumes: GlusterVolume[];
        try {
          const [nodeList, volumeList] = await Promise.all([listKind(config, 'GlusterNode', glusterNodeSchema, namespace), listKind(config, 'GlusterVolume', glusterVolumeSchema, namespace)]);
          nodes = nodeList.objects;
          volumes = volumeList.objects;
          for (const bad of [...nodeList.unreadable, ...volumeList.unreadable]) extraNotes.push(`${bad.kind} ${bad.namespace}/${bad.name} ${bad.problem}: not compared`);
        } catch (error) {
          return readFailure(`the GlusterNodes and GlusterVolumes ${namespace === undefined ? 'of all namespaces' : `in ${namespace}`}`, error);
        }
        let live: GlusterVolumeInfo[] | undefined;
        if (via !== undefined) {
          const answer = await readLive(via, io, openLive, (run) => run(volumeInfo()));
          if ('failed' in answer) return answer.failed;
          live = answer.live;
        }
        comparison = compareBackup({ db: read.db, ...(namespace !== undefined ? { namespace } : {}), nodes, volumes, ...(live ? { live } : {}) });
      }
      const report = verifyReport(summary, comparison, extraNotes);
      const stdout = format === 'text' ? verifyText(report) : structured(report, format);
      return { stdout, stderr: '', code: report.matches ? 0 : 1 };
    },
  };
}

export const backupVerifyCommand: Command = backupVerifyCommandWith();
