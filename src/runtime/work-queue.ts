import { backoffDelay, type BackoffPolicy } from './backoff.ts';

/**
 * A keyed work queue in the manner of client-go's: a key waits at most once (adding it again while it waits
 * is a no-op), is never processed by two workers at once (added while in flight, it runs again afterwards),
 * and a failing key comes back after a per-key exponential backoff while other keys proceed. Handlers are
 * level-triggered: they get only the key and read the world themselves.
 */
export type ReconcileResult = { requeueAfterMs?: number } | void;
export type Reconciler = (key: string) => Promise<ReconcileResult>;

/** How a handler run ended: done, asked to come back later (requeueAfterMs), or threw (retried with backoff). */
export type ReconcileOutcome = 'success' | 'requeue' | 'error';

/**
 * What the queue tells its watcher (the operator's metrics, src/metrics/operator-metrics.ts): kept to plain
 * numbers here, so the runtime knows nothing of Prometheus.
 */
export interface WorkQueueObserver {
  /** Keys waiting for a worker, after every change. */
  depth(waiting: number): void;
  /** A key was taken by a worker `ms` after it was queued (a delayed add counts from when it came due). */
  waited(ms: number): void;
  /** A handler run ended after `ms`. */
  processed(outcome: ReconcileOutcome, ms: number): void;
}

export interface WorkQueueOptions {
  concurrency: number;
  backoff: BackoffPolicy;
  /** Called when a handler throws, with the delay before the retry. */
  onError?: (key: string, error: unknown, retryInMs: number) => void;
  random?: () => number;
  observer?: WorkQueueObserver;
}

export class WorkQueue {
  private readonly options: WorkQueueOptions;
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  /** When each waiting key was queued, for the observer's wait time. */
  private readonly queuedAt = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  /** Keys added again while in flight: run once more when the current run ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private handler: Reconciler | undefined;
  private stopping = false;
  private idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions) {
    this.options = options;
  }

  start(handler: Reconciler): void {
    this.handler = handler;
    this.pump();
  }

  add(key: string): void {
    if (this.stopping) return;
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queuedAt.set(key, Date.now());
    this.waiting.push(key);
    this.options.observer?.depth(this.waiting.length);
    this.pump();
  }

  /** Adds key after delayMs; of several pending delayed adds of one key, the one due first wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopping) return;
    if (delayMs <= 0) return this.add(key);
    const due = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.due <= due) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  get length(): number {
    return this.waiting.length;
  }

  get processing(): number {
    return this.inFlight.size;
  }

  /** Stops taking work and waits for in-flight handlers to finish (graceful shutdown). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting.length = 0;
    this.queued.clear();
    this.queuedAt.clear();
    this.options.observer?.depth(0);
    await this.idle();
  }

  /** Resolves when nothing waits and nothing runs. */
  idle(): Promise<void> {
    if (this.inFlight.size === 0 && (this.waiting.length === 0 || !this.handler)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler || this.stopping) return;
    while (this.inFlight.size < this.options.concurrency && this.waiting.length > 0) {
      const key = this.waiting.shift()!;
      this.queued.delete(key);
      this.inFlight.add(key);
      const observer = this.options.observer;
      if (observer) {
        observer.depth(this.waiting.length);
        observer.waited(Date.now() - (this.queuedAt.get(key) ?? Date.now()));
      }
      this.queuedAt.delete(key);
      void this.process(handler, key);
    }
  }

  private async process(handler: Reconciler, key: string): Promise<void> {
    const started = Date.now();
    try {
      const result = await handler(key);
      this.failures.delete(key);
      this.options.observer?.processed(result?.requeueAfterMs !== undefined ? 'requeue' : 'success', Date.now() - started);
      if (result?.requeueAfterMs !== undefined) this.addAfterFinish(key, result.requeueAfterMs);
    } catch (error) {
      this.options.observer?.processed('error', Date.now() - started);
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const delay = backoffDelay(this.options.backoff, failures, this.options.random);
      this.options.onError?.(key, error, delay);
      this.addAfterFinish(key, delay);
    } finally {
      this.inFlight.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.inFlight.size === 0 && (this.waiting.length === 0 || this.stopping)) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  private addAfterFinish(key: string, delayMs: number): void {
    // Scheduled after the in-flight mark is cleared, so a zero delay re-adds instead of marking dirty.
    queueMicrotask(() => this.addAfter(key, delayMs));
  }
}
