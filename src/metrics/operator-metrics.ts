import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkQueueObserver } from '../runtime/work-queue.ts';
import { ClusterStateGauges, type ClusterStateSource } from './cluster-gauges.ts';
import { commandLabel } from './command-label.ts';
import { M } from './names.ts';

/**
 * The operator's /metrics (prom-client; names in names.ts, meanings in the README). One instance per process,
 * `operatorMetrics`, because the places that count (runNodeCommand, the leader elector, the backup store, the
 * provisioner) are reached from many call sites; tests reset it with `registry.resetMetrics()`.
 *
 * Labels stay bounded: `controller` is one of the operator's controllers, `command` one of command-label.ts'
 * fixed words, `reason` and `result` fixed sets, `node` and `storage_class` names of objects the user made.
 */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Claim to PV: a replica-3 volume takes seconds on an idle pool, minutes behind a burst of claims. */
const PROVISIONING_SECONDS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];

export class OperatorMetrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  private readonly reconcileTotal = new Counter({ name: M.reconcileTotal, help: 'Reconciles run, by controller and result (success, requeue: asked to come back later, error: threw and is retried with backoff).', labelNames: ['controller', 'result'], registers: this.registers });
  private readonly reconcileErrors = new Counter({ name: M.reconcileErrors, help: 'Reconciles that threw, by controller.', labelNames: ['controller'], registers: this.registers });
  private readonly reconcileDuration = new Histogram({ name: M.reconcileDuration, help: 'Time one reconcile took, by controller.', labelNames: ['controller'], buckets: SECONDS, registers: this.registers });
  private readonly queueDepth = new Gauge({ name: M.workqueueDepth, help: 'Keys waiting for a worker, by controller.', labelNames: ['controller'], registers: this.registers });
  private readonly queueWait = new Histogram({ name: M.workqueueWait, help: 'Time a key waited in the work queue before a worker took it, by controller.', labelNames: ['controller'], buckets: SECONDS, registers: this.registers });
  private readonly commandDuration = new Histogram({ name: M.nodeCommandDuration, help: 'Time a command on a Gluster node took (failed ones too), by node and command.', labelNames: ['node', 'command'], buckets: SECONDS, registers: this.registers });
  private readonly commandFailures = new Counter({ name: M.nodeCommandFailures, help: 'Commands on Gluster nodes that failed, by node, command and reason (the classified failure, transport, host-key-mismatch or parse).', labelNames: ['node', 'command', 'reason'], registers: this.registers });
  // No labels: the limiter is per cluster, but the question this answers is whether any command waits long.
  private readonly commandWait = new Histogram({ name: M.nodeCommandWait, help: 'Time a command on a Gluster node waited for its cluster\'s rate limit (GLUSTER_COMMANDS_PER_SECOND, GLUSTER_COMMAND_BURST, GLUSTER_COMMANDS_IN_FLIGHT) before it was sent; a mutation\'s wait for the cluster\'s queue comes before and is not counted.', buckets: SECONDS, registers: this.registers });
  private readonly provisioning = new Histogram({ name: M.claimProvisioningDuration, help: 'Time from a claim\'s creation to its PersistentVolume made (pre-bound to the claim), by StorageClass.', labelNames: ['storage_class'], buckets: PROVISIONING_SECONDS, registers: this.registers });
  private readonly backupGeneration = new Gauge({ name: M.topologyBackupGeneration, help: 'Generation of the topology database in the backup Secret, as last written or read.', registers: this.registers });
  private readonly backupSize = new Gauge({ name: M.topologyBackupSize, help: 'Compressed size of the topology backup, as last written or read.', registers: this.registers });
  private readonly backupWritten = new Gauge({ name: M.topologyBackupWritten, help: 'When the topology backup in the Secret was written (Unix seconds); its age is time() minus this.', registers: this.registers });
  private readonly leader = new Gauge({ name: M.leader, help: '1 while this process holds the leader Lease (only the leader reconciles), else 0.', registers: this.registers });
  private readonly clusterState = new ClusterStateGauges(this.registers);
  private defaultsCollected = false;

  /** The work queue of `controller` reports here (ControllerManager wires it). */
  queueObserver(controller: string): WorkQueueObserver {
    return {
      depth: (waiting) => this.queueDepth.set({ controller }, waiting),
      waited: (ms) => this.queueWait.observe({ controller }, ms / 1000),
      processed: (outcome, ms) => {
        this.reconcileTotal.inc({ controller, result: outcome });
        if (outcome === 'error') this.reconcileErrors.inc({ controller });
        this.reconcileDuration.observe({ controller }, ms / 1000);
      },
    };
  }

  /** One command on a node ended; `failure` is its reason label when it failed (executor.ts commandFailureLabel). */
  observeNodeCommand(node: string, argv: readonly string[], ms: number, failure?: string): void {
    const command = commandLabel(argv);
    this.commandDuration.observe({ node, command }, ms / 1000);
    if (failure !== undefined) this.commandFailures.inc({ node, command, reason: failure });
  }

  /** A command on a node waited `ms` for its cluster's rate limit (src/runtime/rate-limiter.ts) before it was sent. */
  observeNodeCommandWait(ms: number): void {
    this.commandWait.observe(ms / 1000);
  }

  /** The provisioner made a claim's PV at `nowMs`; the claim was created at `createdAt` (RFC 3339, the apiserver's clock). */
  observeClaimProvisioned(storageClass: string, createdAt: string | undefined, nowMs: number): void {
    const created = Date.parse(createdAt ?? '');
    if (Number.isNaN(created)) return;
    // The apiserver's clock may run ahead of ours: a negative age is a zero one.
    this.provisioning.observe({ storage_class: storageClass }, Math.max(0, nowMs - created) / 1000);
  }

  /** The backup Secret holds `generation` (written, or read at start-up), `bytes` compressed, written at `writtenAt`. */
  observeTopologyBackup(backup: { generation: number; bytes: number; writtenAt: Date }): void {
    this.backupGeneration.set(backup.generation);
    this.backupSize.set(backup.bytes);
    const seconds = backup.writtenAt.getTime() / 1000;
    if (!Number.isNaN(seconds)) this.backupWritten.set(seconds);
  }

  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }

  /** The leader's caches, while its controllers run; undefined on a standby (which then exports none of these). */
  setClusterState(source: ClusterStateSource | undefined): void {
    this.clusterState.source = source;
  }

  /** Node.js process metrics (CPU, memory, event-loop lag): once, by the operator process; tests leave them out. */
  collectProcessMetrics(): void {
    if (this.defaultsCollected) return;
    this.defaultsCollected = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition for one scrape: the cluster-state gauges are rebuilt from the caches first. */
  async render(): Promise<string> {
    this.clusterState.refresh();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export const operatorMetrics = new OperatorMetrics();
