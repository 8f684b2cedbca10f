import { persistentVolumeSchema, podSchema, type Claim } from '../migration/objects.ts';
import { systemClock } from '../runtime/clock.ts';
import type { Command, CommandIo, OptionValues } from './command.ts';
import type { CommandOutput } from './output.ts';
import { apiErrorText, NAMESPACE_OPTIONS, readFailure } from './status.ts';
import { DEFAULT_WIDTH, structured } from './status-view.ts';
import { resolveVolume, targetText, volumeArgument, type VolumeKube } from './volume-target.ts';
import { claimSummary, persistentVolumesOf, podsUsing, volumeText, type DescribedVolume, type VolumeDescription } from './volume-view.ts';

/**
 * `kubectl gluster volume describe`: the apiserver edge. Finds the GlusterVolume a name or a claim means, then
 * reads who uses it: the PVs naming it, their claims, the pods using those (volume-target.ts finds the volume, as
 * for heal-info). Read-only; a part the kubeconfig may not read (PVs are cluster-scoped) becomes a note, not a failure.
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

/** A read that may be forbidden (or gone): its value, or undefined and a note saying why it is not shown. */
async function optional<T>(what: string, notes: string[], read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    notes.push(`${what} not shown: ${apiErrorText(error)}`);
    return undefined;
  }
}

/** Who uses the volume; what the kubeconfig may not read is a note. */
async function describe(kube: VolumeKube, volume: DescribedVolume): Promise<VolumeDescription> {
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
    const checked = volumeArgument(values, io, args, VOLUME_DESCRIBE_USAGE);
    if ('code' in checked) return checked;
    const { format, kube, target } = checked;
    let description: VolumeDescription;
    try {
      const found = await resolveVolume(kube, target);
      if (!('volume' in found)) return found;
      description = await describe(kube, found.volume);
    } catch (error) {
      return readFailure(targetText(target), error);
    }
    const nowMs = (io.clock ?? systemClock).now();
    const stdout = format === 'text' ? volumeText(description, nowMs, io.columns ?? DEFAULT_WIDTH) : structured(description, format);
    return { stdout, stderr: '', code: 0 };
  },
};
