import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { z } from 'zod';
import { API_GROUP, API_VERSION, glusterVolumeSchema } from '../../src/api/index.ts';
import { M } from '../../src/metrics/names.ts';
import { removeBrickRoot, removeLeftoverVolumes } from '../support/brick-cleanup.ts';
import { applyTestbedTopology } from '../support/demo-topology.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { killAllOperators, removeOperatorKubeconfig, startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { testbedEnv } from '../support/testbed-env.ts';

/**
 * A real Prometheus (Debian's prometheus package, as hack/install-deps installs it) scrapes the operator
 * process's /metrics on its health port; the answers come from Prometheus' own HTTP API: reconciles counted,
 * and the bricks-online gauge of a replica-3 GlusterVolume on the test bed at 3.
 */
const queryResponse = z.object({
  status: z.literal('success'),
  data: z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })) }),
});

describe('metrics: Prometheus scrapes the operator', function () {
  this.timeout(240_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
  const healthPort = 19100 + Math.floor(Math.random() * 50);
  const prometheusPort = 19200 + Math.floor(Math.random() * 50);
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let brickRoot: string;
  let operator: OperatorProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let prometheusDir: string | undefined;
  const prometheusLog: string[] = [];

  /** The instant vector of `expr`, as Prometheus evaluates it now. */
  async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = queryResponse.parse(await response.json());
    return body.data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
  }

  before(async () => {
    namespace = await createTestNamespace('metrics');
    brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    await applyTestbedTopology(namespace.name, nodes, { cluster: 'scraped', backend: 'Directory', directoryRoot: brickRoot, sshKey: env.TESTBED_SSH_KEY });
    operator = await startOperatorProcess('operator-metrics', healthPort);
    await custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: namespace.name,
      plural: 'glustervolumes',
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterVolume', metadata: { name: 'scraped' }, spec: { cluster: 'scraped', size: '1Gi', reclaimPolicy: 'Delete' } },
    });

    prometheusDir = mkdtempSync(join(tmpdir(), 'gluster-metrics-prometheus-'));
    const config = { global: { scrape_interval: '2s', evaluation_interval: '2s' }, scrape_configs: [{ job_name: 'gluster-operator', static_configs: [{ targets: [`127.0.0.1:${healthPort}`] }] }] };
    writeFileSync(join(prometheusDir, 'prometheus.yml'), stringify(config));
    prometheus = spawn('prometheus', [
      `--config.file=${join(prometheusDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(prometheusDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => prometheusLog.push(...chunk.toString().split('\n').filter(Boolean));
    prometheus.stdout!.on('data', collect);
    prometheus.stderr!.on('data', collect);
    await eventually('Prometheus ready', async () => {
      if (prometheus?.exitCode !== null) throw new Error(`prometheus exited ${prometheus?.exitCode}: ${prometheusLog.slice(-5).join(' | ')}`);
      const response = await fetch(`${prometheusUrl}/-/ready`);
      return response.status === 200 ? true : notYet(response.status);
    }, 30_000);
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    if (prometheusDir) rmSync(prometheusDir, { recursive: true, force: true });
    await kubectl(['-n', namespace.name, 'delete', 'glustervolumes', '--all', '--wait=true', '--timeout=120s'], { allowFailure: true });
    await kubectl(['-n', namespace.name, 'delete', 'glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await operator?.stop();
    await killAllOperators();
    await removeLeftoverVolumes(nodes, `${namespace.name}_`);
    await removeBrickRoot(nodes, brickRoot);
    await kubectl(['-n', 'gluster-operator', 'delete', 'secrets', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
    await kubectl(['-n', 'gluster-operator', 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
    await namespace?.remove();
    removeOperatorKubeconfig();
  });

  it('scrapes the operator and counts its reconciles', async () => {
    const up = await eventually('the operator target up', async () => {
      const samples = await query('up{job="gluster-operator"}');
      return samples[0]?.value === 1 ? samples : notYet(samples);
    }, 60_000);
    expect(up).to.have.length(1);
    const reconciles = await eventually('reconciles counted', async () => {
      const samples = await query(`sum by (controller) (${M.reconcileTotal}{job="gluster-operator"})`);
      return samples.some((sample) => sample.metric.controller === 'glustervolume' && sample.value > 0) ? samples : notYet(samples);
    }, 120_000);
    expect(reconciles.map((sample) => sample.metric.controller)).to.include('glustervolume');
    expect((await query(`${M.leader}{job="gluster-operator"}`))[0]?.value).to.equal(1);
  });

  it('reports every brick of a started replica-3 GlusterVolume online', async () => {
    await eventually('GlusterVolume scraped Ready', async () => {
      const found = await unlessNotFound(custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glustervolumes', name: 'scraped' }));
      const volume = found === undefined ? undefined : glusterVolumeSchema.parse(found);
      return volume?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? volume : notYet(volume?.status);
    }, 180_000);
    const labels = `namespace="${namespace.name}",volume="scraped"`;
    const online = await eventually('bricks online in Prometheus', async () => {
      const samples = await query(`${M.volumeBricksOnline}{${labels}}`);
      return samples[0]?.value === 3 ? samples : notYet(samples);
    }, 60_000);
    expect(online).to.have.length(1);
    expect((await query(`${M.volumeBricks}{${labels}}`))[0]?.value).to.equal(3);
    expect((await query(`${M.volumeBricksOffline}{${labels}}`))[0]?.value).to.equal(0);
  });
});
