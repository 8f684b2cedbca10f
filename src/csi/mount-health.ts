import { spawn } from 'node:child_process';
import { z } from 'zod';

/**
 * Tells a healthy FUSE mount from a broken one with statfs(2), run in a child process.
 *
 * A dead FUSE client answers ENOTCONN at once; a hung one (servers unreachable, client stopped) never answers.
 * statfs from this process would run on one of libuv's four threadpool threads and stay stuck there: four hung
 * mounts and every file operation of the plugin waits, so publishes stall on the whole node. In a child the
 * call costs a process, which is SIGKILLed at the timeout (a FUSE request waits killably), and the answer is
 * "broken" at the timeout whether or not the child has gone yet.
 */
export type MountHealth =
  | { state: 'healthy'; stats: FsStats }
  | { state: 'broken'; reason: string }
  | { state: 'missing' };

export interface FsStats {
  blockSize: bigint;
  blocks: bigint;
  blocksFree: bigint;
  blocksAvailable: bigint;
  files: bigint;
  filesFree: bigint;
}

/** errno codes a dead or disconnected FUSE client produces on any access. */
const BROKEN_CODES: ReadonlySet<string> = new Set(['ENOTCONN', 'ECONNABORTED', 'EIO', 'ESTALE']);

/** The child: statfs of its one argument, one JSON line out. Plain CommonJS for `node -e`; the path is argv, never code. */
export const STATFS_SCRIPT = [
  "const fs = require('node:fs');",
  'let out;',
  'try {',
  '  const s = fs.statfsSync(process.argv[1], { bigint: true });',
  '  out = { ok: true, bsize: String(s.bsize), blocks: String(s.blocks), bfree: String(s.bfree), bavail: String(s.bavail), files: String(s.files), ffree: String(s.ffree) };',
  '} catch (error) {',
  "  out = { ok: false, code: String(error.code ?? ''), message: String(error.message) };",
  '}',
  'process.stdout.write(JSON.stringify(out));',
].join('\n');

const count = z.string().regex(/^\d{1,20}$/).transform(BigInt);
const childAnswerSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), bsize: count, blocks: count, bfree: count, bavail: count, files: count, ffree: count }),
  z.object({ ok: z.literal(false), code: z.string().max(64), message: z.string().max(1000) }),
]);

export interface HealthCheckOptions {
  timeoutMs?: number;
  /** The argv that statfs's the path; tests swap in one that hangs. */
  command?: (path: string) => string[];
}

const statfsCommand = (path: string) => [process.execPath, '-e', STATFS_SCRIPT, path];
const OUTPUT_LIMIT = 4096;

/** One statfs of `path` in a child, answered within timeoutMs. Throws for an errno that says nothing about FUSE. */
export async function checkHealth(path: string, options: HealthCheckOptions = {}): Promise<MountHealth> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const [command, ...args] = (options.command ?? statfsCommand)(path);
  if (!command) throw new Error('empty statfs command');
  const output = await new Promise<string | { timedOut: true }>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'], env: {} });
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (text.length < OUTPUT_LIMIT) text += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      // The answer is given now; a child the kernel cannot kill yet must not keep the plugin's event loop alive.
      child.unref();
      child.stdout.destroy();
      resolve({ timedOut: true });
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`statfs of ${path} in a child process ended with ${signal ?? `exit ${code}`}`));
    });
  });
  if (typeof output !== 'string') return { state: 'broken', reason: `statfs did not answer within ${timeoutMs} ms (the FUSE client or its servers hang)` };
  const answer = childAnswerSchema.parse(JSON.parse(output));
  if (answer.ok) {
    return {
      state: 'healthy',
      stats: { blockSize: answer.bsize, blocks: answer.blocks, blocksFree: answer.bfree, blocksAvailable: answer.bavail, files: answer.files, filesFree: answer.ffree },
    };
  }
  if (answer.code === 'ENOENT') return { state: 'missing' };
  if (BROKEN_CODES.has(answer.code)) return { state: 'broken', reason: answer.message };
  throw new Error(`statfs of ${path}: ${answer.message}`);
}

/**
 * checkHealth with at most one child per path at a time: callers asking about a path already being checked
 * share that answer, so a mount that hangs costs one process however often kubelet asks.
 */
export class MountHealthChecker {
  readonly #options: HealthCheckOptions;
  readonly #inFlight = new Map<string, Promise<MountHealth>>();

  constructor(options: HealthCheckOptions = {}) {
    this.#options = options;
  }

  check(path: string): Promise<MountHealth> {
    const running = this.#inFlight.get(path);
    if (running) return running;
    const check = checkHealth(path, this.#options).finally(() => this.#inFlight.delete(path));
    this.#inFlight.set(path, check);
    return check;
  }
}
