import { constants as osConstants } from 'node:os';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { z } from 'zod';
import { HostKeyMismatchError, TransportError } from '../gluster/errors.ts';
import type { NodeTarget, RunOptions, RunResult, Transport } from '../gluster/transport.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { HostKeyConflictError, sshFingerprint, type HostKeyStore } from './host-key-store.ts';
import { Semaphore } from './limiter.ts';
import { quoteShellArgv } from './shell-quote.ts';

/**
 * heketi's "ssh" executor, done so it survives production: one pooled connection per node (a handshake costs
 * more than most gluster commands), keep-alives so a dead peer is noticed, transparent reconnect, a per-node
 * channel limit under sshd's MaxSessions, trust-on-first-use host keys pinned in a HostKeyStore, and
 * timeouts that also end the remote command.
 */

/** What `spec.access.external` of a GlusterCluster gives, with the key bytes already read from its Secret. */
export const sshAccessSchema = z.object({
  privateKey: z.union([z.string().min(1), z.instanceof(Buffer)]),
  passphrase: z.string().optional(),
  user: z.string().min(1).max(32).default('root'),
  port: z.number().int().min(1).max(65535).default(22),
  sudo: z.boolean().default(false),
  connectTimeoutSeconds: z.number().int().min(1).max(300).default(10),
});
export type SshAccess = z.input<typeof sshAccessSchema>;

export interface SshTransportOptions {
  access: SshAccess;
  hostKeys: HostKeyStore;
  /** Channels open at once on one node's connection; more runs wait. Stay below sshd's MaxSessions (10). */
  maxChannelsPerNode?: number;
  keepaliveIntervalMs?: number;
  /** Unanswered keep-alives before the connection counts as dead and is dropped. */
  keepaliveCountMax?: number;
  /** Used when a run gives no timeoutMs: nothing may hang forever. */
  defaultTimeoutMs?: number;
  /**
   * The remote command runs under `timeout -s KILL` set this much later than the local deadline: a backstop
   * for when the signal sent at the local deadline is lost (connection gone, sshd without signal support).
   * Later rather than equal, so a command is never killed remotely while we still wait for its result.
   */
  remoteKillGraceMs?: number;
  /** Called after each successful handshake; for metrics, logs and tests that count connections. */
  onConnect?: (event: { node: string; address: string; localPort: number | undefined }) => void;
  /** Called when a pooled connection goes away (error, keep-alive failure, server restart). */
  onDisconnect?: (event: { node: string; address: string; reason: string }) => void;
}

const optionsSchema = z.object({
  maxChannelsPerNode: z.number().int().min(1).max(64).default(8),
  keepaliveIntervalMs: z.number().int().min(0).default(15_000),
  keepaliveCountMax: z.number().int().min(1).default(3),
  defaultTimeoutMs: z.number().int().min(1).default(300_000),
  remoteKillGraceMs: z.number().int().min(0).default(2_000),
});

/**
 * Fixed preference order: ssh2's defaults may change between releases, and a server with several host keys
 * would then show another (pinned-as-wrong) key. ed25519 first, as OpenSSH does.
 */
const HOST_KEY_ALGORITHMS: NonNullable<NonNullable<ConnectConfig['algorithms']>['serverHostKey']> = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Why a connection could not be made; turned into the contract's errors per run (each has its own argv). */
class ConnectFailure extends Error {
  readonly mismatch: { expected: string; actual: string } | undefined;
  constructor(message: string, mismatch?: { expected: string; actual: string }, cause?: unknown) {
    super(message, { cause });
    this.mismatch = mismatch;
  }
}

/** The channel could not be opened, so the command never started: safe to retry on a fresh connection. */
class ChannelOpenFailure extends Error {}

interface NodeConnection {
  address: string;
  limiter: Semaphore;
  client: Client | undefined;
  connecting: Promise<Client> | undefined;
}

export class SshTransport implements Transport {
  readonly #access: z.output<typeof sshAccessSchema>;
  readonly #hostKeys: HostKeyStore;
  readonly #options: z.output<typeof optionsSchema>;
  readonly #onConnect: SshTransportOptions['onConnect'];
  readonly #onDisconnect: SshTransportOptions['onDisconnect'];
  readonly #nodes = new Map<string, NodeConnection>();

  constructor(options: SshTransportOptions) {
    this.#access = sshAccessSchema.parse(options.access);
    this.#hostKeys = options.hostKeys;
    this.#options = optionsSchema.parse({
      maxChannelsPerNode: options.maxChannelsPerNode,
      keepaliveIntervalMs: options.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax,
      defaultTimeoutMs: options.defaultTimeoutMs,
      remoteKillGraceMs: options.remoteKillGraceMs,
    });
    this.#onConnect = options.onConnect;
    this.#onDisconnect = options.onDisconnect;
  }

  /** The exact string sent in the SSH exec request for argv (sudo and the remote timeout included). */
  remoteCommand(argv: readonly string[], timeoutMs: number): string {
    const killAfterSeconds = Math.ceil((timeoutMs + this.#options.remoteKillGraceMs) / 1000);
    const wrapped = ['timeout', '-s', 'KILL', `${killAfterSeconds}s`, ...argv];
    // sudo outside timeout: a non-root timeout could not kill a command sudo made root.
    return quoteShellArgv(this.#access.sudo ? ['sudo', '-n', '--', ...wrapped] : wrapped);
  }

  /** Channels running and runs waiting on node, for tests and metrics. */
  load(node: string): { active: number; queued: number } {
    const entry = this.#nodes.get(node);
    return { active: entry?.limiter.active ?? 0, queued: entry?.limiter.queued ?? 0 };
  }

  async run(node: NodeTarget, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const timeoutMs = options.timeoutMs ?? this.#options.defaultTimeoutMs;
    const command = this.remoteCommand(argv, timeoutMs);
    const entry = this.#entry(node);
    const release = await entry.limiter.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        const client = await this.#connection(node, entry, argv);
        try {
          return await this.#exec(client, node, argv, command, options.stdin, timeoutMs);
        } catch (error) {
          if (!(error instanceof ChannelOpenFailure)) throw error;
          // The connection died between our last use and this one (server restart, idle drop noticed late):
          // the command never started, so one retry on a fresh connection is safe and invisible to callers.
          this.#drop(node.name, entry, client, error.message);
          if (attempt >= 1) throw new TransportError({ node: node.name, argv, message: `cannot open an SSH channel: ${error.message}`, cause: error });
        }
      }
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    const entries = [...this.#nodes.entries()];
    this.#nodes.clear();
    await Promise.all(
      entries.map(async ([, entry]) => {
        const client = entry.client ?? (await entry.connecting?.catch(() => undefined));
        entry.client = undefined;
        entry.connecting = undefined;
        client?.end();
      }),
    );
  }

  #entry(node: NodeTarget): NodeConnection {
    let entry = this.#nodes.get(node.name);
    if (entry && entry.address !== node.manageAddress) {
      // The node moved: later runs go to the new address; runs in flight finish on the old connection.
      entry.client?.end();
      entry.client = undefined;
      entry.connecting = undefined;
      entry.address = node.manageAddress;
    }
    if (!entry) {
      entry = { address: node.manageAddress, limiter: new Semaphore(this.#options.maxChannelsPerNode), client: undefined, connecting: undefined };
      this.#nodes.set(node.name, entry);
    }
    return entry;
  }

  async #connection(node: NodeTarget, entry: NodeConnection, argv: readonly string[]): Promise<Client> {
    if (entry.client) return entry.client;
    // Concurrent runs share one handshake (and one trust-on-first-use decision).
    entry.connecting ??= this.#connect(node.name, entry);
    const connecting = entry.connecting;
    try {
      const client = await connecting;
      if (entry.connecting === connecting) {
        entry.client = client;
        entry.connecting = undefined;
      }
      return client;
    } catch (error) {
      if (entry.connecting === connecting) entry.connecting = undefined;
      if (error instanceof ConnectFailure && error.mismatch) {
        throw new HostKeyMismatchError({ node: node.name, argv, ...error.mismatch });
      }
      const message = errorMessage(error);
      throw new TransportError({ node: node.name, argv, message, cause: error });
    }
  }

  #connect(name: string, entry: NodeConnection): Promise<Client> {
    const { address } = entry;
    const where = `${this.#access.user}@${address}:${this.#access.port}`;
    const client = new Client();
    let mismatch: { expected: string; actual: string } | undefined;
    let verifyError: unknown;

    return new Promise<Client>((resolve, reject) => {
      let ready = false;
      client.on('ready', () => {
        ready = true;
        const socket = (client as unknown as { _sock?: { localPort?: number } })._sock;
        this.#onConnect?.({ node: name, address, localPort: socket?.localPort });
        resolve(client);
      });
      client.on('error', (error: Error) => {
        if (!ready) {
          if (mismatch) reject(new ConnectFailure('host key mismatch', mismatch));
          else if (verifyError) reject(new ConnectFailure(`cannot verify the host key of ${where}: ${errorMessage(verifyError)}`, undefined, verifyError));
          else reject(new ConnectFailure(`cannot connect to ${where}: ${error.message}`, undefined, error));
          return;
        }
        // After the handshake an error always ends the connection; 'close' follows and drops it.
        this.#drop(name, entry, client, error.message);
      });
      client.on('close', () => {
        if (!ready) reject(new ConnectFailure(`connection to ${where} closed during the handshake`));
        this.#drop(name, entry, client, 'connection closed');
      });

      try {
        client.connect({
          host: address,
          port: this.#access.port,
          username: this.#access.user,
          privateKey: this.#access.privateKey,
          ...(this.#access.passphrase === undefined ? {} : { passphrase: this.#access.passphrase }),
          readyTimeout: this.#access.connectTimeoutSeconds * 1000,
          keepaliveInterval: this.#options.keepaliveIntervalMs,
          keepaliveCountMax: this.#options.keepaliveCountMax,
          algorithms: { serverHostKey: HOST_KEY_ALGORITHMS },
          // Raw key blob in, OpenSSH-style SHA256 fingerprint compared; accepted only once pinned.
          hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
            const actual = sshFingerprint(key);
            this.#verifyHostKey(name, actual).then(
              (expected) => {
                if (expected !== actual) mismatch = { expected, actual };
                verify(expected === actual);
              },
              (error: unknown) => {
                verifyError = error;
                verify(false);
              },
            );
          },
        });
        // Nagle's algorithm holds back the second small write of a packet until the server ACKs the first,
        // and the server delays that ACK (~40 ms): measured on every command before this. ssh2 creates its
        // socket inside connect(), so it exists here; Node applies the option once the socket connects.
        client.setNoDelay(true);
      } catch (error) {
        // Synchronous config errors, e.g. a private key that does not parse: permanent in practice, but the
        // contract only knows "could not run", so it is a TransportError with the reason in the message.
        reject(new ConnectFailure(`cannot connect to ${where}: ${errorMessage(error)}`, undefined, error));
      }
    });
  }

  /** Returns the fingerprint the node must have: the pinned one, or `actual` once it has been pinned. */
  async #verifyHostKey(name: string, actual: string): Promise<string> {
    const pinned = await this.#hostKeys.get(name);
    if (pinned !== undefined) return pinned;
    try {
      await this.#hostKeys.pin(name, actual);
      return actual;
    } catch (error) {
      // Someone pinned between our get and pin: theirs counts.
      if (error instanceof HostKeyConflictError) return (await this.#hostKeys.get(name)) ?? actual;
      throw error;
    }
  }

  #drop(name: string, entry: NodeConnection, client: Client, reason: string): void {
    if (entry.client !== client) return;
    entry.client = undefined;
    client.end();
    this.#onDisconnect?.({ node: name, address: entry.address, reason });
  }

  #exec(client: Client, node: NodeTarget, argv: readonly string[], command: string, stdin: string | Buffer | undefined, timeoutMs: number): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      const started = (error: Error | undefined, channel: ClientChannel) => {
        if (error) {
          reject(new ChannelOpenFailure(error.message));
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let exitCode: number | undefined;
        let exitSignal: string | undefined;
        let settled = false;

        const timer = setTimeout(() => {
          settled = true;
          // TERM would reach `timeout`, which forwards it to the command's process group. Best effort only:
          // OpenSSH refuses signal requests for some sessions ("session signalling requires privilege
          // separation", seen with root logins on OpenSSH 9.2). The remote `timeout -s KILL` is the guarantee.
          signalChannel(channel, 'TERM');
          channel.close();
          reject(
            new TransportError({
              node: node.name,
              argv,
              message: `timed out after ${timeoutMs} ms; the remote command is killed on the node ${Math.ceil((timeoutMs + this.#options.remoteKillGraceMs) / 1000)} s after it started at the latest`,
            }),
          );
        }, timeoutMs);

        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('exit', (code: number | null, signal?: string) => {
          if (typeof code === 'number') exitCode = code;
          else exitSignal = signal;
        });
        channel.on('close', () => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          const out = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
          if (exitCode !== undefined) return resolve({ exitCode, ...out });
          // Killed by a signal on the remote side: report it the way a shell would (128 + signal number).
          if (exitSignal !== undefined) return resolve({ exitCode: 128 + signalNumber(exitSignal), ...out, stderr: out.stderr || `killed by ${exitSignal}` });
          reject(new TransportError({ node: node.name, argv, message: 'the SSH connection closed before the command reported an exit status' }));
        });
        // Always end stdin, so a command that reads it sees EOF instead of waiting forever.
        if (stdin === undefined) channel.end();
        else channel.end(stdin);
      };
      try {
        client.exec(command, started);
      } catch (error) {
        // ssh2 throws "Not connected" synchronously when the socket is already gone.
        reject(new ChannelOpenFailure(errorMessage(error)));
      }
    });
  }
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

