import { z } from 'zod';
import { DRIVER_NAME, type GlusterVolume, type GlusterVolumeSpec } from '../api/index.ts';
import { isConditionTrue } from '../controller/conditions.ts';
import { unlessNotFound } from '../controller/api-errors.ts';
import { parseSnapshotId } from '../operator/snapshot-decisions.ts';
import type { ProvisionerKube } from './kube-io.ts';
import { quantityString, type Claim, type PersistentVolume } from './kube-objects.ts';
import { parseVolumeHandle } from './pv-builder.ts';
import { quantityOrUndefined } from '../topology/sizing.ts';

/**
 * Claims that start as a copy: `dataSource` a VolumeSnapshot of this driver (restored from its Gluster
 * snapshot) or a claim of this driver (cloned). The provisioner observes the source here and decides, without
 * I/O, what the GlusterVolume's spec.dataSource is; the volume reconciler makes the copy
 * (src/operator/reconcilers/volume-clone.ts). A copy stays in its source's GlusterCluster (its bricks are thin
 * LVs in the source's thin pools) and keeps the source's layout, gid and snapshot factor.
 */

export const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';

const volumeSnapshotSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional(), deletionTimestamp: z.unknown().optional() }),
  status: z
    .looseObject({
      readyToUse: z.boolean().optional(),
      boundVolumeSnapshotContentName: z.string().optional(),
      restoreSize: z.union([z.string(), z.number()]).optional(),
      error: z.looseObject({ message: z.string().optional() }).optional(),
    })
    .optional(),
});
export type VolumeSnapshot = z.infer<typeof volumeSnapshotSchema>;

const volumeSnapshotContentSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  spec: z.looseObject({ driver: z.string(), source: z.looseObject({ volumeHandle: z.string().optional(), snapshotHandle: z.string().optional() }).optional() }),
  status: z.looseObject({ snapshotHandle: z.string().optional(), restoreSize: z.number().optional(), readyToUse: z.boolean().optional() }).optional(),
});
export type VolumeSnapshotContent = z.infer<typeof volumeSnapshotContentSchema>;

/** What the claim asks to copy, from dataSource (or dataSourceRef, which the apiserver keeps equal to it). */
export type CopyRequest = { kind: 'snapshot'; name: string } | { kind: 'claim'; name: string } | { kind: 'unsupported'; why: string };

const refSchema = z.looseObject({ apiGroup: z.string().nullish(), kind: z.string(), name: z.string(), namespace: z.string().nullish() });

export function copyRequestOf(claim: Claim): CopyRequest | undefined {
  const raw = claim.spec.dataSource ?? claim.spec.dataSourceRef;
  if (raw === undefined || raw === null) return undefined;
  const ref = refSchema.safeParse(raw);
  if (!ref.success) return { kind: 'unsupported', why: 'claim.spec.dataSource is not an object reference (apiGroup, kind, name)' };
  const { apiGroup, kind, name, namespace } = ref.data;
  if (namespace && namespace !== claim.metadata.namespace) return { kind: 'unsupported', why: `claim.spec.dataSourceRef names namespace ${namespace}: copies from another namespace are not supported` };
  if ((apiGroup ?? '') === '' && kind === 'PersistentVolumeClaim') return { kind: 'claim', name };
  if (apiGroup === SNAPSHOT_GROUP && kind === 'VolumeSnapshot') return { kind: 'snapshot', name };
  return { kind: 'unsupported', why: `claim.spec.dataSource ${kind}${apiGroup ? `.${apiGroup}` : ''} is not a VolumeSnapshot or a PersistentVolumeClaim` };
}

/** What the claim reconciler read of the source. */
export type ObservedCopySource =
  | { kind: 'snapshot'; name: string; snapshot?: VolumeSnapshot; content?: VolumeSnapshotContent; origin?: GlusterVolume }
  | { kind: 'claim'; name: string; claim?: Claim; persistentVolume?: PersistentVolume; volume?: GlusterVolume };

/** The GlusterVolume fields a copy takes from its source. */
export interface CopyOfSource {
  dataSource: NonNullable<GlusterVolumeSpec['dataSource']>;
  cluster: string;
  /** Of the source's GlusterVolume, when known (a pre-provisioned snapshot may have none): the class's otherwise. */
  durability?: GlusterVolumeSpec['durability'];
  gid?: number;
  snapshotFactor?: number;
}

export type CopyDecision = { ok: true; copy: CopyOfSource } | { ok: false; wait: boolean; message: string };

const wait = (message: string): CopyDecision => ({ ok: false, wait: true, message });
const refuse = (message: string): CopyDecision => ({ ok: false, wait: false, message });

/** The copy's source, in terms of GlusterVolumes, or why there is none (yet). `volumeNamespace`: where the claim's GlusterVolume goes. */
export function decideCopySource(observed: ObservedCopySource, requestBytes: number, volumeNamespace: string): CopyDecision {
  return observed.kind === 'snapshot' ? fromSnapshot(observed, requestBytes, volumeNamespace) : fromClaim(observed, requestBytes, volumeNamespace);
}

function fromSnapshot(observed: Extract<ObservedCopySource, { kind: 'snapshot' }>, requestBytes: number, volumeNamespace: string): CopyDecision {
  const what = `dataSource VolumeSnapshot ${observed.name}`;
  const { snapshot, content } = observed;
  if (!snapshot) return refuse(`${what} does not exist`);
  if (snapshot.metadata.deletionTimestamp) return refuse(`${what} is being deleted`);
  if (snapshot.status?.readyToUse !== true || !snapshot.status.boundVolumeSnapshotContentName) {
    return wait(`${what} is not ready to use yet${snapshot.status?.error?.message ? `: ${snapshot.status.error.message}` : ''}`);
  }
  if (!content) return wait(`${what}: its VolumeSnapshotContent ${snapshot.status.boundVolumeSnapshotContentName} is not readable yet`);
  if (content.spec.driver !== DRIVER_NAME) return refuse(`${what} is a snapshot of driver ${content.spec.driver}, not ${DRIVER_NAME}`);
  const handle = content.status?.snapshotHandle ?? content.spec.source?.snapshotHandle ?? '';
  const id = parseSnapshotId(handle);
  if (!id) return refuse(`${what} has snapshot handle ${JSON.stringify(handle)}, which is not one of this driver's (<namespace>/<GlusterCluster>/<snapshot>)`);
  if (id.namespace !== volumeNamespace) {
    return refuse(`${what} is a snapshot in GlusterCluster ${id.namespace}/${id.cluster}, but this StorageClass provisions in namespace ${volumeNamespace}: a copy stays in its snapshot's cluster`);
  }
  const restoreBytes = content.status?.restoreSize ?? quantityOrUndefined(quantityString(snapshot.status.restoreSize)) ?? 0;
  if (requestBytes < restoreBytes) return refuse(`the claim requests ${requestBytes} bytes, less than ${what} restores (${restoreBytes} bytes)`);
  return { ok: true, copy: { dataSource: { snapshot: id.name }, cluster: id.cluster, ...sourceFields(observed.origin, id.cluster) } };
}

function fromClaim(observed: Extract<ObservedCopySource, { kind: 'claim' }>, requestBytes: number, volumeNamespace: string): CopyDecision {
  const what = `dataSource PersistentVolumeClaim ${observed.name}`;
  const { claim, persistentVolume, volume } = observed;
  if (!claim) return refuse(`${what} does not exist`);
  if (!claim.spec.volumeName || claim.status?.phase !== 'Bound') return wait(`${what} is not Bound yet`);
  if (!persistentVolume) return wait(`${what}: its PersistentVolume ${claim.spec.volumeName} is not readable yet`);
  const handle = persistentVolume.spec.csi?.driver === DRIVER_NAME ? parseVolumeHandle(persistentVolume.spec.csi.volumeHandle ?? '') : undefined;
  if (!handle) return refuse(`${what} is bound to PersistentVolume ${persistentVolume.metadata.name}, which is not a volume of ${DRIVER_NAME}`);
  if (handle.namespace !== volumeNamespace) {
    return refuse(`${what} is GlusterVolume ${handle.namespace}/${handle.name}, but this StorageClass provisions in namespace ${volumeNamespace}: a copy stays in its source's cluster`);
  }
  if (!volume) return refuse(`${what}: its GlusterVolume ${handle.namespace}/${handle.name} does not exist`);
  if (volume.spec.directoryOf) return refuse(`${what} is a directory of the shared volume ${volume.spec.directoryOf} (claimLayout: directory), which Gluster cannot clone alone`);
  if (!isConditionTrue(volume.status?.conditions, 'Ready')) return wait(`${what}: GlusterVolume ${handle.name} is not Ready`);
  const sourceBytes = quantityOrUndefined(quantityString(claim.status?.capacity?.storage)) ?? 0;
  if (requestBytes < sourceBytes) return refuse(`the claim requests ${requestBytes} bytes, less than ${what} holds (${sourceBytes} bytes)`);
  return { ok: true, copy: { dataSource: { volume: volume.metadata.name }, cluster: volume.spec.cluster, ...sourceFields(volume, volume.spec.cluster) } };
}

function sourceFields(origin: GlusterVolume | undefined, cluster: string): Pick<CopyOfSource, 'durability' | 'gid' | 'snapshotFactor'> {
  if (!origin || origin.spec.cluster !== cluster) return {};
  return { durability: origin.spec.durability, snapshotFactor: origin.spec.snapshotFactor, ...(origin.spec.gid !== undefined ? { gid: origin.spec.gid } : {}) };
}

/** Reads what decideCopySource needs; a source that cannot be read is simply absent from the answer. */
export async function observeCopySource(kube: ProvisionerKube, claim: Claim, request: Extract<CopyRequest, { kind: 'snapshot' | 'claim' }>): Promise<ObservedCopySource> {
  const namespace = claim.metadata.namespace;
  if (request.kind === 'claim') {
    const source = await kube.readClaim(namespace, request.name);
    const persistentVolume = source?.spec.volumeName ? await kube.readPersistentVolume(source.spec.volumeName) : undefined;
    const handle = persistentVolume?.spec.csi?.driver === DRIVER_NAME ? parseVolumeHandle(persistentVolume.spec.csi.volumeHandle ?? '') : undefined;
    const volume = handle ? await kube.volumes.get(handle.namespace, handle.name) : undefined;
    return { kind: 'claim', name: request.name, ...(source ? { claim: source } : {}), ...(persistentVolume ? { persistentVolume } : {}), ...(volume ? { volume } : {}) };
  }
  const group = { group: SNAPSHOT_GROUP, version: 'v1' };
  const rawSnapshot = await unlessNotFound(() => kube.custom.getNamespacedCustomObject({ ...group, namespace, plural: 'volumesnapshots', name: request.name }));
  const snapshot = rawSnapshot === undefined ? undefined : volumeSnapshotSchema.parse(rawSnapshot);
  const contentName = snapshot?.status?.boundVolumeSnapshotContentName;
  const rawContent = contentName ? await unlessNotFound(() => kube.custom.getClusterCustomObject({ ...group, plural: 'volumesnapshotcontents', name: contentName })) : undefined;
  const content = rawContent === undefined ? undefined : volumeSnapshotContentSchema.parse(rawContent);
  const originHandle = content?.spec.source?.volumeHandle ? parseVolumeHandle(content.spec.source.volumeHandle) : undefined;
  const origin = originHandle ? await kube.volumes.get(originHandle.namespace, originHandle.name) : undefined;
  return { kind: 'snapshot', name: request.name, ...(snapshot ? { snapshot } : {}), ...(content ? { content } : {}), ...(origin ? { origin } : {}) };
}
