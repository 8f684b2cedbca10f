import * as k8s from '@kubernetes/client-node';
import { operatorMetrics } from '../metrics/operator-metrics.ts';
import type { Clock } from './clock.ts';

/**
 * Leader election on a coordination.k8s.io Lease, the protocol client-go uses: the holder renews
 * spec.renewTime every retryPeriod; a candidate takes the Lease only when it is free or its renewTime is
 * older than leaseDuration; every write carries the read resourceVersion, so two candidates can never both
 * win. A leader that cannot renew within renewDeadline stops leading (onStoppedLeading) before another can
 * take over, so two replicas never act at once.
 */
export interface LeaderElectionOptions {
  coordination: k8s.CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock: Clock;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
}

/** Pure: may `identity` take or keep the lease now? */
export function canAcquire(lease: k8s.V1Lease | undefined, identity: string, nowMs: number, leaseDurationMs: number): boolean {
  const holder = lease?.spec?.holderIdentity;
  if (!holder || holder === identity) return true;
  const renewed = lease?.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
  const duration = (lease?.spec?.leaseDurationSeconds ?? leaseDurationMs / 1000) * 1000;
  return renewed + duration < nowMs;
}

export class LeaderElector {
  private readonly options: LeaderElectionOptions;
  private readonly abort = new AbortController();
  private leading = false;
  private lastRenew = 0;
  private observedLeader: string | undefined;
  private loop: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.options = options;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop = this.run();
  }

  /**
   * Stops campaigning. A leader releases the Lease so a standby takes over at once; `release: false` is
   * what a crash looks like to the others (they wait for the lease to expire).
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.leading) {
      if (options.release ?? true) await this.release().catch(() => undefined);
      this.stopLeading();
    }
  }

  private async run(): Promise<void> {
    const { clock, retryPeriodMs, renewDeadlineMs } = this.options;
    while (!this.abort.signal.aborted) {
      let renewed = false;
      try {
        renewed = await this.tryAcquireOrRenew();
      } catch {
        renewed = false;
      }
      if (renewed) {
        this.lastRenew = clock.now();
        if (!this.leading) {
          this.leading = true;
          operatorMetrics.setLeader(true);
          this.options.onStartedLeading();
        }
      } else if (this.leading && clock.now() - this.lastRenew > renewDeadlineMs) {
        this.stopLeading();
      }
      await clock.sleep(retryPeriodMs, this.abort.signal);
    }
  }

  private stopLeading(): void {
    if (!this.leading) return;
    this.leading = false;
    operatorMetrics.setLeader(false);
    this.options.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { coordination, namespace, name, identity, clock, leaseDurationMs } = this.options;
    const now = new Date(clock.now());
    let lease: k8s.V1Lease | undefined;
    try {
      lease = await coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
    }
    this.noticeLeader(lease?.spec?.holderIdentity);
    if (!canAcquire(lease, identity, now.getTime(), leaseDurationMs)) return false;
    const taking = lease?.spec?.holderIdentity !== identity;
    const spec: k8s.V1LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      renewTime: microTime(now),
      acquireTime: taking ? microTime(now) : (lease?.spec?.acquireTime ?? microTime(now)),
      leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (taking && lease ? 1 : 0),
    };
    try {
      if (!lease) {
        await coordination.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec } });
      } else {
        // Carries the read resourceVersion: a concurrent writer makes this a 409, and we lose this round.
        await coordination.replaceNamespacedLease({ name, namespace, body: { metadata: lease.metadata, spec } });
      }
    } catch (error) {
      if (error instanceof k8s.ApiException && (error.code === 409 || error.code === 422)) return false;
      throw error;
    }
    this.noticeLeader(identity);
    return true;
  }

  private async release(): Promise<void> {
    const { coordination, namespace, name, identity } = this.options;
    const lease = await coordination.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    await coordination.replaceNamespacedLease({
      name,
      namespace,
      body: { metadata: lease.metadata, spec: { ...lease.spec, holderIdentity: undefined, renewTime: undefined } },
    });
  }

  private noticeLeader(holder: string | undefined): void {
    if (holder && holder !== this.observedLeader) {
      this.observedLeader = holder;
      this.options.onNewLeader?.(holder);
    }
  }
}

/** Lease times are MicroTime (RFC 3339 with microseconds); a plain Date would serialize milliseconds. */
function microTime(date: Date): k8s.V1MicroTime {
  return new k8s.V1MicroTime(date.getTime());
}
