import { operatorMetrics } from '../metrics/operator-metrics.ts';
import type { KeyedRateLimiter } from '../runtime/rate-limiter.ts';
import type { NodeCommand } from './commands/command.ts';
import { classifyFailure, type FailureReason } from './classify.ts';
import { HostKeyMismatchError, NodeCommandError, ParseError, TransportError } from './errors.ts';
import type { MutationQueue } from './mutation-queue.ts';
import { parseCliEnvelope } from './parsers/xml.ts';
import type { NodeTarget, Transport } from './transport.ts';

/**
 * Runs built commands on nodes: transport → outcome check → classification → parse. Failures become
 * NodeCommandError carrying node, argv, exit code, stdout and stderr, classed retryable or permanent by
 * classify.ts; output that does not parse is a ParseError. Cluster mutations go through the cluster's
 * MutationQueue, so concurrent reconciles never race on glusterd's lock.
 */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** A NodeCommandError that also says which known failure it was (already-exists, lock-busy, ...). */
export class GlusterCommandError extends NodeCommandError {
  readonly reason: FailureReason;
  constructor(init: ConstructorParameters<typeof NodeCommandError>[0] & { reason: FailureReason }) {
    super(init);
    this.name = 'GlusterCommandError';
    this.reason = init.reason;
  }
}

export function failureReason(error: unknown): FailureReason | undefined {
  return error instanceof GlusterCommandError ? error.reason : undefined;
}

/** The `reason` label of a failed command's metric: a FailureReason, or what kind of error it was. A fixed set. */
export function commandFailureLabel(error: unknown): string {
  if (error instanceof GlusterCommandError) return error.reason;
  if (error instanceof TransportError) return 'transport';
  if (error instanceof HostKeyMismatchError) return 'host-key-mismatch';
  if (error instanceof ParseError) return 'parse';
  return 'other';
}

/**
 * Runs one command on one node, without queueing. Transport errors (unreachable, timeout) pass through.
 * Every run, failed or not, is timed in the operator's metrics (every command on a node comes through here).
 */
export async function runNodeCommand<T>(transport: Transport, node: NodeTarget, cmd: NodeCommand<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  const started = Date.now();
  try {
    const output = await runAndParse(transport, node, cmd, options);
    operatorMetrics.observeNodeCommand(node.name, cmd.argv, Date.now() - started);
    return output;
  } catch (error) {
    operatorMetrics.observeNodeCommand(node.name, cmd.argv, Date.now() - started, commandFailureLabel(error));
    throw error;
  }
}

async function runAndParse<T>(transport: Transport, node: NodeTarget, cmd: NodeCommand<T>, options: { timeoutMs?: number }): Promise<T> {
  const result = await transport.run(node, cmd.argv, { timeoutMs: options.timeoutMs ?? cmd.timeoutMs ?? DEFAULT_TIMEOUT_MS, ...(cmd.stdin !== undefined ? { stdin: cmd.stdin } : {}) });
  const fail = (message: string): never => {
    const { errorClass, reason } = classifyFailure(message);
    throw new GlusterCommandError({
      errorClass,
      reason,
      node: node.name,
      argv: cmd.argv,
      message,
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
    });
  };

  const okExitCodes = cmd.okExitCodes ?? [0];
  if (cmd.outcome === 'gluster-xml') {
    // Without XML on stdout (glusterd unreachable: "Connection failed..."), the exit code and text are all we have.
    if (!result.stdout.trimStart().startsWith('<')) {
      fail((result.stderr.trim() || result.stdout.trim() || `exit code ${result.exitCode} without output`).trim());
    }
    let envelope;
    try {
      envelope = parseCliEnvelope(result.stdout);
    } catch (error) {
      if (result.exitCode !== 0) fail(result.stderr.trim() || result.stdout.trim());
      throw error;
    }
    if (envelope.opRet !== 0) fail(envelope.opErrstr || `opRet ${envelope.opRet}, opErrno ${envelope.opErrno}`);
    if (result.exitCode !== 0) fail(result.stderr.trim() || `exit code ${result.exitCode} with opRet 0`);
  } else if (!okExitCodes.includes(result.exitCode)) {
    fail(result.stderr.trim() || result.stdout.trim() || `exit code ${result.exitCode}`);
  }
  try {
    return cmd.parse(result.stdout, result.exitCode, result.stderr);
  } catch (error) {
    if (error instanceof ParseError) throw error;
    throw new ParseError(cmd.argv.slice(0, 3).join(' '), result.stdout, error);
  }
}

/**
 * The executor of one Gluster cluster: one transport, one queue key. Queries run directly; mutations of
 * glusterd state queue behind each other. With a limiter, every command, query or mutation, also waits for
 * the cluster's rate limit; a mutation only once it holds its queue slot, so one waiting for the lock does not
 * stand in the limiter's line ahead of queries that could run (a retry inside the slot takes a token again).
 */
export class ClusterExecutor {
  readonly transport: Transport;
  readonly queue: MutationQueue;
  readonly clusterKey: string;
  readonly limiter: KeyedRateLimiter | undefined;

  constructor(init: { transport: Transport; queue: MutationQueue; clusterKey: string; limiter?: KeyedRateLimiter }) {
    this.transport = init.transport;
    this.queue = init.queue;
    this.clusterKey = init.clusterKey;
    this.limiter = init.limiter;
  }

  run<T>(node: NodeTarget, cmd: NodeCommand<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    const limited = () => {
      const send = () => runNodeCommand(this.transport, node, cmd, options);
      return this.limiter ? this.limiter.run(this.clusterKey, send) : send();
    };
    return cmd.mutatesCluster ? this.queue.run(this.clusterKey, limited) : limited();
  }
}
