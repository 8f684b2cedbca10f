/**
 * Exponential backoff with a cap: base, 2·base, 4·base … max, then jitter. Pure. The one home of retry
 * delays: the work queue, informer restarts and start-up retries (10% jitter), glusterd's mutation queue
 * (full jitter, src/gluster/mutation-queue.ts) and the topology backup writer (none) all compute theirs here.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /**
   * `tenth` (default): up to 10% more, so keys that failed together do not retry in lockstep.
   * `full`: uniformly random up to the capped delay, so retries of many operators against one glusterd lock
   * spread out. `none`: exactly the capped delay.
   */
  jitter?: 'tenth' | 'full' | 'none';
}

/** The delay before the retry after `failures` failures (1: the first retry). `random` is in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  switch (policy.jitter ?? 'tenth') {
    case 'none':
      return exponential;
    case 'full':
      return Math.floor(random() * exponential);
    case 'tenth':
      return Math.round(exponential * (1 + 0.1 * random()));
  }
}
