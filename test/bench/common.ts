/**
 * What the benchmarks that run the operator process on the test bed share (bench:provision, bench:scale):
 * the bench's namespace, StorageClass and brick root, the gluster CLI run on a node itself, claims, and the
 * set-up and clean-up around a run. Needs a running test bed (`hack/testbed up`); it never starts or stops one.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { DRIVER_NAME } from '../../src/api/index.ts';
import { DEFAULT_RESYNC_SECONDS } from '../../src/operator/config.ts';
import { importTopology, testbedHeketiTopology } from '../support/demo-topology.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { installSharedManifests, kubeConfig, kubectl, serveTestNamespace } from '../support/kube.ts';
import { releaseSharedVolumes } from '../support/shared-volumes.ts';
import { killAllOperators, removeOperatorKubeconfig, startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { nodeDir } from '../support/testbed-nodes.ts';
import { loadTestbedEnvFile } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
export const round = (ms: number) => Math.round(ms);

export interface Bench {
  env: Record<string, string>;
  /** The addresses of the three Gluster nodes the bench's volumes are on. */
  nodes: string[];
  namespace: string;
  brickRoot: string;
  storageClass: string;
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  /** For the temporary directory's name. */
  tool: string;
}

/** Loads .testbed/env (exits with what to do when the test bed is not up) and names this run's objects. */
export function openBench(tool: string): Bench {
  const env = loadTestbedEnvFile(tool);
  const namespace = `bench-${randomBytes(3).toString('hex')}`;
  const config = kubeConfig();
  return {
    env,
    nodes: env.TESTBED_NODES!.split(/\s+/).filter(Boolean).slice(0, 3),
    namespace,
    brickRoot: `${env.TESTBED_BRICK_ROOT}/${namespace}`,
    storageClass: `bench-${namespace}`,
    config,
    core: config.makeApiClient(k8s.CoreV1Api),
    tool,
  };
}

/** The pid of test-bed node `index`'s glusterd: entering its namespaces enters the node. */
export function glusterdPid(index: number): string {
  return readFileSync(join(nodeDir(index), 'run', 'glusterd.pid'), 'utf8').trim();
}

/** argv on node `index` itself (the gluster CLI, say), entering its namespaces: no transport, no operator. */
export async function onNode(argv: string[], index = 1): Promise<string> {
  const { stdout } = await execFileAsync('nsenter', ['--target', glusterdPid(index), '--mount', '--net', '--uts', '--', ...argv], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

export function claim(bench: Bench, name: string, size = '1Gi'): k8s.V1PersistentVolumeClaim {
  return { metadata: { name }, spec: { storageClassName: bench.storageClass, accessModes: ['ReadWriteMany'], resources: { requests: { storage: size } } } };
}

/** Deletes every claim of the bench and waits until their GlusterVolumes (and the shared volumes of directory claims) are gone too. */
export async function deleteClaims(bench: Bench, timeoutMs = 600_000): Promise<void> {
  await kubectl(['-n', bench.namespace, 'delete', 'pvc', '--all', '--wait=true', `--timeout=${Math.round(timeoutMs / 2000)}s`]);
  await releaseSharedVolumes(bench.namespace, Math.round(timeoutMs / 2000));
  await eventually('provisioned volumes deleted', async () => {
    const { stdout } = await kubectl(['-n', bench.namespace, 'get', 'glustervolumes', '-o', 'name']);
    return stdout.trim() === '' ? true : notYet(stdout.trim().split('\n'));
  }, timeoutMs);
}

/**
 * CRDs and manifests, the namespace served by the operator, the test bed's nodes imported as GlusterCluster
 * `bench` (Directory bricks under the brick root), a replica-3 StorageClass (with `parameters` on top) and the
 * operator process, waited for until the cluster is Ready.
 */
export async function setUpBench(bench: Bench, parameters: Record<string, string> = {}): Promise<OperatorProcess> {
  const { namespace, nodes, brickRoot, env } = bench;
  // Not all of manifests/: an in-cluster operator would take the leadership from the bench's process. Benches
  // leave them installed (they run on a test bed someone else brings down).
  await installSharedManifests();
  await kubectl(['create', 'namespace', namespace]);
  // The operator serves GlusterClusters only where it is granted and told (GLUSTER_NAMESPACES).
  await serveTestNamespace(namespace);
  await kubectl(['-n', namespace, 'create', 'secret', 'generic', 'gluster-ssh', `--from-file=ssh-privatekey=${env.TESTBED_SSH_KEY}`]);
  const dir = mkdtempSync(join(tmpdir(), `${bench.tool.replace(/[^A-Za-z0-9]/g, '-')}-`));
  writeFileSync(
    join(dir, 'topology.yaml'),
    await importTopology(testbedHeketiTopology(nodes, []), ['--cluster', 'bench', '--namespace', namespace, '--brick-backend', 'Directory', '--directory-root', brickRoot]),
  );
  await kubectl(['apply', '-f', join(dir, 'topology.yaml')]);
  rmSync(dir, { recursive: true });
  await bench.config.makeApiClient(k8s.StorageV1Api).createStorageClass({
    body: {
      metadata: { name: bench.storageClass },
      provisioner: DRIVER_NAME,
      parameters: { clusterid: 'bench', clusternamespace: namespace, volumetype: 'replicate:3', ...parameters },
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    },
  });
  const operator = await startBenchOperator('operator-bench', 19700 + Math.floor(Math.random() * 200));
  await kubectl(['-n', namespace, 'wait', '--for=condition=Ready', '--timeout=180s', 'glustercluster/bench']);
  return operator;
}

/** The operator as benches run it, serving health and /metrics on `healthPort` (loopback). */
export function startBenchOperator(identity: string, healthPort: number, env: Record<string, string> = {}): Promise<OperatorProcess> {
  // Production's resync, not the suites' 5 s: at a thousand objects a 5 s resync is all the operator would do.
  return startOperatorProcess(identity, healthPort, { RESYNC_SECONDS: String(DEFAULT_RESYNC_SECONDS), ...env });
}

/** Everything setUpBench made, also after a failed run; `timeoutMs` bounds the wait for the claims' deletion. */
export async function tearDownBench(bench: Bench, timeoutMs?: number): Promise<void> {
  const { namespace } = bench;
  await deleteClaims(bench, timeoutMs).catch(() => undefined);
  await kubectl(['-n', namespace, 'delete', 'glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
  await killAllOperators();
  removeOperatorKubeconfig();
  await kubectl(['delete', 'storageclass', bench.storageClass, '--ignore-not-found'], { allowFailure: true });
  await kubectl(['delete', 'namespace', namespace, '--wait=true', '--timeout=120s'], { allowFailure: true });
  await kubectl(['-n', 'gluster-operator', 'delete', 'secrets', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
  await kubectl(['-n', 'gluster-operator', 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
  for (let i = 1; i <= bench.nodes.length; i += 1) {
    await execFileAsync('nsenter', ['--target', glusterdPid(i), '--mount', '--', 'rm', '-rf', bench.brickRoot]).catch(() => undefined);
  }
}
