#!/usr/bin/env node
/**
 * Runs the operator as a local process against the current kubeconfig, authenticated as its own
 * ServiceAccount (gluster-operator/gluster-operator from manifests/), so it has exactly the RBAC its pod
 * would have. Used by `npm run demo`; `npm start` runs it with whatever credentials the kubeconfig holds.
 *   node hack/run-operator.ts [--kubeconfig-out FILE]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { writeServiceAccountKubeconfig } from './lib/service-account-kubeconfig.ts';
import { withPooledConnections } from '../src/controller/pooled-connections.ts';

const repo = join(fileURLToPath(import.meta.url), '..', '..');
const admin = withPooledConnections(new k8s.KubeConfig());
admin.loadFromDefault();
const outIndex = process.argv.indexOf('--kubeconfig-out');
const path = outIndex > 0 ? process.argv[outIndex + 1]! : join(repo, '.testbed', 'operator.kubeconfig');
await writeServiceAccountKubeconfig({ admin, namespace: 'gluster-operator', serviceAccount: 'gluster-operator', path, expirationSeconds: 24 * 3600 });
const child = spawn(process.execPath, [join(repo, 'src', 'main.ts')], {
  stdio: 'inherit',
  env: { OPERATOR_NAMESPACE: 'gluster-operator', HEALTH_HOST: '127.0.0.1', ...process.env, KUBECONFIG: path },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
