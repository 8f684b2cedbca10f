import { API_GROUP, GROUP_VERSION, type GlusterVolume, type GlusterVolumeSpec } from '../api/index.ts';
import { quantityOrUndefined } from '../topology/sizing.ts';
import { ANN_STORAGE_CLASS, LABEL_PROVISIONED_BY, PROVISIONER_NAME } from './constants.ts';
import type { ProvisioningParameters } from './storage-class-parameters.ts';

/**
 * Claims of a `claimLayout: directory` class are directories of shared GlusterVolumes the provisioner makes for
 * the class (labelled LABEL_ROLE: shared-directories, annotated with the class). A new claim goes to the first
 * shared volume (by name) whose directories' sizes leave room for it; when none has room, another shared volume
 * is made: many volumes of a bounded size, never one that keeps growing. Pure.
 */
export const LABEL_ROLE = `${API_GROUP}/role`;
export const SHARED_DIRECTORIES_ROLE = 'shared-directories';

export interface SharedVolumeUse {
  name: string;
  sizeBytes: number;
  /** The sizes of the directories in it, summed (their quota limits). */
  usedBytes: number;
  deleting: boolean;
}

export type DirectoryPlacement = { kind: 'use'; shared: string } | { kind: 'create'; shared: string; sizeBytes: number };

export function isSharedVolumeOf(volume: GlusterVolume, storageClass: string, namespace: string): boolean {
  return (
    volume.metadata.namespace === namespace &&
    volume.metadata.labels?.[LABEL_PROVISIONED_BY] === PROVISIONER_NAME &&
    volume.metadata.labels?.[LABEL_ROLE] === SHARED_DIRECTORIES_ROLE &&
    volume.metadata.annotations?.[ANN_STORAGE_CLASS] === storageClass
  );
}

/** The class's shared volumes in `namespace`, with what their directories take (any directory naming them counts). */
export function sharedVolumesOfClass(storageClass: string, namespace: string, volumes: readonly GlusterVolume[]): SharedVolumeUse[] {
  return volumes
    .filter((volume) => isSharedVolumeOf(volume, storageClass, namespace))
    .map((shared) => ({
      name: shared.metadata.name,
      // An unreadable size counts as full: nothing more is put in it.
      sizeBytes: quantityOrUndefined(shared.spec.size) ?? 0,
      usedBytes: volumes
        .filter((other) => other.metadata.namespace === namespace && other.spec.directoryOf === shared.metadata.name)
        .reduce((sum, directory) => sum + (quantityOrUndefined(directory.spec.size) ?? 0), 0),
      deleting: shared.metadata.deletionTimestamp !== undefined,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** `<class>-shared-<n>`, the lowest n not taken; the class part cut so the whole stays a short object name. */
export function sharedVolumeName(storageClass: string, taken: ReadonlySet<string>): string {
  const base = `${storageClass.slice(0, 40).replace(/[.-]+$/, '')}-shared`;
  for (let n = 1; ; n++) {
    const name = `${base}-${n}`;
    if (!taken.has(name)) return name;
  }
}

export function placeDirectory(input: { storageClass: string; shared: readonly SharedVolumeUse[]; requestBytes: number; sharedVolumeBytes: number; taken: ReadonlySet<string> }): DirectoryPlacement {
  const fits = input.shared.find((shared) => !shared.deleting && shared.usedBytes + input.requestBytes <= shared.sizeBytes);
  if (fits) return { kind: 'use', shared: fits.name };
  // A claim larger than the class's shared size gets a shared volume of its own size.
  return { kind: 'create', shared: sharedVolumeName(input.storageClass, input.taken), sizeBytes: Math.max(input.sharedVolumeBytes, input.requestBytes) };
}

/**
 * A shared volume for the class: Retain always (it holds the files of many claims; it is never deleted by the
 * provisioner), with the class's durability and volume options; no gid of its own (each directory has one).
 */
export function buildSharedVolume(input: { name: string; namespace: string; storageClass: string; cluster: string; size: string; parameters: ProvisioningParameters }): GlusterVolume {
  const { parameters } = input;
  const spec: GlusterVolumeSpec = {
    cluster: input.cluster,
    size: input.size,
    durability: parameters.durability,
    snapshotFactor: parameters.snapshotFactor,
    reclaimPolicy: 'Retain',
    ...(Object.keys(parameters.options).length > 0 ? { options: parameters.options } : {}),
  };
  return {
    apiVersion: GROUP_VERSION,
    kind: 'GlusterVolume',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { [LABEL_PROVISIONED_BY]: PROVISIONER_NAME, [LABEL_ROLE]: SHARED_DIRECTORIES_ROLE },
      annotations: { [ANN_STORAGE_CLASS]: input.storageClass },
    },
    spec,
  };
}
