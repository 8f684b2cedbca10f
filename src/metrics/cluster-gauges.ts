import { Gauge, type Registry } from 'prom-client';
import { deviceSamples, volumeSample } from './cluster-state.ts';
import { M } from './names.ts';

/**
 * The gauges of what the cluster looks like: per GlusterVolume, per GlusterNode device, and the topology
 * database's generation. Rebuilt at every scrape from the leader's informer caches (cluster-state.ts reads
 * them), so a deleted object's series go away and a standby, which has no caches, exports none.
 */
export interface ClusterStateSource {
  /** GlusterVolumes as the informer cache holds them. */
  volumes(): readonly unknown[];
  /** GlusterNodes as the informer cache holds them. */
  nodes(): readonly unknown[];
  /** The generation of the topology database in memory (what the backup must catch up with). */
  topologyGeneration(): number | undefined;
}

const VOLUME_LABELS = ['namespace', 'volume'] as const;
const DEVICE_LABELS = ['namespace', 'node', 'device'] as const;

export class ClusterStateGauges {
  source: ClusterStateSource | undefined;
  private readonly gauges: Gauge[];
  private readonly condition: Gauge;
  private readonly bricks: Gauge;
  private readonly bricksOnline: Gauge;
  private readonly bricksOffline: Gauge;
  private readonly capacity: Gauge;
  private readonly healPending: Gauge;
  private readonly splitBrain: Gauge;
  private readonly deviceSize: Gauge;
  private readonly deviceFree: Gauge;
  private readonly topologyGeneration: Gauge;

  constructor(registers: Registry[]) {
    const volumeGauge = (name: string, help: string) => new Gauge({ name, help, labelNames: VOLUME_LABELS, registers });
    const deviceGauge = (name: string, help: string) => new Gauge({ name, help, labelNames: DEVICE_LABELS, registers });
    this.condition = new Gauge({
      name: M.volumeCondition,
      help: 'GlusterVolume status conditions Ready, Progressing and Degraded: 1 when True, 0 otherwise, with the condition\'s reason.',
      labelNames: [...VOLUME_LABELS, 'condition', 'reason'],
      registers,
    });
    this.bricks = volumeGauge(M.volumeBricks, 'Bricks of the GlusterVolume (status.bricks).');
    this.bricksOnline = volumeGauge(M.volumeBricksOnline, 'Bricks whose process gluster reported running.');
    this.bricksOffline = volumeGauge(M.volumeBricksOffline, 'Bricks whose process gluster reported not running.');
    this.capacity = volumeGauge(M.volumeCapacity, 'Usable size of the volume as created (status.capacity).');
    this.healPending = volumeGauge(M.volumeHealPending, 'Entries waiting for self-heal, summed over the bricks.');
    this.splitBrain = volumeGauge(M.volumeSplitBrain, 'Entries in split-brain, which self-heal cannot resolve alone.');
    this.deviceSize = deviceGauge(M.deviceSize, 'Size of a GlusterNode device (status.devices[].size).');
    this.deviceFree = deviceGauge(M.deviceFree, 'Space of a GlusterNode device not used by bricks (status.devices[].free).');
    this.topologyGeneration = new Gauge({ name: M.topologyGeneration, help: 'Generation of the topology database in the leader\'s memory; the backup should reach it within seconds.', registers });
    this.gauges = [
      this.condition, this.bricks, this.bricksOnline, this.bricksOffline, this.capacity, this.healPending, this.splitBrain,
      this.deviceSize, this.deviceFree, this.topologyGeneration,
    ];
  }

  refresh(): void {
    for (const gauge of this.gauges) gauge.reset();
    const source = this.source;
    if (!source) return;
    for (const object of source.volumes()) {
      const sample = volumeSample(object);
      if (!sample) continue;
      const labels = { namespace: sample.namespace, volume: sample.volume };
      for (const { condition, reason, value } of sample.conditions) this.condition.set({ ...labels, condition, reason }, value);
      this.bricks.set(labels, sample.bricks);
      this.bricksOnline.set(labels, sample.bricksOnline);
      this.bricksOffline.set(labels, sample.bricksOffline);
      if (sample.capacityBytes !== undefined) this.capacity.set(labels, sample.capacityBytes);
      if (sample.healPendingEntries !== undefined) this.healPending.set(labels, sample.healPendingEntries);
      if (sample.splitBrainEntries !== undefined) this.splitBrain.set(labels, sample.splitBrainEntries);
    }
    for (const object of source.nodes()) {
      for (const device of deviceSamples(object)) {
        const labels = { namespace: device.namespace, node: device.node, device: device.device };
        if (device.sizeBytes !== undefined) this.deviceSize.set(labels, device.sizeBytes);
        if (device.freeBytes !== undefined) this.deviceFree.set(labels, device.freeBytes);
      }
    }
    const generation = source.topologyGeneration();
    if (generation !== undefined) this.topologyGeneration.set(generation);
  }
}
