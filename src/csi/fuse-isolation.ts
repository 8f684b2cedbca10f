import { existsSync } from 'node:fs';
import { access, constants, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { readMountInfo, type MountEntry } from './mountinfo.ts';

/**
 * Where the FUSE client (the `glusterfs` process that `mount -t glusterfs` leaves behind) lives, decided once
 * at start-up from what the host shows.
 *
 * The client serves its mount for as long as it lives. When a container stops (crictl stop, a DaemonSet
 * update, an OOM kill of the plugin), containerd and runc kill every process in the container's cgroup, not
 * only its process tree: a client started from the plugin container dies with it, and every pod's volume on
 * the node answers "Transport endpoint is not connected". So the mount command must start outside that cgroup:
 *  - `systemd`: under `systemd-run --scope`, which asks the host's systemd for a transient scope (what
 *    Kubernetes' mount-utils does for FUSE mounts). Needs systemd as the host's init and hostPID.
 *  - `host-cgroup`: for hosts without systemd. The process that becomes `mount` first writes its own PID into
 *    the cgroup.procs of the host init's cgroups (from /proc/1/cgroup, which with hostPID is the host's PID
 *    1), then execs mount; mount.glusterfs and glusterfs are born there. The host's cgroup tree must be
 *    visible under the cgroup root (a container's own /sys/fs/cgroup shows only its own subtree).
 *  - `none`: mount runs in this process' cgroup. Mounts survive a SIGKILL of the plugin process (its own
 *    session), but not a stop of its container.
 *  - `auto`: systemd when the host runs it, else host-cgroup when it can work, else none with a warning.
 */
export const FUSE_ISOLATION_MODES = ['auto', 'systemd', 'host-cgroup', 'none'] as const;
export type FuseIsolationMode = (typeof FUSE_ISOLATION_MODES)[number];

/** What the mounter does, once decided. */
export type FuseIsolation = { mode: 'systemd' } | { mode: 'host-cgroup'; procsFiles: string[] } | { mode: 'none' };

/** One line of /proc/PID/cgroup (cgroups(7)): `hierarchy-ID:controller-list:path`. */
export interface CgroupMembership {
  hierarchyId: number;
  /** v1 controllers (`memory`, `cpu,cpuacct` split) or `name=systemd`; empty for the unified (v2) hierarchy. */
  controllers: string[];
  path: string;
}

const CONTROLLER = /^(?:[a-z][a-z0-9_]*|name=[A-Za-z0-9_.-]+)$/;

/**
 * A path we are willing to turn into a file name: absolute, no `.`/`..` or empty components, no control
 * characters. Inside a private cgroup namespace, /proc/1/cgroup shows the host init's cgroup relative to our
 * namespace root (`/../../init.scope`): such paths cannot be mapped onto the host's tree and are refused, as
 * is anything a hostile or confused writer could use to point outside the cgroup mount.
 */
export function isSafeCgroupPath(path: string): boolean {
  if (!path.startsWith('/') || path.length > 4096 || /[\u0000-\u001f\u007f]/.test(path)) return false;
  if (path === '/') return true;
  return path
    .slice(1)
    .split('/')
    .every((component) => component !== '' && component !== '.' && component !== '..');
}

/** /proc/PID/cgroup, each line kept or refused with the reason (a refused line is never guessed at). */
export function parseProcCgroup(text: string): { memberships: CgroupMembership[]; refused: string[] } {
  const memberships: CgroupMembership[] = [];
  const refused: string[] = [];
  const seen = new Set<number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    // The path is everything after the second colon: cgroup names may contain colons.
    const match = /^(\d{1,9}):([^:]*):(.*)$/.exec(line);
    const refuse = (why: string) => refused.push(`${JSON.stringify(line.slice(0, 200))}: ${why}`);
    if (!match) {
      refuse('not hierarchy:controllers:path');
      continue;
    }
    const hierarchyId = Number(match[1]);
    const controllers = match[2] === '' ? [] : match[2]!.split(',');
    const path = match[3]!;
    if ((hierarchyId === 0) !== (controllers.length === 0)) refuse('only hierarchy 0 (unified) has no controllers');
    else if (!controllers.every((c) => CONTROLLER.test(c))) refuse('unexpected controller name');
    else if (seen.has(hierarchyId)) refuse('hierarchy listed twice');
    else if (!isSafeCgroupPath(path)) refuse('path is not absolute or not normalized (a cgroup namespace view?)');
    else {
      seen.add(hierarchyId);
      memberships.push({ hierarchyId, controllers, path });
    }
  }
  return { memberships, refused };
}

export function hierarchyName(membership: CgroupMembership): string {
  return membership.controllers.length === 0 ? 'unified' : membership.controllers.join(',');
}

export interface CgroupTarget {
  hierarchy: string;
  procsFile: string;
}

function isUnder(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}

/**
 * The cgroup.procs file of each membership's cgroup, in the cgroup mounts found under `cgroupRoot`:
 * v1 hierarchies by their controllers (the mount's super options), the unified one by type cgroup2. Works
 * for v1, v2 and hybrid layouts alike, whatever the directory names. A mount that shows only a subtree
 * (`root` in mountinfo, as a container's own view does) maps only paths inside that subtree.
 */
export function hostCgroupTargets(
  memberships: readonly CgroupMembership[],
  mounts: readonly MountEntry[],
  cgroupRoot: string,
): { targets: CgroupTarget[]; unmapped: string[] } {
  const root = posix.normalize(cgroupRoot).replace(/(.)\/$/, '$1');
  const targets: CgroupTarget[] = [];
  const unmapped: string[] = [];
  for (const membership of memberships) {
    const unified = membership.controllers.length === 0;
    const mount = mounts.find(
      (m) =>
        isUnder(m.mountPoint, root) &&
        isSafeCgroupPath(m.root) &&
        isUnder(membership.path, m.root) &&
        (unified ? m.fsType === 'cgroup2' : m.fsType === 'cgroup' && membership.controllers.every((c) => m.superOptions.includes(c))),
    );
    if (!mount) {
      unmapped.push(hierarchyName(membership));
      continue;
    }
    const relative = mount.root === '/' ? membership.path : membership.path.slice(mount.root.length) || '/';
    targets.push({ hierarchy: hierarchyName(membership), procsFile: posix.join(mount.mountPoint, relative, 'cgroup.procs') });
  }
  return { targets, unmapped };
}

/**
 * The hierarchies the runtime finds a container's processes by when it stops it: runc reads the devices
 * cgroup on v1 and the unified one on v2. Leaving one of these behind means the client still dies.
 */
const KILL_HIERARCHIES = new Set(['devices', 'unified']);

/** What start-up observed; read by observeHost, made up in unit tests. */
export interface HostFacts {
  /** /run/systemd/system exists: systemd is the init (what sd_booted(3) checks). */
  systemdBooted: boolean;
  ownPid: number;
  /** /proc/1/cgroup and /proc/self/cgroup; undefined when unreadable. */
  pid1Cgroup: string | undefined;
  ownCgroup: string | undefined;
  mounts: readonly MountEntry[];
  cgroupRoot: string;
  /** Of the cgroup.procs files hostCgroupTargets names, those that exist and this process may write. */
  writableProcsFiles: ReadonlySet<string>;
}

export type IsolationDecision =
  | { ok: true; isolation: FuseIsolation; why: string; warnings: string[] }
  | { ok: false; error: string };

const NOT_SURVIVING = 'FUSE clients stay in this container\'s cgroup: volumes mounted on this node break when the plugin container stops or restarts';

/** Can host-cgroup work here, and with which files? `blockers` rule it out for auto; `notes` are only said. */
export function planHostCgroup(facts: HostFacts): { procsFiles: string[]; blockers: string[]; notes: string[] } {
  const blockers: string[] = [];
  const notes: string[] = [];
  if (facts.ownPid === 1) {
    // We are the init of our own PID namespace: no hostPID, and /proc/1 is this very container.
    blockers.push('this process is PID 1 of its PID namespace (no hostPID), so /proc/1 is this container');
  }
  if (facts.pid1Cgroup === undefined) return { procsFiles: [], blockers: [...blockers, 'cannot read /proc/1/cgroup'], notes };
  const pid1 = parseProcCgroup(facts.pid1Cgroup);
  for (const line of pid1.refused) blockers.push(`/proc/1/cgroup line refused: ${line}`);
  const { targets, unmapped } = hostCgroupTargets(pid1.memberships, facts.mounts, facts.cgroupRoot);
  for (const hierarchy of unmapped) {
    (KILL_HIERARCHIES.has(hierarchy) ? blockers : notes).push(`cgroup hierarchy ${hierarchy} of PID 1 is not mounted under ${facts.cgroupRoot}`);
  }
  const usable = targets.filter((target) => {
    if (facts.writableProcsFiles.has(target.procsFile)) return true;
    (KILL_HIERARCHIES.has(target.hierarchy) ? blockers : notes).push(`${target.procsFile} does not exist or is not writable`);
    return false;
  });
  if (usable.length === 0) blockers.push(`no cgroup of PID 1 is reachable under ${facts.cgroupRoot}`);
  if (facts.ownCgroup !== undefined) {
    // Without hostPID, PID 1 is this container's own first process (or its parent): same cgroups as ours,
    // and moving there changes nothing. (Comparing /proc/1/ns/pid with /proc/self/ns/pid would not tell:
    // /proc always shows the PID 1 of our own namespace, with or without hostPID.)
    const own = new Map(parseProcCgroup(facts.ownCgroup).memberships.map((m) => [m.hierarchyId, m.path]));
    const mapped = new Set(usable.map((t) => t.hierarchy));
    const same = pid1.memberships.filter((m) => mapped.has(hierarchyName(m))).every((m) => own.get(m.hierarchyId) === m.path);
    if (usable.length > 0 && same) {
      blockers.push('PID 1 is in the same cgroups as this process (no hostPID, or already in the host init\'s cgroups)');
    }
  }
  return { procsFiles: usable.map((target) => target.procsFile), blockers, notes };
}

/** The mode to run with, from the flag and what the host shows. Pure: observeHost does the reading. */
export function decideFuseIsolation(requested: FuseIsolationMode, facts: HostFacts): IsolationDecision {
  if (requested === 'systemd') {
    const warnings = facts.systemdBooted ? [] : ['/run/systemd/system does not exist: systemd-run will fail unless systemd runs the host'];
    return { ok: true, isolation: { mode: 'systemd' }, why: 'requested', warnings };
  }
  if (requested === 'none') return { ok: true, isolation: { mode: 'none' }, why: 'requested', warnings: [NOT_SURVIVING] };
  if (requested === 'auto' && facts.systemdBooted) {
    return { ok: true, isolation: { mode: 'systemd' }, why: 'systemd runs the host (/run/systemd/system exists)', warnings: [] };
  }
  const plan = planHostCgroup(facts);
  if (requested === 'host-cgroup') {
    if (plan.procsFiles.length === 0) return { ok: false, error: `--fuse-isolation=host-cgroup cannot work here: ${plan.blockers.join('; ')}` };
    return { ok: true, isolation: { mode: 'host-cgroup', procsFiles: plan.procsFiles }, why: 'requested', warnings: [...plan.blockers, ...plan.notes] };
  }
  if (plan.blockers.length === 0 && plan.procsFiles.length > 0) {
    return {
      ok: true,
      isolation: { mode: 'host-cgroup', procsFiles: plan.procsFiles },
      why: 'no systemd; the host init\'s cgroups are reachable and writable',
      warnings: plan.notes,
    };
  }
  return { ok: true, isolation: { mode: 'none' }, why: `no systemd; host-cgroup not possible: ${plan.blockers.join('; ')}`, warnings: [NOT_SURVIVING, ...plan.notes] };
}

/** Reads the facts decideFuseIsolation needs. The only I/O of this module besides the mount itself. */
export async function observeHost(cgroupRoot: string): Promise<HostFacts> {
  const read = (path: string) => readFile(path, 'utf8').catch(() => undefined);
  const [pid1Cgroup, ownCgroup, mounts] = await Promise.all([read('/proc/1/cgroup'), read('/proc/self/cgroup'), readMountInfo().catch(() => [])]);
  const candidates = pid1Cgroup === undefined ? [] : hostCgroupTargets(parseProcCgroup(pid1Cgroup).memberships, mounts, cgroupRoot).targets;
  const writableProcsFiles = new Set<string>();
  for (const { procsFile } of candidates) {
    if (await access(procsFile, constants.W_OK).then(() => true, () => false)) writableProcsFiles.add(procsFile);
  }
  return { systemdBooted: existsSync('/run/systemd/system'), ownPid: process.pid, pid1Cgroup, ownCgroup, mounts, cgroupRoot, writableProcsFiles };
}

/** Wraps argv in a transient systemd scope so the processes it starts outlive the plugin's container. */
export function withSystemdScope(argv: readonly string[], description: string): string[] {
  return ['systemd-run', `--description=${description}`, '--scope', '--collect', '--quiet', '--', ...argv];
}

/**
 * Joins each cgroup.procs file given (as `$$`, the shell's PID, which exec keeps), then execs the command
 * after `--`. A constant: file names and argv arrive as positional parameters and are only ever expanded
 * quoted, so nothing in them reaches the shell as code. A missing file is an error, never created: `>` on
 * a path outside cgroupfs would make a plain file and silently isolate nothing.
 */
export const JOIN_CGROUPS_SCRIPT = [
  'while [ "$#" -gt 0 ] && [ "$1" != -- ]; do',
  '  [ -e "$1" ] || { echo "cgroup file $1 does not exist" >&2; exit 1; }',
  '  printf \'%s\\n\' "$$" > "$1" || { echo "cannot join the cgroup of $1" >&2; exit 1; }',
  '  shift',
  'done',
  '[ "$#" -gt 1 ] || { echo "no command after --" >&2; exit 1; }',
  'shift',
  'exec "$@"',
].join('\n');

export function withHostCgroups(argv: readonly string[], procsFiles: readonly string[]): string[] {
  for (const file of procsFiles) {
    if (!file.startsWith('/') || !isSafeCgroupPath(file)) throw new Error(`not a safe cgroup.procs path: ${JSON.stringify(file)}`);
  }
  return ['/bin/sh', '-c', JOIN_CGROUPS_SCRIPT, 'sh', ...procsFiles, '--', ...argv];
}

/** The argv actually run for a mount argv. */
export function isolatedMountArgv(isolation: FuseIsolation, argv: readonly string[], targetPath: string): string[] {
  switch (isolation.mode) {
    case 'systemd':
      return withSystemdScope(argv, `Gluster FUSE mount of ${targetPath}`);
    case 'host-cgroup':
      return withHostCgroups(argv, isolation.procsFiles);
    case 'none':
      return [...argv];
  }
}
