import * as k8s from '@kubernetes/client-node';
import type { z } from 'zod';
import { API_GROUP, API_VERSION, glusterClusterSchema, glusterNodeSchema, glusterVolumeSchema } from '../api/index.ts';
import { LABEL_BACKUP } from '../topology/backup/secret-objects.ts';
import { PART_OF } from '../deploy/labels.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { systemClock } from '../runtime/clock.ts';
import { kubeConfigOf, usageError, type Command, type CommandIo, type OptionValues } from './command.ts';
import type { CommandOutput } from './output.ts';
import { backupReportOf, DEFAULT_WIDTH, outputFormatOf, statusReport, statusText, structured, type BackupReport, type Kind, type UnreadableObject } from './status-view.ts';

/**
 * `kubectl gluster status`: the apiserver edge. Everything comes from the custom resources' status, which the
 * operator keeps fresh, and from the topology backup's Secrets: read-only, no Gluster access. The namespace
 * option and the reading of API errors here are volume-describe.ts's too.
 */

const DEFAULT_OPERATOR_NAMESPACE = 'gluster-operator';

export const STATUS_USAGE = `Usage: kubectl gluster status [-n NAMESPACE | -A] [-o json|yaml] [--operator-namespace NS]

What is wrong first: every GlusterCluster, GlusterNode and GlusterVolume that is not Ready or is Degraded, with
the reason and message of its condition; then a count per kind; then the age of the topology backup (the
Secrets in the operator's namespace; skipped with a note when your kubeconfig may not list them).

Options:
  -n, --namespace NS        look in NS (default: your kubeconfig context's namespace, else default)
  -A, --all-namespaces      look in every namespace
  -o, --output FORMAT       json or yaml: the whole report, messages not cut (default: text for a terminal)
  --operator-namespace NS   where the operator keeps its topology backup (default ${DEFAULT_OPERATOR_NAMESPACE})
  -h, --help                show this help

Exit code: 0 when nothing is wrong, 1 when something is (or the apiserver could not be read), 2 on a usage error.
`;

/** The options both commands take: where to look (-n) and how to print (-o). */
export const NAMESPACE_OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
} as const;

/** The namespace to look in: -n, else the kubeconfig context's (as kubectl does), else default. */
export function namespaceOf(values: OptionValues, config: k8s.KubeConfig): string {
  if (typeof values.namespace === 'string') return values.namespace;
  return config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
}

/** The apiserver's own message of a failed call (its Status body), not client-node's dump of headers. */
export function apiErrorText(error: unknown): string {
  if (!(error instanceof k8s.ApiException)) return errorMessage(error);
  const body = error.body as unknown;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = body;
    }
  }
  const message = (parsed as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && message) return message;
  return error.code === 401 ? 'Unauthorized: your kubeconfig\'s credentials were refused' : `HTTP ${error.code}`;
}

const CRDS_MISSING = 'is the operator installed? kubectl get crd | grep gluster-operator.dev lists its resource kinds (apply crds/ first)';

/** A read the command cannot go on without: what failed and what to do (a 404 of a list: the CRDs are missing). */
export function readFailure(what: string, error: unknown, notFound: string = CRDS_MISSING): CommandOutput {
  const code = error instanceof k8s.ApiException ? error.code : undefined;
  const advice =
    code === 403
      ? 'ask for read access (kubectl auth can-i --list -n NAMESPACE shows what you may), or use -n for a namespace you may read'
      : code === 404
        ? notFound
        : code === undefined
          ? 'is the apiserver reachable with your kubeconfig? (kubectl get ns)'
          : 'try again; kubectl get of the same objects may say more';
  return { stdout: '', stderr: `error: cannot read ${what}: ${apiErrorText(error)}\n${advice}\n`, code: 1 };
}

const PLURALS: Record<Kind, string> = { GlusterCluster: 'glusterclusters', GlusterNode: 'glusternodes', GlusterVolume: 'glustervolumes' };

/** Every object of a kind, each parsed alone: one that does not parse is reported, and does not hide the others. */
export async function listKind<T>(
  config: k8s.KubeConfig,
  kind: Kind,
  schema: z.ZodType<T>,
  namespace: string | undefined,
): Promise<{ objects: T[]; unreadable: UnreadableObject[] }> {
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  const plural = PLURALS[kind];
  const list = (namespace === undefined
    ? await api.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural })
    : await api.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural })) as { items?: unknown[] };
  const objects: T[] = [];
  const unreadable: UnreadableObject[] = [];
  for (const item of list.items ?? []) {
    const parsed = schema.safeParse(item);
    if (parsed.success) objects.push(parsed.data);
    else {
      const metadata = (item as { metadata?: { name?: string; namespace?: string } }).metadata;
      const issue = parsed.error.issues[0];
      unreadable.push({ kind, namespace: metadata?.namespace ?? '', name: metadata?.name ?? '', problem: `does not match the ${kind} schema at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` });
    }
  }
  return { objects, unreadable };
}

/** The backup's Secrets (every part, so quarantined copies count); forbidden is a note, not a failure. */
async function readBackup(config: k8s.KubeConfig, namespace: string, nowMs: number): Promise<BackupReport> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const partOf = Object.entries(PART_OF).map(([key, value]) => `${key}=${value}`);
  try {
    const list = await core.listNamespacedSecret({ namespace, labelSelector: [...partOf, LABEL_BACKUP].join(',') });
    return backupReportOf(namespace, list.items, nowMs);
  } catch (error) {
    const forbidden = error instanceof k8s.ApiException && (error.code === 403 || error.code === 401);
    return { state: forbidden ? 'forbidden' : 'error', namespace, message: apiErrorText(error) };
  }
}

export const statusCommand: Command = {
  usage: STATUS_USAGE,
  options: {
    ...NAMESPACE_OPTIONS,
    'all-namespaces': { type: 'boolean', short: 'A', default: false },
    'operator-namespace': { type: 'string', default: DEFAULT_OPERATOR_NAMESPACE },
  },
  async run(values: OptionValues, io: CommandIo): Promise<CommandOutput> {
    const format = outputFormatOf(values.output);
    if (format === undefined) return usageError(`-o must be json or yaml, not ${String(values.output)}`, STATUS_USAGE);
    if (values['all-namespaces'] === true && typeof values.namespace === 'string') return usageError('-n and -A do not go together: one namespace, or all', STATUS_USAGE);
    const config = kubeConfigOf(io);
    const namespace = values['all-namespaces'] === true ? undefined : namespaceOf(values, config);
    const nowMs = (io.clock ?? systemClock).now();
    let world;
    try {
      const [clusters, nodes, volumes, backup] = await Promise.all([
        listKind(config, 'GlusterCluster', glusterClusterSchema, namespace),
        listKind(config, 'GlusterNode', glusterNodeSchema, namespace),
        listKind(config, 'GlusterVolume', glusterVolumeSchema, namespace),
        readBackup(config, String(values['operator-namespace']), nowMs),
      ]);
      world = {
        ...(namespace !== undefined ? { namespace } : {}),
        clusters: clusters.objects,
        nodes: nodes.objects,
        volumes: volumes.objects,
        unreadable: [...clusters.unreadable, ...nodes.unreadable, ...volumes.unreadable],
        backup,
      };
    } catch (error) {
      return readFailure(`the GlusterClusters, GlusterNodes and GlusterVolumes ${namespace === undefined ? 'of all namespaces' : `in ${namespace}`}`, error);
    }
    const report = statusReport(world);
    const stdout = format === 'text' ? statusText(report, io.columns ?? DEFAULT_WIDTH) : structured(report, format);
    return { stdout, stderr: '', code: report.healthy ? 0 : 1 };
  },
};
