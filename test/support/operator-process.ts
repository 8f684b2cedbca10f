import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeServiceAccountKubeconfig } from '../../hack/lib/service-account-kubeconfig.ts';
import { OPERATOR_NODE_OPTIONS } from '../../src/deploy/operator-runtime.ts';
import { kubeConfig, servedTestNamespaces } from './kube.ts';
import { REPO_ROOT } from './paths.ts';

/**
 * The operator as a separate process, authenticated with its own ServiceAccount's token, so it has only
 * the RBAC of manifests/ (the suite fails where that RBAC is not enough) and serving the test namespaces
 * created so far (createTestNamespace; `env` may say otherwise). Short lease and resync times
 * keep failover and failure detection within a test's patience.
 */
export interface OperatorProcess {
  identity: string;
  /** The operator's process id (for reading /proc/<pid>; undefined only if spawning failed). */
  pid: number | undefined;
  logs: string[];
  exited: Promise<number | null>;
  /** SIGTERM and wait (graceful), or SIGKILL (a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

let kubeconfigDir: string | undefined;

export async function operatorKubeconfig(): Promise<string> {
  kubeconfigDir ??= mkdtempSync(join(tmpdir(), 'gluster-operator-sa-'));
  return writeServiceAccountKubeconfig({
    admin: kubeConfig(),
    namespace: 'gluster-operator',
    serviceAccount: 'gluster-operator',
    path: join(kubeconfigDir, 'kubeconfig'),
  });
}

export function removeOperatorKubeconfig(): void {
  if (kubeconfigDir) rmSync(kubeconfigDir, { recursive: true, force: true });
  kubeconfigDir = undefined;
}

const running = new Set<ChildProcess>();

export async function startOperatorProcess(identity: string, healthPort: number, env: Record<string, string> = {}): Promise<OperatorProcess> {
  const kubeconfig = await operatorKubeconfig();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      // As the Deployment runs it, so its memory is measured as it ships.
      // OPERATOR_EXTRA_NODE_OPTIONS adds to them, e.g. `--cpu-prof --cpu-prof-dir=DIR` for a profile of a slow run.
      NODE_OPTIONS: [OPERATOR_NODE_OPTIONS, process.env.OPERATOR_EXTRA_NODE_OPTIONS].filter(Boolean).join(' '),
      KUBECONFIG: kubeconfig,
      OPERATOR_NAMESPACE: 'gluster-operator',
      POD_NAME: identity,
      HEALTH_PORT: String(healthPort),
      HEALTH_HOST: '127.0.0.1',
      LEASE_DURATION_SECONDS: '4',
      RENEW_DEADLINE_SECONDS: '3',
      RETRY_PERIOD_SECONDS: '0.5',
      RESYNC_SECONDS: '5',
      // Where the suites' GlusterClusters are: the test namespaces granted as an install grants its list.
      GLUSTER_NAMESPACES: ['gluster-operator', ...servedTestNamespaces()].join(','),
      // OPERATOR_LOG_LEVEL=debug shows each reconcile with its duration, for reading after a slow run.
      ...(process.env.OPERATOR_LOG_LEVEL ? { LOG_LEVEL: process.env.OPERATOR_LOG_LEVEL } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: string[] = [];
  // OPERATOR_TEST_LOG_DIR keeps each operator's log in a file, for reading after a failed run.
  if (process.env.OPERATOR_TEST_LOG_DIR) mkdirSync(process.env.OPERATOR_TEST_LOG_DIR, { recursive: true });
  const logFile = process.env.OPERATOR_TEST_LOG_DIR ? createWriteStream(join(process.env.OPERATOR_TEST_LOG_DIR, `${identity}.log`), { flags: 'a' }) : undefined;
  // One entry per whole line: a chunk may end inside a line, whose rest comes with the next chunk of that stream.
  const collector = () => {
    let partial = '';
    return (chunk: Buffer) => {
      logFile?.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      logs.push(...lines.filter(Boolean));
    };
  };
  child.stdout!.on('data', collector());
  child.stderr!.on('data', collector());
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    identity,
    pid: child.pid,
    logs,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Kills every operator process a suite started; for after hooks, so none outlives a failed suite. */
export async function killAllOperators(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
