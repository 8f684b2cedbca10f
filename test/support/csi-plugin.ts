import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCsiPackage } from '../../src/csi/server.ts';
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

export async function startCsiPlugin(nodeId: string): Promise<CsiPluginProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'csi-plugin-'));
  const endpoint = `unix://${join(dir, 'csi.sock')}`;
  const log = createWriteStream(join(dir, 'plugin.log'));
  await new Promise((resolve) => log.once('open', resolve));
  const child: ChildProcess = spawn(process.execPath, ['src/csi/main.ts', '--endpoint', endpoint, '--node-id', nodeId, '--state-dir', join(dir, 'state')], {
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
  const deadline = Date.now() + 30_000;
  for (;;) {
    const probe = await call<{ ready: { value: boolean } | null }>('Identity', 'Probe', {}).catch(() => undefined);
    if (probe?.ready?.value) break;
    if (Date.now() > deadline) throw new Error(`CSI plugin not ready (log: ${join(dir, 'plugin.log')})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
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
