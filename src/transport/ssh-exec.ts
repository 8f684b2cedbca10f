import { constants as osConstants } from 'node:os';
import type { Client, ClientChannel } from 'ssh2';
import { TransportError } from '../gluster/errors.ts';
import type { RunResult } from '../gluster/transport.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { OutputCollector, OutputLimitError } from './output-cap.ts';

/**
 * One command on an SSH connection, bounded in time and memory: a deadline from the moment the channel is
 * asked for (so a server that never answers the channel or the exec request cannot hold a run forever), and
 * an output cap (so one that floods cannot fill the operator's memory). Either ends the channel and signals
 * the remote command; its `timeout -s KILL` wrapper is the guarantee (see SshTransport.remoteCommand).
 */

export interface ExecRequest {
  node: string;
  argv: readonly string[];
  /** The quoted command line sent in the exec request. */
  command: string;
  stdin: string | Buffer | undefined;
  timeoutMs: number;
  /** When the remote wrapper kills the command at the latest, for the timeout message. */
  remoteKillAfterSeconds: number;
  maxOutputBytes: number;
}

/** The channel could not be opened, so the command never started: safe to retry on a fresh connection. */
export class ChannelOpenFailure extends Error {}

/** The server took the connection but did not answer the channel or exec request in time: drop the connection. */
export class ExecUnansweredError extends TransportError {
  constructor(init: { node: string; argv: readonly string[]; timeoutMs: number }) {
    super({
      ...init,
      message: `the SSH server did not answer the exec request within ${init.timeoutMs} ms; the connection is dropped and the next run opens a new one`,
    });
    this.name = 'ExecUnansweredError';
  }
}

export function execOnChannel(client: Client, request: ExecRequest): Promise<RunResult> {
  const { node, argv, timeoutMs } = request;
  return new Promise<RunResult>((resolve, reject) => {
    let channel: ClientChannel | undefined;
    let settled = false;
    const output = new OutputCollector(request.maxOutputBytes);
    let exitCode: number | undefined;
    let exitSignal: string | undefined;

    /** Ends the command early: TERM for `timeout` to forward, then the channel closed (SIGPIPE for a flood). */
    const abandon = (error: Error) => {
      settled = true;
      clearTimeout(timer);
      if (channel) {
        // Best effort only: OpenSSH refuses signal requests for some sessions ("session signalling requires
        // privilege separation", seen with root logins on OpenSSH 9.2). The remote `timeout -s KILL` is the guarantee.
        signalChannel(channel, 'TERM');
        channel.close();
      }
      reject(error);
    };

    const timer = setTimeout(() => {
      if (!channel) return abandon(new ExecUnansweredError({ node, argv, timeoutMs }));
      abandon(
        new TransportError({
          node,
          argv,
          message: `timed out after ${timeoutMs} ms; the remote command is killed on the node ${request.remoteKillAfterSeconds} s after it started at the latest`,
        }),
      );
    }, timeoutMs);

    const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      if (settled || output.add(stream, chunk)) return;
      abandon(new OutputLimitError({ node, argv, collector: output, ended: 'the channel was closed and the remote command signalled' }));
    };

    const started = (error: Error | undefined, opened: ClientChannel) => {
      if (settled) {
        // Answered after the deadline: nobody waits for this command any more.
        opened?.close();
        return;
      }
      if (error) {
        settled = true;
        clearTimeout(timer);
        reject(new ChannelOpenFailure(error.message));
        return;
      }
      channel = opened;
      opened.on('data', collect('stdout'));
      opened.stderr.on('data', collect('stderr'));
      opened.on('exit', (code: number | null, signal?: string) => {
        if (typeof code === 'number') exitCode = code;
        else exitSignal = signal;
      });
      opened.on('close', () => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        const out = output.text();
        if (exitCode !== undefined) return resolve({ exitCode, ...out });
        // Killed by a signal on the remote side: report it the way a shell would (128 + signal number).
        if (exitSignal !== undefined) return resolve({ exitCode: 128 + signalNumber(exitSignal), ...out, stderr: out.stderr || `killed by ${exitSignal}` });
        reject(new TransportError({ node, argv, message: 'the SSH connection closed before the command reported an exit status' }));
      });
      // Always end stdin, so a command that reads it sees EOF instead of waiting forever.
      if (request.stdin === undefined) opened.end();
      else opened.end(request.stdin);
    };
    try {
      client.exec(request.command, started);
    } catch (error) {
      // ssh2 throws "Not connected" synchronously when the socket is already gone.
      settled = true;
      clearTimeout(timer);
      reject(new ChannelOpenFailure(errorMessage(error)));
    }
  });
}

/**
 * ssh2's Channel.signal() is a no-op once stdin has been ended (it checks `writable`), yet every run ends
 * stdin. The SSH protocol allows channel requests after EOF, so go one level down when the public call cannot.
 */
function signalChannel(channel: ClientChannel, name: string): void {
  const internals = channel as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal?: (id: number, signal: string) => void } };
  };
  const outgoing = internals.outgoing;
  const protocol = internals._client?._protocol;
  if (!outgoing || (outgoing.state !== 'open' && outgoing.state !== 'eof') || typeof protocol?.signal !== 'function') return;
  try {
    protocol.signal(outgoing.id, name);
  } catch {
    // Best effort: the remote `timeout` is the guarantee.
  }
}

function signalNumber(signal: string): number {
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as keyof typeof osConstants.signals;
  return osConstants.signals[name] ?? 0;
}
