/**
 * How a command reaches a Gluster node. Commands are argv arrays end to end; a transport that must go
 * through a shell (SSH) quotes them with the one quoting function in shell-quote.ts. Transports never
 * interpret exit codes: a non-zero exit is a RunResult, and callers (the command layer) decide what it means.
 * A transport throws only when the command could not run or finish: unreachable node, timeout, host-key
 * mismatch (see errors.ts).
 */
export interface NodeTarget {
  /** Stable name for logs, errors and per-node state (the GlusterNode name). */
  name: string;
  /** Where commands go: SSH host for external nodes, Kubernetes node name for in-cluster ones. */
  manageAddress: string;
}

export interface RunOptions {
  stdin?: string | Buffer;
  /** Ends the command (also on the remote side) when exceeded; the run rejects with a retryable error. */
  timeoutMs?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Transport {
  run(node: NodeTarget, argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Closes pooled connections; runs after close reconnect. */
  close(): Promise<void>;
}
