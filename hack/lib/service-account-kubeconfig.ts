import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as k8s from '@kubernetes/client-node';

/**
 * A kubeconfig that authenticates as a ServiceAccount through a TokenRequest, for running the operator as a
 * local process with exactly the RBAC of manifests/ (what its pod would have) instead of the admin's.
 */
export async function writeServiceAccountKubeconfig(options: {
  admin: k8s.KubeConfig;
  namespace: string;
  serviceAccount: string;
  path: string;
  expirationSeconds?: number;
}): Promise<string> {
  const core = options.admin.makeApiClient(k8s.CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name: options.serviceAccount,
    namespace: options.namespace,
    body: { spec: { audiences: [], expirationSeconds: options.expirationSeconds ?? 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`no token issued for ServiceAccount ${options.namespace}/${options.serviceAccount}`);
  const cluster = options.admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'target',
        cluster: {
          server: cluster.server,
          ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}),
          ...(cluster.caFile ? { 'certificate-authority': cluster.caFile } : {}),
          ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
        },
      },
    ],
    users: [{ name: options.serviceAccount, user: { token } }],
    contexts: [{ name: 'operator', context: { cluster: 'target', user: options.serviceAccount, namespace: options.namespace } }],
    'current-context': 'operator',
  };
  mkdirSync(dirname(options.path), { recursive: true });
  writeFileSync(options.path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return options.path;
}
