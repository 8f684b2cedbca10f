import { parseCliOkXml, parseTaskIdXml, parseVolumeRefXml, type GlusterCliOk } from '../parsers/cli-result.ts';
import { parseClientList, type ClientList } from '../parsers/client-list.ts';
import { parseHealInfoXml, type GlusterHealBrick } from '../parsers/heal-info.ts';
import { parseHealStatistics, type BrickCrawlStatistics } from '../parsers/heal-statistics.ts';
import { parseHealSummaryXml, type GlusterHealSummaryBrick } from '../parsers/heal-summary.ts';
import { parsePeerStatusXml, type GlusterPeer } from '../parsers/peer-status.ts';
import { parseRebalanceStatusXml, parseRemoveBrickStatusXml, type RebalanceStatus } from '../parsers/rebalance-status.ts';
import { parseVolumeInfoXml, type GlusterVolumeInfo } from '../parsers/volume-info.ts';
import { parseVolumeStatusXml, type GlusterVolumeStatusInfo } from '../parsers/volume-status.ts';
import { BRICK_MULTIPLEX_KEY, MAX_BRICKS_PER_PROCESS_KEY, parseVolumeGetXml, type GlusterOptionValue } from '../parsers/volume-get.ts';
import { command, type NodeCommand } from './command.ts';

/**
 * argv builders for the gluster CLI. Always `--mode=script` (never prompts: a prompt would hang a remote
 * command until its timeout) and `--xml` (machine-readable, and the only mode whose failures carry the
 * error text in a parseable place).
 */
const GLUSTER = ['gluster', '--mode=script', '--xml'] as const;

/** host:/absolute/path, as gluster names a brick. */
export type BrickName = `${string}:/${string}`;

/** How the bricks of a volume group into sets. Several sets = bricks listed set by set. */
export type VolumeLayout =
  | { kind: 'distribute' }
  | { kind: 'replicate'; replica: number; arbiter?: boolean }
  | { kind: 'disperse'; data: number; redundancy: number };

export function setSize(layout: VolumeLayout): number {
  switch (layout.kind) {
    case 'distribute':
      return 1;
    case 'replicate':
      return layout.replica;
    case 'disperse':
      return layout.data + layout.redundancy;
  }
}

export function assertName(what: string, value: string): void {
  // Names reach argv unquoted by any shell, but a leading "-" would still read as an option.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) throw new Error(`invalid ${what} "${value}"`);
}

function assertBricks(bricks: readonly string[]): void {
  if (bricks.length === 0) throw new Error('at least one brick is required');
  for (const brick of bricks) {
    if (!/^[^\s:/-][^\s:]*:\/\S*$/.test(brick)) throw new Error(`invalid brick "${brick}" (want host:/path)`);
  }
  const duplicate = bricks.find((brick, i) => bricks.indexOf(brick) !== i);
  if (duplicate) throw new Error(`brick ${duplicate} listed twice`);
}

/** The `replica 3 arbiter 1` / `disperse 3 redundancy 1` words, validated, for create and add-brick. */
export function layoutArgs(layout: VolumeLayout): string[] {
  switch (layout.kind) {
    case 'distribute':
      return [];
    case 'replicate':
      if (!Number.isInteger(layout.replica) || layout.replica < 2) throw new Error(`replica must be an integer >= 2, got ${layout.replica}`);
      if (layout.arbiter) {
        // glusterd 10 accepts only "replica 3 arbiter 1": two data bricks and one arbiter per set.
        if (layout.replica !== 3) throw new Error('an arbiter needs replica 3 (two data bricks + one arbiter per set)');
        return ['replica', '3', 'arbiter', '1'];
      }
      return ['replica', String(layout.replica)];
    case 'disperse': {
      const { data, redundancy } = layout;
      if (!Number.isInteger(data) || !Number.isInteger(redundancy) || redundancy < 1 || data < 2 || redundancy * 2 >= data + redundancy) {
        throw new Error(`disperse ${data}+${redundancy}: need data >= 2, redundancy >= 1 and redundancy < data`);
      }
      return ['disperse', String(data + redundancy), 'redundancy', String(redundancy)];
    }
  }
}

function assertWholeSets(layout: VolumeLayout, bricks: readonly string[]): void {
  const size = setSize(layout);
  if (bricks.length % size !== 0) throw new Error(`${bricks.length} bricks do not make whole sets of ${size}`);
}

/** A `gluster --mode=script --xml` command that changes the pool's state (serialized per cluster). */
export const mutation = <T>(argv: string[], parse: (stdout: string) => T, timeoutMs?: number): NodeCommand<T> =>
  command({ argv: [...GLUSTER, ...argv], outcome: 'gluster-xml', mutatesCluster: true, parse, ...(timeoutMs && { timeoutMs }) });

/** A `gluster --mode=script --xml` command that only reads. */
export const query = <T>(argv: string[], parse: (stdout: string) => T, timeoutMs?: number): NodeCommand<T> =>
  command({ argv: [...GLUSTER, ...argv], outcome: 'gluster-xml', mutatesCluster: false, parse, ...(timeoutMs && { timeoutMs }) });

// --- peers ---------------------------------------------------------------------------------------------

/** Idempotent: probing a peer already in the pool succeeds ("already in peer list", opErrno 2). */
export const peerProbe = (host: string): NodeCommand<GlusterCliOk> => mutation(['peer', 'probe', host], parseCliOkXml);

export const peerDetach = (host: string, options: { force?: boolean } = {}): NodeCommand<GlusterCliOk> =>
  mutation(['peer', 'detach', host, ...(options.force ? ['force'] : [])], parseCliOkXml);

export const peerStatus = (): NodeCommand<GlusterPeer[]> => query(['peer', 'status'], parsePeerStatusXml);
export const poolList = (): NodeCommand<GlusterPeer[]> => query(['pool', 'list'], parsePeerStatusXml);

// --- volume lifecycle ----------------------------------------------------------------------------------

export interface VolumeCreateSpec {
  name: string;
  layout: VolumeLayout;
  /** Listed set by set: bricks [0..setSize) form the first replica/disperse set, and so on. */
  bricks: readonly BrickName[] | readonly string[];
  /** Needed when bricks sit on the root filesystem or a replica set has two bricks on one host. */
  force?: boolean;
}

export function volumeCreate(spec: VolumeCreateSpec): NodeCommand<{ name: string; id: string }> {
  assertName('volume name', spec.name);
  assertBricks(spec.bricks);
  assertWholeSets(spec.layout, spec.bricks);
  return mutation(
    ['volume', 'create', spec.name, ...layoutArgs(spec.layout), 'transport', 'tcp', ...spec.bricks, ...(spec.force ? ['force'] : [])],
    (xml) => parseVolumeRefXml('volCreate', xml),
  );
}

export function volumeStart(name: string, options: { force?: boolean } = {}): NodeCommand<{ name: string; id: string }> {
  assertName('volume name', name);
  return mutation(['volume', 'start', name, ...(options.force ? ['force'] : [])], (xml) => parseVolumeRefXml('volStart', xml));
}

export function volumeStop(name: string, options: { force?: boolean } = {}): NodeCommand<{ name: string; id: string }> {
  assertName('volume name', name);
  return mutation(['volume', 'stop', name, ...(options.force ? ['force'] : [])], (xml) => parseVolumeRefXml('volStop', xml));
}

export function volumeDelete(name: string): NodeCommand<{ name: string; id: string }> {
  assertName('volume name', name);
  return mutation(['volume', 'delete', name], (xml) => parseVolumeRefXml('volDelete', xml));
}

export function volumeSet(name: string, key: string, value: string): NodeCommand<GlusterCliOk> {
  return volumeSetOptions(name, [[key, value]]);
}

/**
 * Several options in one `volume set VOL K1 V1 K2 V2 …` (glusterd 10.3 takes the pairs in one transaction,
 * measured on the test bed): each transaction takes the cluster lock, so a volume's options and its owner
 * mark cost one round instead of one each.
 */
export function volumeSetOptions(name: string, options: ReadonlyArray<readonly [string, string]>): NodeCommand<GlusterCliOk> {
  assertName('volume name', name);
  if (options.length === 0) throw new Error('volume set needs at least one option');
  for (const [key, value] of options) {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(key)) throw new Error(`invalid volume option "${key}"`);
    if (value.startsWith('-')) throw new Error(`volume option value "${value}" must not start with "-"`);
  }
  return mutation(['volume', 'set', name, ...options.flat()], parseCliOkXml);
}

/**
 * `volume reset VOL KEY`: the option back to Gluster's default (it leaves "Options Reconfigured"). One key per
 * command, as glusterd takes it; never `all` (that would drop the owner mark's neighbours, heketi's and the
 * administrator's options too) and never `force`. glusterd 10.3 refuses `user.*` keys ("does not exist").
 */
export function volumeResetOption(name: string, key: string): NodeCommand<GlusterCliOk> {
  assertName('volume name', name);
  if (!/^[a-z0-9][a-z0-9._-]*\.[a-z0-9._-]+$/i.test(key)) throw new Error(`invalid volume option "${key}" (want a dotted name such as performance.cache-size)`);
  return mutation(['volume', 'reset', name, key], parseCliOkXml);
}

// --- pool-wide options ---------------------------------------------------------------------------------

/** The options `volume set all` takes that the operator sets (brick multiplexing, brick-multiplex-decisions.ts). */
export type GlobalOptionKey = typeof BRICK_MULTIPLEX_KEY | typeof MAX_BRICKS_PER_PROCESS_KEY;

/**
 * `volume get all KEY`, or every pool-wide option with `all` (one small answer: cluster.brick-multiplex,
 * cluster.max-bricks-per-process, cluster.op-version and a few more), as key → value (volume-get.ts).
 */
export function volumeGetGlobal(key: GlobalOptionKey | 'all' = 'all'): NodeCommand<Record<string, GlusterOptionValue>> {
  return query(['volume', 'get', 'all', key], parseVolumeGetXml);
}

/**
 * `volume set all cluster.brick-multiplex on|off`. The CLI asks for confirmation on this key ("it is advised
 * that all volumes are stopped"); --mode=script answers yes. glusterd applies it to bricks started afterwards.
 */
export const brickMultiplexSet = (enabled: boolean): NodeCommand<GlusterCliOk> =>
  mutation(['volume', 'set', 'all', BRICK_MULTIPLEX_KEY, enabled ? 'on' : 'off'], parseCliOkXml);

/** `volume set all cluster.max-bricks-per-process N`: glusterd refuses it while multiplexing is off, and refuses 1. */
export function maxBricksPerProcessSet(count: number): NodeCommand<GlusterCliOk> {
  if (!Number.isInteger(count) || count < 2) throw new Error(`cluster.max-bricks-per-process must be an integer >= 2, got ${count}`);
  return mutation(['volume', 'set', 'all', MAX_BRICKS_PER_PROCESS_KEY, String(count)], parseCliOkXml);
}

// --- queries -------------------------------------------------------------------------------------------

/** All volumes when name is omitted: the topology rebuild reads the whole cluster in one call. */
export function volumeInfo(name?: string): NodeCommand<GlusterVolumeInfo[]> {
  if (name !== undefined) assertName('volume name', name);
  return query(['volume', 'info', ...(name !== undefined ? [name] : [])], parseVolumeInfoXml);
}

export function volumeStatus(name?: string, options: { detail?: boolean } = {}): NodeCommand<GlusterVolumeStatusInfo[]> {
  if (name !== undefined) assertName('volume name', name);
  return query(['volume', 'status', name ?? 'all', ...(options.detail ? ['detail'] : [])], parseVolumeStatusXml);
}

/**
 * Kinds and counts of clients connected to a started volume (client-list.ts): the deletion guard asks it
 * whether anything still mounts the volume. Text only, the --xml form carries no counts.
 */
export function volumeClientList(name: string): NodeCommand<ClientList> {
  assertName('volume name', name);
  return command({ argv: ['gluster', '--mode=script', 'volume', 'status', name, 'client-list'], outcome: 'exit-code', mutatesCluster: false, parse: parseClientList });
}

export function volumeHealInfo(name: string): NodeCommand<GlusterHealBrick[]> {
  assertName('volume name', name);
  return query(['volume', 'heal', name, 'info'], parseHealInfoXml, 120_000);
}

/**
 * Per-brick counts of entries pending heal, in split-brain and possibly healing, without listing them: what
 * volume health needs, one call for the whole volume. glfsheal crawls every brick's index, so it gets the same
 * long timeout as `heal info`. Fails on a distribute or stopped volume (nothing to heal there).
 */
export function volumeHealSummary(name: string): NodeCommand<GlusterHealSummaryBrick[]> {
  assertName('volume name', name);
  return query(['volume', 'heal', name, 'info', 'summary'], parseHealSummaryXml, 120_000);
}

/**
 * Starts a full self-heal crawl: every entry of the healthy bricks is compared with the others, so a brick
 * that replace-brick just put in gets everything even if the index missed it. Text output only; it fails
 * (exit 1, "Commit failed on …") while a self-heal daemon is still restarting, which is worth retrying.
 */
export function volumeHealFull(name: string): NodeCommand<void> {
  assertName('volume name', name);
  return command({ argv: ['gluster', '--mode=script', 'volume', 'heal', name, 'full'], outcome: 'exit-code', mutatesCluster: true, parse: () => undefined });
}

/** Crawl statistics of the self-heal daemons, or why glusterd could not gather them (exit 1, its reason on stderr: a node's self-heal daemon not running, ...). */
export function volumeHealStatistics(name: string): NodeCommand<BrickCrawlStatistics[] | UnavailableStatistics> {
  assertName('volume name', name);
  return command({
    argv: ['gluster', '--mode=script', 'volume', 'heal', name, 'statistics'],
    outcome: 'exit-code',
    mutatesCluster: false,
    okExitCodes: [0, 1],
    parse: (stdout, exitCode, stderr) => (exitCode === 0 ? parseHealStatistics(stdout) : { unavailable: unavailableReason(stderr || stdout) }),
    timeoutMs: 120_000,
  });
}

export interface UnavailableStatistics {
  unavailable: string;
}

/** glusterd's reason without the CLI's "Gathering ... has been unsuccessful:" lead-in, on one line. */
function unavailableReason(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !/^Gathering crawl statistics .* unsuccessful:?$/.test(line));
  return lines.join(' ') || 'no reason given';
}

// --- expansion and brick replacement -------------------------------------------------------------------

/** Adds whole sets. `layout` repeats the volume's replica/disperse words (gluster wants them for replicated volumes). */
export function volumeAddBrick(name: string, layout: VolumeLayout, bricks: readonly string[], options: { force?: boolean } = {}): NodeCommand<GlusterCliOk> {
  assertName('volume name', name);
  assertBricks(bricks);
  assertWholeSets(layout, bricks);
  // Disperse volumes take bare bricks on add-brick (the disperse count is fixed at create).
  const words = layout.kind === 'replicate' ? layoutArgs(layout) : [];
  return mutation(['volume', 'add-brick', name, ...words, ...bricks, ...(options.force ? ['force'] : [])], parseCliOkXml, 120_000);
}

export type RemoveBrickAction = 'start' | 'status' | 'stop' | 'commit' | 'force';

function removeBrickArgv(name: string, bricks: readonly string[], action: RemoveBrickAction, replica?: number): string[] {
  assertName('volume name', name);
  assertBricks(bricks);
  return ['volume', 'remove-brick', name, ...(replica !== undefined ? ['replica', String(replica)] : []), ...bricks, action];
}

/** Starts migrating data off the bricks; returns the task id to poll with volumeRemoveBrickStatus. */
export const volumeRemoveBrickStart = (name: string, bricks: readonly string[]): NodeCommand<string> =>
  mutation(removeBrickArgv(name, bricks, 'start'), (xml) => parseTaskIdXml('volRemoveBrick', xml));

export const volumeRemoveBrickStatus = (name: string, bricks: readonly string[]): NodeCommand<RebalanceStatus> =>
  query(removeBrickArgv(name, bricks, 'status'), parseRemoveBrickStatusXml);

/** Only after status says completed with no failures, or data on the bricks is lost. */
export const volumeRemoveBrickCommit = (name: string, bricks: readonly string[]): NodeCommand<GlusterCliOk> =>
  mutation(removeBrickArgv(name, bricks, 'commit'), parseCliOkXml);

/** The only replace-brick gluster still supports: swap now, self-heal fills the new brick. */
export function volumeReplaceBrick(name: string, oldBrick: string, newBrick: string): NodeCommand<GlusterCliOk> {
  assertName('volume name', name);
  assertBricks([oldBrick, newBrick]);
  return mutation(['volume', 'replace-brick', name, oldBrick, newBrick, 'commit', 'force'], parseCliOkXml, 120_000);
}

/** Returns the rebalance task id. */
export function volumeRebalanceStart(name: string, options: { force?: boolean } = {}): NodeCommand<string> {
  assertName('volume name', name);
  return mutation(['volume', 'rebalance', name, 'start', ...(options.force ? ['force'] : [])], (xml) => parseTaskIdXml('volRebalance', xml));
}

export function volumeRebalanceStatus(name: string): NodeCommand<RebalanceStatus> {
  assertName('volume name', name);
  return query(['volume', 'rebalance', name, 'status'], parseRebalanceStatusXml);
}

// --- directory quota (claims as directories of a shared volume) --------------------------------------------

/** A directory at the root of a volume, as quota names it: `/<object name>`, never deeper, never `/`. */
function assertQuotaPath(path: string): void {
  if (!/^\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(path) || path.length > 254) throw new Error(`invalid quota directory "${path}" (want /<object name>)`);
}

/** Turns on Gluster's directory quota (quotad on every node, accounting on the bricks). Refused when already on: callers look first. */
export function volumeQuotaEnable(name: string): NodeCommand<GlusterCliOk> {
  assertName('volume name', name);
  return mutation(['volume', 'quota', name, 'enable'], parseCliOkXml);
}

/** The hard limit of one directory, in bytes (the CLI takes a plain number as bytes). Setting it again changes it. */
export function volumeQuotaLimitUsage(name: string, path: string, bytes: number): NodeCommand<GlusterCliOk> {
  assertName('volume name', name);
  assertQuotaPath(path);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`invalid quota limit ${bytes}`);
  return mutation(['volume', 'quota', name, 'limit-usage', path, String(bytes)], parseCliOkXml);
}

/** Removes one directory's limit (the files stay). Refused when it has none ("No data available"): callers look first. */
export function volumeQuotaRemove(name: string, path: string): NodeCommand<GlusterCliOk> {
  assertName('volume name', name);
  assertQuotaPath(path);
  return mutation(['volume', 'quota', name, 'remove', path], parseCliOkXml);
}

