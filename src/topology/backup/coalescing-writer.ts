import { backoffDelay } from '../../runtime/backoff.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';

/**
 * Coalesces backups: every commit schedules the newest database, one write runs at a time, and whatever was
 * scheduled while it ran is folded into the next write. A burst of N commits costs a few Secret writes, and
 * the last state is always the one written. Failures are retried with capped exponential backoff (never
 * dropped); a newer schedule replaces the failed state rather than queueing behind it.
 */

/** Time as a parameter: the runtime's Clock, under the name this module has exported. */
export type WriterClock = Clock;

export const realClock: WriterClock = systemClock;

export interface CoalescingWriterOptions<T> {
  /** Writes one state; resolves when it is durable. */
  save: (state: T) => Promise<unknown>;
  clock?: WriterClock;
  /** How long to gather commits before the first write of a burst; default 50 ms. */
  delayMs?: number;
  /** Minimum time between the start of two writes; default 200 ms. */
  minIntervalMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A write failed (it will be retried unless `isFatal` says otherwise). */
  onError?: (error: unknown, state: T, failures: number) => void;
  /** Errors that retrying the same state cannot fix (e.g. a newer generation is stored): the state is dropped. */
  isFatal?: (error: unknown) => boolean;
}

export interface WriterStats {
  scheduled: number;
  writes: number;
  failures: number;
}

export class CoalescingWriter<T> {
  readonly stats: WriterStats = { scheduled: 0, writes: 0, failures: 0 };
  private readonly options: Required<Omit<CoalescingWriterOptions<T>, 'onError' | 'isFatal'>> &
    Pick<CoalescingWriterOptions<T>, 'onError' | 'isFatal'>;
  private pending: { state: T } | undefined;
  private running: Promise<void> | undefined;
  private wake = new AbortController();
  private hurry = false;
  private stopped = false;
  private lastStart = -Infinity;
  private lastError: unknown;
  private flushWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(options: CoalescingWriterOptions<T>) {
    this.options = {
      clock: realClock,
      delayMs: 50,
      minIntervalMs: 200,
      retryBaseMs: 500,
      retryMaxMs: 30_000,
      ...options,
    };
  }

  /** Schedules `state` to be written; replaces anything scheduled and not yet being written. */
  schedule(state: T): void {
    if (this.stopped) throw new Error('backup writer is stopped');
    this.stats.scheduled++;
    this.pending = { state };
    this.running ??= this.run().finally(() => {
      this.running = undefined;
      // Scheduled after the loop's last check: start again.
      if (this.pending && !this.stopped) this.running = this.run().finally(() => (this.running = undefined));
    });
  }

  /** True while something is scheduled or being written. */
  get busy(): boolean {
    return this.pending !== undefined || this.running !== undefined;
  }

  /** The error of the last failed write, until a write succeeds. */
  get error(): unknown {
    return this.lastError;
  }

  /**
   * Writes what is scheduled now, without waiting out the gathering delay, and resolves when nothing is left
   * to write. Rejects with the error if a write fails meanwhile (the writer keeps retrying in the background).
   */
  flush(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    this.hurry = true;
    this.wake.abort();
    return new Promise((resolve, reject) => this.flushWaiters.push({ resolve, reject }));
  }

  /** Flushes, then refuses further schedules. */
  async stop(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.stopped = true;
      this.wake.abort();
    }
  }

  private async sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.hurry) return;
    if (this.wake.signal.aborted) this.wake = new AbortController();
    await this.options.clock.sleep(ms, this.wake.signal);
  }

  private async run(): Promise<void> {
    const { clock } = this.options;
    await this.sleep(this.options.delayMs);
    let failures = 0;
    while (this.pending) {
      await this.sleep(this.lastStart + this.options.minIntervalMs - clock.now());
      const { state } = this.pending;
      this.pending = undefined;
      this.lastStart = clock.now();
      try {
        await this.options.save(state);
        this.stats.writes++;
        failures = 0;
        this.lastError = undefined;
      } catch (error) {
        this.stats.failures++;
        failures++;
        this.lastError = error;
        this.options.onError?.(error, state, failures);
        const waiters = this.flushWaiters.splice(0);
        for (const waiter of waiters) waiter.reject(error);
        this.hurry = false;
        if (this.options.isFatal?.(error)) continue; // drop this state; a newer one may be pending
        this.pending ??= { state }; // retry unless something newer replaced it
        if (this.stopped) break;
        const delay = backoffDelay({ baseMs: this.options.retryBaseMs, maxMs: this.options.retryMaxMs, jitter: 'none' }, failures);
        await this.sleep(delay);
      }
    }
    if (!this.pending) {
      this.hurry = false;
      for (const waiter of this.flushWaiters.splice(0)) waiter.resolve();
    }
  }
}
