import { backoffDelay } from '../runtime/backoff.ts';
import { systemClock } from '../runtime/clock.ts';
import { KeyedLock } from '../runtime/keyed-lock.ts';
import { isRetryable } from './errors.ts';

/**
 * glusterd takes a cluster-wide (or per-volume) lock for every mutation; two at once fail with "Another
 * transaction is in progress". All mutations of one cluster therefore run through one queue, one at a
 * time, and a retryable failure (lock still held by someone outside the operator, glusterd restarting, a
 * dropped connection) is retried with exponential backoff and full jitter before the caller sees it.
 * The retry happens inside the queue slot, so queued callers keep their order and never interleave.
 */
export interface BackoffPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 15_000 };

/** The part of a Clock (src/runtime/clock.ts) the queue uses, plus the jitter's source of randomness. */
export interface QueueClock {
  sleep(ms: number): Promise<void>;
  /** In [0, 1). */
  random(): number;
}

const realClock: QueueClock = {
  sleep: (ms) => systemClock.sleep(ms),
  random: Math.random,
};

/** Full jitter (src/runtime/backoff.ts): a uniformly random delay up to the exponential cap, so retries of many operators don't align. */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: () => number): number {
  return backoffDelay({ baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, jitter: 'full' }, attempt, random);
}

export interface MutationQueueOptions {
  backoff?: Partial<BackoffPolicy>;
  clock?: QueueClock;
  /** Called before each retry, for logs and metrics. */
  onRetry?: (info: { key: string; attempt: number; delayMs: number; error: unknown }) => void;
}

export class MutationQueue {
  readonly #lock = new KeyedLock();
  readonly #policy: BackoffPolicy;
  readonly #clock: QueueClock;
  readonly #onRetry: MutationQueueOptions['onRetry'];

  constructor(options: MutationQueueOptions = {}) {
    this.#policy = { ...DEFAULT_BACKOFF, ...options.backoff };
    if (this.#policy.maxAttempts < 1) throw new Error('maxAttempts must be >= 1');
    this.#clock = options.clock ?? realClock;
    this.#onRetry = options.onRetry;
  }

  /** Runs `operation` when every earlier operation queued under `key` (the cluster) has settled. */
  run<T>(key: string, operation: () => Promise<T>): Promise<T> {
    // One failed mutation does not poison the queue: the lock hands a failure to its caller only.
    return this.#lock.run(key, () => this.#withRetry(key, operation));
  }

  /** Number of clusters with queued or running mutations (for tests and metrics). */
  get activeKeys(): number {
    return this.#lock.activeKeys;
  }

  async #withRetry<T>(key: string, operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (!isRetryable(error) || attempt >= this.#policy.maxAttempts) throw error;
        const delayMs = backoffDelayMs(this.#policy, attempt, this.#clock.random);
        this.#onRetry?.({ key, attempt, delayMs, error });
        await this.#clock.sleep(delayMs);
      }
    }
  }
}
