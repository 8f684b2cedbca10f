/**
 * A command to run on one node: the argv (never a shell string), how to read its success output, and
 * whether it changes glusterd's cluster state (then it must go through the cluster's MutationQueue).
 * Builders of commands are pure functions; only the executor touches a Transport.
 */
export interface NodeCommand<T> {
  argv: readonly string[];
  /**
   * How success is reported. 'gluster-xml': `gluster --xml` exits 0 even when the operation failed, so the
   * <opRet> of its output decides; 'exit-code': the exit code decides.
   */
  outcome: 'gluster-xml' | 'exit-code';
  /** glusterd cluster-state mutations are serialized per cluster. */
  mutatesCluster: boolean;
  /** Exit codes that still mean success for this command (findmnt exits 1 when nothing is mounted). */
  okExitCodes?: readonly number[];
  /** Reads the output of a successful run (stderr for an ok exit code that still says why); throws ParseError on anything unexpected. */
  parse(stdout: string, exitCode: number, stderr?: string): T;
  /** Default per-command timeout; rebalance/heal queries on big volumes take longer than probes. */
  timeoutMs?: number;
  /** What the command reads on stdin (a file's content: never part of the argv, so never in logs or ps). */
  stdin?: string;
}

export function command<T>(init: NodeCommand<T>): NodeCommand<T> {
  return init;
}

/** Success output we do not need (mkdir, chmod, umount): nothing to parse. */
export const ignoreOutput = (): void => undefined;
