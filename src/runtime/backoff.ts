/** Exponential backoff with a cap: base, 2·base, 4·base … max. Pure. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  // Up to 10% jitter, so keys that failed together do not retry in lockstep.
  return Math.round(exponential * (1 + 0.1 * random()));
}
