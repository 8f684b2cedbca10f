import type { Clock } from '../../src/runtime/clock.ts';

/** Lets every settled promise run its callbacks (a macrotask, so chains of `then` finish too). */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A Clock whose time moves only when the test says: `sleep` resolves once `advance` has passed its deadline.
 * Timers fire in deadline order, each with `now()` at its deadline and the promises it settles flushed before
 * the next, as real timers would.
 */
export class FakeClock implements Pick<Clock, 'now' | 'sleep'> {
  #now: number;
  #timers: Array<{ at: number; resolve: () => void }> = [];
  /** Every sleep asked for, in order: a waiter that polls shows here. */
  readonly sleeps: number[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve) => this.#timers.push({ at: this.#now + Math.max(0, ms), resolve }));
  }

  /** Timers not fired yet. */
  get pending(): number {
    return this.#timers.length;
  }

  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await flush();
    for (;;) {
      const next = this.#timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#now = next.at;
      next.resolve();
      await flush();
    }
    this.#now = until;
    await flush();
  }
}
