import { STAT_FORMAT, parseFindmntJson, parseLosetupJson, parseStat, parseWipefsJson, type LoopDevice, type MountEntry, type PathStat } from '../parsers/mounts.ts';
import { ParseError } from '../errors.ts';
import { command, ignoreOutput, type NodeCommand } from './command.ts';

/**
 * Filesystem, mount and loop-device argv builders used by the brick backends. Paths must be absolute and
 * free of ".." so a bad brick id can never point a delete elsewhere.
 */
export function assertAbsolutePath(path: string): void {
  if (!path.startsWith('/') || path === '/' || path.split('/').includes('..') || /[\0\n]/.test(path)) {
    throw new Error(`invalid absolute path "${path}"`);
  }
}

const action = (argv: string[], timeoutMs?: number): NodeCommand<void> =>
  command({ argv, outcome: 'exit-code', mutatesCluster: false, parse: ignoreOutput, ...(timeoutMs && { timeoutMs }) });

/** Brick mount options from heketi: inode64 for large XFS, nouuid because snapshots/clones share a UUID. */
export const BRICK_MOUNT_OPTIONS = 'rw,inode64,noatime,nouuid';

/** Lists the signature types on a device without touching it ([] when blank). */
export const wipefsList = (device: string): NodeCommand<string[]> => {
  assertAbsolutePath(device);
  return command({ argv: ['wipefs', '--json', device], outcome: 'exit-code', mutatesCluster: false, parse: parseWipefsJson });
};

/** Erases signatures. `--all` only when the user asked to destroy data (heketi's destroydata). */
export const wipefs = (device: string, options: { all: boolean }): NodeCommand<void> => {
  assertAbsolutePath(device);
  if (!options.all) throw new Error('wipefs without --all erases nothing; call wipefs only when destroying data was asked for');
  return action(['wipefs', '--all', device]);
};

/** Gluster's recommended inode size (room for xattrs) and directory block size. */
export const mkfsXfs = (device: string): NodeCommand<void> => {
  assertAbsolutePath(device);
  return action(['mkfs.xfs', '-i', 'size=512', '-n', 'size=8192', device], 300_000);
};

export const mount = (device: string, mountPoint: string, options: { fstype?: string; options?: string } = {}): NodeCommand<void> => {
  assertAbsolutePath(device);
  assertAbsolutePath(mountPoint);
  return action(['mount', '-t', options.fstype ?? 'xfs', '-o', options.options ?? BRICK_MOUNT_OPTIONS, device, mountPoint]);
};

export const umount = (mountPoint: string): NodeCommand<void> => {
  assertAbsolutePath(mountPoint);
  return action(['umount', mountPoint], 120_000);
};

export const xfsGrowfs = (mountPoint: string): NodeCommand<void> => {
  assertAbsolutePath(mountPoint);
  return action(['xfs_growfs', mountPoint], 120_000);
};

/** What is mounted exactly at mountPoint; [] when nothing is (findmnt exits 1 then). */
export const findmnt = (mountPoint: string): NodeCommand<MountEntry[]> => {
  assertAbsolutePath(mountPoint);
  return command({
    argv: ['findmnt', '--json', '-o', 'SOURCE,TARGET,FSTYPE,OPTIONS', '--mountpoint', mountPoint],
    outcome: 'exit-code',
    mutatesCluster: false,
    okExitCodes: [0, 1],
    parse: (stdout, exitCode) => (exitCode === 1 && stdout.trim() === '' ? [] : parseFindmntJson(stdout)),
  });
};

export const mkdirP = (path: string): NodeCommand<void> => {
  assertAbsolutePath(path);
  return action(['mkdir', '-p', path]);
};

/** Removes an empty directory only: a brick that still holds data is never deleted by accident. */
export const rmdir = (path: string): NodeCommand<void> => {
  assertAbsolutePath(path);
  return action(['rmdir', path]);
};

/** Recursive delete, for brick directories Gluster has let go of (the Directory backend). */
export const rmRf = (path: string): NodeCommand<void> => {
  assertAbsolutePath(path);
  if (path.split('/').filter(Boolean).length < 2) throw new Error(`refusing to rm -rf a top-level path "${path}"`);
  return action(['rm', '-rf', '--one-file-system', '--', path], 300_000);
};

/**
 * mkdir -p, then group gid and mode 2775 on the last component: setgid + group-writable, so files created by
 * any pod in the group stay in the group (heketi's 2775). One command, idempotent: `install -d` applies mode
 * and group to an existing directory too.
 */
export const installGroupDirectory = (path: string, gid: number): NodeCommand<void> => {
  assertAbsolutePath(path);
  if (!Number.isInteger(gid) || gid < 0) throw new Error(`invalid gid ${gid}`);
  return action(['install', '-d', '-m', '2775', '-g', String(gid), path]);
};

/** stat of a path; null when it does not exist. */
export const statPath = (path: string): NodeCommand<PathStat | null> => {
  assertAbsolutePath(path);
  return command({
    // `stat` prints nothing to stdout and exits 1 for a missing path; the executor maps other failures.
    argv: ['stat', '-c', STAT_FORMAT, path],
    outcome: 'exit-code',
    mutatesCluster: false,
    okExitCodes: [0, 1],
    parse: (stdout, exitCode) => (exitCode === 1 && stdout === '' ? null : parseStat(stdout)),
  });
};

/** A sparse file of the given size (truncate allocates nothing). */
export const truncateFile = (path: string, sizeBytes: number): NodeCommand<void> => {
  assertAbsolutePath(path);
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`invalid size ${sizeBytes}`);
  return action(['truncate', '--size', String(sizeBytes), path]);
};

export const rmFile = (path: string): NodeCommand<void> => {
  assertAbsolutePath(path);
  return action(['rm', '-f', '--', path]);
};

export const losetupList = (): NodeCommand<LoopDevice[]> =>
  command({ argv: ['losetup', '--list', '--json', '--output', 'NAME,BACK-FILE'], outcome: 'exit-code', mutatesCluster: false, parse: parseLosetupJson });

/** Loop devices backed by this file, matched by inode (paths differ between mount namespaces). */
export const losetupAssociated = (file: string): NodeCommand<LoopDevice[]> => {
  assertAbsolutePath(file);
  return command({
    argv: ['losetup', '--list', '--json', '--output', 'NAME,BACK-FILE', '--associated', file],
    outcome: 'exit-code',
    mutatesCluster: false,
    parse: parseLosetupJson,
  });
};

/** Attaches the file to a free loop device and prints its name. */
export const losetupAttach = (file: string): NodeCommand<string> => {
  assertAbsolutePath(file);
  return command({
    argv: ['losetup', '--find', '--show', file],
    outcome: 'exit-code',
    mutatesCluster: false,
    parse: (stdout) => {
      const device = stdout.trim();
      if (!/^\/dev\/loop\d+$/.test(device)) throw new ParseError("losetup --find --show", stdout);
      return device;
    },
  });
};

/** Re-reads the backing file's size after it grew. */
export const losetupRefreshSize = (device: string): NodeCommand<void> => {
  assertAbsolutePath(device);
  return action(['losetup', '--set-capacity', device]);
};

export const losetupDetach = (device: string): NodeCommand<void> => {
  assertAbsolutePath(device);
  return action(['losetup', '--detach', device]);
};

/** The SHA-256 of a file's content, or undefined when there is no such file (sha256sum exits 1 then). */
export const fileSha256 = (path: string): NodeCommand<string | undefined> => {
  assertAbsolutePath(path);
  return command({
    argv: ['sha256sum', path],
    outcome: 'exit-code',
    mutatesCluster: false,
    okExitCodes: [0, 1],
    parse: (stdout, exitCode) => {
      if (exitCode === 1) return undefined;
      const hash = /^([0-9a-f]{64}) /.exec(stdout)?.[1];
      if (!hash) throw new ParseError(`sha256sum ${path}`, stdout);
      return hash;
    },
  });
};

/**
 * Writes `content` (from stdin, never the argv) to `path.new` with mode 0600, creating the directories; a
 * rename (moveFile) then puts it in place, so a reader sees the old file or the new one, never half of one.
 */
export const writeFileFromStdin = (path: string, content: string): NodeCommand<void> => {
  assertAbsolutePath(path);
  return { ...action(['install', '-D', '-m', '0600', '/dev/stdin', path]), stdin: content };
};

export const moveFile = (from: string, to: string): NodeCommand<void> => {
  assertAbsolutePath(from);
  assertAbsolutePath(to);
  return action(['mv', '-f', from, to]);
};

/**
 * Directories of a shared Gluster volume (claims as directories), made, read and removed through a FUSE mount
 * of the whole volume from the node's own glusterd, mounted for the one command and unmounted at its end.
 *
 * One command, not eight: each claim would otherwise pay eight round trips to the node (findmnt, mkdir, mount,
 * stat, install, setfattr, umount, rmdir). The script is a constant; what it acts on reaches it only as
 * positional parameters ("$1"...), never as script text, and each was validated here first. It prints one
 * last line the parser reads: `made`, `absent`, `removed`, or `found <owner mark>` (the mark may be empty).
 */
const DIRECTORY_SCRIPT = [
  'set -eu',
  'action=$1 volume=$2 mnt=$3 dir=$4 attr=$5 mark=$6 gid=$7',
  // A mount left by a command that died half-way goes first.
  'if findmnt --mountpoint "$mnt" >/dev/null 2>&1; then umount "$mnt"; fi',
  'mkdir -p "$mnt"',
  'mount -t glusterfs -o log-level=WARNING "localhost:/$volume" "$mnt"',
  'trap \'umount "$mnt" && rmdir "$mnt"\' EXIT',
  'path="$mnt/$dir"',
  'if [ ! -e "$path" ]; then',
  '  if [ "$action" = ensure ]; then install -d -m 2775 -g "$gid" "$path"; setfattr -n "$attr" -v "$mark" "$path"; echo made; else echo absent; fi',
  '  exit 0',
  'fi',
  'found=$(getfattr --absolute-names --only-values -n "$attr" "$path" 2>/dev/null || true)',
  // Removed only when the mark is the caller's: a directory anyone else made is read, never written.
  'if [ "$action" = remove ] && [ "$found" = "$mark" ]; then rm -rf --one-file-system -- "$path"; echo removed; exit 0; fi',
  'printf "found %s\\n" "$found"',
].join('\n');

export type DirectoryOutcome = { kind: 'made' } | { kind: 'absent' } | { kind: 'removed' } | { kind: 'found'; mark: string | undefined };

function parseDirectoryOutcome(stdout: string): DirectoryOutcome {
  const last = stdout.trimEnd().split('\n').at(-1) ?? '';
  if (last === 'made' || last === 'absent' || last === 'removed') return { kind: last };
  if (last.startsWith('found')) {
    const mark = last.slice('found'.length).trim();
    return { kind: 'found', mark: mark === '' ? undefined : mark };
  }
  throw new ParseError('shared-volume directory command', stdout);
}

function directoryCommand(action: 'ensure' | 'remove', input: { volume: string; mountPoint: string; directory: string; attribute: string; mark: string; gid: number }): NodeCommand<DirectoryOutcome> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(input.volume)) throw new Error(`invalid volume name "${input.volume}"`);
  assertAbsolutePath(input.mountPoint);
  // One path component, an object name: never `..`, never a path elsewhere.
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(input.directory) || input.directory.length > 253) throw new Error(`invalid directory name "${input.directory}"`);
  if (!/^user\.[A-Za-z0-9._-]+$/.test(input.attribute)) throw new Error(`invalid attribute name "${input.attribute}"`);
  if (!/^[A-Za-z0-9._/@:-]{1,255}$/.test(input.mark)) throw new Error(`invalid owner mark "${input.mark}"`);
  if (!Number.isInteger(input.gid) || input.gid < 0) throw new Error(`invalid gid ${input.gid}`);
  return command({
    argv: ['sh', '-c', DIRECTORY_SCRIPT, 'sh', action, input.volume, input.mountPoint, input.directory, input.attribute, input.mark, String(input.gid)],
    outcome: 'exit-code',
    mutatesCluster: false,
    parse: parseDirectoryOutcome,
    // rm -rf of a large directory takes long; the mount itself a second.
    timeoutMs: action === 'remove' ? 600_000 : 60_000,
  });
}

/** Makes `directory` (group gid, mode 2775, owner mark) when missing; reports the mark of one that exists. */
export const ensureMarkedDirectory = (input: { volume: string; mountPoint: string; directory: string; attribute: string; mark: string; gid: number }): NodeCommand<DirectoryOutcome> =>
  directoryCommand('ensure', input);

/** Removes `directory` and its files only when it carries `mark`; reports what it found otherwise. */
export const removeMarkedDirectory = (input: { volume: string; mountPoint: string; directory: string; attribute: string; mark: string }): NodeCommand<DirectoryOutcome> =>
  directoryCommand('remove', { ...input, gid: 0 });
