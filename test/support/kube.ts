import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { namespaceGrants } from '../../cdk8s/rbac.ts';
import { REPO_ROOT } from './paths.ts';
import { clusterEnv } from './testbed-env.ts';
import { withPooledConnections } from '../../src/controller/pooled-connections.ts';

const execFileAsync = promisify(execFile);

export function kubeConfig(): k8s.KubeConfig {
  const config = withPooledConnections(new k8s.KubeConfig());
  config.loadFromFile(clusterEnv().KUBECONFIG);
  return config;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the test bed's kubectl (built with the control plane) with argv, never through a shell. */
export async function kubectl(args: string[], options: { allowFailure?: boolean } = {}): Promise<CommandResult> {
  const env = clusterEnv();
  try {
    const { stdout, stderr } = await execFileAsync(join(env.TESTBED_BIN_DIR, 'kubectl'), args, {
      cwd: REPO_ROOT,
      env: { ...process.env, KUBECONFIG: env.KUBECONFIG },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number | string; message?: string; stdout?: string; stderr?: string };
    // A string code (ENOENT) means kubectl never ran: report that, not an empty stderr.
    const stderr = failure.stderr || failure.message || '';
    const result = { code: typeof failure.code === 'number' ? failure.code : 1, stdout: failure.stdout ?? '', stderr };
    if (!options.allowFailure) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result;
  }
}

/** The object a read returns, or undefined when the apiserver says 404; other errors are thrown. */
export { unlessNotFound } from '../../src/controller/api-errors.ts';

/**
 * The live test namespaces where the operator is to serve GlusterClusters: startOperatorProcess passes them
 * as GLUSTER_NAMESPACES, next to the operator's own.
 */
const servedNamespaces = new Set<string>();

export function servedTestNamespaces(): string[] {
  return [...servedNamespaces];
}

/**
 * Lets the operator serve GlusterClusters in `namespace` as an install that lists it does: the shipped
 * Role and RoleBinding (cdk8s/rbac.ts namespaceGrants, nothing more) and, for the operator processes started
 * after this, GLUSTER_NAMESPACES.
 */
export async function serveTestNamespace(namespace: string): Promise<void> {
  const rbac = kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
  const [role, binding] = namespaceGrants(namespace);
  await rbac.createNamespacedRole({ namespace, body: role as k8s.V1Role });
  await rbac.createNamespacedRoleBinding({ namespace, body: binding as k8s.V1RoleBinding });
  servedNamespaces.add(namespace);
}

/**
 * A namespace of its own for one suite; `remove` deletes it and waits, so nothing outlives the suite. The
 * operator serves GlusterClusters in it (serveTestNamespace) unless `servesGlusterClusters` is false: every
 * suite that creates one does so in a namespace of its own, and runs with exactly the shipped RBAC.
 */
export async function createTestNamespace(prefix: string, options: { servesGlusterClusters?: boolean } = {}): Promise<{ name: string; remove: () => Promise<void> }> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'gluster-operator.dev/test': 'true' } } } });
  if (options.servesGlusterClusters ?? true) await serveTestNamespace(name);
  return {
    name,
    remove: async () => {
      servedNamespaces.delete(name);
      await kubectl(['delete', 'namespace', name, '--ignore-not-found', '--wait=true', '--timeout=120s']);
    },
  };
}

/** The polling helper lives in eventually.ts; re-exported for suites that still import it from here. */
export { eventually, notYet } from './eventually.ts';

/**
 * What an operator process run from the tests needs installed: the CRDs and the operator's namespace,
 * ServiceAccount and RBAC, exactly as shipped. Not the operator Deployment nor the CSI DaemonSet
 * (manifests/20-*, 30-*): on the test bed's real nodes they would run, and an in-cluster operator would win
 * the leader election against the process and serve only its own namespace.
 */
export const SHARED_MANIFESTS = ['crds/', 'manifests/00-namespace.yaml', 'manifests/10-rbac.yaml'];

/**
 * SHARED_MANIFESTS applied and the CRDs Established. Returns whether the CRDs were installed here: when they
 * were already there (a developer's long-running test bed shared by several runs), they are left for whoever
 * installed them (removeSharedManifests is then not called).
 */
export async function installSharedManifests(): Promise<boolean> {
  const before = await kubectl(['get', '-f', 'crds/', '-o', 'name'], { allowFailure: true });
  await kubectl(['apply', ...SHARED_MANIFESTS.flatMap((path) => ['-f', path])]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', 'crds/']);
  return before.code !== 0;
}

/** Everything of crds/ and manifests/ gone again, the CRDs' objects with them. */
export async function removeSharedManifests(options: { allowFailure?: boolean } = {}): Promise<void> {
  await kubectl(['delete', '--ignore-not-found', '--wait=true', '--timeout=150s', '-f', 'manifests/', '-f', 'crds/'], options);
}
