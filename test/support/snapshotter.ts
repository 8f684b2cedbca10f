import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl } from './kube.ts';

/**
 * Kubernetes' own snapshot machinery beside an operator process: the snapshot CRDs, snapshot-controller (turns
 * VolumeSnapshots into VolumeSnapshotContents) and the csi-snapshotter sidecar, which calls the operator's CSI
 * Controller socket, as in a cluster where both run (hack/build-snapshotter builds them from the Go module
 * proxy; `hack/testbed up --vm-nodes` names their directory in TESTBED_SNAPSHOTTER_DIR). Both run with the test
 * bed's admin kubeconfig: their RBAC is the distribution's, not ours.
 */
export interface SnapshotComponents {
  logs: string[];
  stop(): Promise<void>;
}

export function snapshotterDir(): string {
  const dir = process.env.TESTBED_SNAPSHOTTER_DIR;
  if (!dir || !existsSync(join(dir, 'csi-snapshotter'))) {
    throw new Error('no snapshot components (TESTBED_SNAPSHOTTER_DIR): run `npm test`, or `hack/testbed up --vm-nodes 1 && . .testbed/env` before mocha');
  }
  return dir;
}

export async function installSnapshotCrds(): Promise<void> {
  await kubectl(['apply', '--server-side', '-f', join(snapshotterDir(), 'crds')]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(snapshotterDir(), 'crds')]);
}

/** After the suite's VolumeSnapshots are gone: the CRDs go too, so the next suite starts from a bare cluster. */
export async function removeSnapshotCrds(): Promise<void> {
  await kubectl(['delete', '--ignore-not-found', '--wait=true', '--timeout=60s', '-f', join(snapshotterDir(), 'crds')], { allowFailure: true });
}

/**
 * The components as host processes: snapshot-controller, and (given the operator's CSI socket) the
 * csi-snapshotter sidecar. Without a socket only the controller runs: the shipped operator's pods bring
 * their own sidecar.
 */
export async function startSnapshotComponents(csiSocket: string | undefined, logDir?: string): Promise<SnapshotComponents> {
  const dir = snapshotterDir();
  const kubeconfig = process.env.KUBECONFIG!;
  // The operator's log directory, which no operator process may have made yet (the in-cluster suite runs none).
  if (logDir) mkdirSync(logDir, { recursive: true });
  const logs: string[] = [];
  const children: ChildProcess[] = [];
  const start = (name: string, args: string[]) => {
    const child = spawn(join(dir, name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const file = logDir ? createWriteStream(join(logDir, `${name}.log`), { flags: 'a' }) : undefined;
    const collect = (chunk: Buffer) => {
      file?.write(chunk);
      logs.push(...chunk.toString().split('\n').filter(Boolean).map((line) => `${name}: ${line}`));
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    children.push(child);
  };
  start('snapshot-controller', [`--kubeconfig=${kubeconfig}`, '--leader-election=false', '--v=3']);
  if (csiSocket !== undefined) start('csi-snapshotter', [`--csi-address=${csiSocket}`, `--kubeconfig=${kubeconfig}`, '--leader-election=false', '--timeout=120s', '--v=3']);
  return {
    logs,
    stop: async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.on('exit', () => resolve());
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
            }),
        ),
      );
    },
  };
}
