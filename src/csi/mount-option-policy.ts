/**
 * The mount options the plugin passes to mount.glusterfs: an allow-list, each value checked. Options come from
 * the PV's mountOptions (kubelet's mount_flags), which whoever writes PVs or StorageClasses chooses, and
 * mount.glusterfs runs them as root on the node. Everything not listed is refused, naming the option.
 *
 * Allowed, because users need them and they reach no further than this one mount:
 *  - ro / rw (rw is what `mount -t glusterfs` sends; ro what a read-only publish adds), acl, selinux,
 *    enable-ino32 (32-bit inode numbers for old applications), fopen-keep-cache, kernel-writeback-cache;
 *  - the FUSE caching knobs: attribute-timeout, entry-timeout, negative-timeout, gid-timeout, direct-io-mode,
 *    use-readdirp, reader-thread-count, lru-limit (bounded, see LRU_LIMIT_MAX);
 *  - backup-volfile-servers / backupvolfile-server (host names, checked like the context's) and transport=tcp;
 *  - log-level up to INFO, the atime family, and nodev / nosuid / noexec (they only take rights away);
 *  - _netdev, which mount.glusterfs ignores, so that options copied from an fstab line keep working.
 *
 * Refused on purpose (among everything else):
 *  - log-file, dump-fuse: root writes a file at a path of the PV author's choosing on the node;
 *  - volume-id (volfile-id), volume-name, subdir-mount, server-port: mount another volume, part, or server than
 *    the checked mountSource names, bypassing the volume check;
 *  - xlator-option, fuse-mountopts, context / fscontext / defcontext / rootcontext: raw translator or kernel
 *    options (allow_other, default_permissions, SELinux labels of another domain);
 *  - no-root-squash / root-squash, aux-gfid-mount (opens files by GFID, past directory permissions),
 *    user-map-root, process-name, oom-score-adj: identity and privilege settings of the client;
 *  - log-level DEBUG / TRACE: the client's log is on the node's disk and fills it;
 *  - auto_unmount: when the FUSE client dies the mount goes away, and the pod silently writes into the empty
 *    directory on the node's own disk instead of failing with "Transport endpoint is not connected" (which
 *    the plugin detects and repairs);
 *  - dev / suid / exec (the defaults already; listing them is a sign of a copied line meant for something else).
 */

type ValueCheck = (value: string) => string | undefined;

const BOOLEANS = ['on', 'off', 'yes', 'no', 'true', 'false', 'enable', 'disable', '1', '0'];
const LOG_LEVELS = ['NONE', 'CRITICAL', 'ERROR', 'WARNING', 'INFO'];
/** 0 means "no limit": the client then keeps every inode it has seen, in a process outside any memory limit. */
const LRU_LIMIT_MAX = 4_194_304;
const BACKUP_SERVERS_MAX = 16;
/**
 * A DNS name or IPv4 address: the one rule for volfile servers, here and in the volume context (requests.ts).
 * Anything else (spaces, commas, colons) could split mount.glusterfs' option list.
 */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

const oneOf =
  (allowed: readonly string[], fold = (v: string) => v): ValueCheck =>
  (value) =>
    allowed.includes(fold(value)) ? undefined : `must be one of ${allowed.join(', ')}`;

const integer =
  (min: number, max: number): ValueCheck =>
  (value) =>
    /^\d{1,10}$/.test(value) && Number(value) >= min && Number(value) <= max ? undefined : `must be a whole number from ${min} to ${max}`;

/** FUSE timeouts are seconds as a decimal (glusterfs parses a double); an hour is more than anyone caches. */
const seconds: ValueCheck = (value) =>
  /^\d{1,4}(\.\d{1,3})?$/.test(value) && Number(value) <= 3600 ? undefined : 'must be seconds from 0 to 3600 (at most 3 decimals)';

const hosts =
  (max: number): ValueCheck =>
  (value) => {
    const list = value.split(':');
    if (list.length > max) return max === 1 ? 'must be one server' : `must list at most ${max} servers`;
    const bad = list.find((host) => !HOST_NAME_PATTERN.test(host));
    return bad === undefined ? undefined : `${JSON.stringify(bad)} is not a host name or IPv4 address`;
  };

const FLAGS: ReadonlySet<string> = new Set([
  'ro', 'rw', 'acl', 'selinux', 'enable-ino32', 'fopen-keep-cache', '_netdev',
  'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime',
  'nodev', 'nosuid', 'noexec',
]);

const VALUES: ReadonlyMap<string, ValueCheck> = new Map([
  ['log-level', oneOf(LOG_LEVELS, (v) => v.toUpperCase())],
  ['backup-volfile-servers', hosts(BACKUP_SERVERS_MAX)],
  ['backupvolfile-server', hosts(1)],
  // rdma was removed from Gluster 8; any other value is appended to the volfile id mount.glusterfs asks for.
  ['transport', oneOf(['tcp'])],
  ['direct-io-mode', oneOf([...BOOLEANS, 'auto'])],
  ['fopen-keep-cache', oneOf(BOOLEANS)],
  ['kernel-writeback-cache', oneOf(BOOLEANS)],
  ['use-readdirp', oneOf(BOOLEANS)],
  ['attribute-timeout', seconds],
  ['entry-timeout', seconds],
  ['negative-timeout', seconds],
  ['gid-timeout', integer(0, 3600)],
  ['lru-limit', integer(1, LRU_LIMIT_MAX)],
  ['reader-thread-count', integer(1, 64)],
]);

/** Why one option (`key` or `key=value`) is refused, or undefined when it is allowed. */
export function mountOptionProblem(option: string): string | undefined {
  const equals = option.indexOf('=');
  if (equals < 0) {
    if (FLAGS.has(option)) return undefined;
    return VALUES.has(option) ? `mount option ${option} needs a value (${option}=...)` : notAllowed(option);
  }
  const key = option.slice(0, equals);
  const check = VALUES.get(key);
  if (!check) return notAllowed(key);
  const problem = check(option.slice(equals + 1));
  return problem === undefined ? undefined : `mount option ${key}: ${problem}`;
}

function notAllowed(key: string): string {
  return `mount option ${key} is not allowed; allowed: ${[...FLAGS].join(', ')}, ${[...VALUES.keys()].map((k) => `${k}=`).join(', ')}`;
}
