import { systemClock, type Clock } from './clock.ts';

/**
 * A token bucket and a bound on calls in flight, per key (the operator keys it by GlusterCluster, so a burst of
 * reconciles after a restart cannot flood one cluster's glusterd). Under one key a call starts when a token is
 * in the bucket (capacity `burst`, refilled at `ratePerSecond`) and fewer than `maxInFlight` of the key's calls
 * run; callers start in the order they asked. Keys never wait on each other. A failing call frees its slot and
 * its error goes to its caller only. Waits are timers computed from the token deficit, never polls. A key's
 * state is dropped once nothing runs or waits under it and its bucket is full again, which is exactly when a
 * fresh state would act the same, so the map holds only keys in use.
 */
export interface KeyedRateLimiterOptions {
  /** Tokens added to a key's bucket per second; may be fractional. */
  ratePerSecond: number;
  /** The bucket's capacity: how many calls may start at once after a quiet spell. */
  burst: number;
  /** Calls of one key running at once. */
  maxInFlight: number;
  clock?: Pick<Clock, 'now' | 'sleep'>;
  /** Called as each call starts, with how long it waited (0 when it started at once), for metrics. */
  onWait?: (key: string, waitedMs: number) => void;
}

/** What one key's state holds (undefined once it is dropped), for tests. */
export interface RateLimiterKeyStats {
  tokens: number;
  running: number;
  waiting: number;
}

interface Waiter {
  start: () => void;
  askedAt: number;
}

interface KeyState {
  tokens: number;
  refilledAt: number;
  running: number;
  readonly waiters: Waiter[];
  /** A refill timer is pending: it pumps the queue when it fires. */
  refillTimer: boolean;
  /** A timer is pending to drop the state once its bucket is full. */
  dropTimer: boolean;
}

/** Float refills may land a hair below a whole token; a token this close counts as there. */
const EPSILON = 1e-9;

export class KeyedRateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxInFlight: number;
  readonly #clock: Pick<Clock, 'now' | 'sleep'>;
  readonly #onWait: KeyedRateLimiterOptions['onWait'];
  readonly #states = new Map<string, KeyState>();

  constructor(options: KeyedRateLimiterOptions) {
    if (!(Number.isFinite(options.ratePerSecond) && options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be a positive number, got ${options.ratePerSecond}`);
    for (const name of ['burst', 'maxInFlight'] as const) {
      const value = options[name];
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#maxInFlight = options.maxInFlight;
    this.#clock = options.clock ?? systemClock;
    this.#onWait = options.onWait;
  }

  /** Runs `work` when `key` has a token and a free slot, after every call of `key` asked for earlier has started. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    let state = this.#states.get(key);
    if (!state) {
      state = { tokens: this.#burst, refilledAt: this.#clock.now(), running: 0, waiters: [], refillTimer: false, dropTimer: false };
      this.#states.set(key, state);
    }
    const owner = state;
    return new Promise<T>((resolve, reject) => {
      owner.waiters.push({
        askedAt: this.#clock.now(),
        start: () => {
          // An async wrapper, so a `work` that throws synchronously also frees its slot.
          void (async () => work())()
            .then(resolve, reject)
            .finally(() => {
              owner.running--;
              this.#pump(key, owner);
            });
        },
      });
      this.#pump(key, owner);
    });
  }

  /** The state of `key`, or undefined when it holds none (never used, or dropped). */
  stats(key: string): RateLimiterKeyStats | undefined {
    const state = this.#states.get(key);
    if (!state) return undefined;
    this.#refill(state);
    return { tokens: state.tokens, running: state.running, waiting: state.waiters.length };
  }

  /** Keys with state held (running, waiting, or a bucket still refilling). */
  get activeKeys(): number {
    return this.#states.size;
  }

  #refill(state: KeyState): void {
    const now = this.#clock.now();
    // A clock stepped backwards adds nothing rather than taking tokens away.
    const elapsedMs = Math.max(0, now - state.refilledAt);
    state.tokens = Math.min(this.#burst, state.tokens + (elapsedMs * this.#rate) / 1000);
    state.refilledAt = now;
  }

  /** Starts every waiter that may start now, then sets the one timer the state needs next, if any. */
  #pump(key: string, state: KeyState): void {
    this.#refill(state);
    while (state.waiters.length > 0 && state.running < this.#maxInFlight && state.tokens >= 1 - EPSILON) {
      const waiter = state.waiters.shift()!;
      state.tokens = Math.max(0, state.tokens - 1);
      state.running++;
      waiter.start();
      try {
        this.#onWait?.(key, Math.max(0, this.#clock.now() - waiter.askedAt));
      } catch {
        // A metric that fails must not strand the calls behind this one.
      }
    }
    if (state.waiters.length > 0) {
      // Short of a slot, the next call to end pumps again; short of a token, a timer for the deficit does.
      if (state.running < this.#maxInFlight && !state.refillTimer) {
        state.refillTimer = true;
        void this.#clock.sleep(this.#msUntil(state, 1)).then(() => {
          state.refillTimer = false;
          this.#pump(key, state);
        });
      }
      return;
    }
    if (state.running > 0) return;
    if (state.tokens >= this.#burst - EPSILON) {
      if (this.#states.get(key) === state) this.#states.delete(key);
    } else if (!state.dropTimer) {
      state.dropTimer = true;
      void this.#clock.sleep(this.#msUntil(state, this.#burst)).then(() => {
        state.dropTimer = false;
        // Busy again meanwhile: its next idle moment sets a new timer.
        if (state.running === 0 && state.waiters.length === 0) this.#pump(key, state);
      });
    }
  }

  /** Whole milliseconds until the bucket holds `tokens`: rounded up, so the timer never fires short. */
  #msUntil(state: KeyState, tokens: number): number {
    return Math.max(1, Math.ceil(((tokens - state.tokens) * 1000) / this.#rate));
  }
}
