import { GLUSTER_VOLUME_NAME_MAX, GROUP_VERSION, fitParts, type GlusterVolume, type GlusterVolumeSpec } from '../api/index.ts';
import { ANN_CLAIM_NAME, ANN_CLAIM_NAMESPACE, ANN_STORAGE_CLASS, LABEL_CLAIM_NAME, LABEL_CLAIM_UID, LABEL_PROVISIONED_BY, PROVISIONER_NAME, provisionedName } from './constants.ts';
import type { CopyOfSource } from './copy-source.ts';
import type { Claim, StorageClass } from './kube-objects.ts';
import type { ProvisioningParameters } from './storage-class-parameters.ts';

/**
 * heketi's `volumenameprefix` naming: the in-tree provisioner (kubernetes pkg/volume/glusterfs, CreateVolume)
 * asked heketi for `fmt.Sprintf("%s_%s_%s_%s", prefix, PVC.Namespace, PVC.Name, uuid.NewUUID())`. Kept: the
 * four parts, their order, `_` between them, prefix, namespace and claim as given. Changed on purpose, the
 * last part only: heketi's was a fresh 36-character UUID, which leaves a 32-character prefix no room in our
 * 64 characters and differs on every try; ours is the claim UID's first 8 hex digits, stable across retries and
 * the same digits the PV `pvc-<uid>` starts with, so a Gluster volume leads to its PV.
 *
 * `<prefix>_<namespace>_<claim>_<id>`, within the Gluster volume-name
 * rule (src/api/gluster-volume-name.ts): dots (allowed in claim names) become `-`, and namespace and claim are
 * shortened (the longer first, fitParts) when the whole would not fit 64 characters. The id is the first 8 hex
 * digits of the claim's UID, so the name is the same on every retry and differs between claims even when
 * shortening or the dots made their other parts alike (unless 32 random bits of two UIDs agree). The prefix is
 * validated (storage-class-parameters.ts: letters, digits and -, at most 32), so the name has exactly three
 * `_`, which no default GlusterVolume name (one or two) and no reserved word of Gluster's matches.
 */
export function prefixedGlusterVolumeName(prefix: string, namespace: string, claimName: string, claimUid: string): string {
  const id = claimUid.replace(/[^0-9a-fA-F]/g, '').slice(0, 8).toLowerCase();
  const clean = (part: string) => part.replace(/[^A-Za-z0-9-]/g, '-');
  const [ns, claim] = fitParts(clean(namespace), clean(claimName), GLUSTER_VOLUME_NAME_MAX - prefix.length - id.length - 3);
  return `${prefix}_${ns}_${claim}_${id}`;
}

/** Without a prefix the Gluster volume is named like the PV (`pvc-<uid>`), so `gluster volume list` and `kubectl get pv` match. */
export function glusterVolumeNameFor(parameters: Pick<ProvisioningParameters, 'volumeNamePrefix'>, claim: Claim): string {
  return parameters.volumeNamePrefix === undefined
    ? provisionedName(claim.metadata.uid)
    : prefixedGlusterVolumeName(parameters.volumeNamePrefix, claim.metadata.namespace, claim.metadata.name, claim.metadata.uid);
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * The GlusterVolume for a claim. No ownerReference to the claim on purpose: deleting a PVC must never
 * garbage-collect data; the reclaim policy decides, through the PV.
 */
export function buildGlusterVolume(input: {
  claim: Claim;
  storageClass: StorageClass;
  parameters: ProvisioningParameters;
  /** The GlusterCluster the StorageClass means (resolveCluster). */
  cluster: string;
  size: string;
  gid: number | undefined;
  /** Namespace of the GlusterCluster, where the GlusterVolume goes (default: the claim's). */
  namespace?: string;
  /** claimLayout directory: the shared GlusterVolume the claim is a directory of (directory-placement.ts). */
  directoryOf?: string;
  /** A copy (claim dataSource, copy-source.ts): its dataSource, and the layout and snapshot factor of its source. */
  copy?: CopyOfSource;
}): GlusterVolume {
  const { claim, storageClass, parameters, size, gid } = input;
  const labels: Record<string, string> = {
    [LABEL_PROVISIONED_BY]: PROVISIONER_NAME,
    [LABEL_CLAIM_UID]: claim.metadata.uid,
  };
  if (claim.metadata.name.length <= 63 && LABEL_VALUE.test(claim.metadata.name)) labels[LABEL_CLAIM_NAME] = claim.metadata.name;
  const reclaimPolicy = storageClass.reclaimPolicy === 'Retain' ? 'Retain' : 'Delete';
  // A directory has no Gluster volume of its own: durability and options are its shared volume's.
  const spec: GlusterVolumeSpec =
    input.directoryOf !== undefined
      ? { cluster: input.cluster, size, durability: parameters.durability, snapshotFactor: parameters.snapshotFactor, reclaimPolicy, directoryOf: input.directoryOf, ...(gid !== undefined ? { gid } : {}) }
      : {
          cluster: input.cluster,
          size,
          durability: input.copy?.durability ?? parameters.durability,
          glusterVolumeName: glusterVolumeNameFor(parameters, claim),
          snapshotFactor: input.copy?.snapshotFactor ?? parameters.snapshotFactor,
          reclaimPolicy,
          ...(input.copy ? { dataSource: input.copy.dataSource } : {}),
          ...(Object.keys(parameters.options).length > 0 ? { options: parameters.options } : {}),
          ...(gid !== undefined ? { gid } : {}),
        };
  return {
    apiVersion: GROUP_VERSION,
    kind: 'GlusterVolume',
    metadata: {
      name: provisionedName(claim.metadata.uid),
      namespace: input.namespace ?? claim.metadata.namespace,
      labels,
      annotations: {
        [ANN_CLAIM_NAME]: claim.metadata.name,
        [ANN_CLAIM_NAMESPACE]: claim.metadata.namespace,
        [ANN_STORAGE_CLASS]: storageClass.metadata.name,
      },
    },
    spec,
  };
}
