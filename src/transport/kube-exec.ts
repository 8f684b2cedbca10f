import { Readable, Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import { CLUSTER_LABEL } from '../deploy/labels.ts';
import { TransportError } from '../gluster/errors.ts';
import type { NodeTarget, RunOptions, RunResult, Transport } from '../gluster/transport.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { Semaphore } from './limiter.ts';
import { COMMAND_OUTPUT_MAX_BYTES, OutputCollector, OutputLimitError } from './output-cap.ts';

/**
 * heketi's "kubernetes" executor: commands run in the glusterd pod of the node through the exec API, argv as
 * is (no shell anywhere, so no quoting). The exit code comes from the status channel: kubelet reports
 * Success, or Failure with reason NonZeroExitCode and the code in the cause of type ExitCode.
 */

export interface PodRef {
  namespace: string;
  name: string;
  container: string;
}

/** Finds the glusterd pod on a Kubernetes node. Injectable, so tests and other deployments can choose. */
export interface PodFinder {
  find(nodeName: string): Promise<PodRef | undefined>;
}

/** The pods of the glusterd DaemonSet of one GlusterCluster (labels as in src/deploy/glusterd-daemonset.ts). */
export class DaemonSetPodFinder implements PodFinder {
  readonly #core: k8s.CoreV1Api;
  readonly #namespace: string;
  readonly #labelSelector: string;
  readonly #container: string;

  constructor(options: { core: k8s.CoreV1Api; namespace: string; cluster: string; container?: string }) {
    this.#core = options.core;
    this.#namespace = options.namespace;
    this.#labelSelector = `app.kubernetes.io/name=glusterd,${CLUSTER_LABEL}=${options.cluster}`;
    this.#container = options.container ?? 'glusterd';
  }

  async find(nodeName: string): Promise<PodRef | undefined> {
    const list = await this.#core.listNamespacedPod({
      namespace: this.#namespace,
      labelSelector: this.#labelSelector,
      fieldSelector: `spec.nodeName=${nodeName}`,
    });
    // The field selector is what the apiserver filters on; check again, as a wrong pod would get the command.
    const candidates = list.items.filter(
      (pod) => pod.spec?.nodeName === nodeName && pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp && pod.metadata?.name,
    );
    // During a rolling update two pods can briefly share a node: prefer the one whose container is ready.
    const ready = (pod: k8s.V1Pod) => pod.status?.containerStatuses?.some((status) => status.name === this.#container && status.ready) ?? false;
    const pod = candidates.find(ready) ?? candidates[0];
    return pod ? { namespace: this.#namespace, name: pod.metadata!.name!, container: this.#container } : undefined;
  }
}

export interface KubeExecTransportOptions {
  kubeConfig: k8s.KubeConfig;
  podFinder: PodFinder;
  defaultTimeoutMs?: number;
  /** The command runs under `timeout -s KILL` this much after the local deadline: closing an exec stream does
   * not stop the process in the container, so the container side must end it itself. */
  remoteKillGraceMs?: number;
  /** Concurrent execs per node; each is a process in the glusterd container and a stream through kubelet. */
  maxConcurrentPerNode?: number;
  /** stdout and stderr bytes one command may print before its stream is closed (output-cap.ts). */
  maxOutputBytes?: number;
}

const optionsSchema = z.object({
  defaultTimeoutMs: z.number().int().min(1).default(300_000),
  remoteKillGraceMs: z.number().int().min(0).default(2_000),
  maxConcurrentPerNode: z.number().int().min(1).max(64).default(8),
  maxOutputBytes: z.number().int().min(1).default(COMMAND_OUTPUT_MAX_BYTES),
});

/** The metav1.Status kubelet sends on channel 3 when the command ends. */
const execStatusSchema = z.object({
  status: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  details: z
    .object({ causes: z.array(z.object({ reason: z.string().optional(), message: z.string().optional() })).optional() })
    .optional(),
});
type ExecStatus = z.infer<typeof execStatusSchema>;

/** A failed start of the command itself (not of the connection): what a shell would report as 127. */
const NOT_FOUND = /executable file not found|no such file or directory/i;

/** Exit code of a finished command, or undefined when the status says the exec itself failed. */
export function exitCodeFromStatus(status: ExecStatus): number | undefined {
  if (status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return code;
  }
  if (status.status === 'Failure' && NOT_FOUND.test(status.message ?? '')) return 127;
  return undefined;
}

class PodGoneError extends Error {}

export class KubeExecTransport implements Transport {
  readonly #exec: k8s.Exec;
  readonly #podFinder: PodFinder;
  readonly #options: z.output<typeof optionsSchema>;
  readonly #pods = new Map<string, PodRef>();
  readonly #limiters = new Map<string, Semaphore>();
  readonly #open = new Set<{ close(): void }>();

  constructor(options: KubeExecTransportOptions) {
    this.#exec = new k8s.Exec(options.kubeConfig);
    this.#podFinder = options.podFinder;
    this.#options = optionsSchema.parse({
      defaultTimeoutMs: options.defaultTimeoutMs,
      remoteKillGraceMs: options.remoteKillGraceMs,
      maxConcurrentPerNode: options.maxConcurrentPerNode,
      maxOutputBytes: options.maxOutputBytes,
    });
  }

  /** The argv the container runs: the command under a kill deadline of its own. */
  containerArgv(argv: readonly string[], timeoutMs: number): string[] {
    return ['timeout', '-s', 'KILL', `${Math.ceil((timeoutMs + this.#options.remoteKillGraceMs) / 1000)}s`, ...argv];
  }

  async run(node: NodeTarget, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new TypeError('cannot run an empty argv');
    const timeoutMs = options.timeoutMs ?? this.#options.defaultTimeoutMs;
    let limiter = this.#limiters.get(node.name);
    if (!limiter) this.#limiters.set(node.name, (limiter = new Semaphore(this.#options.maxConcurrentPerNode)));
    return limiter.use(async () => {
      for (let attempt = 0; ; attempt++) {
        const pod = await this.#pod(node, argv);
        try {
          return await this.#run(node, pod, argv, options.stdin, timeoutMs);
        } catch (error) {
          // A cached pod that no longer exists (DaemonSet rolled it): the command never started; look again once.
          if (!(error instanceof PodGoneError)) throw error;
          this.#pods.delete(node.name);
          if (attempt >= 1) throw new TransportError({ node: node.name, argv, message: error.message, cause: error });
        }
      }
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#open) socket.close();
    this.#open.clear();
    this.#pods.clear();
  }

  async #pod(node: NodeTarget, argv: readonly string[]): Promise<PodRef> {
    const cached = this.#pods.get(node.name);
    if (cached) return cached;
    let pod: PodRef | undefined;
    try {
      pod = await this.#podFinder.find(node.manageAddress);
    } catch (error) {
      throw new TransportError({ node: node.name, argv, message: `cannot list glusterd pods: ${errorMessage(error)}`, cause: error });
    }
    if (!pod) throw new TransportError({ node: node.name, argv, message: `no running glusterd pod on Kubernetes node ${node.manageAddress}` });
    this.#pods.set(node.name, pod);
    return pod;
  }

  async #run(node: NodeTarget, pod: PodRef, argv: readonly string[], stdin: string | Buffer | undefined, timeoutMs: number): Promise<RunResult> {
    const output = new OutputCollector(this.#options.maxOutputBytes);
    // Set once the socket is open: output past the cap closes it and fails the run.
    let overflow: (() => void) | undefined;
    const sink = (stream: 'stdout' | 'stderr') =>
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (!output.add(stream, chunk)) overflow?.();
          callback();
        },
      });
    // Data is pushed only once the socket is open, when we know whether the protocol can signal EOF.
    const input = stdin === undefined ? null : new Readable({ read() {} });
    let status: ExecStatus | undefined;
    let statusError: unknown;
    const where = `pod ${pod.namespace}/${pod.name} (container ${pod.container})`;

    let socket: Awaited<ReturnType<k8s.Exec['exec']>>;
    try {
      socket = await this.#exec.exec(pod.namespace, pod.name, pod.container, this.containerArgv(argv, timeoutMs), sink('stdout'), sink('stderr'), input, false, (raw) => {
        const parsed = execStatusSchema.safeParse(raw);
        if (parsed.success) status = parsed.data;
        else statusError = parsed.error;
      });
    } catch (error) {
      const message = errorMessage(error);
      // The handshake answers 404 when the pod is gone; anything else (403, connection refused) is reported.
      if (/\b404\b/.test(message)) throw new PodGoneError(`${where}: ${message}`);
      throw new TransportError({ node: node.name, argv, message: `cannot exec in ${where}: ${message}`, cause: error });
    }

    const handle = { close: () => socket.close() };
    this.#open.add(handle);
    return await new Promise<RunResult>((resolve, reject) => {
      let settled = false;
      // Closing the stream does not stop the process in the container; the `timeout` wrapper does.
      const abandon = (error: TransportError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#open.delete(handle);
        socket.close();
        reject(error);
      };
      const timer = setTimeout(
        () => abandon(new TransportError({ node: node.name, argv, message: `timed out after ${timeoutMs} ms in ${where}; the command is killed in the container by its own deadline` })),
        timeoutMs,
      );
      overflow = () => abandon(new OutputLimitError({ node: node.name, argv, collector: output, ended: `the exec stream of ${where} was closed; the command is killed in the container by its own deadline` }));
      if (output.exceeded) overflow();
      socket.on('close', () => {
        clearTimeout(timer);
        this.#open.delete(handle);
        if (settled) return;
        settled = true;
        const out = output.text();
        if (statusError !== undefined) {
          return reject(new TransportError({ node: node.name, argv, message: `unreadable exec status from ${where}: ${errorMessage(statusError)}` }));
        }
        if (status === undefined) {
          return reject(new TransportError({ node: node.name, argv, message: `exec stream of ${where} closed before the command reported an exit status` }));
        }
        const exitCode = exitCodeFromStatus(status);
        if (exitCode === undefined) {
          return reject(new TransportError({ node: node.name, argv, message: `exec in ${where} failed: ${status.message ?? status.reason ?? 'unknown error'}` }));
        }
        resolve({ exitCode, ...out, stderr: out.stderr || (exitCode === 127 && status.message ? status.message : out.stderr) });
      });
      if (input) {
        if (stdin !== undefined && stdin.length > 0) input.push(typeof stdin === 'string' ? Buffer.from(stdin) : stdin);
        // v5 (Kubernetes 1.30+) can close stdin alone; older protocols only by closing the whole socket, which
        // would lose the output. There the command gets its input but no EOF.
        if (socket.protocol === 'v5.channel.k8s.io') input.push(null);
      }
    });
  }
}

export function kubeExecTransport(options: { kubeConfig: k8s.KubeConfig; namespace: string; cluster: string } & Omit<KubeExecTransportOptions, 'kubeConfig' | 'podFinder'>): KubeExecTransport {
  const podFinder = new DaemonSetPodFinder({ core: options.kubeConfig.makeApiClient(k8s.CoreV1Api), namespace: options.namespace, cluster: options.cluster });
  return new KubeExecTransport({ ...options, podFinder });
}

