import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION } from '../api/index.ts';
import { claimSchema, persistentVolumeSchema, podSchema, type Claim } from '../migration/objects.ts';
import { systemClock } from '../runtime/clock.ts';
import { kubeConfigOf, usageError, type Command, type CommandIo, type OptionValues } from './command.ts';
import type { CommandOutput } from './output.ts';
import { apiErrorText, listKind, namespaceOf, NAMESPACE_OPTIONS, readFailure } from './status.ts';
import { DEFAULT_WIDTH, outputFormatOf, structured } from './status-view.ts';
import {
  claimSummary,
  describedVolumeSchema,
  notFoundMessage,
  parseTarget,
  persistentVolumesOf,
  podsUsing,
  sourceOfPersistentVolume,
  volumesWithGlusterName,
  volumeText,
  type DescribedVolume,
  type VolumeDescription,
} from './volume-view.ts';

/**
 * `kubectl gluster volume describe`: the apiserver edge. Finds the GlusterVolume a name or a claim means, then
 * reads who uses it: the PVs naming it, their claims, the pods using those. Read-only; a part the kubeconfig
 * may not read (PVs are cluster-scoped) becomes a note, not a failure.
 */

export const VOLUME_DESCRIBE_USAGE = `Usage: kubectl gluster volume describe NAME | pvc:NAMESPACE/NAME [-n NAMESPACE] [-o json|yaml]

One GlusterVolume: its conditions, durability and layout, size and capacity, Gluster volume name, mount
source and backup servers, bricks (and whether Gluster reports them online), heal backlog, clients; then the
PersistentVolumes whose volumeHandle names it (and in-tree glusterfs PVs of its Gluster volume), their claims,
and the pods (not finished) using those claims.

NAME is the GlusterVolume's name (or its Gluster volume's name) in the namespace of -n. pvc:NAMESPACE/NAME
(or pvc:NAME with -n) is the claim whose PersistentVolume mounts it: a CSI PV of this operator, or an in-tree
glusterfs PV, matched by Gluster volume name.

Options:
  -n, --namespace NS    where NAME (or pvc:NAME) is (default: your kubeconfig context's namespace, else default)
  -o, --output FORMAT   json or yaml: the whole description (default: text for a terminal)
  -h, --help            show this help

Exit code: 0 when the volume was found and described, 1 when it was not (the message lists close names), 2 on a usage error.
`;

const isStatus = (error: unknown, ...codes: number[]) => error instanceof k8s.ApiException && codes.includes(error.code);

/** A read that may be forbidden (or gone): its value, or undefined and a note saying why it is not shown. */
async function optional<T>(what: string, notes: string[], read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    notes.push(`${what} not shown: ${apiErrorText(error)}`);
    return undefined;
  }
}

class DescribeKube {
  readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly config: k8s.KubeConfig;

  constructor(config: k8s.KubeConfig) {
    this.config = config;
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
  }

  async volume(namespace: string, name: string): Promise<DescribedVolume | undefined> {
    try {
      return describedVolumeSchema.parse(await this.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: 'glustervolumes', name }));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async volumes(namespace: string | undefined): Promise<DescribedVolume[]> {
    return (await listKind(this.config, 'GlusterVolume', describedVolumeSchema, namespace)).objects;
  }

  async claim(namespace: string, name: string): Promise<Claim | undefined> {
    try {
      return claimSchema.parse(await this.core.readNamespacedPersistentVolumeClaim({ namespace, name }));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }
}

type Found = { volume: DescribedVolume } | CommandOutput;
const failed = (stderr: string): CommandOutput => ({ stdout: '', stderr, code: 1 });

/** NAME: the GlusterVolume of that name, else the one whose Gluster volume has it; else the close names. */
async function volumeByName(kube: DescribeKube, namespace: string, name: string): Promise<Found> {
  const volume = await kube.volume(namespace, name);
  if (volume) return { volume };
  const all = await kube.volumes(namespace);
  const [byGlusterName, ...more] = volumesWithGlusterName(all, name);
  if (byGlusterName && more.length === 0) return { volume: byGlusterName };
  return failed(notFoundMessage('GlusterVolume', name, namespace, all.map((v) => v.metadata.name), `kubectl get glustervolumes -n ${namespace} lists them; a claim is pvc:NAMESPACE/NAME`));
}

/** pvc:NS/NAME: the claim, its PV, and the GlusterVolume that PV mounts. */
async function volumeByClaim(kube: DescribeKube, namespace: string, name: string): Promise<Found> {
  const claim = await kube.claim(namespace, name);
  if (!claim) {
    const names = (await kube.core.listNamespacedPersistentVolumeClaim({ namespace })).items.map((c) => c.metadata?.name ?? '');
    return failed(notFoundMessage('PersistentVolumeClaim', name, namespace, names, `kubectl get pvc -n ${namespace} lists them`));
  }
  const pvName = claim.spec.volumeName;
  if (!pvName) return failed(`error: claim ${namespace}/${name} is not bound to a PersistentVolume yet (${claim.status?.phase ?? 'no phase'}); kubectl describe pvc -n ${namespace} ${name} says why\n`);
  const raw = await kube.core.readPersistentVolume({ name: pvName }).catch((error: unknown) => (isStatus(error, 404) ? undefined : Promise.reject(error)));
  if (raw === undefined) return failed(`error: claim ${namespace}/${name} is bound to PersistentVolume ${pvName}, which does not exist (kubectl describe pvc -n ${namespace} ${name})\n`);
  const pv = persistentVolumeSchema.parse(raw);
  const source = sourceOfPersistentVolume(pv);
  if ('problem' in source) return failed(`error: claim ${namespace}/${name} is bound to ${source.problem}\n`);
  if (source.kind === 'csi') {
    const volume = await kube.volume(source.namespace, source.name);
    if (volume) return { volume };
    return failed(`error: claim ${namespace}/${name} is bound to PersistentVolume ${pvName}, whose GlusterVolume ${source.namespace}/${source.name} does not exist (deleted? kubectl get glustervolumes -n ${source.namespace})\n`);
  }
  // An in-tree PV says only the Gluster volume's name: any namespace's GlusterVolume may hold it, so all are
  // looked at, or the claim's namespace alone when the kubeconfig may not list every one.
  const candidates = await kube.volumes(undefined).catch((error: unknown) => (isStatus(error, 403) ? kube.volumes(namespace) : Promise.reject(error)));
  const matches = volumesWithGlusterName(candidates, source.glusterVolumeName);
  if (matches.length === 1) return { volume: matches[0]! };
  if (matches.length === 0) {
    return failed(
      `error: claim ${namespace}/${name} is bound to in-tree PersistentVolume ${pvName} (Gluster volume ${source.glusterVolumeName}), which no GlusterVolume holds; ` +
        `import heketi's volumes first (kubectl gluster heketi import)\n`,
    );
  }
  const names = matches.map((v) => `${v.metadata.namespace}/${v.metadata.name}`).join(', ');
  return failed(`error: Gluster volume ${source.glusterVolumeName} of PersistentVolume ${pvName} is named by several GlusterVolumes (${names}); describe one by name\n`);
}

/** Who uses the volume; what the kubeconfig may not read is a note. */
async function describe(kube: DescribeKube, volume: DescribedVolume): Promise<VolumeDescription> {
  const notes: string[] = [];
  const pvList = await optional('PersistentVolumes', notes, () => kube.core.listPersistentVolume());
  const persistentVolumes = persistentVolumesOf(volume, (pvList?.items ?? []).map((pv) => persistentVolumeSchema.parse(pv)));
  const claimRefs = persistentVolumes.flatMap((pv) => (pv.claim ? [pv.claim] : []));
  const claims: Claim[] = [];
  for (const ref of [...new Set(claimRefs)]) {
    const [namespace = '', name = ''] = ref.split('/');
    const noted = notes.length;
    const claim = await optional(`claim ${ref}`, notes, () => kube.claim(namespace, name));
    if (claim) claims.push(claim);
    else if (notes.length === noted) notes.push(`claim ${ref}, named by its PersistentVolume, does not exist (any more)`);
  }
  const podNamespaces = [...new Set(claims.map((c) => c.metadata.namespace))];
  const pods = [];
  for (const namespace of podNamespaces) {
    const list = await optional(`pods in ${namespace}`, notes, () => kube.core.listNamespacedPod({ namespace }));
    pods.push(...(list?.items ?? []).map((pod) => podSchema.parse(pod)));
  }
  const summaries = claims.map(claimSummary).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return { volume, persistentVolumes, claims: summaries, pods: podsUsing(claims, pods), notes };
}

export const volumeDescribeCommand: Command = {
  usage: VOLUME_DESCRIBE_USAGE,
  options: NAMESPACE_OPTIONS,
  maxArguments: 1,
  async run(values: OptionValues, io: CommandIo, args: string[] = []): Promise<CommandOutput> {
    const format = outputFormatOf(values.output);
    if (format === undefined) return usageError(`-o must be json or yaml, not ${String(values.output)}`, VOLUME_DESCRIBE_USAGE);
    const argument = args[0];
    if (argument === undefined) return usageError('which volume? NAME or pvc:NAMESPACE/NAME', VOLUME_DESCRIBE_USAGE);
    const config = kubeConfigOf(io);
    const target = parseTarget(argument, namespaceOf(values, config));
    if ('problem' in target) return usageError(target.problem, VOLUME_DESCRIBE_USAGE);
    const kube = new DescribeKube(config);
    let description: VolumeDescription;
    try {
      const found = target.kind === 'claim' ? await volumeByClaim(kube, target.namespace, target.name) : await volumeByName(kube, target.namespace, target.name);
      if (!('volume' in found)) return found;
      description = await describe(kube, found.volume);
    } catch (error) {
      return readFailure(target.kind === 'claim' ? `claim ${target.namespace}/${target.name} and its volume` : `GlusterVolume ${target.namespace}/${target.name}`, error);
    }
    const nowMs = (io.clock ?? systemClock).now();
    const stdout = format === 'text' ? volumeText(description, nowMs, io.columns ?? DEFAULT_WIDTH) : structured(description, format);
    return { stdout, stderr: '', code: 0 };
  },
};
