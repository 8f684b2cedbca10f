import { defaultGlusterVolumeName } from '../api/gluster-volume-name.ts';
import { objectNameFromHost } from '../heketi/convert.ts';
import { parseVolumeHandle } from '../provisioner/pv-builder.ts';

/**
 * A publish's volume_id must name the GlusterVolume whose Gluster volume (or directory) the volume context
 * mounts. The operator finds the PVs using a GlusterVolume by their volumeHandle (volume-deletion.ts refuses to
 * delete a volume a PV still names), so a PV that names one GlusterVolume and mounts another would let that
 * other be deleted under a running pod, and would file the mount under the wrong volume here.
 *
 * The plugin has no API access (no service account token), so it cannot read the GlusterVolume. It accepts the
 * Gluster names that GlusterVolume can have by construction, for handle `<namespace>/<name>`:
 *  1. `<name>` itself: the provisioner's volumes (`pvc-<claim uid>` for both), and any GlusterVolume named
 *     like its Gluster volume;
 *  2. defaultGlusterVolumeName(namespace, name): a GlusterVolume that sets no glusterVolumeName;
 *  3. for `pvc-<claim uid>`, a name ending `_<first 8 hex digits of the uid>` with the four parts of
 *     prefixedGlusterVolumeName: the provisioner's volumes of a StorageClass with `volumenameprefix`;
 *  4. a Gluster name `<name>` was made from by objectNameFromHost, possibly with uniqueName's `-N` suffix:
 *     GlusterVolumes `kubectl gluster heketi import` made for heketi's volumes (`vol_<id>` → `vol-<id>`).
 * Anything else is refused: the message says what would match.
 *
 * A directory-mode PV (volume_context.subdirectory, from spec.directoryOf) is one directory of a Gluster volume
 * that many PVs share, so its glusterVolumeName (the shared volume, still tied to mountSource by requests.ts)
 * says nothing about which GlusterVolume the PV is, and is not checked against the handle. What the mount shows
 * is the directory, and the operator names it after its GlusterVolume: the subdirectory must be the handle's
 * `<name>`, or the PV would name one GlusterVolume and mount another's directory, as above. The handle's
 * namespace cannot be compared: the directory's name holds none (directoryOf names a GlusterVolume of the
 * directory's own namespace).
 */
type VolumeHandle = NonNullable<ReturnType<typeof parseVolumeHandle>>;
const CLAIM_VOLUME = /^pvc-([0-9a-fA-F-]+)$/;
/** uniqueName's counter: `-2`, `-3`, ... */
const UNIQUE_SUFFIX = /^([2-9]|[1-9][0-9]+)$/;

export function volumeHandleProblem(volumeId: string, glusterVolumeName: string, subdirectory?: string): string | undefined {
  const handle = parseVolumeHandle(volumeId);
  if (!handle) return `${JSON.stringify(volumeId)} is not <namespace>/<GlusterVolume name>, the volumeHandle of this driver's PVs`;
  return subdirectory === undefined ? glusterNameProblem(volumeId, handle, glusterVolumeName) : directoryProblem(volumeId, handle, subdirectory, glusterVolumeName);
}

/** A whole-volume PV: glusterVolumeName must be one the handle's GlusterVolume can have (rules 1-4). */
function glusterNameProblem(volumeId: string, handle: VolumeHandle, glusterVolumeName: string): string | undefined {
  const { namespace, name } = handle;
  if (glusterVolumeName === name) return undefined;
  const byDefault = defaultGlusterVolumeName(namespace, name);
  if (glusterVolumeName === byDefault) return undefined;
  const uid = CLAIM_VOLUME.exec(name)?.[1];
  // The tag as prefixedGlusterVolumeName cuts it from the claim uid.
  const tag = uid?.replace(/[^0-9a-fA-F]/g, '').slice(0, 8).toLowerCase();
  if (tag && glusterVolumeName.endsWith(`_${tag}`) && glusterVolumeName.split('_').length >= 4) return undefined;
  const imported = objectNameFromHost(glusterVolumeName);
  if (name === imported || (name.startsWith(`${imported}-`) && UNIQUE_SUFFIX.test(name.slice(imported.length + 1)))) return undefined;
  return (
    `names GlusterVolume ${volumeId}, whose Gluster volume would be ${name}, ${byDefault}` +
    `${tag ? `, <prefix>_<namespace>_<claim>_${tag}` : ''} or one named like ${name}; ` +
    `the volume context mounts ${glusterVolumeName}. Set the PV's volumeHandle to the GlusterVolume that holds ${glusterVolumeName}`
  );
}

/** A directory-mode PV: the directory must be the one named after the handle's GlusterVolume. */
function directoryProblem(volumeId: string, handle: VolumeHandle, subdirectory: string, glusterVolumeName: string): string | undefined {
  if (subdirectory === handle.name) return undefined;
  return (
    `names GlusterVolume ${volumeId}, whose directory would be subdirectory ${handle.name}; ` +
    `the volume context mounts directory ${subdirectory} of ${glusterVolumeName}. ` +
    `Set the PV's volumeHandle to ${handle.namespace}/${subdirectory}, the GlusterVolume that is that directory`
  );
}
