import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCsiPackage } from '../../src/csi/server.ts';
import { eventually, notYet } from './eventually.ts';
import { REPO_ROOT } from './paths.ts';

/**
 * The CSI node plugin as its own process on a unix socket, called as kubelet calls it. Killing it takes its
 * whole process group, like a container stop.
 */
export interface CsiPluginProcess {
  endpoint: string;
  dir: string;
  call<T = Record<string, unknown>>(service: 'Identity' | 'Node', method: string, request: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Where kubelet would ask for a publish: `<kubelet dir>/pods/<pod uid>/volumes/kubernetes.io~csi/<pv>/mount`,
 * the only shape the plugin takes; kubelet makes the parent directory, so this does too.
 */
export function kubeletTargetPath(kubeletDir: string, pod: string, pv: string): string {
  const parent = join(kubeletDir, 'pods', pod, 'volumes', 'kubernetes.io~csi', pv);
  mkdirSync(parent, { recursive: true });
  return join(parent, 'mount');
}

/** `kubeletDir`: the root the plugin confines targets to (default: its own temporary directory, `dir`). */
export async function startCsiPlugin(nodeId: string, options: { kubeletDir?: string } = {}): Promise<CsiPluginProcess> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'csi-plugin-')));
  const endpoint = `unix://${join(dir, 'csi.sock')}`;
  const log = createWriteStream(join(dir, 'plugin.log'));
  await new Promise((resolve) => log.once('open', resolve));
  const child: ChildProcess = spawn(process.execPath, ['src/csi/main.ts', '--endpoint', endpoint, '--node-id', nodeId, '--state-dir', join(dir, 'state'), '--kubelet-dir', options.kubeletDir ?? dir,
    // A host process, not a container: nothing kills its cgroup, so its FUSE clients stay where the test runs.
    '--fuse-isolation', 'none'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', log, log],
    detached: true,
  });
  const csi = loadCsiPackage();
  const clients = { Identity: new csi.Identity(endpoint, grpc.credentials.createInsecure()), Node: new csi.Node(endpoint, grpc.credentials.createInsecure()) };
  const call = <T>(service: 'Identity' | 'Node', method: string, request: unknown): Promise<T> => {
    const client = clients[service] as unknown as Record<string, (r: unknown, o: object, cb: (e: grpc.ServiceError | null, v: T) => void) => void>;
    return new Promise((resolve, reject) => client[method]!.call(client, request, { deadline: Date.now() + 90_000 }, (error, value) => (error ? reject(error) : resolve(value))));
  };
  await eventually(`CSI plugin ready (log: ${join(dir, 'plugin.log')})`, async () => {
    const probe = await call<{ ready: { value: boolean } | null }>('Identity', 'Probe', {});
    return probe?.ready?.value ? true : notYet({ probe, exitCode: child.exitCode, signal: child.signalCode });
  }, { timeoutMs: 30_000, intervalMs: 200 });
  return {
    endpoint,
    dir,
    call,
    stop: async () => {
      clients.Identity.close();
      clients.Node.close();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(-child.pid!, 'SIGKILL');
        await exited;
      }
      log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
