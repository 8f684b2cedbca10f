import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { systemClock, type Clock } from './clock.ts';

/**
 * Calls `start` until it succeeds or `signal` aborts, waiting a capped exponential backoff between
 * attempts. Returns what `start` returned, or undefined when aborted first. Used for the operator's own
 * start-up: its failures pass (429 "storage is (re)initializing" right after CRDs are applied, an apiserver
 * restarting), and exiting on them would only make a crash loop.
 */
export async function retryUntilStarted<T>(
  start: () => Promise<T>,
  options: { backoff: BackoffPolicy; signal: AbortSignal; onFailure: (error: unknown, attempt: number, retryInMs: number) => void; random?: () => number; clock?: Pick<Clock, 'sleep'> },
): Promise<T | undefined> {
  for (let attempt = 1; !options.signal.aborted; attempt += 1) {
    try {
      return await start();
    } catch (error) {
      const retryInMs = backoffDelay(options.backoff, attempt, options.random);
      options.onFailure(error, attempt, retryInMs);
      // Ends early, without an error, when the signal aborts.
      await (options.clock ?? systemClock).sleep(retryInMs, options.signal);
    }
  }
  return undefined;
}
