import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { API_GROUP, API_VERSION, glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { parseVolumeStatusXml } from '../../src/gluster/parsers/volume-status.ts';
import { M } from '../../src/metrics/names.ts';
import { applyTestbedTopology } from '../support/demo-topology.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, unlessNotFound } from '../support/kube.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';
import { tearDownOperatorSuite } from '../support/operator-suite.ts';
import { kubectlGluster } from '../support/kubectl-gluster.ts';

/**
 * A real Prometheus (Debian's prometheus package, as hack/install-deps installs it) scrapes the operator
 * process's /metrics on its health port; the answers come from Prometheus' own HTTP API: reconciles counted,
 * and the bricks-online gauge of a replica-3 GlusterVolume on the test bed at 3. Prometheus also loads the shipped
 * alert rules (manifests/monitoring/rules/), and GlusterBrickOffline fires while a brick of that volume is down
 * and is gone once the brick is back, as Prometheus' /api/v1/alerts says.
 *
 * The operator restarts a killed brick of a Ready node at once (volume start force), so a plain kill would never
 * be reported offline. As in volume-health.test.ts, the brick is kept down the way a brick whose disk is gone
 * stays down: /bin/false is bound over the brick binary in that node's mount namespace (the host and the other
 * nodes keep theirs) before its process is killed; after() undoes the bind and starts the brick again, whatever
 * happened. Health is read at every pass, and RESYNC_SECONDS=5 (startOperatorProcess) makes one every 5 s.
 */
const queryResponse = z.object({
  status: z.literal('success'),
  data: z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })) }),
});
const alertsResponse = z.object({
  status: z.literal('success'),
  data: z.object({ alerts: z.array(z.object({ labels: z.record(z.string(), z.string()), annotations: z.record(z.string(), z.string()), state: z.string(), activeAt: z.string().optional() })) }),
});
const rulesResponse = z.object({
  status: z.literal('success'),
  data: z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(z.looseObject({ name: z.string(), health: z.string().optional(), duration: z.number().optional() })) })) }),
});
/** The shipped rules file, as much of it as the test reads; every other field is kept as it is. */
const shippedRules = z.object({
  groups: z.array(z.looseObject({ name: z.string(), rules: z.array(z.looseObject({ alert: z.string(), expr: z.string(), for: z.string() })) })),
});
const SHIPPED_RULES = join(REPO_ROOT, 'manifests', 'monitoring', 'rules', 'gluster-operator.rules.yaml');
/**
 * The shipped alerts wait minutes (GlusterBrickOffline: 5m) before firing, to ride out a brick restart; a test
 * cannot wait that long, so each `for` is shortened to this, and only that: expr, labels and annotations are the
 * shipped ones. 4 s is two or three rule evaluations (evaluation_interval 2s) with the expr true.
 */
const TEST_ALERT_FOR = '4s';
const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];
/** The binary glusterd starts brick processes from (glusterd and glusterfs are links to it). */
const BRICK_BINARY = '/usr/sbin/glusterfsd';

/** METRICS_TRANSCRIPT=FILE keeps what the brick-outage test saw (a scrape, the alert, kubectl gluster status), for a note. */
async function transcript(lines: string[]): Promise<void> {
  const file = process.env.METRICS_TRANSCRIPT;
  if (file) appendFileSync(file, `${lines.join('\n')}\n\n`);
}

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
  /** A node whose brick binary is bound to /bin/false, and the Gluster volume whose brick is down: for after(). */
  let boundHost: string | undefined;
  let downVolume: string | undefined;

  /** The instant vector of `expr`, as Prometheus evaluates it now. */
  async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = queryResponse.parse(await response.json());
    return body.data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
  }

  /** The alerts Prometheus holds now (pending or firing). */
  async function alerts(): Promise<z.infer<typeof alertsResponse>['data']['alerts']> {
    const response = await fetch(`${prometheusUrl}/api/v1/alerts`);
    return alertsResponse.parse(await response.json()).data.alerts;
  }

  async function scrapedVolume(): Promise<GlusterVolume | undefined> {
    const found = await unlessNotFound(custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glustervolumes', name: 'scraped' }));
    return found === undefined ? undefined : glusterVolumeSchema.parse(found);
  }
  const isReady = (volume: GlusterVolume | undefined) => volume?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

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
    const shipped = shippedRules.parse(parse(readFileSync(SHIPPED_RULES, 'utf8')));
    const rules = { groups: shipped.groups.map((group) => ({ ...group, rules: group.rules.map((rule) => ({ ...rule, for: TEST_ALERT_FOR })) })) };
    const rulesFile = join(prometheusDir, 'gluster-operator.rules.yaml');
    writeFileSync(rulesFile, stringify(rules));
    const config = {
      global: { scrape_interval: '2s', evaluation_interval: '2s' },
      rule_files: [rulesFile],
      scrape_configs: [{ job_name: 'gluster-operator', static_configs: [{ targets: [`127.0.0.1:${healthPort}`] }] }],
    };
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
    // The alert test failed half-way: the brick binary back and the brick started, before anything is deleted.
    if (boundHost) await sshRun(boundHost, ['umount', BRICK_BINARY]).catch(() => undefined);
    if (downVolume) await sshRun(nodes[0]!, gluster('volume', 'start', downVolume, 'force')).catch(() => undefined);
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    if (prometheusDir) rmSync(prometheusDir, { recursive: true, force: true });
    await tearDownOperatorSuite({ namespace, nodes, brickRoot, operator });
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
      const volume = await scrapedVolume();
      return isReady(volume) ? volume : notYet(volume?.status);
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

  it('fires GlusterBrickOffline while a brick of the volume is down, and clears it when the brick is back', async function () {
    this.timeout(420_000);
    const ruleGroups = rulesResponse.parse(await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()).data.groups;
    const loaded = ruleGroups.flatMap((group) => group.rules).find((rule) => rule.name === 'GlusterBrickOffline');
    expect(loaded, 'Prometheus loaded the shipped GlusterBrickOffline').to.include({ duration: 4 });

    const ready = await eventually('GlusterVolume scraped Ready with 3 bricks online', async () => {
      const volume = await scrapedVolume();
      return isReady(volume) && volume?.status?.bricksOnline === 3 && volume.status.glusterVolumeName ? volume : notYet(volume?.status);
    }, 180_000);
    const gv = ready.status!.glusterVolumeName!;
    const labels = `namespace="${namespace.name}",volume="scraped"`;
    const mine = async () => (await alerts()).filter((alert) => alert.labels.alertname === 'GlusterBrickOffline' && alert.labels.namespace === namespace.name && alert.labels.volume === 'scraped');
    const seen = async () => ({ alerts: await mine(), bricksOffline: await query(`${M.volumeBricksOffline}{${labels}}`) });
    expect(await mine(), 'no GlusterBrickOffline before a brick is stopped').to.deep.equal([]);

    const [status] = parseVolumeStatusXml(await sshCheck(nodes[0]!, gluster('--xml', 'volume', 'status', gv)));
    const brick = status?.bricks.find((b) => b.host === nodes[2]);
    expect(brick?.pid, `brick of ${nodes[2]} in volume status ${gv} has a pid`).to.be.a('number');
    downVolume = gv;
    boundHost = brick!.host;
    await sshCheck(brick!.host, ['mount', '--bind', '/bin/false', BRICK_BINARY]);
    await sshCheck(brick!.host, ['kill', '-9', String(brick!.pid)]);

    const firing = await eventually('GlusterBrickOffline firing for scraped', async () => {
      const now = await seen();
      const alert = now.alerts.find((a) => a.state === 'firing');
      return alert ?? notYet(now);
    }, 120_000);
    expect(firing.labels).to.include({ namespace: namespace.name, volume: 'scraped', severity: 'warning' });
    expect(firing.annotations.summary).to.equal(`1 brick(s) of GlusterVolume ${namespace.name}/scraped not running`);
    // What an administrator sees meanwhile: `kubectl gluster status` puts the degraded volume first, exit 1.
    const outage = await kubectlGluster(['status', '-n', namespace.name]);
    expect(outage.code, outage.stderr).to.equal(1);
    expect(outage.stdout).to.match(/scraped/).and.to.match(/BricksOffline/);
    await transcript([
      `$ curl -s http://127.0.0.1:${healthPort}/metrics | grep -E '^${M.volumeBricksOnline}|^${M.volumeBricksOffline}|^${M.volumeBricks}\\{'`,
      ...(await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text()).split('\n').filter((line) => new RegExp(`^(${M.volumeBricksOnline}|${M.volumeBricksOffline}|${M.volumeBricks})\\{`).test(line)),
      `$ curl -s '${prometheusUrl}/api/v1/alerts'   # the GlusterBrickOffline alert of this volume`,
      JSON.stringify(firing, null, 2),
      `$ kubectl gluster status -n ${namespace.name}   # exit ${outage.code}`,
      outage.stdout.trimEnd(),
    ]);

    await sshCheck(brick!.host, ['umount', BRICK_BINARY]);
    boundHost = undefined;
    await eventually(`${gv} started with force`, async () => {
      const started = await sshRun(nodes[0]!, gluster('volume', 'start', gv, 'force'));
      return started.code === 0 ? true : notYet(started.stderr || started.stdout);
    }, 60_000);
    downVolume = undefined;
    await eventually('GlusterBrickOffline gone for scraped', async () => {
      const now = await seen();
      return now.alerts.length === 0 && now.bricksOffline[0]?.value === 0 ? true : notYet(now);
    }, 120_000);
    expect((await query(`${M.volumeBricksOnline}{${labels}}`))[0]?.value).to.equal(3);
  });
});
