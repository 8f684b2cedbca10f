import type { MountSource } from './requests.ts';

/**
 * Builds the argv of `mount -t glusterfs`. The options list is an argv element, never shell text; the values in
 * it were validated by requests.ts so mount.glusterfs (a shell script that splits the list on commas) sees each
 * option as it was written.
 */
export interface GlusterMountSpec {
  source: MountSource;
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
    formatSource(spec.source),
    targetPath,
  ];
}

export function formatSource(source: MountSource): string {
  return `${source.host}:/${source.volume}`;
}

/**
 * The host and volume of an existing mount's source. The kernel shows it as mount.glusterfs passed it
 * (`host:/volume` or `host:volume`); undefined for anything else.
 */
export function parseGlusterSource(mountSource: string): { host: string; volume: string } | undefined {
  const colon = mountSource.lastIndexOf(':');
  if (colon < 0) return undefined;
  return { host: mountSource.slice(0, colon), volume: mountSource.slice(colon + 1).replace(/^\/+/, '') };
}

/** Whether an existing mount's source is this volume; any of the volfile servers may have been the one used. */
export function sameGlusterSource(mountSource: string, spec: Pick<GlusterMountSpec, 'source' | 'backupVolfileServers'>): boolean {
  const parsed = parseGlusterSource(mountSource);
  if (!parsed) return false;
  const hosts = new Set([spec.source.host, ...spec.backupVolfileServers]);
  return parsed.volume === spec.source.volume && hosts.has(parsed.host);
}
