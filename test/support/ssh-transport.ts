import { TransportError } from '../../src/gluster/errors.ts';
import type { NodeTarget, RunOptions, RunResult, Transport } from '../../src/gluster/transport.ts';
import { sshRun } from './ssh.ts';

/**
 * A test-only Transport over the test bed's SSH helper (one connection per command), so the command layer
 * can be proven against real glusterd before the operator's pooled SSH transport (src/transport/ssh.ts)
 * is wired in. Follows the contract: a non-zero exit is a result; only "could not run" throws.
 */
export class TestbedSshTransport implements Transport {
  async run(node: NodeTarget, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (options.stdin !== undefined) throw new Error('TestbedSshTransport does not support stdin');
    try {
      const result = await sshRun(node.manageAddress, [...argv], options.timeoutMs ?? 60_000);
      return { exitCode: result.code, stdout: result.stdout, stderr: result.stderr };
    } catch (error) {
      throw new TransportError({ node: node.name, argv, message: error instanceof Error ? error.message : String(error), cause: error });
    }
  }

  async close(): Promise<void> {}
}
