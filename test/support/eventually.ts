import { inspect } from 'node:util';

/**
 * The one polling helper of the tests. The project's rule: every wait that times out says what it last saw.
 * A timeout names what was awaited, how long it waited and how many times it looked, what the check last
 * observed and the last error the check threw (a check that throws is retried: a 404, a refused
 * connection or a busy glusterd are what "not yet" looks like from outside).
 *
 *     await eventually('PV Released', async () => {
 *       const pv = await readPV(name);
 *       return pv?.status?.phase === 'Released' ? pv : notYet(pv?.status);
 *     }, 60_000);
 *
 * A check returns the value to finish with, `notYet(what it saw)` to look again, or calls `giveUp` when
 * waiting longer cannot help (a failed rebalance): the wait ends at once, with the same report.
 */

const NOT_YET = Symbol('notYet');

export interface NotYet {
  readonly [NOT_YET]: true;
  readonly saw: unknown;
}

/** "Not yet", with what the check saw; the last one is in the timeout's message. */
export function notYet(saw: unknown): NotYet {
  return { [NOT_YET]: true, saw };
}

function isNotYet(value: unknown): value is NotYet {
  return typeof value === 'object' && value !== null && NOT_YET in value;
}

class GiveUp extends Error {
  readonly saw: unknown;
  readonly hasSaw: boolean;
  constructor(reason: string, saw: unknown, hasSaw: boolean) {
    super(reason);
    this.saw = saw;
    this.hasSaw = hasSaw;
  }
}

/** Ends the wait at once (from inside a check): waiting longer cannot help. */
export function giveUp(reason: string, ...saw: [] | [unknown]): never {
  throw new GiveUp(reason, saw[0], saw.length > 0);
}

export interface EventuallyOptions {
  /** How long to keep looking; 30 s unless told. */
  timeoutMs?: number;
  /** Pause between two looks; 250 ms unless told. */
  intervalMs?: number;
}

/** A wait that ended without its value: timed out, or given up by the check. Carries what it saw. */
export class WaitError extends Error {
  readonly what: string;
  readonly elapsedMs: number;
  readonly attempts: number;
  readonly lastSeen: unknown;
  readonly lastError: unknown;
  constructor(init: { message: string; what: string; elapsedMs: number; attempts: number; lastSeen: unknown; lastError: unknown }) {
    super(init.message, init.lastError === undefined ? undefined : { cause: init.lastError });
    this.name = 'WaitError';
    this.what = init.what;
    this.elapsedMs = init.elapsedMs;
    this.attempts = init.attempts;
    this.lastSeen = init.lastSeen;
    this.lastError = init.lastError;
  }
}

const MAX_REPORT_CHARS = 2_000;

/** One line (or a few) that a person can read in a test report; long values are cut, never dropped. */
export function describeObservation(value: unknown): string {
  const text = typeof value === 'string' ? value : inspect(value, { depth: 6, breakLength: Infinity, maxArrayLength: 50, maxStringLength: MAX_REPORT_CHARS });
  return text.length > MAX_REPORT_CHARS ? `${text.slice(0, MAX_REPORT_CHARS)}... (${text.length} chars)` : text;
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return describeObservation(text);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Polls `check` until it returns a value other than undefined and not `notYet(...)`, and returns it. On
 * timeout (or `giveUp`) throws a WaitError whose message says what was awaited, the elapsed time, the last
 * observation and the last error. A check that returns plain undefined still works but has nothing to show.
 */
export async function eventually<T>(what: string, check: () => Promise<T | NotYet | undefined>, options: number | EventuallyOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 250 } = typeof options === 'number' ? { timeoutMs: options } : options;
  const started = Date.now();
  let attempts = 0;
  let seen: { value: unknown; attempt: number; atMs: number } | undefined;
  let failure: { error: unknown; attempt: number; atMs: number } | undefined;

  const report = (headline: string): WaitError => {
    const elapsedMs = Date.now() - started;
    const parts = [`${headline} (${attempts} attempt${attempts === 1 ? '' : 's'})`];
    if (seen) parts.push(`last saw (attempt ${seen.attempt}, at ${seconds(seen.atMs)}): ${describeObservation(seen.value)}`);
    else parts.push('last saw: nothing (the check threw or returned undefined, never notYet(...))');
    if (failure) parts.push(`last error (attempt ${failure.attempt}, at ${seconds(failure.atMs)}): ${describeError(failure.error)}`);
    return new WaitError({ message: parts.join('; '), what, elapsedMs, attempts, lastSeen: seen?.value, lastError: failure?.error });
  };

  for (;;) {
    attempts += 1;
    try {
      const value = await check();
      if (value !== undefined && !isNotYet(value)) return value;
      if (isNotYet(value)) seen = { value: value.saw, attempt: attempts, atMs: Date.now() - started };
    } catch (error) {
      if (error instanceof GiveUp) {
        if (error.hasSaw) seen = { value: error.saw, attempt: attempts, atMs: Date.now() - started };
        throw report(`gave up waiting for ${what} after ${seconds(Date.now() - started)}: ${error.message}`);
      }
      failure = { error, attempt: attempts, atMs: Date.now() - started };
    }
    if (Date.now() - started >= timeoutMs) throw report(`timed out after ${seconds(Date.now() - started)} waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
