import { errorMessage } from '../runtime/error-message.ts';

/**
 * Errors of everything that runs on Gluster nodes fall in two classes, because the reconcile loop treats
 * them differently: a retryable error (glusterd's cluster lock is busy, a connection dropped, a timeout)
 * is retried with backoff and never shown to users as a failure on its own; a permanent one (already exists,
 * brick in use, no such device, invalid arguments) is reported in status and Events until the spec changes.
 * Both carry the command, the node and stderr, so a message in an Event is enough to act on.
 */
export type ErrorClass = 'retryable' | 'permanent';

export class NodeCommandError extends Error {
  readonly errorClass: ErrorClass;
  readonly node: string;
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;

  constructor(init: {
    errorClass: ErrorClass;
    node: string;
    argv: readonly string[];
    message: string;
    exitCode?: number;
    stdout?: string;
    stderr?: string;
    cause?: unknown;
  }) {
    super(`${init.node}: ${init.argv.join(' ')}: ${init.message}`, { cause: init.cause });
    this.name = 'NodeCommandError';
    this.errorClass = init.errorClass;
    this.node = init.node;
    this.argv = init.argv;
    this.exitCode = init.exitCode;
    this.stdout = init.stdout ?? '';
    this.stderr = init.stderr ?? '';
  }

  get retryable(): boolean {
    return this.errorClass === 'retryable';
  }
}

/** The node could not be reached or the command could not finish: always retryable. */
export class TransportError extends NodeCommandError {
  constructor(init: { node: string; argv: readonly string[]; message: string; cause?: unknown }) {
    super({ ...init, errorClass: 'retryable' });
    this.name = 'TransportError';
  }
}

/** The node's SSH host key differs from the one pinned at first contact. Permanent: a human must look. */
export class HostKeyMismatchError extends NodeCommandError {
  constructor(init: { node: string; argv: readonly string[]; expected: string; actual: string }) {
    super({
      node: init.node,
      argv: init.argv,
      errorClass: 'permanent',
      message:
        `SSH host key changed (pinned ${init.expected}, offered ${init.actual}); refusing to connect. ` +
        'If the server was reinstalled on purpose, delete the pinned key from the node state to accept the new one.',
    });
    this.name = 'HostKeyMismatchError';
  }
}

/** Output that does not parse as expected. Carries the raw output; never replaced by a silent default. */
export class ParseError extends Error {
  readonly raw: string;
  constructor(what: string, raw: string, cause?: unknown) {
    super(`cannot parse ${what}: ${cause == null ? 'unexpected shape' : errorMessage(cause)}`, { cause });
    this.name = 'ParseError';
    this.raw = raw;
  }
}

export function isRetryable(error: unknown): boolean {
  return error instanceof NodeCommandError && error.retryable;
}
