import * as k8s from '@kubernetes/client-node';
import type { ParseArgsOptionsConfig } from 'node:util';
import type { z } from 'zod';
import { hostAddress, objectName } from '../api/common.ts';
import { poolList, volumeInfo } from '../gluster/commands/gluster.ts';
import { HostKeyMismatchError, NodeCommandError, ParseError } from '../gluster/errors.ts';
import { GlusterCommandError, runNodeCommand } from '../gluster/executor.ts';
import type { NodeTarget, Transport } from '../gluster/transport.ts';
import { checkHeketiDb } from '../heketi/db-check.ts';
import { parseHeketiDb } from '../heketi/db-schema.ts';
import { compareWithLive, type LiveCheck, type LiveCluster } from '../heketi/live-check.ts';
import { knownHostKey } from '../heketi/live-known-hosts.ts';
import { HeketiImportError } from '../heketi/problems.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { KubeExecTransport, type PodRef } from '../transport/kube-exec.ts';
import { SshTransport, sshAccessSchema } from '../transport/ssh.ts';
import { kubeConfigOf, usageError, type CommandIo, type OptionValues } from './command.ts';
import { refusal, type CommandOutput } from './output.ts';

/**
 * `heketi import --check`: reaches one node of the live cluster the way heketi did (a glusterd pod through the
 * exec API, or a server over SSH), asks Gluster for its volumes and its pool, and prints every difference from
 * the database (src/heketi/live-check.ts decides them). Read-only: two gluster queries, nothing else.
 */

export const CHECK_OPTIONS = {
  check: { type: 'boolean' },
  via: { type: 'string' },
  container: { type: 'string' },
  'ssh-user': { type: 'string' },
  'ssh-port': { type: 'string' },
  'ssh-key': { type: 'string' },
  'known-hosts': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

const SSH_FLAGS = ['ssh-user', 'ssh-port', 'ssh-key', 'known-hosts'] as const;

/** Where the gluster commands of the check run. */
export type CheckTarget =
  | { kind: 'pod'; namespace: string; pod: string; container: string | undefined }
  | { kind: 'ssh'; host: string; user: string; port: number; keyFile: string; knownHostsFile: string };

/** The check's target from the flags; undefined without --check (a plain import); or the usage error. */
export function checkTargetOf(values: OptionValues, usage: string): CheckTarget | CommandOutput | undefined {
  const given = (flags: readonly string[]) => flags.find((flag) => values[flag] !== undefined);
  if (!values.check) {
    const stray = given(Object.keys(CHECK_OPTIONS));
    return stray ? usageError(`--${stray} goes with --check`, usage) : undefined;
  }
  const via = values.via;
  if (typeof via !== 'string') return usageError('--check needs --via pod:NAMESPACE/POD or --via ssh:HOST (where gluster runs)', usage);
  const invalid = (what: string, value: string, schema: z.ZodType) => {
    const result = schema.safeParse(value);
    return result.success ? undefined : usageError(`${what} ${value}: ${result.error.issues[0]?.message}`, usage);
  };

  const pod = /^pod:([^/]*)\/(.*)$/.exec(via);
  if (pod) {
    const [, namespace = '', name = ''] = pod;
    const ssh = given(SSH_FLAGS);
    if (ssh) return usageError(`--${ssh} goes with --via ssh:HOST, not with a pod`, usage);
    const container = typeof values.container === 'string' ? values.container : undefined;
    const problem =
      invalid('namespace', namespace, objectName) ?? invalid('pod', name, objectName) ?? (container === undefined ? undefined : invalid('--container', container, objectName));
    return problem ?? { kind: 'pod', namespace, pod: name, container };
  }
  if (via.startsWith('ssh:')) {
    const host = via.slice('ssh:'.length);
    if (values.container !== undefined) return usageError('--container goes with --via pod:NAMESPACE/POD, not with ssh', usage);
    const hostProblem = invalid('--via ssh:', host, hostAddress);
    if (hostProblem) return host.includes('@') ? usageError(`--via ssh:${host}: give the host alone, the user goes in --ssh-user`, usage) : hostProblem;
    const user = sshAccessSchema.shape.user.safeParse(values['ssh-user']);
    if (!user.success) return usageError(`--ssh-user ${String(values['ssh-user'])}: ${user.error.issues[0]?.message}`, usage);
    const portText = typeof values['ssh-port'] === 'string' ? values['ssh-port'] : '22';
    const port = sshAccessSchema.shape.port.safeParse(/^\d+$/.test(portText) ? Number(portText) : Number.NaN);
    if (!port.success) return usageError(`--ssh-port ${portText}: must be a port number, 1 to 65535`, usage);
    const keyFile = values['ssh-key'];
    const knownHostsFile = values['known-hosts'];
    if (typeof keyFile !== 'string') return usageError('--via ssh:HOST needs --ssh-key FILE (the private key heketi used)', usage);
    if (typeof knownHostsFile !== 'string') return usageError('--via ssh:HOST needs --known-hosts FILE: the host key is checked, never trusted on first use', usage);
    return { kind: 'ssh', host, user: user.data, port: port.data, keyFile, knownHostsFile };
  }
  return usageError(`--via must be pod:NAMESPACE/POD or ssh:HOST, not ${via}`, usage);
}

/** A node of the live cluster, reachable: the commands go to `node` through `transport`. */
export interface LiveAccess {
  transport: Transport;
  node: NodeTarget;
  /** What the node is known by besides "localhost": the SSH host, the pod's Kubernetes node and IPs. */
  localAddresses: string[];
}

export type OpenLive = (target: CheckTarget, io: CommandIo) => Promise<LiveAccess>;

/** What the user has to fix before the check can run; printed as `error: <message>`, exit code 1. */
export class CheckFailure extends Error {
  override name = 'CheckFailure';
}

function readFile(io: CommandIo, flag: string, file: string): string {
  try {
    return io.readText(file);
  } catch (error) {
    throw new CheckFailure(`cannot read --${flag} ${file}: ${errorMessage(error)}`);
  }
}

const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/** The container to exec in, chosen as kubectl does (the flag, the default-container annotation, the only one). */
export function podRefOf(pod: k8s.V1Pod, target: Extract<CheckTarget, { kind: 'pod' }>): PodRef {
  const where = `pod ${target.namespace}/${target.pod}`;
  if (pod.status?.phase !== 'Running') throw new CheckFailure(`${where} is ${pod.status?.phase ?? 'in no phase'}, not Running; check a running glusterd pod`);
  const containers = (pod.spec?.containers ?? []).map((container) => container.name);
  const container = target.container ?? pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION] ?? (containers.length === 1 ? containers[0] : undefined);
  if (container === undefined) throw new CheckFailure(`${where} has containers ${containers.join(', ')}: say which runs glusterd with --container`);
  if (!containers.includes(container)) throw new CheckFailure(`${where} has no container ${container} (it has ${containers.join(', ')})`);
  return { namespace: target.namespace, name: target.pod, container };
}

async function openPod(target: Extract<CheckTarget, { kind: 'pod' }>, io: CommandIo): Promise<LiveAccess> {
  const kubeConfig = kubeConfigOf(io);
  let pod: k8s.V1Pod;
  try {
    pod = await kubeConfig.makeApiClient(k8s.CoreV1Api).readNamespacedPod({ namespace: target.namespace, name: target.pod });
  } catch (error) {
    const code = error instanceof k8s.ApiException ? error.code : undefined;
    const where = `pod ${target.namespace}/${target.pod}`;
    if (code === 404) throw new CheckFailure(`${where} not found; heketi's glusterd pods are listed by kubectl get pods -n ${target.namespace} -l glusterfs=pod`);
    if (code === 401 || code === 403) throw new CheckFailure(`your kubeconfig may not read ${where} (HTTP ${code}); the check needs get pods and create pods/exec there`);
    throw new CheckFailure(`cannot read ${where} from the apiserver of your kubeconfig: ${errorMessage(error)}`);
  }
  const ref = podRefOf(pod, target);
  const transport = new KubeExecTransport({ kubeConfig, podFinder: { find: async () => ref } });
  const localAddresses = [pod.status?.hostIP, ...(pod.status?.podIPs ?? []).map((ip) => ip.ip), pod.spec?.nodeName].filter((a): a is string => Boolean(a));
  return { transport, node: { name: `pod ${target.namespace}/${target.pod}`, manageAddress: target.pod }, localAddresses: [...new Set(localAddresses)] };
}

function openSsh(target: Extract<CheckTarget, { kind: 'ssh' }>, io: CommandIo): LiveAccess {
  const privateKey = readFile(io, 'ssh-key', target.keyFile);
  if (privateKey.trim() === '') throw new CheckFailure(`--ssh-key ${target.keyFile} is empty; give the private key heketi's ssh executor used`);
  const known = knownHostKey(readFile(io, 'known-hosts', target.knownHostsFile), target.host, target.port);
  if ('problem' in known) throw new CheckFailure(`--known-hosts ${target.knownHostsFile} ${known.problem}`);
  // The one key the file lists is the only one accepted: nothing is pinned on first use.
  const hostKeys = {
    get: async () => known.fingerprint,
    pin: async () => {
      throw new CheckFailure(`${target.host} is not in --known-hosts ${target.knownHostsFile}`);
    },
  };
  const transport = new SshTransport({ access: { privateKey, user: target.user, port: target.port }, hostKeys });
  return { transport, node: { name: target.host, manageAddress: target.host }, localAddresses: [target.host] };
}

export const openLiveCluster: OpenLive = async (target, io) => (target.kind === 'pod' ? openPod(target, io) : openSsh(target, io));

/** The two read-only queries the comparison needs, through the command layer (argv, outcome, parsing). */
export async function gatherLive(access: LiveAccess): Promise<LiveCluster> {
  const volumes = await runNodeCommand(access.transport, access.node, volumeInfo());
  const peers = await runNodeCommand(access.transport, access.node, poolList());
  return { volumes, peers, localAddresses: access.localAddresses };
}

const where = (target: CheckTarget) => (target.kind === 'pod' ? `pod ${target.namespace}/${target.pod}` : `${target.user}@${target.host}:${target.port}`);

/** What went wrong reaching the cluster, said as what to fix. */
export function failureMessage(error: unknown, target: CheckTarget): string {
  const message = errorMessage(error);
  if (error instanceof CheckFailure) return message;
  if (target.kind === 'ssh' && error instanceof HostKeyMismatchError) {
    const offered = /offered (\S+?)\)/.exec(message)?.[1] ?? 'another key';
    return (
      `${target.host} offered SSH host key ${offered}, not the one --known-hosts ${target.knownHostsFile} lists for it; ` +
      `if the server was reinstalled, check the new key out of band (ssh-keyscan -p ${target.port} ${target.host} | ssh-keygen -lf -) and correct the file`
    );
  }
  if (error instanceof GlusterCommandError) return `gluster failed in ${where(target)}: ${error.message}; run the check --via a node or pod where glusterd runs`;
  if (error instanceof ParseError) return `cannot read what gluster answered in ${where(target)}: ${message}`;
  if (!(error instanceof NodeCommandError)) return message;
  if (target.kind === 'pod') return `${message}; check the pod and --container, and that your kubeconfig may create pods/exec in ${target.namespace}`;
  if (/privateKey|passphrase|key format/i.test(message)) return `cannot use --ssh-key ${target.keyFile} (${message}); give an unencrypted private key in OpenSSH or PEM format`;
  if (/authentication methods failed/i.test(message)) {
    return `${where(target)} refused the key in --ssh-key ${target.keyFile}; add its public key to ~${target.user}/.ssh/authorized_keys there, or give the right --ssh-user`;
  }
  return `cannot reach ${where(target)} over SSH (${message}); check the host, --ssh-port and that sshd runs there`;
}

const plural = (count: number, kind: string) => `${count} ${kind}${count === 1 ? '' : 's'}`;

/** One line per difference (`entry: message`), the notes, and the summary; exit 1 when anything differs. */
export function checkOutput(check: LiveCheck, databaseProblems: number): CommandOutput {
  const notes = [...check.notes];
  if (databaseProblems > 0) notes.push(`the import itself refuses this database (${plural(databaseProblems, 'problem')}); run it without --check to list them`);
  const { volumes, bricks, peers } = check.summary;
  const compared = `${plural(volumes, 'volume')}, ${plural(bricks, 'brick')}, ${plural(peers, 'peer')}`;
  const count = check.differences.length;
  const summary =
    count === 0
      ? `database matches the live cluster: ${compared}`
      : `${plural(count, 'difference')} between the database and the live cluster (compared ${compared}); resolve each in Gluster or in heketi and export the database again before applying the import`;
  const lines = [...check.differences.map((d) => `${d.entry}: ${d.message}`), ...notes.map((note) => `note: ${note}`), summary];
  return { stdout: lines.map((line) => `${line}\n`).join(''), stderr: '', code: count === 0 ? 0 : 1 };
}

/** The whole check: the database text in, the comparison printed. Never prints YAML, never changes anything. */
export async function heketiCheck(text: string, target: CheckTarget, io: CommandIo, openLive: OpenLive = openLiveCluster): Promise<CommandOutput> {
  let db;
  try {
    db = parseHeketiDb(text);
  } catch (error) {
    if (error instanceof HeketiImportError) return refusal('the heketi database', error.problems);
    throw error;
  }
  let access: LiveAccess | undefined;
  try {
    access = await openLive(target, io);
    const live = await gatherLive(access);
    return checkOutput(compareWithLive(db, live), checkHeketiDb(db).length);
  } catch (error) {
    return { stdout: '', stderr: `error: ${failureMessage(error, target)}; nothing was compared\n`, code: 1 };
  } finally {
    await access?.transport.close();
  }
}
