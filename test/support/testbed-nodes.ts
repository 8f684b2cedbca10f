import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, notYet } from './eventually.ts';
import { REPO_ROOT } from './paths.ts';

/**
 * Disrupting and restoring one test-bed node's daemons, exactly as hack/testbed starts them. Tests that
 * stop a daemon restore it in an after hook, also when they fail.
 */
const execFileAsync = promisify(execFile);

export function nodeDir(index: number): string {
  return join(REPO_ROOT, '.testbed', 'nodes', `gl${index}`);
}

/** Runs argv inside node `index`'s network and mount namespaces. */
export async function nodeExec(index: number, argv: string[]): Promise<string> {
  const { stdout } = await execFileAsync(join(REPO_ROOT, 'hack', 'testbed'), ['exec', String(index), '--', ...argv]);
  return stdout;
}

/** The live pid in a pid file; zombies count as dead (this sandbox's PID 1 does not reap orphans). */
export function pidFromFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2];
    return state && state !== 'Z' ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function waitGone(pid: number): Promise<void> {
  await eventually(`pid ${pid} to exit`, async () => {
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2];
      return state === 'Z' ? true : notYet(`process state ${state}`);
    } catch {
      return true;
    }
  });
}

const DAEMONS = {
  glusterd: { port: 24007, start: () => ['glusterd', '--pid-file=/run/glusterd.pid', '--log-file=/var/log/glusterfs/glusterd.log'] },
  sshd: { port: 22, start: (index: number) => ['/usr/sbin/sshd', '-f', join(nodeDir(index), 'sshd_config'), '-E', '/var/log/glusterfs/sshd.log'] },
} as const;
export type NodeDaemon = keyof typeof DAEMONS;

/** Stops one daemon of a node; the other must keep running, since re-entering the node needs a live pid. */
export async function stopDaemon(index: number, daemon: NodeDaemon): Promise<void> {
  const other: NodeDaemon = daemon === 'glusterd' ? 'sshd' : 'glusterd';
  const pid = pidFromFile(join(nodeDir(index), 'run', `${daemon}.pid`));
  if (!pid) throw new Error(`${daemon} of node ${index} is not running`);
  if (!pidFromFile(join(nodeDir(index), 'run', `${other}.pid`))) throw new Error(`${other} of node ${index} must run to re-enter the node`);
  process.kill(pid, 'SIGTERM');
  await waitGone(pid);
}

/** Starts the daemon again if it is not running, and waits until it listens. */
export async function ensureDaemon(index: number, daemon: NodeDaemon): Promise<void> {
  if (pidFromFile(join(nodeDir(index), 'run', `${daemon}.pid`))) return;
  await nodeExec(index, [...DAEMONS[daemon].start(index)]);
  await eventually(`${daemon} of node ${index} to listen`, async () => {
    const listening = (await nodeExec(index, ['ss', '-Htln', `( sport = :${DAEMONS[daemon].port} )`])).trim();
    return listening ? true : notYet(`no listener on port ${DAEMONS[daemon].port} (${pidFromFile(join(nodeDir(index), 'run', `${daemon}.pid`)) ? 'process running' : 'no live pid'})`);
  });
}

/**
 * Makes a node unreachable over SSH for everyone, including clients with a pooled connection: stops the
 * listening sshd and the session processes it forked (a stopped listener alone leaves live sessions).
 */
export async function cutOffSsh(index: number): Promise<void> {
  const listener = pidFromFile(join(nodeDir(index), 'run', 'sshd.pid'));
  if (!listener) throw new Error(`sshd of node ${index} is not running`);
  const { stdout } = await execFileAsync('pgrep', ['-P', String(listener)]).catch(() => ({ stdout: '' }));
  await stopDaemon(index, 'sshd');
  for (const pid of stdout.split('\n').filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
