import { M } from './names.ts';

/**
 * The alerts shipped with the manifests, as Prometheus rule groups: synthesized into the PrometheusRule of
 * manifests/40-monitoring.yaml and, unchanged, into the plain rules file manifests/monitoring/ (for a
 * Prometheus without the Prometheus Operator, and for `promtool test rules`, test/unit/monitoring-rules.test.ts).
 *
 * Per-object series come from the leader only (a standby exports none), and `max by` drops the target's
 * labels, so an operator failover neither fires nor clears an alert. Every description says what to look at
 * next. The README explains each alert.
 */
export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'warning' | 'critical' };
  annotations: { summary: string; description: string };
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

const byVolume = (metric: string) => `max by (namespace, volume) (${metric})`;
const volume = 'GlusterVolume {{ $labels.namespace }}/{{ $labels.volume }}';
const describe = 'kubectl -n {{ $labels.namespace }} describe glustervolume {{ $labels.volume }}';

/** Device usage above which GlusterDeviceAlmostFull fires: new bricks and growth need room. */
export const DEVICE_FULL_RATIO = 0.85;

export const ALERT_RULES: RuleGroup[] = [
  {
    name: 'gluster-operator',
    rules: [
      {
        alert: 'GlusterVolumeDegraded',
        expr: `${byVolume(`${M.volumeCondition}{condition="Degraded"}`)} == 1`,
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          summary: `${volume} is degraded`,
          description: `${volume} has had its Degraded condition True for 5 minutes. Its message says why and what to do: ${describe}.`,
        },
      },
      {
        alert: 'GlusterBrickOffline',
        expr: `${byVolume(M.volumeBricksOffline)} > 0`,
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          summary: `{{ $value }} brick(s) of ${volume} not running`,
          description:
            `Gluster reports {{ $value }} brick process(es) of ${volume} down for 5 minutes; the operator restarts bricks on Ready nodes, ` +
            `so look at the nodes of its bricks (kubectl get glusternodes -A; gluster volume status on a node) and at ${describe}.`,
        },
      },
      {
        alert: 'GlusterHealBacklogNotShrinking',
        expr: `${byVolume(M.volumeHealPending)} > 0 and ${byVolume(`delta(${M.volumeHealPending}[30m])`)} >= 0`,
        for: '30m',
        labels: { severity: 'warning' },
        annotations: {
          summary: `Self-heal of ${volume} makes no progress`,
          description:
            `${volume} has had {{ $value }} entries waiting for self-heal, not fewer than half an hour before, for 30 minutes. ` +
            'A brick or a self-heal daemon is likely down: check its bricks (GlusterBrickOffline) and run gluster volume heal VOLUME info on a node.',
        },
      },
      {
        alert: 'GlusterSplitBrain',
        expr: `${byVolume(M.volumeSplitBrain)} > 0`,
        for: '1m',
        labels: { severity: 'critical' },
        annotations: {
          summary: `${volume} has {{ $value }} entries in split-brain`,
          description:
            `Self-heal cannot resolve split-brain entries of ${volume} on its own and clients get I/O errors on them. ` +
            'List them with gluster volume heal VOLUME info split-brain on a node, then choose a copy (heal VOLUME split-brain latest-mtime|bigger-file|source-brick).',
        },
      },
      {
        alert: 'GlusterDeviceAlmostFull',
        expr: `max by (namespace, node, device) (1 - ${M.deviceFree} / ${M.deviceSize}) > ${DEVICE_FULL_RATIO}`,
        for: '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Device {{ $labels.device }} of GlusterNode {{ $labels.namespace }}/{{ $labels.node }} is {{ $value | humanizePercentage }} used',
          description:
            `Bricks use more than ${DEVICE_FULL_RATIO * 100}% of the device: new volumes and growth will be placed elsewhere or fail. ` +
            'Add a device to the GlusterNode (spec.devices) or a node to the cluster, or delete unused volumes.',
        },
      },
      {
        alert: 'GlusterTopologyBackupStale',
        expr: `${M.topologyGeneration} - ${M.topologyBackupGeneration} > 0`,
        for: '10m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'The topology backup lags the operator by {{ $value }} generation(s)',
          description:
            'Changes to the topology database have not reached its backup Secret (gluster-operator-topology) for 10 minutes; losing the ' +
            'leader now would mean a rebuild from the cluster. The operator log says why ("topology backup failed"): Secret RBAC, the apiserver, or another writer.',
        },
      },
      {
        alert: 'GlusterOperatorNoLeader',
        expr: `(max(${M.leader}) or vector(0)) < 1`,
        for: '5m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'No gluster-operator replica is leading',
          description:
            'For 5 minutes no scraped operator replica has held the Lease gluster-operator-leader, so nothing reconciles volumes or claims. ' +
            'kubectl -n gluster-operator get pods,lease and the pods\' logs say why (or Prometheus does not scrape them: see the ServiceMonitor).',
        },
      },
    ],
  },
];
