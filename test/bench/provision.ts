/**
 * `npm run bench:provision`: what dynamic provisioning costs on top of Gluster itself. In one run, against
 * the running test bed and the operator as a process (its own ServiceAccount):
 *   - single: PVC created → PVC Bound, versus the raw Gluster floor: `gluster volume create` (the same
 *     replica-3 layout) + `volume start`, run on the node itself; interleaved, median of BENCH_RUNS (10) each;
 *   - concurrent: 50 PVCs created at once → all Bound, versus 50 times the single floor.
 * The bench cluster uses the Directory brick backend, so brick creation is as cheap as the floor's mkdir and
 * what is measured is the operator, the provisioner and the Kubernetes round trips.
 * Last line: one JSON object with `ratio` (single / floor) and `concurrent_ratio` (concurrent / 50 × floor).
 * Needs a running test bed (`hack/testbed up`); it never starts or stops one.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { DRIVER_NAME } from '../../src/api/index.ts';
import { importTopology, testbedHeketiTopology } from '../support/demo-topology.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { kubeConfig, kubectl, serveTestNamespace } from '../support/kube.ts';
import { killAllOperators, removeOperatorKubeconfig, startOperatorProcess } from '../support/operator-process.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { nodeDir } from '../support/testbed-nodes.ts';
import { loadTestbedEnvFile } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);
const env = loadTestbedEnvFile('bench:provision');
const runs = Number(process.env.BENCH_RUNS ?? 10);
const concurrent = Number(process.env.BENCH_CONCURRENT ?? 50);
const nodes = env.TESTBED_NODES!.split(/\s+/).filter(Boolean).slice(0, 3);
const namespace = `bench-${randomBytes(3).toString('hex')}`;
const brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace}`;
const storageClass = `bench-${namespace}`;
const config = kubeConfig();
const core = config.makeApiClient(k8s.CoreV1Api);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const round = (ms: number) => Math.round(ms);

/** The gluster CLI on node 1 itself, entering its namespaces: no transport, no operator. */
async function onNode(argv: string[]): Promise<void> {
  const pid = readFileSync(join(nodeDir(1), 'run', 'glusterd.pid'), 'utf8').trim();
  await execFileAsync('nsenter', ['--target', pid, '--mount', '--net', '--uts', '--', ...argv]);
}

async function floorOnce(i: number): Promise<number> {
  const name = `${namespace}-raw-${i}`;
  const bricks = nodes.map((node) => `${node}:${brickRoot}/raw-${i}`);
  const started = performance.now();
  await onNode(['gluster', '--mode=script', 'volume', 'create', name, 'replica', '3', ...bricks, 'force']);
  await onNode(['gluster', '--mode=script', 'volume', 'start', name]);
  const elapsed = performance.now() - started;
  await onNode(['gluster', '--mode=script', 'volume', 'stop', name, 'force']);
  await onNode(['gluster', '--mode=script', 'volume', 'delete', name]);
  return elapsed;
}

function claim(name: string): k8s.V1PersistentVolumeClaim {
  return { metadata: { name }, spec: { storageClassName: storageClass, accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } };
}

async function bound(names: string[]): Promise<void> {
  await eventually(`${names.length} claim(s) Bound`, async () => {
    const list = await core.listNamespacedPersistentVolumeClaim({ namespace });
    const phase = new Map(list.items.map((c) => [c.metadata!.name!, c.status?.phase]));
    const waiting = names.filter((name) => phase.get(name) !== 'Bound');
    return waiting.length === 0 ? true : notYet(`${waiting.length} not Bound: ${waiting.slice(0, 10).map((name) => `${name}=${phase.get(name) ?? 'absent'}`).join(' ')}`);
  }, 600_000);
}

async function deleteClaims(): Promise<void> {
  await kubectl(['-n', namespace, 'delete', 'pvc', '--all', '--wait=true', '--timeout=300s']);
  await eventually('provisioned volumes deleted', async () => {
    const { stdout } = await kubectl(['-n', namespace, 'get', 'glustervolumes', '-o', 'name']);
    return stdout.trim() === '' ? true : notYet(stdout.trim().split('\n'));
  }, 600_000);
}

async function provisionOnce(i: number): Promise<number> {
  const name = `single-${i}`;
  const started = performance.now();
  await core.createNamespacedPersistentVolumeClaim({ namespace, body: claim(name) });
  await bound([name]);
  const elapsed = performance.now() - started;
  await deleteClaims();
  return elapsed;
}

async function setUp(): Promise<void> {
  await kubectl(['apply', '-f', 'crds/', '-f', 'manifests/']);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', 'crds/']);
  await kubectl(['create', 'namespace', namespace]);
  // The operator serves GlusterClusters only where it is granted and told (GLUSTER_NAMESPACES).
  await serveTestNamespace(namespace);
  await kubectl(['-n', namespace, 'create', 'secret', 'generic', 'gluster-ssh', `--from-file=ssh-privatekey=${env.TESTBED_SSH_KEY}`]);
  const dir = mkdtempSync(join(tmpdir(), 'bench-provision-'));
  writeFileSync(
    join(dir, 'topology.yaml'),
    await importTopology(testbedHeketiTopology(nodes, []), ['--cluster', 'bench', '--namespace', namespace, '--brick-backend', 'Directory', '--directory-root', brickRoot]),
  );
  await kubectl(['apply', '-f', join(dir, 'topology.yaml')]);
  rmSync(dir, { recursive: true });
  await config.makeApiClient(k8s.StorageV1Api).createStorageClass({
    body: {
      metadata: { name: storageClass },
      provisioner: DRIVER_NAME,
      parameters: { clusterid: 'bench', clusternamespace: namespace, volumetype: 'replicate:3' },
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    },
  });
  await startOperatorProcess('operator-bench', 19700 + Math.floor(Math.random() * 200));
  await kubectl(['-n', namespace, 'wait', '--for=condition=Ready', '--timeout=180s', 'glustercluster/bench']);
}

async function tearDown(): Promise<void> {
  await deleteClaims().catch(() => undefined);
  await kubectl(['-n', namespace, 'delete', 'glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
  await killAllOperators();
  removeOperatorKubeconfig();
  await kubectl(['delete', 'storageclass', storageClass, '--ignore-not-found'], { allowFailure: true });
  await kubectl(['delete', 'namespace', namespace, '--wait=true', '--timeout=120s'], { allowFailure: true });
  await kubectl(['-n', 'gluster-operator', 'delete', 'secrets', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
  await kubectl(['-n', 'gluster-operator', 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
  for (let i = 1; i <= nodes.length; i += 1) {
    const pid = readFileSync(join(nodeDir(i), 'run', 'glusterd.pid'), 'utf8').trim();
    await execFileAsync('nsenter', ['--target', pid, '--mount', '--', 'rm', '-rf', brickRoot]).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  process.chdir(REPO_ROOT);
  await setUp();
  let result: Record<string, unknown>;
  try {
    const floors: number[] = [];
    const singles: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      // ABBA, so drift during the run weighs on both sides alike.
      if (i % 2 === 0) {
        floors.push(await floorOnce(i));
        singles.push(await provisionOnce(i));
      } else {
        singles.push(await provisionOnce(i));
        floors.push(await floorOnce(i));
      }
      console.log(`run ${i + 1}/${runs}: PVC→Bound ${round(singles.at(-1)!)} ms, gluster create+start ${round(floors.at(-1)!)} ms`);
    }
    const names = Array.from({ length: concurrent }, (_, i) => `burst-${i}`);
    const started = performance.now();
    await Promise.all(names.map((name) => core.createNamespacedPersistentVolumeClaim({ namespace, body: claim(name) })));
    await bound(names);
    const burst = performance.now() - started;
    console.log(`${concurrent} PVCs at once → all Bound in ${round(burst)} ms`);
    const floor = median(floors);
    const single = median(singles);
    result = {
      runs,
      single_ms_median: round(single),
      floor_ms_median: round(floor),
      ratio: Math.round((single / floor) * 100) / 100,
      concurrent,
      concurrent_ms: round(burst),
      concurrent_floor_ms: round(concurrent * floor),
      concurrent_ratio: Math.round((burst / (concurrent * floor)) * 100) / 100,
      goals: { ratio: 1.3, concurrent_ratio: 1.2 },
    };
  } finally {
    await tearDown();
  }
  // Last, after the clean-up, so it is the last line.
  console.log(JSON.stringify(result));
}

await main();
