import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION } from '../api/index.ts';
import { isApiError, unlessNotFound } from '../controller/api-errors.ts';
import { claimSchema, persistentVolumeSchema, type Claim } from '../migration/objects.ts';
import { kubeConfigOf, usageError, type CommandIo, type OptionValues } from './command.ts';
import type { CommandOutput } from './output.ts';
import { listKind, namespaceOf } from './status.ts';
import { outputFormatOf, type OutputFormat } from './status-view.ts';
import { describedVolumeSchema, notFoundMessage, parseTarget, sourceOfPersistentVolume, volumesWithGlusterName, type DescribedVolume, type Target } from './volume-view.ts';

/**
 * Which GlusterVolume a command's argument means, read from the apiserver: NAME (the object's, or its Gluster
 * volume's name), or pvc:NS/NAME (the claim, its PV, the GlusterVolume that PV mounts). volume describe and
 * heal-info both take that argument; the decisions themselves are volume-view.ts's (parseTarget and the rest).
 */


export class VolumeKube {
  readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly config: k8s.KubeConfig;

  constructor(config: k8s.KubeConfig) {
    this.config = config;
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
  }

  async volume(namespace: string, name: string): Promise<DescribedVolume | undefined> {
    const raw = await unlessNotFound(this.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: 'glustervolumes', name }));
    return raw === undefined ? undefined : describedVolumeSchema.parse(raw);
  }

  async volumes(namespace: string | undefined): Promise<DescribedVolume[]> {
    return (await listKind(this.config, 'GlusterVolume', describedVolumeSchema, namespace)).objects;
  }

  async claim(namespace: string, name: string): Promise<Claim | undefined> {
    const raw = await unlessNotFound(this.core.readNamespacedPersistentVolumeClaim({ namespace, name }));
    return raw === undefined ? undefined : claimSchema.parse(raw);
  }
}

export type Found = { volume: DescribedVolume } | CommandOutput;
const failed = (stderr: string): CommandOutput => ({ stdout: '', stderr, code: 1 });

/** NAME: the GlusterVolume of that name, else the one whose Gluster volume has it; else the close names. */
async function volumeByName(kube: VolumeKube, namespace: string, name: string): Promise<Found> {
  const volume = await kube.volume(namespace, name);
  if (volume) return { volume };
  const all = await kube.volumes(namespace);
  const [byGlusterName, ...more] = volumesWithGlusterName(all, name);
  if (byGlusterName && more.length === 0) return { volume: byGlusterName };
  return failed(notFoundMessage('GlusterVolume', name, namespace, all.map((v) => v.metadata.name), `kubectl get glustervolumes -n ${namespace} lists them; a claim is pvc:NAMESPACE/NAME`));
}

/** pvc:NS/NAME: the claim, its PV, and the GlusterVolume that PV mounts. */
async function volumeByClaim(kube: VolumeKube, namespace: string, name: string): Promise<Found> {
  const claim = await kube.claim(namespace, name);
  if (!claim) {
    const names = (await kube.core.listNamespacedPersistentVolumeClaim({ namespace })).items.map((c) => c.metadata?.name ?? '');
    return failed(notFoundMessage('PersistentVolumeClaim', name, namespace, names, `kubectl get pvc -n ${namespace} lists them`));
  }
  const pvName = claim.spec.volumeName;
  if (!pvName) return failed(`error: claim ${namespace}/${name} is not bound to a PersistentVolume yet (${claim.status?.phase ?? 'no phase'}); kubectl describe pvc -n ${namespace} ${name} says why\n`);
  const raw = await unlessNotFound(kube.core.readPersistentVolume({ name: pvName }));
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
  const candidates = await kube.volumes(undefined).catch((error: unknown) => (isApiError(error, 403) ? kube.volumes(namespace) : Promise.reject(error)));
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

/** The GlusterVolume a parsed argument means, or the error to print (exit 1): what is missing and how to list them. */
export function resolveVolume(kube: VolumeKube, target: Target): Promise<Found> {
  return target.kind === 'claim' ? volumeByClaim(kube, target.namespace, target.name) : volumeByName(kube, target.namespace, target.name);
}

/** A command about one volume, its -o and its NAME | pvc:NS/NAME checked (before any request); or the usage error. */
export function volumeArgument(values: OptionValues, io: CommandIo, args: readonly string[], usage: string): { format: OutputFormat; kube: VolumeKube; target: Target } | CommandOutput {
  const format = outputFormatOf(values.output);
  if (format === undefined) return usageError(`-o must be json or yaml, not ${String(values.output)}`, usage);
  const argument = args[0];
  if (argument === undefined) return usageError('which volume? NAME or pvc:NAMESPACE/NAME', usage);
  const config = kubeConfigOf(io);
  const target = parseTarget(argument, namespaceOf(values, config));
  if ('problem' in target) return usageError(target.problem, usage);
  return { format, kube: new VolumeKube(config), target };
}

/** What a failed read was of, for readFailure. */
export const targetText = (target: Target) => (target.kind === 'claim' ? `claim ${target.namespace}/${target.name} and its volume` : `GlusterVolume ${target.namespace}/${target.name}`);
