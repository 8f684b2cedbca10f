import { DEVICE_FULL_RATIO } from './alert-rules.ts';
import { CSI, M } from './names.ts';

/**
 * The Grafana dashboard shipped with the manifests (a ConfigMap labelled grafana_dashboard for Grafana's
 * sidecar, and the same JSON under manifests/monitoring/ to import by hand). Problems first: leader, degraded
 * volumes, offline bricks, split-brain, heal backlog, full devices, backup lag; then the operator's own work.
 * Built from the metric names in names.ts, so a renamed metric cannot leave a panel querying nothing.
 */
type Unit = 'short' | 'bytes' | 's' | 'percentunit' | 'ops';
interface Target {
  expr: string;
  legendFormat?: string;
  instant?: boolean;
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const WIDTH = 24;

function panel(kind: 'stat' | 'timeseries' | 'table' | 'bargauge', title: string, description: string, targets: Target[], options: { unit?: Unit; w?: number; h?: number; thresholds?: Array<{ color: string; value: number | null }> } = {}) {
  return {
    type: kind,
    title,
    description,
    datasource: DATASOURCE,
    targets: targets.map((target, index) => ({ refId: String.fromCharCode(65 + index), datasource: DATASOURCE, ...target })),
    fieldConfig: {
      defaults: {
        unit: options.unit ?? 'short',
        ...(options.thresholds ? { thresholds: { mode: 'absolute', steps: options.thresholds } } : {}),
      },
      overrides: [],
    },
    gridPos: { w: options.w ?? 12, h: options.h ?? 8 },
  };
}

const okAbove = (bad: number) => [{ color: 'green', value: null }, { color: 'red', value: bad }];
const quantile = (q: number, histogram: string, by: string) => `histogram_quantile(${q}, sum by (${by}, le) (rate(${histogram}_bucket[5m])))`;

function panels() {
  const volume = '{{namespace}}/{{volume}}';
  return [
    panel('stat', 'Leader', 'Replicas holding the leader Lease: 1 is healthy, 0 means nothing reconciles.', [{ expr: `max(${M.leader}) or vector(0)`, instant: true }], {
      w: 6, h: 4, thresholds: [{ color: 'red', value: null }, { color: 'green', value: 1 }],
    }),
    panel('stat', 'Degraded volumes', 'GlusterVolumes whose Degraded condition is True.', [{ expr: `count(max by (namespace, volume) (${M.volumeCondition}{condition="Degraded"}) == 1) or vector(0)`, instant: true }], {
      w: 6, h: 4, thresholds: okAbove(1),
    }),
    panel('stat', 'Offline bricks', 'Brick processes gluster reports down, over all volumes.', [{ expr: `sum(max by (namespace, volume) (${M.volumeBricksOffline})) or vector(0)`, instant: true }], {
      w: 6, h: 4, thresholds: okAbove(1),
    }),
    panel('stat', 'Split-brain entries', 'Entries self-heal cannot resolve alone, over all volumes.', [{ expr: `sum(max by (namespace, volume) (${M.volumeSplitBrain})) or vector(0)`, instant: true }], {
      w: 6, h: 4, thresholds: okAbove(1),
    }),
    panel('table', 'Volumes', 'Every GlusterVolume: bricks online of total, capacity, heal backlog.', [
      { expr: `max by (namespace, volume) (${M.volumeBricksOnline})`, legendFormat: 'online', instant: true },
      { expr: `max by (namespace, volume) (${M.volumeBricks})`, legendFormat: 'bricks', instant: true },
      { expr: `max by (namespace, volume) (${M.volumeCapacity})`, legendFormat: 'capacity', instant: true },
      { expr: `max by (namespace, volume) (${M.volumeHealPending})`, legendFormat: 'heal pending', instant: true },
    ], { w: WIDTH, h: 9 }),
    panel('timeseries', 'Heal backlog', 'Entries waiting for self-heal, per volume; it should fall to 0 after a brick comes back.', [
      { expr: `max by (namespace, volume) (${M.volumeHealPending}) > 0`, legendFormat: volume },
    ]),
    panel('bargauge', 'Device usage', `Used share of every GlusterNode device; the alert fires above ${DEVICE_FULL_RATIO * 100}%.`, [
      { expr: `max by (namespace, node, device) (1 - ${M.deviceFree} / (${M.deviceSize} > 0))`, legendFormat: '{{node}} {{device}}', instant: true },
    ], { unit: 'percentunit', thresholds: [{ color: 'green', value: null }, { color: 'orange', value: 0.7 }, { color: 'red', value: DEVICE_FULL_RATIO }] }),
    panel('timeseries', 'Topology backup', 'Age of the backup Secret, and generations the backup lags the database in memory (should stay 0).', [
      { expr: `time() - max(${M.topologyBackupWritten} > 0)`, legendFormat: 'age (s)' },
      { expr: `max(${M.topologyGeneration}) - max(${M.topologyBackupGeneration})`, legendFormat: 'generations behind' },
    ]),
    panel('timeseries', 'Claim provisioning time', 'From a claim\'s creation to its PersistentVolume, by StorageClass (p50, p95).', [
      { expr: quantile(0.5, M.claimProvisioningDuration, 'storage_class'), legendFormat: 'p50 {{storage_class}}' },
      { expr: quantile(0.95, M.claimProvisioningDuration, 'storage_class'), legendFormat: 'p95 {{storage_class}}' },
    ], { unit: 's' }),
    panel('timeseries', 'Reconciles', 'Reconciles per second by controller and result.', [
      { expr: `sum by (controller, result) (rate(${M.reconcileTotal}[5m]))`, legendFormat: '{{controller}} {{result}}' },
    ], { unit: 'ops' }),
    panel('timeseries', 'Reconcile time (p95) and queue wait (p95)', 'Slow reconciles and keys waiting for a worker, by controller.', [
      { expr: quantile(0.95, M.reconcileDuration, 'controller'), legendFormat: 'reconcile {{controller}}' },
      { expr: quantile(0.95, M.workqueueWait, 'controller'), legendFormat: 'wait {{controller}}' },
    ], { unit: 's' }),
    panel('timeseries', 'Work queue depth', 'Keys waiting for a worker, by controller.', [{ expr: `max by (controller) (${M.workqueueDepth})`, legendFormat: '{{controller}}' }]),
    panel('timeseries', 'Gluster command time (p95)', 'Commands the operator runs on the nodes, by command.', [
      { expr: quantile(0.95, M.nodeCommandDuration, 'command'), legendFormat: '{{command}}' },
    ], { unit: 's' }),
    panel('timeseries', 'Gluster command failures', 'Failed commands per second by node and reason (lock-busy and transport are retried).', [
      { expr: `sum by (node, reason) (rate(${M.nodeCommandFailures}[5m]))`, legendFormat: '{{node}} {{reason}}' },
    ], { unit: 'ops' }),
    panel('timeseries', 'CSI calls', 'Publish, unpublish and stats calls per second on the nodes, by gRPC code.', [
      { expr: `sum by (method, code) (rate(${CSI.operations}[5m]))`, legendFormat: '{{method}} {{code}}' },
    ], { unit: 'ops' }),
    panel('timeseries', 'CSI publish time (p95) and mounts repaired', 'Mount latency by method; broken FUSE mounts mounted again.', [
      { expr: quantile(0.95, CSI.operationDuration, 'method'), legendFormat: 'p95 {{method}}' },
      { expr: `sum by (trigger) (increase(${CSI.mountsRepaired}[1h]))`, legendFormat: 'repaired/h {{trigger}}' },
    ], { unit: 's' }),
  ];
}

/** Panels flow left to right, top to bottom: each gridPos gets its x and y. */
function laidOut<T extends { gridPos: { w: number; h: number } }>(items: T[]): Array<T & { id: number; gridPos: { x: number; y: number; w: number; h: number } }> {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return items.map((item, index) => {
    const { w, h } = item.gridPos;
    if (x + w > WIDTH) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const placed = { ...item, id: index + 1, gridPos: { x, y, w, h } };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return placed;
  });
}

export const DASHBOARD_UID = 'gluster-operator';

export function grafanaDashboard(): Record<string, unknown> {
  return {
    uid: DASHBOARD_UID,
    title: 'Gluster operator',
    description: 'Volumes, bricks, heal, devices and the gluster-operator itself (metrics documented in the README).',
    tags: ['gluster', 'storage', 'gluster-operator'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [{ name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 }],
    },
    panels: laidOut(panels()),
  };
}
