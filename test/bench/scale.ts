/**
 * `npm run bench:scale` (issue 16 item 3, volume mode): what N volumes cost, in one run against the running
 * test bed and the operator as a process (bench:provision's set-up, test/bench/common.ts):
 *   - lock baseline: K=10 raw `gluster volume create` + `volume start` (replica 3, on node 1 itself) one after
 *     another, then 10 others all at once; `lock_serialisation` = concurrent / sequential (1.0: glusterd's lock
 *     runs them one at a time, 0.1: fully parallel);
 *   - warm-up: 10 claims at once → all Bound → all deleted (the per-claim baseline);
 *   - scale: BENCH_CLAIMS (300) claims of a replica-3 StorageClass at once → all Bound (time to all Bound,
 *     PVC→Bound p50/p99 per claim, glusterfsd processes and their RSS per Gluster node at that moment) → one
 *     delete call → all PVCs, PVs and GlusterVolumes gone;
 *   - what is left: Gluster volumes named with the bench's prefix, GlusterVolumes, PVs, glusterfsd processes
 *     beyond the count before the run;
 *   - the operator process's RSS, read from /proc every second throughout (max, final).
 * Per claim, PVC→Bound is measured by the bench alone (no creationTimestamp): from its create call's answer to
 * the first LIST (one every 250 ms, all claims at once) that shows it Bound.
 * Progress on stderr; the last line of stdout is one JSON object, with the goals as booleans.
 * Knobs: BENCH_CLAIMS (300), BENCH_MODE (volume; directory is issue 16 item 2), BENCH_TIMEOUT_S (each wait:
 * the larger of 30 min and 8 s a claim). Needs a running test bed (`hack/testbed up`); it never starts or stops one.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION } from '../../src/api/index.ts';
import { classifyFailure } from '../../src/gluster/classify.ts';
import { removeLeftoverVolumes } from '../support/brick-cleanup.ts';
import { eventually, giveUp, notYet } from '../support/eventually.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { claim, glusterdPid, onNode, openBench, round, setUpBench, tearDownBench } from './common.ts';

const TOOL = 'bench:scale';
const say = (line: string) => console.error(`${TOOL}: ${line}`);
function usage(message: string): never {
  say(message);
  process.exit(2);
}

const mode = process.env.BENCH_MODE ?? 'volume';
if (mode === 'directory') usage('directory mode is not built yet (issue 16 item 2)');
if (mode !== 'volume') usage(`BENCH_MODE must be volume (directory is not built yet), got ${JSON.stringify(mode)}`);
const claims = Number(process.env.BENCH_CLAIMS ?? 300);
if (!Number.isInteger(claims) || claims < 1) usage(`BENCH_CLAIMS must be a positive integer, got ${JSON.stringify(process.env.BENCH_CLAIMS)}`);
const timeoutMs = process.env.BENCH_TIMEOUT_S ? Number(process.env.BENCH_TIMEOUT_S) * 1000 : Math.max(30 * 60_000, claims * 8_000);
if (!(timeoutMs > 0)) usage(`BENCH_TIMEOUT_S must be a positive number of seconds, got ${JSON.stringify(process.env.BENCH_TIMEOUT_S)}`);
const WARMUP = 10;
const LOCK_K = 10;
const PROGRESS_MS = 10_000;
/** The goals. */
const BRICK_RSS_PER_NODE_MIB = 1024;
const OPERATOR_RSS_MIB = 300;

const bench = openBench(TOOL);
const { namespace, nodes, brickRoot, core } = bench;
const custom = bench.config.makeApiClient(k8s.CustomObjectsApi);
/** Every Gluster name of this run starts so: the provisioner's (`volumenameprefix` bench) and the lock baseline's. */
const VOLUME_PREFIX = 'bench';
const glusterPrefix = `${VOLUME_PREFIX}_${namespace}_`;
/** Every Gluster node of the test bed, in order (node i is .testbed/nodes/gl<i>), to attribute brick processes. */
const allNodes = bench.env.TESTBED_NODES!.split(/\s+/).filter(Boolean);

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const since = (started: number) => `${((performance.now() - started) / 1000).toFixed(0)} s`;

/** Nearest rank: the smallest value with at least p % of the values at or below it. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** VmRSS of a live process in KiB, or undefined when it is gone (or unreadable). */
function vmRssKib(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The operator's RSS every second from now on. */
function sampleRss(pid: number | undefined) {
  const state = { maxKib: undefined as number | undefined, lastKib: undefined as number | undefined, samples: 0 };
  const sample = () => {
    const kib = pid === undefined ? undefined : vmRssKib(pid);
    if (kib === undefined) return;
    state.samples += 1;
    state.lastKib = kib;
    state.maxKib = Math.max(state.maxKib ?? 0, kib);
  };
  sample();
  const timer = setInterval(sample, 1000);
  timer.unref();
  return {
    state,
    stop: () => {
      sample();
      clearInterval(timer);
    },
  };
}

// --- glusterfsd processes, by Gluster node ---------------------------------------------------------------

/** The value of an option in argv: `-s X`, `--volfile-server X` or `--volfile-server=X`. */
function optionValue(argv: string[], names: string[]): string | undefined {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (names.includes(arg)) return argv[i + 1];
    const long = names.find((name) => name.startsWith('--') && arg.startsWith(`${name}=`));
    if (long) return arg.slice(long.length + 1);
  }
  return undefined;
}

interface GlusterProcess {
  pid: number;
  /** A brick (glusterfsd) or the node's self-heal daemon (glusterfs --process-name glustershd). */
  kind: 'brick' | 'shd';
  /** The Gluster node's address, or `unattributed`. */
  node: string;
  rssKib: number;
  volfileId: string | undefined;
}

/** Each node's network namespace (its glusterd's), to place a process whose command line names no known node. */
function nodeNetworkNamespaces(): Map<string, string> {
  const byNamespace = new Map<string, string>();
  allNodes.forEach((address, i) => {
    try {
      byNamespace.set(readlinkSync(`/proc/${glusterdPid(i + 1)}/ns/net`), address);
    } catch {
      // node down, or not readable: the command line has to do
    }
  });
  return byNamespace;
}

/**
 * The brick processes (and self-heal daemons) visible from the host: the nodes are network and mount
 * namespaces, not PID namespaces. A brick process is one whose argv[0] is glusterfsd: glusterd, glusterfs
 * (self-heal daemon, clients) and glusterfsd are one binary under three names, so /proc/<pid>/exe cannot tell
 * them apart. glusterd starts a brick as `glusterfsd -s <brick host> --volfile-id <volume>.<host>.<path> ...
 * --brick-name <path> --process-name brick`, the brick host being the node's address the volume was created
 * with: that names the node. A process whose `-s`/`--volfile-server` is no test-bed node's address (the
 * self-heal daemon's is `localhost`) is placed by its network namespace, else it is `unattributed`.
 */
function glusterProcesses(): GlusterProcess[] {
  const namespaces = nodeNetworkNamespaces();
  const found: GlusterProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const program = argv.length > 0 ? basename(argv[0]!) : '';
      const kind = program === 'glusterfsd' ? 'brick' : program === 'glusterfs' && optionValue(argv, ['--process-name']) === 'glustershd' ? 'shd' : undefined;
      if (kind === undefined) continue;
      const server = optionValue(argv, ['-s', '--volfile-server']);
      let node = server !== undefined && allNodes.includes(server) ? server : undefined;
      if (node === undefined) {
        try {
          node = namespaces.get(readlinkSync(`/proc/${pid}/ns/net`));
        } catch {
          // not readable: unattributed
        }
      }
      const rssKib = vmRssKib(pid);
      if (rssKib === undefined) continue; // exited meanwhile
      found.push({ pid, kind, node: node ?? 'unattributed', rssKib, volfileId: optionValue(argv, ['--volfile-id']) });
    } catch {
      // gone between readdir and read
    }
  }
  return found;
}

const brickProcesses = () => glusterProcesses().filter((p) => p.kind === 'brick');

interface NodeProcesses {
  glusterfsd: number;
  rss_mib: number;
  /** Of those, the processes whose volfile id is one of this run's volumes (a multiplexed process serves more). */
  bench_glusterfsd: number;
  /** The self-heal daemon's RSS (not a brick process; not in rss_mib). */
  glustershd_rss_mib: number;
}

function byNode(processes: GlusterProcess[]): Record<string, NodeProcesses> {
  const sums: Record<string, { count: number; kib: number; bench: number; shdKib: number }> = {};
  for (const address of nodes) sums[address] = { count: 0, kib: 0, bench: 0, shdKib: 0 };
  for (const found of processes) {
    const entry = (sums[found.node] ??= { count: 0, kib: 0, bench: 0, shdKib: 0 });
    if (found.kind === 'shd') {
      entry.shdKib += found.rssKib;
      continue;
    }
    entry.count += 1;
    entry.kib += found.rssKib;
    if (found.volfileId?.startsWith(glusterPrefix)) entry.bench += 1;
  }
  return Object.fromEntries(
    Object.entries(sums).map(([node, e]) => [node, { glusterfsd: e.count, rss_mib: mib(e.kib), bench_glusterfsd: e.bench, glustershd_rss_mib: mib(e.shdKib) }]),
  );
}

// --- glusterd's lock: K raw create+start one after another, then K at once ------------------------------------

const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];

/** A gluster command on node 1, again while glusterd says its lock is busy; returns how many times it was. */
async function glusterOnNode(args: string[]): Promise<number> {
  for (let busy = 0; ; busy += 1) {
    try {
      await onNode(gluster(...args));
      return busy;
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string; message?: string };
      const text = `${failure.stderr ?? ''}${failure.stdout ?? ''}`.trim() || String(failure.message);
      if (classifyFailure(text).reason !== 'lock-busy' || busy >= 1200) throw new Error(`gluster ${args.join(' ')} on node 1 failed (lock busy ${busy} times before): ${text}`);
      await sleep(50 + Math.random() * 100);
    }
  }
}

/** The lock baseline's volumes not removed yet. */
const rawVolumes = new Set<string>();

async function createAndStart(name: string): Promise<number> {
  rawVolumes.add(name);
  const bricks = nodes.map((node) => `${node}:${brickRoot}/${name.slice(glusterPrefix.length)}`);
  const busy = await glusterOnNode(['volume', 'create', name, 'replica', '3', ...bricks, 'force']);
  return busy + (await glusterOnNode(['volume', 'start', name]));
}

/** Untimed; tolerates a volume never created. */
async function removeRaw(names: string[]): Promise<void> {
  for (const name of names) {
    rawVolumes.delete(name);
    await glusterOnNode(['volume', 'stop', name, 'force']).catch(() => undefined);
    await glusterOnNode(['volume', 'delete', name]).catch((error: unknown) => say(`lock baseline: could not delete ${name}: ${error instanceof Error ? error.message : String(error)}`));
  }
}

async function lockBaseline() {
  const sequentialNames = Array.from({ length: LOCK_K }, (_, i) => `${glusterPrefix}lock-seq-${i}`);
  const concurrentNames = Array.from({ length: LOCK_K }, (_, i) => `${glusterPrefix}lock-par-${i}`);
  try {
    let sequentialBusy = 0;
    let started = performance.now();
    for (const name of sequentialNames) sequentialBusy += await createAndStart(name);
    const sequentialMs = performance.now() - started;
    await removeRaw(sequentialNames);
    started = performance.now();
    // allSettled: the clean-up below must not start while some of them are still running.
    const outcomes = await Promise.allSettled(concurrentNames.map(createAndStart));
    const concurrentMs = performance.now() - started;
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    const concurrentBusy = outcomes.reduce((sum, outcome) => sum + (outcome.status === 'fulfilled' ? outcome.value : 0), 0);
    say(`lock baseline: ${LOCK_K} × gluster volume create+start one after another ${round(sequentialMs)} ms, all at once ${round(concurrentMs)} ms`);
    return {
      volumes: LOCK_K,
      operation: 'gluster volume create (replica 3) + volume start, on node 1 itself',
      sequential_ms: round(sequentialMs),
      concurrent_ms: round(concurrentMs),
      lock_serialisation: Math.round((concurrentMs / sequentialMs) * 100) / 100,
      lock_busy_retries_sequential: sequentialBusy,
      lock_busy_retries_concurrent: concurrentBusy,
    };
  } finally {
    await removeRaw([...rawVolumes]);
  }
}

// --- claims -------------------------------------------------------------------------------------------------

interface Burst {
  allBoundMs: number;
  createMs: number;
  latencies: number[];
  /** The PVs the claims were bound to, to see them gone. */
  pvs: Set<string>;
}

/** `names` created at once (one create call each) → all Bound, seen by one LIST of the namespace's claims every 250 ms. */
async function burst(label: string, names: string[]): Promise<Burst> {
  const wanted = new Set(names);
  const createdAt = new Map<string, number>();
  const boundAt = new Map<string, number>();
  const pvs = new Set<string>();
  const failures: string[] = [];
  const started = performance.now();
  let createMs = 0;
  // The LIST loop runs while the creates are still answered, so an early claim's Bound is not seen late.
  const creating = Promise.all(
    names.map(async (name) => {
      try {
        await core.createNamespacedPersistentVolumeClaim({ namespace, body: claim(bench, name) });
        createdAt.set(name, performance.now());
      } catch (error) {
        failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
  ).then(() => {
    createMs = performance.now() - started;
    say(`${label}: ${createdAt.size}/${names.length} claims created in ${round(createMs)} ms`);
  });
  let progressAt = started;
  await eventually(
    `${label}: ${names.length} claims Bound`,
    async () => {
      if (failures.length > 0) giveUp(`${failures.length} claim(s) could not be created`, failures.slice(0, 5));
      const list = await core.listNamespacedPersistentVolumeClaim({ namespace });
      const now = performance.now();
      const phases: Record<string, number> = {};
      for (const item of list.items) {
        const name = item.metadata!.name!;
        if (!wanted.has(name)) continue;
        const phase = item.status?.phase ?? 'none';
        phases[phase] = (phases[phase] ?? 0) + 1;
        if (item.spec?.volumeName) pvs.add(item.spec.volumeName);
        if (phase === 'Bound' && !boundAt.has(name) && createdAt.has(name)) boundAt.set(name, now);
      }
      if (now - progressAt >= PROGRESS_MS) {
        progressAt = now;
        say(`${label}: ${boundAt.size}/${names.length} Bound after ${since(started)}`);
      }
      if (boundAt.size === names.length) return true;
      const waiting = names.filter((name) => !boundAt.has(name));
      return notYet({ bound: boundAt.size, of: names.length, created: createdAt.size, listed: phases, waiting: waiting.slice(0, 10).map((name) => `${name}=${list.items.find((c) => c.metadata?.name === name)?.status?.phase ?? 'absent'}`) });
    },
    { timeoutMs, intervalMs: 250 },
  );
  await creating;
  const allBoundMs = Math.max(...boundAt.values()) - started;
  say(`${label}: ${names.length} claims Bound in ${round(allBoundMs)} ms`);
  return { allBoundMs, createMs, latencies: names.map((name) => boundAt.get(name)! - createdAt.get(name)!), pvs };
}

/** What is left of the bench's claims in Kubernetes: claims, their PVs, GlusterVolumes. */
async function remaining(pvNames: Set<string>) {
  const [pvcs, pvs, volumes] = await Promise.all([
    core.listNamespacedPersistentVolumeClaim({ namespace }),
    core.listPersistentVolume(),
    custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: 'glustervolumes' }) as Promise<{ items?: Array<{ metadata?: { name?: string } }> }>,
  ]);
  const benchPvs = pvs.items.filter((pv) => pvNames.has(pv.metadata!.name!) || pv.spec?.claimRef?.namespace === namespace);
  const names = (items: Array<{ metadata?: { name?: string } }>) => items.slice(0, 5).map((item) => item.metadata?.name);
  const glusterVolumes = volumes.items ?? [];
  return {
    pvcs: pvcs.items.length,
    pvs: benchPvs.length,
    glustervolumes: glusterVolumes.length,
    examples: { pvcs: names(pvcs.items), pvs: names(benchPvs), glustervolumes: names(glusterVolumes) },
  };
}

/** One delete call for all the namespace's claims → until their PVCs, PVs and GlusterVolumes are gone. */
async function deleteAll(label: string, pvNames: Set<string>): Promise<number> {
  const started = performance.now();
  await core.deleteCollectionNamespacedPersistentVolumeClaim({ namespace });
  let progressAt = started;
  await eventually(
    `${label}: PVCs, PVs and GlusterVolumes gone`,
    async () => {
      const left = await remaining(pvNames);
      if (performance.now() - progressAt >= PROGRESS_MS) {
        progressAt = performance.now();
        say(`${label}: deleting, after ${since(started)} left ${left.pvcs} PVCs, ${left.pvs} PVs, ${left.glustervolumes} GlusterVolumes`);
      }
      return left.pvcs + left.pvs + left.glustervolumes === 0 ? true : notYet(left);
    },
    { timeoutMs, intervalMs: 250 },
  );
  const elapsed = performance.now() - started;
  say(`${label}: all gone ${round(elapsed)} ms after the delete call`);
  return elapsed;
}

async function benchGlusterVolumes(): Promise<string[]> {
  return (await onNode(gluster('volume', 'list'))).split('\n').filter((name) => name.startsWith(glusterPrefix));
}

async function brickMultiplex(): Promise<string> {
  try {
    const line = (await onNode(gluster('volume', 'get', 'all', 'cluster.brick-multiplex'))).split('\n').find((l) => l.trim().startsWith('cluster.brick-multiplex'));
    return line?.trim().split(/\s+/)[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** glusterfsd processes beyond `before`, once they have had up to a minute to exit. */
async function extraBrickProcesses(before: number): Promise<number> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const extra = brickProcesses().length - before;
    if (extra <= 0 || performance.now() >= deadline) return Math.max(0, extra);
    await sleep(1000);
  }
}

async function main(): Promise<void> {
  process.chdir(REPO_ROOT);
  say(`volume mode, ${claims} claims (replica 3) on ${nodes.join(' ')}, namespace ${namespace}, each wait up to ${round(timeoutMs / 1000)} s`);
  const operator = await setUpBench(bench, { volumenameprefix: VOLUME_PREFIX });
  const rss = sampleRss(operator.pid);
  let result: Record<string, unknown>;
  try {
    const before = glusterProcesses();
    const multiplex = await brickMultiplex();
    const lock = await lockBaseline();

    const warm = await burst('warm-up', Array.from({ length: WARMUP }, (_, i) => `warm-${i}`));
    const warmDeleteMs = await deleteAll('warm-up', warm.pvs);

    const scale = await burst('scale', Array.from({ length: claims }, (_, i) => `scale-${i}`));
    const atBound = byNode(glusterProcesses());
    const operatorAtBoundKib = rss.state.lastKib;
    say(`scale: glusterfsd at all Bound: ${JSON.stringify(atBound)}`);
    const deleteMs = await deleteAll('scale', scale.pvs);

    const leftVolumes = await benchGlusterVolumes();
    const leftKube = await remaining(new Set([...warm.pvs, ...scale.pvs]));
    const leftBricks = await extraBrickProcesses(before.filter((p) => p.kind === 'brick').length);
    rss.stop();

    // Unattributed processes count as a node of their own: a failed attribution can only make the goal harder.
    const brickRssMax = Math.max(...Object.values(atBound).map((n) => n.rss_mib));
    const operatorMax = rss.state.maxKib === undefined ? null : mib(rss.state.maxKib);
    const perClaim = scale.allBoundMs / claims;
    const warmPerClaim = warm.allBoundMs / WARMUP;
    const nothingLeft = leftVolumes.length + leftKube.pvcs + leftKube.pvs + leftKube.glustervolumes + leftBricks === 0;
    result = {
      mode,
      claims,
      volume_type: 'replicate:3',
      brick_backend: 'Directory',
      brick_multiplex: multiplex,
      create_calls_ms: round(scale.createMs),
      all_bound_ms: round(scale.allBoundMs),
      bound_latency_ms_p50: round(percentile(scale.latencies, 50)!),
      bound_latency_ms_p99: round(percentile(scale.latencies, 99)!),
      bound_latency_ms_max: round(Math.max(...scale.latencies)),
      delete_to_gone_ms: round(deleteMs),
      operator_rss_max_mib: operatorMax,
      operator_rss_final_mib: rss.state.lastKib === undefined ? null : mib(rss.state.lastKib),
      operator_rss_at_all_bound_mib: operatorAtBoundKib === undefined ? null : mib(operatorAtBoundKib),
      operator_rss_samples: rss.state.samples,
      glusterfsd_before: byNode(before),
      glusterfsd_at_all_bound: atBound,
      brick_rss_per_node_max_mib: brickRssMax,
      left_after_delete: {
        gluster_volumes: leftVolumes.length,
        gluster_volume_names: leftVolumes.slice(0, 10),
        glustervolumes: leftKube.glustervolumes,
        pvs: leftKube.pvs,
        pvcs: leftKube.pvcs,
        glusterfsd_beyond_before: leftBricks,
      },
      lock_serialisation: lock.lock_serialisation,
      lock_baseline: lock,
      baseline: {
        warmup_claims: WARMUP,
        warmup_all_bound_ms: round(warm.allBoundMs),
        warmup_delete_to_gone_ms: round(warmDeleteMs),
        warmup_per_claim_ms: round(warmPerClaim),
        per_claim_ms: round(perClaim),
        ratio: Math.round((perClaim / warmPerClaim) * 100) / 100,
      },
      goals: {
        volumes_300_brick_rss_per_node_le_1024_mib: claims >= 300 && brickRssMax <= BRICK_RSS_PER_NODE_MIB,
        brick_rss_per_node_le_1024_mib: brickRssMax <= BRICK_RSS_PER_NODE_MIB,
        operator_rss_under_300_mib_throughout: operatorMax !== null && operatorMax < OPERATOR_RSS_MIB,
        nothing_left_after_delete: nothingLeft,
      },
    };
  } finally {
    rss.stop();
    await tearDownBench(bench, timeoutMs);
    // Only after a failed run is there anything here: Gluster volumes the operator did not remove.
    await removeLeftoverVolumes(nodes.slice(0, 1), glusterPrefix).catch((error: unknown) => say(`clean-up: ${error instanceof Error ? error.message : String(error)}`));
  }
  // Last, after the clean-up, so it is the last line.
  console.log(JSON.stringify(result));
}

await main();
