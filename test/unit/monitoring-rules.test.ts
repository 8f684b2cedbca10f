import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { MONITORING_FILES } from '../../cdk8s/monitoring.ts';
import { synthesizeFiles } from '../../cdk8s/synthesize.ts';
import { ALERT_RULES } from '../../src/metrics/alert-rules.ts';
import { grafanaDashboard } from '../../src/metrics/dashboard.ts';
import { CSI, M } from '../../src/metrics/names.ts';
import { REPO_ROOT } from '../support/paths.ts';

/**
 * The shipped alerts, checked and unit-tested by promtool (Debian's prometheus package, installed by
 * hack/install-deps) against test/fixtures/monitoring/rules-test.yaml: series that fire each alert and series
 * that must not. The rules file is the committed one (generated-files.test.ts keeps it equal to synth's).
 */
const RULES_FILE = join(REPO_ROOT, MONITORING_FILES.rules);
const RULES_TEST = join(REPO_ROOT, 'test', 'fixtures', 'monitoring', 'rules-test.yaml');

function promtool(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('promtool is not installed: run hack/install-deps as root (it installs Debian\'s prometheus package, which provides promtool)');
  }
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** gluster_* metric names an expression queries, histogram suffixes removed. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\bgluster_[a-z_]+/g)].map(([name]) => name.replace(/_(bucket|count|sum)$/, ''));
}

const KNOWN_METRICS = new Set<string>([...Object.values(M), ...Object.values(CSI)]);

describe('monitoring: alert rules (promtool)', function () {
  this.timeout(60_000);

  it('pass promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', RULES_FILE]);
    expect(status, output).to.equal(0);
    expect(output).to.contain(`SUCCESS: ${ALERT_RULES.flatMap((group) => group.rules).length} rules found`);
  });

  it('pass promtool test rules: each alert fires on its series and stays quiet on the others', () => {
    const { status, output } = promtool(['test', 'rules', RULES_TEST]);
    expect(status, output).to.equal(0);
    expect(output).to.contain('SUCCESS');
  });

  it('are each tested firing and not firing', () => {
    const fixture = parse(readFileSync(RULES_TEST, 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }> };
    const cases = fixture.tests.flatMap((test) => test.alert_rule_test ?? []);
    for (const { alert } of ALERT_RULES.flatMap((group) => group.rules)) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${alert} is never expected to fire`).to.equal(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${alert} is never expected to stay quiet`).to.equal(true);
    }
  });

  it('and the dashboard\'s queries are PromQL promtool accepts', () => {
    const panels = grafanaDashboard().panels as Array<{ targets: Array<{ expr: string }> }>;
    const rules = panels.flatMap((panel, p) => panel.targets.map((target, t) => ({ record: `dashboard:panel${p}:target${t}`, expr: target.expr })));
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-queries-'));
    try {
      writeFileSync(join(dir, 'queries.yaml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const { status, output } = promtool(['check', 'rules', join(dir, 'queries.yaml')]);
      expect(status, output).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('query only metrics the operator exports', () => {
    for (const rule of ALERT_RULES.flatMap((group) => group.rules)) {
      for (const name of metricsIn(rule.expr)) expect(KNOWN_METRICS.has(name), `${rule.alert} queries ${name}`).to.equal(true);
    }
  });
});

describe('monitoring: manifests/monitoring/', () => {
  const files = synthesizeFiles();
  const objects = parseAllDocuments(files.get(MONITORING_FILES.manifests)!).map((document) => document.toJS() as any);
  const byKind = (kind: string) => objects.filter((object) => object.kind === kind);

  it('holds the same alerts in the PrometheusRule as in the plain rules file', () => {
    const [rule] = byKind('PrometheusRule');
    expect(rule.spec.groups).to.deep.equal(parse(files.get(MONITORING_FILES.rules)!).groups);
    expect(rule.spec.groups).to.deep.equal(ALERT_RULES);
  });

  it('points the ServiceMonitor at the operator\'s health port, keeping the volumes\' namespace label', () => {
    const [service] = byKind('Service');
    const [monitor] = byKind('ServiceMonitor');
    const [deployment] = parseAllDocuments(files.get('manifests/20-operator.yaml')!).map((document) => document.toJS() as any);
    const container = deployment.spec.template.spec.containers[0];
    expect(monitor.spec.selector.matchLabels).to.deep.equal(service.metadata.labels);
    expect(service.spec.selector).to.deep.equal({ 'app.kubernetes.io/name': deployment.spec.selector.matchLabels['app.kubernetes.io/name'] });
    const port = service.spec.ports.find((p: any) => p.name === monitor.spec.endpoints[0].port);
    expect(container.ports.map((p: any) => p.name)).to.include(port.targetPort);
    expect(monitor.spec.endpoints[0]).to.include({ path: '/metrics', honorLabels: true });
  });

  it('points the PodMonitor at the CSI plugin\'s --metrics-address port ($METRICS_ADDRESS)', () => {
    const [monitor] = byKind('PodMonitor');
    const daemonSet = parseAllDocuments(files.get('manifests/30-csi.yaml')!).map((document) => document.toJS() as any).find((object) => object.kind === 'DaemonSet');
    const container = daemonSet.spec.template.spec.containers[0];
    expect(monitor.spec.selector.matchLabels).to.deep.include({ 'app.kubernetes.io/name': daemonSet.spec.selector.matchLabels['app.kubernetes.io/name'] });
    const port = container.ports.find((p: any) => p.name === monitor.spec.podMetricsEndpoints[0].port);
    expect(container.env).to.deep.include({ name: 'METRICS_ADDRESS', value: `:${port.containerPort}` });
  });

  it('ships the dashboard as a grafana_dashboard ConfigMap and as JSON, querying only exported metrics', () => {
    const [configMap] = byKind('ConfigMap');
    expect(configMap.metadata.labels.grafana_dashboard).to.equal('1');
    const json = files.get(MONITORING_FILES.dashboard)!;
    expect(Object.values(configMap.data)).to.deep.equal([json]);
    const dashboard = JSON.parse(json) as { panels: Array<{ title: string; targets: Array<{ expr: string }>; gridPos: { x: number; w: number } }> };
    expect(dashboard.panels.length).to.be.greaterThan(10);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).to.be.at.most(24);
      for (const target of panel.targets) {
        for (const name of metricsIn(target.expr)) expect(KNOWN_METRICS.has(name), `${panel.title} queries ${name}`).to.equal(true);
      }
    }
  });

  it('is kept out of manifests/ itself, so `kubectl apply -f crds/ -f manifests/` needs no Prometheus Operator', () => {
    const topLevel = [...files.keys()].filter((path) => /^manifests\/[^/]+$/.test(path));
    for (const path of topLevel) expect(files.get(path), path).not.to.match(/monitoring\.coreos\.com/);
  });
});
