import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { PART_OF } from '../src/deploy/labels.ts';
import { ALERT_RULES } from '../src/metrics/alert-rules.ts';
import { grafanaDashboard } from '../src/metrics/dashboard.ts';
import { OPERATOR_HEALTH_PORT } from './charts.ts';
import { CSI_NODE_NAME } from './csi.ts';
import { OPERATOR_LABELS, OPERATOR_NAME, OPERATOR_NAMESPACE } from './identity.ts';

/**
 * Monitoring with the Prometheus Operator: a Service in front of the operator's health port (which serves
 * /metrics), a ServiceMonitor for it, a PodMonitor for the CSI node plugins (host network, --metrics-address),
 * the PrometheusRule of src/metrics/alert-rules.ts, and the Grafana dashboard as a ConfigMap Grafana's
 * dashboard sidecar picks up by its `grafana_dashboard` label.
 *
 * Synthesized into manifests/monitoring/, not manifests/: `kubectl apply -f crds/ -f manifests/` must keep
 * working on clusters without the Prometheus Operator's CRDs (there ServiceMonitor is an unknown kind and the
 * apply fails). Without them, use the plain rules file and dashboard JSON written next to it.
 */
export const METRICS_SERVICE = `${OPERATOR_NAME}-metrics`;
export const DASHBOARD_FILE = 'gluster-operator.json';

/** Where synth writes them (cdk8s/synthesize.ts); `kubectl apply -f manifests/monitoring/` applies only the first. */
export const MONITORING_FILES = {
  /** Service, ServiceMonitor, PodMonitor, PrometheusRule, dashboard ConfigMap. */
  manifests: 'manifests/monitoring/prometheus-operator.yaml',
  /** The same alerts as a Prometheus rules file (rule_files:), what promtool checks. */
  rules: 'manifests/monitoring/rules/gluster-operator.rules.yaml',
  /** The same dashboard, for Grafana's Import. */
  dashboard: `manifests/monitoring/grafana/${DASHBOARD_FILE}`,
} as const;

const monitoringLabels = { ...PART_OF, 'app.kubernetes.io/component': 'monitoring' };
const SCRAPE_INTERVAL = '30s';

export class MonitoringChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { disableResourceNameHashes: true });
    const namespace = OPERATOR_NAMESPACE;
    const serviceLabels = { ...OPERATOR_LABELS, 'app.kubernetes.io/component': 'metrics' };
    new ApiObject(this, 'metrics-service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: METRICS_SERVICE, namespace, labels: serviceLabels },
      spec: {
        // Both replicas: the standby says gluster_operator_leader 0 (and no per-volume series), which the
        // no-leader alert needs to tell "standing by" from "not scraped".
        selector: { 'app.kubernetes.io/name': OPERATOR_NAME },
        ports: [{ name: 'metrics', port: OPERATOR_HEALTH_PORT, targetPort: 'health', protocol: 'TCP' }],
      },
    });
    new ApiObject(this, 'service-monitor', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: OPERATOR_NAME, namespace, labels: monitoringLabels },
      spec: {
        selector: { matchLabels: serviceLabels },
        namespaceSelector: { matchNames: [namespace] },
        // The per-volume series carry the GlusterVolume's own `namespace` label: it must not be renamed
        // exported_namespace in favour of the operator pod's namespace.
        endpoints: [{ port: 'metrics', path: '/metrics', interval: SCRAPE_INTERVAL, honorLabels: true }],
      },
    });
    new ApiObject(this, 'csi-pod-monitor', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: CSI_NODE_NAME, namespace, labels: monitoringLabels },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': CSI_NODE_NAME } },
        namespaceSelector: { matchNames: [namespace] },
        podMetricsEndpoints: [{ port: 'metrics', path: '/metrics', interval: SCRAPE_INTERVAL }],
      },
    });
    new ApiObject(this, 'prometheus-rule', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: OPERATOR_NAME, namespace, labels: monitoringLabels },
      spec: { groups: ALERT_RULES },
    });
    new ApiObject(this, 'grafana-dashboard', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${OPERATOR_NAME}-dashboard`, namespace, labels: { ...monitoringLabels, grafana_dashboard: '1' } },
      data: { [DASHBOARD_FILE]: dashboardJson() },
    });
  }
}

/** The dashboard as Grafana imports it (the ConfigMap's file and manifests/monitoring/grafana/ hold the same). */
export function dashboardJson(): string {
  return `${JSON.stringify(grafanaDashboard(), null, 2)}\n`;
}
