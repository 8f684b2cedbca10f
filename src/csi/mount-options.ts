import type { MountSource } from './requests.ts';

/**
 * Builds the argv of `mount -t glusterfs`. The options list is an argv element, never shell text; the values in
 * it were validated by requests.ts so mount.glusterfs (a shell script that splits the list on commas) sees each
 * option as it was written.
 */
export interface GlusterMountSpec {
  source: MountSource;
  /**
   * Directory mode: the one directory at the root of the volume that is mounted, instead of the whole volume
   * (mount.glusterfs mounts `host:/volume/directory` as Gluster's subdirectory mount).
   */
  subdirectory?: string | undefined;
  /** Other servers that can hand out the volfile if `source.host` is down at mount time. */
  backupVolfileServers: readonly string[];
  /** Options from the PV's mountOptions, already split on commas. */
  mountFlags: readonly string[];
  readOnly: boolean;
}

const optionKey = (option: string) => option.split('=', 1)[0]!;

export function glusterMountOptions(spec: GlusterMountSpec): string[] {
  const options: string[] = [];
  const seen = new Set<string>();
  const add = (option: string) => {
    // The first occurrence of a key wins: the same key twice makes mount.glusterfs use whichever it parses last.
    const key = optionKey(option);
    if (seen.has(key)) return;
    seen.add(key);
    options.push(option);
  };
  const backups = spec.backupVolfileServers.filter((host) => host !== spec.source.host);
  // The administrator's explicit mountOptions beat the provisioner's defaults.
  const userOptions = spec.mountFlags.filter((option) => !(spec.readOnly && option === 'rw'));
  const userKeys = new Set(userOptions.map(optionKey));
  if (backups.length > 0 && !userKeys.has('backup-volfile-servers')) add(`backup-volfile-servers=${backups.join(':')}`);
  for (const option of userOptions) add(option);
  if (spec.readOnly) add('ro');
  return options;
}

export function glusterMountArgv(spec: GlusterMountSpec, targetPath: string): string[] {
  const options = glusterMountOptions(spec);
  return [
    'mount',
    '-t',
    'glusterfs',
    ...(options.length > 0 ? ['-o', options.join(',')] : []),
    formatSource(spec.source, spec.subdirectory),
    targetPath,
  ];
}

/** What a mount makes visible: a whole Gluster volume, or (directory mode) one directory at its root. */
export interface MountedVolume {
  volume: string;
  subdirectory?: string | undefined;
}

export function mountedVolumeOf(spec: Pick<GlusterMountSpec, 'source' | 'subdirectory'>): MountedVolume {
  return { volume: spec.source.volume, subdirectory: spec.subdirectory };
}

/** `volume` or `volume/subdirectory`, as mount.glusterfs takes it after `host:/`. */
export function mountedPath(mounted: MountedVolume): string {
  return mounted.subdirectory === undefined ? mounted.volume : `${mounted.volume}/${mounted.subdirectory}`;
}

export function formatSource(source: MountSource, subdirectory?: string): string {
  return `${source.host}:/${mountedPath({ volume: source.volume, subdirectory })}`;
}

/**
 * The host, volume and directory of an existing mount's source. The kernel shows it as mount.glusterfs passed
 * it (`host:/volume`, `host:volume`, and with a directory `host:/volume/directory` or `host:volume/directory`);
 * undefined for anything else. Everything after the volume's slash is the directory, unnormalized: a source
 * this plugin did not write that way is not taken for one it did.
 */
export function parseGlusterSource(mountSource: string): ({ host: string } & MountedVolume) | undefined {
  const colon = mountSource.lastIndexOf(':');
  if (colon < 0) return undefined;
  const host = mountSource.slice(0, colon);
  const path = mountSource.slice(colon + 1).replace(/^\/+/, '');
  const slash = path.indexOf('/');
  if (slash < 0) return { host, volume: path };
  return { host, volume: path.slice(0, slash), subdirectory: path.slice(slash + 1) };
}

/** Whether two mounts show the same thing: a volume is not a directory of it, nor one directory another. */
export function sameMountedVolume(a: MountedVolume, b: MountedVolume): boolean {
  return a.volume === b.volume && a.subdirectory === b.subdirectory;
}

/** Whether an existing mount's source is this volume (or directory); any of the volfile servers may have been the one used. */
export function sameGlusterSource(mountSource: string, spec: Pick<GlusterMountSpec, 'source' | 'subdirectory' | 'backupVolfileServers'>): boolean {
  const parsed = parseGlusterSource(mountSource);
  if (!parsed) return false;
  const hosts = new Set([spec.source.host, ...spec.backupVolfileServers]);
  return sameMountedVolume(parsed, mountedVolumeOf(spec)) && hosts.has(parsed.host);
}
