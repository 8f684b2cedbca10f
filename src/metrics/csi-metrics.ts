import { status } from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { CSI } from './names.ts';

/**
 * The CSI node plugin's /metrics (its own process, its own registry: --metrics-address, src/csi/main.ts).
 * `method` is a CSI RPC name and `code` a gRPC status name: both fixed sets. No volume or path labels: a node
 * publishes one target per pod, and pods come and go without bound.
 */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export type RepairTrigger = 'publish' | 'startup';

export class CsiMetrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  private readonly operations = new Counter({
    name: CSI.operations,
    help: 'CSI calls answered, by method and gRPC status code (OK, INVALID_ARGUMENT, FAILED_PRECONDITION, INTERNAL, ...).',
    labelNames: ['method', 'code'],
    registers: this.registers,
  });
  private readonly duration = new Histogram({
    name: CSI.operationDuration,
    help: 'Time a CSI call took, by method and gRPC status code.',
    labelNames: ['method', 'code'],
    buckets: SECONDS,
    registers: this.registers,
  });
  private readonly repaired = new Counter({
    name: CSI.mountsRepaired,
    help: 'Broken FUSE mounts mounted again: at NodePublishVolume (kubelet asked again) or at plugin start-up.',
    labelNames: ['trigger'],
    registers: this.registers,
  });
  private readonly repairFailures = new Counter({
    name: CSI.mountRepairFailures,
    help: 'Broken FUSE mounts the start-up check could not mount again (left for kubelet\'s next publish).',
    labelNames: ['trigger'],
    registers: this.registers,
  });

  /** One RPC answered with gRPC status `code` (a number of grpc.status) after `ms`. */
  observeCall(method: string, code: number, ms: number): void {
    const labels = { method, code: status[code] ?? 'UNKNOWN' };
    this.operations.inc(labels);
    this.duration.observe(labels, ms / 1000);
  }

  mountsRepaired(trigger: RepairTrigger, count = 1): void {
    if (count > 0) this.repaired.inc({ trigger }, count);
  }

  mountRepairsFailed(trigger: RepairTrigger, count = 1): void {
    if (count > 0) this.repairFailures.inc({ trigger }, count);
  }

  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
