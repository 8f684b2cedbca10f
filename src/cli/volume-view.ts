import { z } from 'zod';
import { DRIVER_NAME, glusterVolumeSchema, glusterVolumeStatusSchema, type Durability } from '../api/index.ts';
import type { Claim, PersistentVolume, Pod } from '../migration/objects.ts';
import { parseVolumeHandle } from '../provisioner/pv-builder.ts';
import { DEFAULT_WIDTH, fitWidth, formatAge, oneLine, table } from './status-view.ts';

/**
 * What `kubectl gluster volume describe` decides and prints, from objects already read: which GlusterVolume a
 * name or a claim means, which PVs, claims and pods use it, and the description. Pure; volume-describe.ts
 * does the reading.
 */

/**
 * Heal backlog, read when the status carries it (issue 15 item 2 adds status.heal) and absent otherwise: a
 * status without it still parses, and the description says it is not reported rather than show a made-up 0.
 */
const healSchema = z.looseObject({
  pendingEntries: z.number().int().min(0).optional(),
  splitBrainEntries: z.number().int().min(0).optional(),
  checkedAt: z.string().optional(),
});

/** A GlusterVolume as the API schema reads it, with status.heal kept (the API schema drops what it does not know yet). */
export const describedVolumeSchema = glusterVolumeSchema.extend({ status: glusterVolumeStatusSchema.extend({ heal: healSchema.optional() }).optional() });
export type DescribedVolume = z.infer<typeof describedVolumeSchema>;

/** What the argument names: a GlusterVolume (its object name, or its Gluster volume's name), or a claim. */
export type Target = { kind: 'volume'; namespace: string; name: string } | { kind: 'claim'; namespace: string; name: string };

/** `NAME` in the namespace of -n; `pvc:NS/NAME`, or `pvc:NAME` in the namespace of -n. */
export function parseTarget(argument: string, namespace: string): Target | { problem: string } {
  if (!argument.startsWith('pvc:')) return { kind: 'volume', namespace, name: argument };
  const [first, second, ...more] = argument.slice('pvc:'.length).split('/');
  if (!first || more.length > 0 || second === '') return { problem: `${argument} is not pvc:NAMESPACE/NAME (or pvc:NAME with -n NAMESPACE)` };
  return second === undefined ? { kind: 'claim', namespace, name: first } : { kind: 'claim', namespace: first, name: second };
}

/** Which GlusterVolume a PV mounts: our CSI driver's volumeHandle names it; an in-tree glusterfs PV names its Gluster volume. */
export type PersistentVolumeSource =
  | { kind: 'csi'; namespace: string; name: string }
  | { kind: 'inTree'; glusterVolumeName: string }
  | { problem: string };

export function sourceOfPersistentVolume(pv: PersistentVolume): PersistentVolumeSource {
  const name = pv.metadata.name;
  if (pv.spec.csi?.driver === DRIVER_NAME) {
    const handle = parseVolumeHandle(pv.spec.csi.volumeHandle);
    if (!handle) return { problem: `PersistentVolume ${name} has volumeHandle ${JSON.stringify(pv.spec.csi.volumeHandle)}, not <namespace>/<GlusterVolume name>` };
    return { kind: 'csi', ...handle };
  }
  if (pv.spec.glusterfs) return { kind: 'inTree', glusterVolumeName: pv.spec.glusterfs.path };
  const other = pv.spec.csi ? `CSI driver ${pv.spec.csi.driver}` : 'no CSI driver or glusterfs source';
  return { problem: `PersistentVolume ${name} is not a Gluster volume of this operator (${other}, not ${DRIVER_NAME} or spec.glusterfs)` };
}

/** The name Gluster knows the volume by: as the operator observed it, else as the spec asks. */
export const glusterNameOf = (volume: Pick<DescribedVolume, 'spec' | 'status'>) => volume.status?.glusterVolumeName ?? volume.spec.glusterVolumeName;

export function volumesWithGlusterName<T extends Pick<DescribedVolume, 'spec' | 'status'>>(volumes: T[], glusterVolumeName: string): T[] {
  return volumes.filter((volume) => glusterNameOf(volume) === glusterVolumeName);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** Names close to a mistyped one: a few edits away, or containing it (or contained in it); closest first, at most 5. */
export function closeMatches(name: string, candidates: string[]): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return [...new Set(candidates)]
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .filter(({ candidate, distance }) => distance <= limit || candidate.includes(name) || name.includes(candidate))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, 5)
    .map(({ candidate }) => candidate);
}

/** `GlusterVolume "dat" not found in namespace apps; did you mean data?` and how to list them. */
export function notFoundMessage(what: string, name: string, namespace: string, candidates: string[], list: string): string {
  const close = closeMatches(name, candidates);
  const hint = close.length > 0 ? `; did you mean ${close.join(', ')}?` : candidates.length === 0 ? ` (there is none there)` : '';
  return `error: ${what} ${JSON.stringify(name)} not found in namespace ${namespace}${hint}\n${list}\n`;
}

const pvSummarySchema = z.object({
  name: z.string(),
  source: z.enum(['csi', 'inTree']),
  phase: z.string().optional(),
  claim: z.string().optional(),
  reclaimPolicy: z.string().optional(),
});
const claimSummarySchema = z.object({ namespace: z.string(), name: z.string(), phase: z.string().optional(), requested: z.string().optional(), persistentVolume: z.string().optional() });
const podSummarySchema = z.object({ namespace: z.string(), name: z.string(), phase: z.string().optional(), claim: z.string() });

/** What `-o json` prints: the volume as the API schema reads it, and who uses it. */
export const volumeDescriptionSchema = z.object({
  volume: describedVolumeSchema,
  persistentVolumes: z.array(pvSummarySchema),
  claims: z.array(claimSummarySchema),
  pods: z.array(podSummarySchema),
  /** What could not be read (forbidden, gone), said rather than shown as empty. */
  notes: z.array(z.string()),
});
export type VolumeDescription = z.infer<typeof volumeDescriptionSchema>;

/** The PVs whose volumeHandle names the volume, and in-tree ones naming its Gluster volume (not migrated yet). */
export function persistentVolumesOf(volume: DescribedVolume, pvs: PersistentVolume[]): z.infer<typeof pvSummarySchema>[] {
  const glusterName = glusterNameOf(volume);
  return pvs
    .flatMap((pv) => {
      const source = sourceOfPersistentVolume(pv);
      const mine =
        'kind' in source &&
        (source.kind === 'csi' ? source.namespace === volume.metadata.namespace && source.name === volume.metadata.name : source.glusterVolumeName === glusterName);
      if (!mine) return [];
      const ref = pv.spec.claimRef;
      return [{
        name: pv.metadata.name,
        source: source.kind,
        ...(pv.status?.phase ? { phase: pv.status.phase } : {}),
        ...(ref?.name ? { claim: `${ref.namespace ?? ''}/${ref.name}` } : {}),
        ...(pv.spec.persistentVolumeReclaimPolicy ? { reclaimPolicy: pv.spec.persistentVolumeReclaimPolicy } : {}),
      }];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function claimSummary(claim: Claim): z.infer<typeof claimSummarySchema> {
  const requested = claim.spec.resources?.requests?.storage;
  return {
    namespace: claim.metadata.namespace,
    name: claim.metadata.name,
    ...(claim.status?.phase ? { phase: claim.status.phase } : {}),
    ...(typeof requested === 'string' ? { requested } : {}),
    ...(claim.spec.volumeName ? { persistentVolume: claim.spec.volumeName } : {}),
  };
}

const FINISHED = ['Succeeded', 'Failed'];

/** Pods that use one of the claims and have not finished (a finished pod holds no mount). */
export function podsUsing(claims: Pick<Claim, 'metadata'>[], pods: Pod[]): z.infer<typeof podSummarySchema>[] {
  return pods
    .flatMap((pod) => {
      if (FINISHED.includes(pod.status?.phase ?? '')) return [];
      const claim = (pod.spec.volumes ?? [])
        .map((volume) => volume.persistentVolumeClaim?.claimName)
        .find((name) => claims.some((c) => c.metadata.namespace === pod.metadata.namespace && c.metadata.name === name));
      return claim === undefined ? [] : [{ namespace: pod.metadata.namespace ?? '', name: pod.metadata.name, ...(pod.status?.phase ? { phase: pod.status.phase } : {}), claim }];
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export function durabilityText(durability: Durability): string {
  switch (durability.type) {
    case 'None':
      return 'None (distribute, no copies)';
    case 'Replicate':
      return `Replicate ${durability.replicate?.replica ?? 3}${durability.replicate?.arbiter ? ' with arbiter' : ''}`;
    case 'Disperse':
      return `Disperse ${durability.disperse?.data ?? '?'}+${durability.disperse?.redundancy ?? '?'}`;
  }
}

function healText(heal: z.infer<typeof healSchema> | undefined, glusterName: string | undefined, nowMs: number): string {
  if (heal?.pendingEntries === undefined && heal?.splitBrainEntries === undefined) return 'not reported in status (an operator that predates heal reporting)';
  const parts = [];
  if (heal.pendingEntries !== undefined) parts.push(`${heal.pendingEntries} entries pending`);
  if (heal.splitBrainEntries !== undefined) {
    parts.push(`${heal.splitBrainEntries} in split-brain${heal.splitBrainEntries > 0 ? ` (gluster volume heal ${glusterName ?? 'VOLUME'} info split-brain lists them)` : ''}`);
  }
  const checked = heal.checkedAt === undefined ? Number.NaN : Date.parse(heal.checkedAt);
  return `${parts.join(', ')}${Number.isNaN(checked) ? '' : ` (checked ${formatAge(nowMs - checked)} ago)`}`;
}

const online = (value: boolean | undefined) => (value === undefined ? '?' : value ? 'yes' : 'NO');

/** A section: its title, then its table indented (or `none`). */
function section(title: string, headers: string[], rows: string[][], width: number, empty: string): string[] {
  if (rows.length === 0) return [`${title}: ${empty}`];
  return [`${title}:`, ...table(headers, rows, width - 2).map((line) => `  ${line}`)];
}

export function volumeText(description: VolumeDescription, nowMs: number, width: number = DEFAULT_WIDTH): string {
  const { volume, persistentVolumes, claims, pods, notes } = description;
  const status = volume.status;
  const bricks = status?.bricks ?? [];
  const fields: Array<[string, string]> = [
    ['Gluster volume', `${glusterNameOf(volume) ?? '(not created yet)'}${status?.glusterVolumeId ? ` (id ${status.glusterVolumeId})` : ''}`],
    ['Durability', `${durabilityText(volume.spec.durability)}${status?.durability ? ` (Gluster: ${status.durability})` : ''}`],
    ['Size', `${volume.spec.size} requested${status?.capacity ? `, ${status.capacity} capacity` : ''}`],
    ['Mount source', status?.mountSource ?? '(none yet)'],
    ['Backup servers', status?.backupVolfileServers?.length ? status.backupVolfileServers.join(', ') : '(none)'],
    ['Clients', status?.clients === undefined ? 'not reported' : `${status.clients} connected`],
    ['Heal', healText(status?.heal, glusterNameOf(volume), nowMs)],
    ['Reclaim policy', volume.spec.reclaimPolicy],
  ];
  const label = Math.max(...fields.map(([name]) => name.length)) + 3;
  const conditionRows = (status?.conditions ?? []).map((c) => {
    const since = Date.parse(c.lastTransitionTime);
    return [c.type, c.status, c.reason, Number.isNaN(since) ? '?' : formatAge(nowMs - since), oneLine(c.message)];
  });
  const onlineCount = bricks.filter((b) => b.online === true).length;
  const lines = [
    fitWidth(`GlusterVolume ${volume.metadata.namespace ?? ''}/${volume.metadata.name} (cluster ${volume.spec.cluster})`, width),
    ...fields.map(([name, value]) => fitWidth(`${`${name}:`.padEnd(label)}${value}`, width)),
    '',
    ...section('Conditions', ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'], conditionRows, width, 'none yet (is the operator running, and serving this namespace?)'),
    ...section(
      `Bricks (${bricks.length}, ${onlineCount} online)`,
      ['SET', 'BRICK', 'NODE', 'ONLINE', 'SIZE'],
      bricks.map((b) => [String(b.set), `${b.path}${b.arbiter ? ' (arbiter)' : ''}`, b.node, online(b.online), b.size ?? '']),
      width,
      'none in status',
    ),
    ...section('PersistentVolumes', ['NAME', 'SOURCE', 'PHASE', 'CLAIM', 'RECLAIM'], persistentVolumes.map((pv) => [pv.name, pv.source === 'csi' ? 'CSI' : 'in-tree', pv.phase ?? '', pv.claim ?? '', pv.reclaimPolicy ?? '']), width, 'none'),
    ...section('Claims', ['NAMESPACE', 'NAME', 'PHASE', 'REQUESTED', 'VOLUME'], claims.map((c) => [c.namespace, c.name, c.phase ?? '', c.requested ?? '', c.persistentVolume ?? '']), width, 'none'),
    ...section('Pods using it', ['NAMESPACE', 'NAME', 'PHASE', 'CLAIM'], pods.map((p) => [p.namespace, p.name, p.phase ?? '', p.claim]), width, 'none'),
    ...notes.map((note) => fitWidth(`Note: ${note}`, width)),
  ];
  return `${lines.join('\n')}\n`;
}
