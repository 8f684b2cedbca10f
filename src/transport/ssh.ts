import { Client } from 'ssh2';
import { z } from 'zod';
import { TransportError } from '../gluster/errors.ts';
import type { NodeTarget, RunOptions, RunResult, Transport } from '../gluster/transport.ts';
import { errorMessage } from '../runtime/error-message.ts';
import type { HostKeyExpectation, HostKeyExpectations } from './host-key-expectations.ts';
import { HostKeyConflictError, sshFingerprint, type HostKeyPlace, type HostKeyStore } from './host-key-store.ts';
import { HostKeyRefusedError, decideHostKey, hostKeyAlgorithms, type HostKeyDecision } from './host-key-trust.ts';
import { Semaphore } from './limiter.ts';
import { COMMAND_OUTPUT_MAX_BYTES } from './output-cap.ts';
import { ChannelOpenFailure, ExecUnansweredError, execOnChannel } from './ssh-exec.ts';
import { quoteShellArgv } from './shell-quote.ts';

/**
 * heketi's "ssh" executor, done so it survives production: one pooled connection per node (a handshake costs
 * more than most gluster commands), keep-alives so a dead peer is noticed, transparent reconnect, a per-node
 * channel limit under sshd's MaxSessions, host keys checked against the node's spec or pinned on first use
 * in a HostKeyStore (host-key-trust.ts), and every run bounded in time and output (ssh-exec.ts).
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
  /** Where keys are pinned on first use, for nodes whose expectation names no key. */
  hostKeys: HostKeyStore;
  /**
   * What each node's own object says about its key, read before each handshake: the operator reads
   * GlusterNode spec.sshHostKey (host-key-expectations.ts). None: every node is trusted on first use.
   */
  hostKeyExpectations?: HostKeyExpectations;
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
  /** stdout and stderr bytes one command may print before it is ended (output-cap.ts). */
  maxOutputBytes?: number;
  /**
   * A connection older than this takes no new runs (those in flight finish on it) and the next run
   * handshakes again: a key set in spec.sshHostKey, or a pin removed, applies within this time.
   */
  maxConnectionAgeMs?: number;
  /** Called after each successful handshake; for metrics, logs and tests that count connections. */
  onConnect?: (event: { node: string; address: string; localPort: number | undefined }) => void;
  /** Called when a pooled connection goes away (error, keep-alive failure, server restart, age). */
  onDisconnect?: (event: { node: string; address: string; reason: string }) => void;
}

const optionsSchema = z.object({
  maxChannelsPerNode: z.number().int().min(1).max(64).default(8),
  keepaliveIntervalMs: z.number().int().min(0).default(15_000),
  keepaliveCountMax: z.number().int().min(1).default(3),
  defaultTimeoutMs: z.number().int().min(1).default(300_000),
  remoteKillGraceMs: z.number().int().min(0).default(2_000),
  maxOutputBytes: z.number().int().min(1).default(COMMAND_OUTPUT_MAX_BYTES),
  maxConnectionAgeMs: z.number().int().min(0).default(600_000),
});

type Refusal = Extract<HostKeyDecision, { kind: 'refuse' }>;

/** Why a connection could not be made; turned into the contract's errors per run (each has its own argv). */
class ConnectFailure extends Error {
  readonly refusal: Refusal | undefined;
  constructor(message: string, refusal?: Refusal, cause?: unknown) {
    super(message, { cause });
    this.refusal = refusal;
  }
}

interface NodeConnection {
  address: string;
  limiter: Semaphore;
  client: Client | undefined;
  /** When `client` became ready. */
  since: number;
  connecting: Promise<Client> | undefined;
}

export class SshTransport implements Transport {
  readonly #access: z.output<typeof sshAccessSchema>;
  readonly #hostKeys: HostKeyStore;
  readonly #expectations: HostKeyExpectations | undefined;
  readonly #options: z.output<typeof optionsSchema>;
  readonly #onConnect: SshTransportOptions['onConnect'];
  readonly #onDisconnect: SshTransportOptions['onDisconnect'];
  readonly #nodes = new Map<string, NodeConnection>();
  /** Runs in flight per connection, so a retired connection is ended only once its last run is done. */
  readonly #inFlight = new Map<Client, number>();
  readonly #retired = new Set<Client>();

  constructor(options: SshTransportOptions) {
    this.#access = sshAccessSchema.parse(options.access);
    this.#hostKeys = options.hostKeys;
    this.#expectations = options.hostKeyExpectations;
    this.#options = optionsSchema.parse({
      maxChannelsPerNode: options.maxChannelsPerNode,
      keepaliveIntervalMs: options.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax,
      defaultTimeoutMs: options.defaultTimeoutMs,
      remoteKillGraceMs: options.remoteKillGraceMs,
      maxOutputBytes: options.maxOutputBytes,
      maxConnectionAgeMs: options.maxConnectionAgeMs,
    });
    this.#onConnect = options.onConnect;
    this.#onDisconnect = options.onDisconnect;
  }

  /** The exact string sent in the SSH exec request for argv (sudo and the remote timeout included). */
  remoteCommand(argv: readonly string[], timeoutMs: number): string {
    const wrapped = ['timeout', '-s', 'KILL', `${this.#remoteKillAfterSeconds(timeoutMs)}s`, ...argv];
    // sudo outside timeout: a non-root timeout could not kill a command sudo made root.
    return quoteShellArgv(this.#access.sudo ? ['sudo', '-n', '--', ...wrapped] : wrapped);
  }

  #remoteKillAfterSeconds(timeoutMs: number): number {
    return Math.ceil((timeoutMs + this.#options.remoteKillGraceMs) / 1000);
  }

  /** Channels running and runs waiting on node, for tests and metrics. */
  load(node: string): { active: number; queued: number } {
    const entry = this.#nodes.get(node);
    return { active: entry?.limiter.active ?? 0, queued: entry?.limiter.queued ?? 0 };
  }

  async run(node: NodeTarget, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const timeoutMs = options.timeoutMs ?? this.#options.defaultTimeoutMs;
    const request = {
      node: node.name,
      argv,
      command: this.remoteCommand(argv, timeoutMs),
      stdin: options.stdin,
      timeoutMs,
      remoteKillAfterSeconds: this.#remoteKillAfterSeconds(timeoutMs),
      maxOutputBytes: this.#options.maxOutputBytes,
    };
    const entry = this.#entry(node);
    const release = await entry.limiter.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        const client = await this.#connection(node, entry, argv);
        this.#inFlight.set(client, (this.#inFlight.get(client) ?? 0) + 1);
        try {
          return await execOnChannel(client, request);
        } catch (error) {
          if (error instanceof ExecUnansweredError) this.#drop(node.name, entry, client, error.message);
          if (!(error instanceof ChannelOpenFailure)) throw error;
          // The connection died between our last use and this one (server restart, idle drop noticed late):
          // the command never started, so one retry on a fresh connection is safe and invisible to callers.
          this.#drop(node.name, entry, client, error.message);
          if (attempt >= 1) throw new TransportError({ node: node.name, argv, message: `cannot open an SSH channel: ${error.message}`, cause: error });
        } finally {
          this.#runDone(client);
        }
      }
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    const entries = [...this.#nodes.entries()];
    this.#nodes.clear();
    for (const client of this.#retired) client.end();
    this.#retired.clear();
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
      if (entry.client) this.#retire(entry.client);
      entry.client = undefined;
      entry.connecting = undefined;
      entry.address = node.manageAddress;
    }
    if (!entry) {
      entry = { address: node.manageAddress, limiter: new Semaphore(this.#options.maxChannelsPerNode), client: undefined, since: 0, connecting: undefined };
      this.#nodes.set(node.name, entry);
    }
    return entry;
  }

  #place(entry: NodeConnection): HostKeyPlace {
    return { address: entry.address, port: this.#access.port };
  }

  #where(entry: NodeConnection): string {
    return `${this.#access.user}@${entry.address}:${this.#access.port}`;
  }

  async #connection(node: NodeTarget, entry: NodeConnection, argv: readonly string[]): Promise<Client> {
    if (entry.client && Date.now() - entry.since >= this.#options.maxConnectionAgeMs) {
      // Old enough that what the key was checked against may have changed: the next run checks again.
      this.#onDisconnect?.({ node: node.name, address: entry.address, reason: `connection older than ${this.#options.maxConnectionAgeMs} ms retired` });
      this.#retire(entry.client);
      entry.client = undefined;
    }
    if (entry.client) return entry.client;
    // Concurrent runs share one handshake (and one trust-on-first-use decision).
    entry.connecting ??= this.#connect(node.name, entry);
    const connecting = entry.connecting;
    try {
      const client = await connecting;
      if (entry.connecting === connecting) {
        entry.client = client;
        entry.since = Date.now();
        entry.connecting = undefined;
      }
      return client;
    } catch (error) {
      if (entry.connecting === connecting) entry.connecting = undefined;
      if (error instanceof ConnectFailure && error.refusal) {
        const place = this.#place(entry);
        throw new HostKeyRefusedError({ node: node.name, argv, refusal: error.refusal, where: this.#where(entry), storeEntry: this.#hostKeys.describe?.(node.name, place) });
      }
      throw new TransportError({ node: node.name, argv, message: errorMessage(error), cause: error });
    }
  }

  async #connect(name: string, entry: NodeConnection): Promise<Client> {
    const expectation = await this.#expectation({ name, manageAddress: entry.address });
    return this.#handshake(name, entry, expectation);
  }

  /** The node's expectation, under the connect timeout: a hanging apiserver must not hold the run either. */
  async #expectation(node: NodeTarget): Promise<HostKeyExpectation> {
    if (!this.#expectations) return {};
    const seconds = this.#access.connectTimeoutSeconds;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${seconds} s`)), seconds * 1000);
    });
    try {
      return await Promise.race([this.#expectations(node), deadline]);
    } catch (error) {
      throw new ConnectFailure(`cannot read which SSH host key ${node.name} must show: ${errorMessage(error)}`, undefined, error);
    } finally {
      clearTimeout(timer);
    }
  }

  #handshake(name: string, entry: NodeConnection, expectation: HostKeyExpectation): Promise<Client> {
    const { address } = entry;
    const where = this.#where(entry);
    const place = this.#place(entry);
    const client = new Client();
    let refusal: Refusal | undefined;
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
          if (refusal) reject(new ConnectFailure('host key refused', refusal));
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
          // Covers the whole handshake, host key check and authentication included: a server that accepts the
          // connection and then says nothing costs this long.
          readyTimeout: this.#access.connectTimeoutSeconds * 1000,
          keepaliveInterval: this.#options.keepaliveIntervalMs,
          keepaliveCountMax: this.#options.keepaliveCountMax,
          algorithms: { serverHostKey: hostKeyAlgorithms(expectation.expected?.keyType) },
          // Raw key blob in, OpenSSH-style SHA256 fingerprint decided on (host-key-trust.ts).
          hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
            this.#judgeHostKey(name, place, sshFingerprint(key), expectation).then(
              (decision) => {
                if (decision.kind === 'refuse') refusal = decision;
                verify(decision.kind !== 'refuse');
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

  /** Observe (the store, unless the spec names the key), decide, and pin when the decision says so. */
  async #judgeHostKey(name: string, place: HostKeyPlace, offered: string, expectation: HostKeyExpectation): Promise<HostKeyDecision> {
    const world = { offered, expected: expectation.expected?.fingerprint, legacyPinned: expectation.legacyPinned };
    // A key the spec names is the whole answer: the store is neither read nor written.
    const pinned = world.expected === undefined ? await this.#hostKeys.get(name, place) : undefined;
    const decision = decideHostKey({ ...world, pinned });
    if (decision.kind !== 'pin') return decision;
    try {
      await this.#hostKeys.pin(name, offered, place, decision.carriedOver ? 'carried-over-from-status' : 'first-use');
      return decision;
    } catch (error) {
      if (!(error instanceof HostKeyConflictError)) throw error;
      // Someone pinned between our get and pin: theirs counts.
      const again = decideHostKey({ ...world, pinned: await this.#hostKeys.get(name, place) });
      if (again.kind === 'pin') throw new Error(`the host key store reported a conflicting pin for ${name} but holds none`, { cause: error });
      return again;
    }
  }

  #drop(name: string, entry: NodeConnection, client: Client, reason: string): void {
    if (entry.client !== client) return;
    entry.client = undefined;
    client.end();
    this.#onDisconnect?.({ node: name, address: entry.address, reason });
  }

  /** No new runs on client; ended now if idle, else when its last run is done. */
  #retire(client: Client): void {
    if ((this.#inFlight.get(client) ?? 0) === 0) client.end();
    else this.#retired.add(client);
  }

  #runDone(client: Client): void {
    const left = (this.#inFlight.get(client) ?? 1) - 1;
    if (left > 0) {
      this.#inFlight.set(client, left);
      return;
    }
    this.#inFlight.delete(client);
    if (this.#retired.delete(client)) client.end();
  }
}
