import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedMountArgv, type FuseIsolation } from './fuse-isolation.ts';

/**
 * Runs mount and umount (mount-health.ts tells a healthy FUSE mount from a broken one).
 *
 * The FUSE client (the `glusterfs` process mount.glusterfs starts) serves the mount for as long as it lives.
 * If it died with the plugin, every pod's volume on the node would fail with "Transport endpoint is not
 * connected" after a plugin restart (kadalu's best-known bug). So:
 *  - mount runs in its own session (`detached`), with stdio on a file rather than pipes to this process: no
 *    signal to the plugin's process group reaches it, and glusterfs (which daemonizes) never holds a pipe whose
 *    reader is gone;
 *  - started outside the plugin container's cgroup (see fuse-isolation.ts): in a container, the runtime kills
 *    every process of the container's cgroup when the container stops, detached or not.
 */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

export interface MounterOptions {
  timeoutMs?: number;
  /** Decided at start-up (decideFuseIsolation); none when not given. */
  isolation?: FuseIsolation;
}

/** Runs argv detached from this process: own session, output to a file, killed (its group) on timeout. */
export async function runDetached(argv: readonly string[], timeoutMs: number): Promise<CommandResult> {
  const [command, ...args] = argv;
  if (!command) throw new Error('empty argv');
  const dir = await mkdtemp(join(tmpdir(), 'gluster-csi-'));
  const outputPath = join(dir, 'output');
  const output = await open(outputPath, 'w');
  try {
    const result = await new Promise<Omit<CommandResult, 'output'>>((resolve, reject) => {
      const child = spawn(command, args, { detached: true, stdio: ['ignore', output.fd, output.fd] });
      const timer = setTimeout(() => {
        // Only the group we created: mount and mount.glusterfs. glusterfs itself daemonizes into its own session.
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }, timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      // 'exit', not 'close': no pipes to wait for.
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });
    await output.close();
    return { ...result, output: (await readFile(outputPath, 'utf8')).trim() };
  } finally {
    await output.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

export class Mounter {
  readonly timeoutMs: number;
  readonly isolation: FuseIsolation;

  constructor(options: MounterOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.isolation = options.isolation ?? { mode: 'none' };
  }

  /** The argv actually run for a mount argv: wrapped so the FUSE client starts outside this container's cgroup. */
  mountCommand(argv: readonly string[], targetPath: string): string[] {
    return isolatedMountArgv(this.isolation, argv, targetPath);
  }

  async mount(argv: readonly string[], targetPath: string): Promise<void> {
    const result = await runDetached(this.mountCommand(argv, targetPath), this.timeoutMs);
    if (result.code !== 0) {
      throw new Error(`${argv.join(' ')} failed (${result.signal ?? `exit ${result.code}`}): ${result.output || 'no output'}`);
    }
  }

  /** `umount`, or with lazy `umount -l`: detaches a broken mount even while something still holds it. */
  async unmount(targetPath: string, lazy = false): Promise<void> {
    const argv = ['umount', ...(lazy ? ['-l'] : []), targetPath];
    const result = await runDetached(argv, this.timeoutMs);
    if (result.code !== 0) {
      throw new Error(`${argv.join(' ')} failed (${result.signal ?? `exit ${result.code}`}): ${result.output || 'no output'}`);
    }
  }
}
