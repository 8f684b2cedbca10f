import { OPTIONS_MAX_ENTRIES } from '../api/limits.ts';

/**
 * Which Gluster volume options a GlusterVolume's spec.options, a GlusterCluster's spec.volumeOptions and a
 * StorageClass's `volumeoptions` may set, and the values each takes: the one home of these rules. Each option
 * is a `gluster volume set` glusterd runs as root on every server, and whoever may write those objects is not
 * whoever may administer the servers, so everything not listed here is refused, naming the option and why.
 *
 * Listed: performance tuning and a short set whose every value keeps each copy of the data and the volume's
 * access rules as they are. Names and bounds as glusterd 10.3 takes them (its volume-set table and the
 * translators' option tables, read from the 10.3 packages); where Gluster's range is wider, ours is narrower on
 * purpose and says why. Booleans are spelled `on` / `off` only: glusterd stores a value as written, and one
 * spelling keeps the reconciler's comparison with `volume info` exact.
 *
 * Refused on purpose (REFUSED says why to the user): access and transport security (auth.*, *.ssl*,
 * transport.*, server.allow-insecure; those come from typed GlusterCluster fields, never free-form options),
 * identity and ownership (squash, anonuid, storage.owner-*), the data layout (features.shard*), Gluster's own
 * NFS server, `user.*` (the operator's owner mark and heketi's records), settings that give up a copy or a
 * quorum (cluster.quorum-type none, favorite-child-policy, ensure-durability), pool-wide settings, and logs at
 * DEBUG or TRACE (they fill the disks).
 */

/** How a value is checked; `why` is added to the refusal where the bound is ours rather than Gluster's. */
export type OptionValueRule =
  | { kind: 'switch'; values: ReadonlyArray<'on' | 'off'>; why?: string }
  | { kind: 'word'; values: readonly string[]; why?: string }
  | { kind: 'integer'; min: number; max: number; why?: string }
  /** Bytes, as Gluster writes sizes: digits and an optional KB, MB, GB or TB (binary units, any case). */
  | { kind: 'size'; min: number; max: number; why?: string }
  /** A percentage written with its sign, `10%` (without it Gluster reads some of these as bytes). */
  | { kind: 'percent'; min: number; max: number };

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;
const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, KB, MB, GB, TB: 1024 * GB };

const onOff: OptionValueRule = { kind: 'switch', values: ['on', 'off'] };
const integer = (min: number, max: number, why?: string): OptionValueRule => ({ kind: 'integer', min, max, ...(why ? { why } : {}) });
const size = (min: number, max: number, why?: string): OptionValueRule => ({ kind: 'size', min, max, ...(why ? { why } : {}) });
const LOG_LEVEL: OptionValueRule = { kind: 'word', values: ['INFO', 'WARNING', 'ERROR', 'CRITICAL', 'NONE'], why: 'DEBUG and TRACE fill the disks the logs are on' };
const HEAL_THREADS = integer(1, 64);
const HEAL_QUEUE = integer(1, 65536);

/** The allow-list. A key here may be set and, once the operator has set it, reset (volume-decisions.ts). */
const ALLOWED: ReadonlyMap<string, OptionValueRule> = new Map<string, OptionValueRule>([
  // Client-side caches and threads: they change how fast a mount is and how much memory it takes, not what it
  // reads or writes. Sizes are bounded by what one FUSE client on a Kubernetes node may reasonably hold.
  ['performance.cache-size', size(4 * MB, 16 * GB, 'the io-cache needs 4MB; more than 16GB per mount starves the node')],
  ['performance.io-thread-count', integer(1, 64)],
  ['performance.client-io-threads', onOff],
  ['performance.write-behind', onOff],
  ['performance.write-behind-window-size', size(512 * KB, GB)],
  ['performance.write-behind-trickling-writes', onOff],
  ['performance.flush-behind', onOff],
  ['performance.strict-o-direct', onOff],
  ['performance.read-ahead', onOff],
  ['performance.read-ahead-page-count', integer(1, 16)],
  ['performance.io-cache', onOff],
  ['performance.cache-refresh-timeout', integer(0, 60)],
  ['performance.quick-read', onOff],
  ['performance.open-behind', onOff],
  ['performance.stat-prefetch', onOff],
  ['performance.md-cache-timeout', integer(0, 600)],
  ['performance.cache-invalidation', onOff],
  ['performance.readdir-ahead', onOff],
  ['performance.parallel-readdir', onOff],
  ['performance.rda-cache-limit', size(0, GB, 'more than 1GB of directory entries per mount starves the node')],
  ['performance.nl-cache', onOff],
  ['performance.nl-cache-timeout', integer(0, 600)],
  // Server-side invalidation that the md-cache and nl-cache settings above rely on (Gluster's metadata-cache group).
  ['features.cache-invalidation', onOff],
  ['features.cache-invalidation-timeout', integer(0, 600)],
  // Network: how soon a dead server is noticed, and the event threads. A ping-timeout of 0 would never notice
  // one (Gluster allows it) and one below 5 seconds takes a busy server for a dead one.
  ['network.ping-timeout', integer(5, 120, 'below 5 seconds a busy server is taken for a dead one; 0 never notices one')],
  ['network.inode-lru-limit', integer(0, 1_048_576)],
  ['server.event-threads', integer(1, 32, 'more than 32 event threads per brick process only costs memory')],
  ['client.event-threads', integer(1, 32)],
  ['server.tcp-user-timeout', integer(0, 1013)],
  ['client.tcp-user-timeout', integer(0, 1013)],
  // Self-heal and quorum: how fast and how healing runs, and quorum only made stricter. None of these lets a
  // replica set accept a write without quorum or resolve a split-brain by dropping a copy.
  ['cluster.self-heal-daemon', { kind: 'switch', values: ['on'], why: 'off stops healing, and a replica set then silently loses its redundancy' }],
  ['cluster.quorum-type', { kind: 'word', values: ['auto'], why: 'none and fixed let a replica set accept writes without a majority, which is how split-brain starts' }],
  ['cluster.quorum-reads', onOff],
  ['cluster.data-self-heal-algorithm', { kind: 'word', values: ['diff', 'full'] }],
  ['cluster.heal-timeout', integer(60, 86_400, 'disperse volumes take no less than 60 seconds; more than a day leaves damage unhealed for too long')],
  ['cluster.background-self-heal-count', integer(0, 256)],
  ['cluster.shd-max-threads', HEAL_THREADS],
  ['cluster.shd-wait-qlength', HEAL_QUEUE],
  ['disperse.shd-max-threads', HEAL_THREADS],
  ['disperse.shd-wait-qlength', HEAL_QUEUE],
  ['disperse.background-heals', integer(0, 256)],
  ['cluster.eager-lock', onOff],
  ['disperse.eager-lock', onOff],
  // Distribute: lookups, directory listing, where new files go and how hard a rebalance works.
  ['cluster.lookup-optimize', onOff],
  ['cluster.readdir-optimize', onOff],
  ['cluster.min-free-disk', { kind: 'percent', min: 1, max: 50 }],
  ['cluster.rebal-throttle', { kind: 'word', values: ['lazy', 'normal', 'aggressive'] }],
  // Logs of the brick processes (on the servers) and of the clients (on the Kubernetes nodes).
  ['diagnostics.brick-log-level', LOG_LEVEL],
  ['diagnostics.client-log-level', LOG_LEVEL],
  // Space each brick keeps free so that a full volume fails writes instead of filling the brick's filesystem.
  // A whole number is a percentage to Gluster (below 100); 0 would let a brick fill up.
  ['storage.reserve', integer(1, 50, 'a percentage of the brick; 0 would let a brick fill up')],
]);

/** Every option a spec may set, in the order above; the CRDs' CEL rule lists the same keys (src/api/common.ts). */
export const ALLOWED_OPTION_KEYS: readonly string[] = [...ALLOWED.keys()];

/** Where the list is documented for users (README, "Volume options"). */
const POLICY_REFERENCE = 'the README\'s "Volume options"';

const SECURITY = 'who may mount a volume and how its traffic is protected come from typed GlusterCluster fields, not from free-form options';
const IDENTITY = 'it changes who a client is or who owns the files, across every tenant of the volume; brick ownership comes from spec.gid';

/** Known refusals, first match wins: a reason is worth more than "not on the allow-list". */
const REFUSED: ReadonlyArray<{ matches: (key: string) => boolean; why: string }> = [
  { matches: (key) => key.startsWith('user.'), why: "user.* options are reserved: the operator's owner mark (user.gluster-operator.owner) and heketi's records live there" },
  { matches: (key) => key.startsWith('auth.') || key.includes('ssl') || key.startsWith('transport.'), why: SECURITY },
  { matches: (key) => ['server.allow-insecure', 'client.bind-insecure', 'server.dynamic-auth'].includes(key), why: SECURITY },
  { matches: (key) => /^server\.(root-squash|all-squash|anonuid|anongid|manage-gids|gid-timeout)$/.test(key) || key === 'client.send-gids', why: IDENTITY },
  { matches: (key) => /^storage\.(owner-uid|owner-gid|create-mask|create-directory-mask|force-create-mode|force-directory-mode)$/.test(key), why: IDENTITY },
  { matches: (key) => key.startsWith('features.shard'), why: 'sharding changes how files are laid out on the bricks: turned off after files were written with it, large files become unreadable' },
  { matches: (key) => key.startsWith('nfs.') || key.startsWith('performance.nfs.'), why: "Gluster's own NFS server is not part of this deployment: it would serve the volume past the CSI driver and its checks" },
  {
    matches: (key) => ['cluster.favorite-child-policy', 'cluster.quorum-count', 'disperse.quorum-count', 'cluster.ensure-durability', 'network.remote-dio'].includes(key),
    why: 'it can give up a copy of the data: a split-brain resolved by dropping one, a lower quorum, or writes acknowledged before they are on disk',
  },
  {
    matches: (key) => /^cluster\.(server-quorum-|op-version|max-op-version|brick-multiplex|max-bricks-per-process|enable-shared-storage|daemon-log-level|localtime-logging)/.test(key),
    why: 'it is a setting of the whole pool, not of one volume: it belongs to whoever administers the Gluster servers',
  },
  { matches: (key) => key === 'server.statedump-path' || key.startsWith('features.trash'), why: 'glusterd would write files on the servers at a path of the spec\'s choosing' },
];

/** Why `value` does not fit `rule`, or undefined when it does. */
function valueProblem(rule: OptionValueRule, value: string): string | undefined {
  const because = 'why' in rule && rule.why ? ` (${rule.why})` : '';
  switch (rule.kind) {
    case 'switch':
    case 'word':
      return (rule.values as readonly string[]).includes(value) ? undefined : `must be ${rule.values.length === 1 ? rule.values[0] : `one of ${rule.values.join(', ')}`}${because}`;
    case 'integer':
      return /^[0-9]{1,10}$/.test(value) && Number(value) >= rule.min && Number(value) <= rule.max ? undefined : `must be a whole number from ${rule.min} to ${rule.max}${because}`;
    case 'size': {
      const match = /^([0-9]{1,13})([KMGT]B)?$/i.exec(value);
      const bytes = match ? Number(match[1]) * SIZE_UNITS[(match[2] ?? '').toUpperCase()]! : NaN;
      return bytes >= rule.min && bytes <= rule.max ? undefined : `must be a size from ${formatSize(rule.min)} to ${formatSize(rule.max)}, such as 64MB (KB, MB, GB, TB)${because}`;
    }
    case 'percent': {
      const match = /^([0-9]{1,3})%$/.exec(value);
      return match && Number(match[1]) >= rule.min && Number(match[1]) <= rule.max ? undefined : `must be a percentage from ${rule.min}% to ${rule.max}%, written with %`;
    }
  }
}

function formatSize(bytes: number): string {
  for (const [unit, factor] of Object.entries(SIZE_UNITS).reverse()) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/** Whether the option may be set at all (its value aside). */
export function isAllowedOption(key: string): boolean {
  return ALLOWED.has(key);
}

/**
 * Why one option may not be set, naming it (and its value when the value is what is wrong), or undefined
 * when it may. For a condition message, an Event or a StorageClass parameter error.
 */
export function volumeOptionProblem(key: string, value: string): string | undefined {
  const rule = ALLOWED.get(key);
  if (rule) {
    const problem = valueProblem(rule, value);
    return problem === undefined ? undefined : `${key} ${JSON.stringify(value)}: ${problem}`;
  }
  const refused = REFUSED.find((entry) => entry.matches(key));
  if (refused) return `${key} is not allowed: ${refused.why}`;
  return `${key} is not an option this operator sets (allowed: performance tuning and a short list, see ${POLICY_REFERENCE})`;
}

/**
 * Every problem of one options map, the count first: at most OPTIONS_MAX_ENTRIES, as the CRD's maxProperties
 * says (an object stored before that bound is refused here, for that object alone).
 */
export function volumeOptionsProblems(options: Readonly<Record<string, string>>): string[] {
  const entries = Object.entries(options);
  const problems: string[] = [];
  if (entries.length > OPTIONS_MAX_ENTRIES) problems.push(`${entries.length} options, more than the ${OPTIONS_MAX_ENTRIES} a map may hold`);
  for (const [key, value] of entries) {
    const problem = volumeOptionProblem(key, value);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}
