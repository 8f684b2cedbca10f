import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

/**
 * Calls `start` until it succeeds or `signal` aborts, waiting a capped exponential backoff between
 * attempts. Returns what `start` returned, or undefined when aborted first. Used for the operator's own
 * start-up: its failures pass (429 "storage is (re)initializing" right after CRDs are applied, an apiserver
 * restarting), and exiting on them would only make a crash loop.
 */
export async function retryUntilStarted<T>(
  start: () => Promise<T>,
  options: { backoff: BackoffPolicy; signal: AbortSignal; onFailure: (error: unknown, attempt: number, retryInMs: number) => void; random?: () => number },
): Promise<T | undefined> {
  for (let attempt = 1; !options.signal.aborted; attempt += 1) {
    try {
      return await start();
    } catch (error) {
      const retryInMs = backoffDelay(options.backoff, attempt, options.random);
      options.onFailure(error, attempt, retryInMs);
      await sleep(retryInMs, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
  return undefined;
}
