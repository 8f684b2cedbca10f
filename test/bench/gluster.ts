/**
 * `npm run bench:gluster`: what the SSH transport costs on top of gluster itself. In one run, `gluster volume
 * create` + `volume start` is timed N times through SshTransport and N times as the raw CLI run on the node
 * itself (nsenter into the node's namespaces: no transport at all), interleaved (ABBA) so drift hits both.
 * Each volume is stopped, deleted and its brick removed after its run (untimed).
 *
 * Prints human-readable lines, then ONE JSON object as the last line:
 *   {"transport_ms_median", "raw_ms_median", "ratio" (transport/raw), "runs", ...}
 * Needs a running test bed (.testbed/env); it never starts or stops one.
 *
 * Knobs: BENCH_RUNS (default 10 each), BENCH_NODE (1-based test-bed node, default 1).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NodeTarget, RunResult } from '../../src/gluster/transport.ts';
import { MemoryHostKeyStore } from '../../src/transport/host-key-store.ts';
import { SshTransport } from '../../src/transport/ssh.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { loadTestbedEnvFile } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);
const ENV_FILE = join(REPO_ROOT, '.testbed', 'env');

function fail(message: string): never {
  console.error(`bench:gluster: ${message}`);
  process.exit(1);
}

function loadTestbedEnv(): Record<string, string> {
  return loadTestbedEnvFile('bench:gluster');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function main(): Promise<void> {
  const env = loadTestbedEnv();
  const runs = Number(process.env.BENCH_RUNS ?? 10);
  if (!Number.isInteger(runs) || runs < 1) fail(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);
  const index = Number(process.env.BENCH_NODE ?? 1);
  const addresses = (env.TESTBED_NODES ?? '').split(/\s+/).filter(Boolean);
  const namespaces = (env.TESTBED_NETNS ?? '').split(/\s+/).filter(Boolean);
  const address = addresses[index - 1];
  const netns = namespaces[index - 1];
  if (!address || !netns || !env.TESTBED_SSH_KEY) fail(`${ENV_FILE} lacks node ${index} (TESTBED_NODES, TESTBED_NETNS, TESTBED_SSH_KEY)`);
  const brickRoot = env.TESTBED_BRICK_ROOT ?? '/bricks';
  const node: NodeTarget = { name: netns, manageAddress: address };

  // The node's namespaces are those of its glusterd; nsenter into them is the "no transport" baseline.
  const pidFile = join(REPO_ROOT, '.testbed', 'nodes', netns, 'run', 'glusterd.pid');
  const glusterdPid = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
  if (!/^\d+$/.test(glusterdPid) || !existsSync(`/proc/${glusterdPid}`)) fail(`glusterd of ${netns} is not running (${pidFile})`);
  const raw = async (argv: string[]): Promise<RunResult> => {
    try {
      const { stdout, stderr } = await execFileAsync('nsenter', ['--target', glusterdPid, '--mount', '--net', '--uts', '--', ...argv]);
      return { exitCode: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: unknown; stdout?: string; stderr?: string };
      if (typeof e.code !== 'number') throw error;
      return { exitCode: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  const transport = new SshTransport({
    access: { privateKey: readFileSync(env.TESTBED_SSH_KEY), user: env.TESTBED_SSH_USER ?? 'root', port: Number(env.TESTBED_SSH_PORT ?? 22) },
    hostKeys: new MemoryHostKeyStore(),
  });
  const viaSsh = (argv: string[]) => transport.run(node, argv, { timeoutMs: 120_000 });
  const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];

  // glusterd takes a cluster-wide lock; another user of the shared test bed can hold it for a moment.
  // Such a run is retried (and its time discarded), for both sides alike.
  const locked = (result: RunResult) => /Another transaction is in progress|Locking failed|lock/i.test(result.stdout + result.stderr);

  type Runner = (argv: string[]) => Promise<RunResult>;
  const created: string[] = [];

  async function createAndStart(run: Runner, label: string): Promise<number> {
    const began = performance.now();
    let last = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      const volume = `bench-${label}-${randomBytes(4).toString('hex')}`;
      created.push(volume);
      const started = performance.now();
      const create = await run(gluster('volume', 'create', volume, `${address}:${brickRoot}/${volume}`, 'force'));
      const start = create.exitCode === 0 ? await run(gluster('volume', 'start', volume)) : create;
      const elapsed = performance.now() - started;
      await cleanup(volume);
      if (create.exitCode === 0 && start.exitCode === 0) return elapsed;
      if (!locked(create) && !locked(start)) throw new Error(`${label}: ${volume}: ${create.stderr || create.stdout} ${start.stderr || start.stdout}`);
      last = `${volume}: create exit ${create.exitCode}: ${(create.stderr || create.stdout).trim()}; start exit ${start.exitCode}: ${(start.stderr || start.stdout).trim()}`;
      console.log(`  ${label}: glusterd busy (another transaction), retrying`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`${label}: glusterd stayed busy for 5 attempts in ${((performance.now() - began) / 1000).toFixed(1)} s; last saw ${last}`);
  }

  /** Untimed; always through the raw CLI so cleanup costs never differ between the two sides. */
  async function cleanup(volume: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const info = await raw(gluster('volume', 'info', volume));
      if (info.exitCode !== 0) break; // never created, or deleted
      await raw(gluster('volume', 'stop', volume, 'force'));
      const deleted = await raw(gluster('volume', 'delete', volume));
      if (deleted.exitCode === 0) break;
      if (attempt === 9) {
        console.warn(`  cleanup: ${volume} still there after 10 delete attempts; last saw exit ${deleted.exitCode}: ${(deleted.stderr || deleted.stdout).trim()}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await raw(['rm', '-rf', `${brickRoot}/${volume}`]);
    created.splice(created.indexOf(volume), 1);
  }

  const transportMs: number[] = [];
  const rawMs: number[] = [];
  // A no-op through each path: what one command costs apart from gluster (SSH session + remote login shell).
  const noopTransportMs: number[] = [];
  const noopRawMs: number[] = [];
  const timed = async (run: Runner) => {
    const started = performance.now();
    await run(['true']);
    return performance.now() - started;
  };
  try {
    console.log(`bench:gluster: volume create + start on ${netns} (${address}), ${runs} runs each, interleaved`);
    // The transport's steady state is a pooled connection: open it before timing, as the operator would have.
    const warm = await viaSsh(['true']);
    if (warm.exitCode !== 0) fail(`ssh warm-up failed: ${warm.stderr}`);
    for (let i = 0; i < runs; i++) {
      // ABBA order: neither side always goes first.
      const order: Array<'transport' | 'raw'> = i % 2 === 0 ? ['transport', 'raw'] : ['raw', 'transport'];
      const line: string[] = [];
      for (const side of order) {
        const ms = await createAndStart(side === 'transport' ? viaSsh : raw, side);
        (side === 'transport' ? transportMs : rawMs).push(ms);
        line.push(`${side} ${round(ms)} ms`);
      }
      noopTransportMs.push(await timed(viaSsh));
      noopRawMs.push(await timed(raw));
      console.log(`  run ${i + 1}/${runs}: ${line.join(', ')}`);
    }
  } finally {
    for (const volume of [...created]) await cleanup(volume).catch(() => undefined);
    await transport.close();
  }

  const transportMedian = median(transportMs);
  const rawMedian = median(rawMs);
  const ratio = transportMedian / rawMedian;
  console.log(`transport median ${round(transportMedian)} ms, raw median ${round(rawMedian)} ms, ratio ${ratio.toFixed(3)} (goal <= 1.10)`);
  console.log(
    `a no-op ('true') costs ${round(median(noopTransportMs))} ms through the transport and ${round(median(noopRawMs))} ms raw ` +
      '(per command: SSH channel + the remote login shell, including whatever its rc files run)',
  );
  console.log(
    JSON.stringify({
      transport_ms_median: round(transportMedian),
      raw_ms_median: round(rawMedian),
      ratio: Math.round(ratio * 1000) / 1000,
      runs,
      noop_transport_ms_median: round(median(noopTransportMs)),
      noop_raw_ms_median: round(median(noopRawMs)),
      node: address,
      operation: 'gluster volume create (1 brick) + volume start',
      transport_ms: transportMs.map(round),
      raw_ms: rawMs.map(round),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(`bench:gluster: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
