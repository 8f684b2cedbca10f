import { lstat, realpath } from 'node:fs/promises';
import { posix } from 'node:path';

/**
 * Where the plugin may mount, unmount and remove directories: only where kubelet puts CSI volumes of pods,
 * `<kubelet-dir>/pods/<pod uid>/volumes/kubernetes.io~csi/<volume name>/mount`. kubelet creates the
 * `<volume name>` directory (it keeps vol_data.json there) and leaves `mount` to the driver. A request for any
 * other path (an escaped `..` is refused earlier, by requests.ts) would have the plugin, root with
 * CAP_SYS_ADMIN, mount over or unmount whatever the path names.
 */
export const CSI_VOLUMES_DIR = 'kubernetes.io~csi';

/** Pod UIDs are UUIDs; static pods' are a hex hash. Neither has dots or slashes. */
const POD_UID = /^[A-Za-z0-9-]{1,64}$/;
/** kubelet's escaped volume name (a PV name, `/` as `~`): never `.` or `..`. */
const VOLUME_NAME = /^(?!\.\.?$)[A-Za-z0-9._~-]{1,253}$/;

export function targetPathRule(kubeletDir: string): string {
  return `${kubeletDir}/pods/<pod uid>/volumes/${CSI_VOLUMES_DIR}/<volume name>/mount`;
}

/** Why a (normalized, absolute) path is not a CSI target path under `kubeletDir`; undefined when it is one. */
export function targetPathProblem(kubeletDir: string, path: string): string | undefined {
  const prefix = `${kubeletDir}/pods/`;
  const parts = path.startsWith(prefix) ? path.slice(prefix.length).split('/') : [];
  const [podUid, volumes, plugin, volumeName, mount, ...rest] = parts;
  const fits =
    rest.length === 0 &&
    POD_UID.test(podUid ?? '') &&
    volumes === 'volumes' &&
    plugin === CSI_VOLUMES_DIR &&
    VOLUME_NAME.test(volumeName ?? '') &&
    mount === 'mount';
  return fits ? undefined : `${path} is not of the form ${targetPathRule(kubeletDir)}, where kubelet puts CSI volumes; the plugin mounts nowhere else`;
}

export interface ResolveFs {
  realpath(path: string): Promise<string>;
  lstat(path: string): Promise<{ isSymbolicLink(): boolean }>;
}
const nodeFs: ResolveFs = { realpath: (path) => realpath(path), lstat: (path) => lstat(path) };

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Why a target path that passed targetPathProblem leads elsewhere on disk: a symlink in one of its existing
 * directories (kubelet makes none) would have mount(8) and rmdir follow it out of the kubelet directory.
 * The deepest existing directory above the target must resolve to where its name says; the target itself must
 * not be a symlink. The target is not looked at when it is a mount point: stat of a hung FUSE mount never
 * returns, and a mount point is a directory (mountinfo shows it under its resolved path, which is this one).
 */
export async function resolvedTargetProblem(
  kubeletDir: string,
  target: string,
  targetIsMountPoint: boolean,
  fs: ResolveFs = nodeFs,
): Promise<string | undefined> {
  let root: string;
  try {
    root = await fs.realpath(kubeletDir);
  } catch (error) {
    return `the kubelet directory ${kubeletDir} cannot be resolved (${errnoOf(error) ?? String(error)}); check --kubelet-dir`;
  }
  for (let dir = posix.dirname(target); ; dir = posix.dirname(dir)) {
    let resolved: string;
    try {
      resolved = await fs.realpath(dir);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT' && dir !== kubeletDir) continue;
      return `${dir} cannot be resolved (${errnoOf(error) ?? String(error)})`;
    }
    const expected = posix.join(root, posix.relative(kubeletDir, dir));
    if (resolved !== expected) return `${dir} resolves to ${resolved}, not ${expected}: a symlink leads out of the kubelet directory`;
    break;
  }
  if (targetIsMountPoint) return undefined;
  try {
    if ((await fs.lstat(target)).isSymbolicLink()) return `${target} is a symlink; the plugin mounts only on a directory it or kubelet made`;
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') return `${target} cannot be examined (${errnoOf(error) ?? String(error)})`;
  }
  return undefined;
}
