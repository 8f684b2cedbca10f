import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { constants } from 'node:os';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A fake of the two Kubernetes API endpoints the exec transport uses, speaking the real wire protocols, so the
 * transport is tested through @kubernetes/client-node's own Exec and CoreV1Api code:
 *
 * - `GET /api/v1/namespaces/<ns>/pods?labelSelector=..&fieldSelector=..`: a PodList filtered like the apiserver
 *   (equality label terms, `spec.nodeName=`).
 * - `GET /api/v1/namespaces/<ns>/pods/<pod>/exec?command=..&command=..` upgraded to a WebSocket with subprotocol
 *   v5.channel.k8s.io or v4.channel.k8s.io: every frame starts with a channel byte (0 stdin, 1 stdout,
 *   2 stderr, 3 status as a metav1.Status JSON; v5 adds 255 = "close channel N", used for stdin EOF).
 *   The argv from the repeated `command` parameters is really run (spawn, no shell), so tests prove it
 *   arrives exactly.
 *
 * Like kubelet, closing the stream does not kill the process: only the command's own deadline can.
 */
export interface FakePod {
  namespace: string;
  name: string;
  nodeName: string;
  labels: Record<string, string>;
  phase?: string;
  ready?: boolean;
  container?: string;
  deleting?: boolean;
}

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  argv: string[];
  stdin: boolean;
  protocol: string;
}

export interface ExecServerOptions {
  pods?: FakePod[];
  /** Bearer token every request must carry (proves the KubeConfig's credentials are applied). */
  token?: string;
  /** Offer only these subprotocols, in preference order (e.g. ['v4.channel.k8s.io'] to model an old kubelet). */
  protocols?: string[];
  /** Serve HTTPS with this certificate (client-node refuses plain HTTP unless TLS verification is off). */
  tls?: TlsIdentity;
}

export interface TlsIdentity {
  cert: string;
  key: string;
}

/** A self-signed certificate for 127.0.0.1, made with openssl; it is its own CA. */
export function selfSignedCertificate(): TlsIdentity {
  const dir = mkdtempSync(join(tmpdir(), 'exec-server-tls-'));
  try {
    const result = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=fake-apiserver',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;

export class ExecServer {
  readonly pods: FakePod[];
  readonly requests: ExecRequest[] = [];
  readonly #token: string | undefined;
  readonly #protocols: string[];
  readonly #server: Server;
  readonly #scheme: 'http' | 'https';
  readonly #wss: WebSocketServer;
  readonly #children = new Set<ChildProcess>();

  private constructor(options: ExecServerOptions) {
    this.pods = options.pods ?? [];
    this.#token = options.token;
    this.#protocols = options.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
    const handler = (request: IncomingMessage, response: ServerResponse) => this.#http(request, response);
    this.#scheme = options.tls ? 'https' : 'http';
    this.#server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createServer(handler);
    this.#wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered) => this.#protocols.find((protocol) => offered.has(protocol)) ?? false,
    });
    this.#server.on('upgrade', (request, socket, head) => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
      const reject = (code: number, text: string) => {
        socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      };
      if (!this.#authorized(request)) return reject(401, 'Unauthorized');
      if (!match) return reject(404, 'Not Found');
      const [, namespace, podName] = match as unknown as [string, string, string];
      const pod = this.pods.find((p) => p.namespace === namespace && p.name === podName);
      if (!pod) return reject(404, 'Not Found');
      this.#wss.handleUpgrade(request, socket, head, (ws) => this.#exec(ws, pod, url));
    });
  }

  static async start(options: ExecServerOptions = {}): Promise<ExecServer> {
    const server = new ExecServer(options);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  get url(): string {
    const address = this.#server.address() as AddressInfo;
    return `${this.#scheme}://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    for (const child of this.#children) child.kill('SIGKILL');
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #authorized(request: IncomingMessage): boolean {
    return this.#token === undefined || request.headers.authorization === `Bearer ${this.#token}`;
  }

  #http(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://fake');
    const send = (code: number, body: unknown) => {
      response.writeHead(code, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (!this.#authorized(request)) return send(401, status('Failure', 'Unauthorized', 'Unauthorized', 401));
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    if (request.method !== 'GET' || !match) return send(404, status('Failure', 'NotFound', `${url.pathname} not found`, 404));
    const namespace = match[1];
    const labelTerms = (url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean);
    const fieldTerms = (url.searchParams.get('fieldSelector') ?? '').split(',').filter(Boolean);
    const items = this.pods
      .filter((pod) => pod.namespace === namespace)
      .filter((pod) =>
        labelTerms.every((term) => {
          const [key, value] = term.split('=') as [string, string];
          return pod.labels[key] === value;
        }),
      )
      .filter((pod) =>
        fieldTerms.every((term) => {
          const [key, value] = term.split('=') as [string, string];
          if (key !== 'spec.nodeName') throw new Error(`fake server: unsupported field selector ${term}`);
          return pod.nodeName === value;
        }),
      )
      .map(podObject);
    send(200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1' }, items });
  }

  #exec(ws: WebSocket, pod: FakePod, url: URL): void {
    const argv = url.searchParams.getAll('command');
    const wantStdin = url.searchParams.get('stdin') === 'true';
    const request: ExecRequest = {
      namespace: pod.namespace,
      pod: pod.name,
      container: url.searchParams.get('container') ?? '',
      argv,
      stdin: wantStdin,
      protocol: ws.protocol,
    };
    this.requests.push(request);
    const frame = (channel: number, data: Buffer | string = Buffer.alloc(0)) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]));
    };
    // kubelet opens each channel with an empty frame carrying only its number; clients must ignore it.
    frame(STDOUT);
    frame(STDERR);
    frame(STATUS);

    if (argv.length === 0) {
      frame(STATUS, JSON.stringify(status('Failure', 'BadRequest', 'you must specify at least 1 command', 400)));
      ws.close();
      return;
    }
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#children.add(child);
    child.stdin.on('error', () => undefined); // EPIPE when the command exits before reading its input
    if (!wantStdin) child.stdin.end();
    child.stdout.on('data', (chunk: Buffer) => frame(STDOUT, chunk));
    child.stderr.on('data', (chunk: Buffer) => frame(STDERR, chunk));

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const bytes = isBinary ? data : Buffer.from(data.toString(), 'utf8');
      const channel = bytes[0];
      if (channel === STDIN && wantStdin) child.stdin.write(bytes.subarray(1));
      else if (channel === CLOSE && bytes[1] === STDIN && ws.protocol === 'v5.channel.k8s.io') child.stdin.end();
    });

    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      this.#children.delete(child);
      if (spawnError) {
        // What kubelet reports when the runtime cannot start the command.
        const message =
          spawnError.code === 'ENOENT'
            ? `failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: "${argv[0]}": executable file not found in $PATH: unknown`
            : `failed to exec in container: ${spawnError.message}`;
        frame(STATUS, JSON.stringify(status('Failure', 'InternalError', message, 500)));
      } else {
        const exitCode = code ?? 128 + signalNumber(signal);
        frame(
          STATUS,
          JSON.stringify(
            exitCode === 0
              ? { metadata: {}, status: 'Success' }
              : {
                  ...status('Failure', 'NonZeroExitCode', `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${exitCode}`),
                  details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
                },
          ),
        );
      }
      ws.close(1000);
    });
  }
}

function status(outcome: 'Success' | 'Failure', reason: string, message: string, code?: number) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: outcome, message, reason, ...(code === undefined ? {} : { code }) };
}

function podObject(pod: FakePod) {
  const container = pod.container ?? 'glusterd';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      labels: pod.labels,
      uid: `uid-${pod.name}`,
      ...(pod.deleting ? { deletionTimestamp: new Date().toISOString() } : {}),
    },
    spec: { nodeName: pod.nodeName, containers: [{ name: container, image: 'glusterd' }] },
    status: {
      phase: pod.phase ?? 'Running',
      containerStatuses: [{ name: container, ready: pod.ready ?? true, restartCount: 0, image: 'glusterd', imageID: '', started: true }],
    },
  };
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
