import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { TransportError } from '../../src/gluster/errors.ts';
import { DaemonSetPodFinder, exitCodeFromStatus, KubeExecTransport, kubeExecTransport } from '../../src/transport/kube-exec.ts';
import { OutputLimitError } from '../../src/transport/output-cap.ts';
import { ExecServer, selfSignedCertificate, type FakePod, type TlsIdentity } from '../support/exec-server.ts';
import { HOSTILE_ARGS } from '../support/transport-hostile-args.ts';

const TOKEN = 'fake-admin-token';
const NAMESPACE = 'gluster-system';
const labels = (cluster: string) => ({ 'app.kubernetes.io/name': 'glusterd', 'storage.gluster-operator.dev/cluster': cluster });

// One certificate for the whole file: openssl takes a moment, and the tests are about exec, not TLS.
let tls: TlsIdentity | undefined;
const certificate = () => (tls ??= selfSignedCertificate());
const startServer = (options: Parameters<typeof ExecServer.start>[0] = {}): Promise<ExecServer> => ExecServer.start({ ...options, tls: certificate() });

/** A KubeConfig as users have them: HTTPS with the server's CA pinned, bearer token. */
function kubeConfigFor(server: ExecServer): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'fake', server: server.url, caData: Buffer.from(certificate().cert).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'admin', token: TOKEN }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'admin', namespace: NAMESPACE }],
    currentContext: 'fake',
  });
  return config;
}

const PODS: FakePod[] = [
  { namespace: NAMESPACE, name: 'glusterd-main-aaaaa', nodeName: 'worker-1', labels: labels('main') },
  { namespace: NAMESPACE, name: 'glusterd-main-bbbbb', nodeName: 'worker-2', labels: labels('main') },
  // Same node, another GlusterCluster: must never receive main's commands.
  { namespace: NAMESPACE, name: 'glusterd-other-ccccc', nodeName: 'worker-1', labels: labels('other') },
  // A pod on worker-3 that is being replaced, and its Pending successor: nothing to exec into yet.
  { namespace: NAMESPACE, name: 'glusterd-main-old', nodeName: 'worker-3', labels: labels('main'), deleting: true },
  { namespace: NAMESPACE, name: 'glusterd-main-new', nodeName: 'worker-3', labels: labels('main'), phase: 'Pending' },
];

const worker1 = { name: 'node-a', manageAddress: 'worker-1' };

/** pgrep on this machine: the fake server runs commands locally. "[x]" keeps pgrep from matching itself. */
function running(pattern: string): string {
  return spawnSync('pgrep', ['-af', pattern], { encoding: 'utf8' }).stdout.trim();
}

describe('transport: Kubernetes exec (against a fake kubelet exec endpoint)', function () {
  this.timeout(20_000);
  let server: ExecServer;
  let transport: KubeExecTransport;

  beforeEach(async () => {
    server = await startServer({ pods: structuredClone(PODS), token: TOKEN });
    transport = kubeExecTransport({ kubeConfig: kubeConfigFor(server), namespace: NAMESPACE, cluster: 'main', remoteKillGraceMs: 500 });
  });

  afterEach(async () => {
    await transport.close();
    await server.stop();
  });

  it('delivers a hostile argv exactly, as separate arguments, with no shell in between', async () => {
    const result = await transport.run(worker1, ['printf', '%s\\0', ...HOSTILE_ARGS]);
    expect(result.exitCode).to.equal(0);
    expect(result.stdout.split('\0').slice(0, -1)).to.deep.equal([...HOSTILE_ARGS]);
    const request = server.requests.at(-1)!;
    expect(request.pod).to.equal('glusterd-main-aaaaa');
    expect(request.container).to.equal('glusterd');
    expect(request.protocol).to.equal('v5.channel.k8s.io');
    // The transport adds only its kill deadline in front.
    expect(request.argv.slice(0, 4)).to.deep.equal(['timeout', '-s', 'KILL', '301s']);
    expect(request.argv.slice(4)).to.deep.equal(['printf', '%s\\0', ...HOSTILE_ARGS]);
  });

  it('returns a non-zero exit code as a result, with stdout and stderr apart', async () => {
    const result = await transport.run(worker1, ['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(result).to.deep.equal({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('reports a missing executable as exit code 127, like a shell would', async () => {
    // `timeout` is what the container starts, and it reports the missing command itself.
    const result = await transport.run(worker1, ['t3b-no-such-command']);
    expect(result.exitCode).to.equal(127);
    expect(result.stderr).to.match(/t3b-no-such-command/);
  });

  it('feeds stdin and closes it (v5 close channel), so the command sees EOF', async () => {
    const input = `line one\nline two ✓\n${randomBytes(2048).toString('base64')}\n`;
    const result = await transport.run(worker1, ['cat'], { stdin: input });
    expect(result).to.deep.equal({ exitCode: 0, stdout: input, stderr: '' });
    expect(server.requests.at(-1)!.stdin).to.equal(true);
  });

  it('carries large output intact (multi-byte characters split across frames)', async () => {
    const result = await transport.run(worker1, ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do printf "%05d ✓ äöü 日本\\n" $i; i=$((i+1)); done']);
    const lines = result.stdout.split('\n');
    expect(lines.length).to.equal(20001);
    expect(lines[12345]).to.equal('12345 ✓ äöü 日本');
  });

  it('runs many commands at once', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => transport.run(worker1, ['echo', String(i)])));
    expect(results.map((r) => r.stdout)).to.deep.equal(Array.from({ length: 20 }, (_, i) => `${i}\n`));
  });

  it('caps output: past maxOutputBytes (stdout and stderr together) the stream is closed and the run rejects, holding at most the cap', async () => {
    const capped = kubeExecTransport({ kubeConfig: kubeConfigFor(server), namespace: NAMESPACE, cluster: 'main', remoteKillGraceMs: 500, maxOutputBytes: 64 * 1024 });
    try {
      const exact = await capped.run(worker1, ['sh', '-c', 'head -c 40000 /dev/zero; head -c 25536 /dev/zero >&2']);
      expect(exact.stdout.length + exact.stderr.length).to.equal(64 * 1024);
      const marker = `flood-${Date.now() % 100000}${Math.floor(Math.random() * 1000)}`;
      const started = Date.now();
      const error = await capped.run(worker1, ['yes', marker], { timeoutMs: 1_500 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(OutputLimitError).and.to.be.instanceOf(TransportError);
      expect((error as Error).message).to.match(/^node-a: yes flood-\d+: output exceeded 65536 bytes \(stdout and stderr together\); the exec stream of pod gluster-system\/glusterd-main-aaaaa \(container glusterd\) was closed/);
      expect((error as OutputLimitError).collectedBytes).to.be.at.most(64 * 1024);
      expect(Date.now() - started, 'not held until the timeout').to.be.lessThan(1_500);
      // As with a timeout, the flood itself ends by the command's own deadline in the container.
      const deadline = Date.now() + 5000;
      while (running(`[y]es ${marker}`) !== '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(running(`[y]es ${marker}`), 'running after the remote deadline').to.equal('');
    } finally {
      await capped.close();
    }
  });

  it('times out with a retryable TransportError naming the node, and the command is gone afterwards', async () => {
    const marker = `1000.${Date.now() % 100000}${Math.floor(Math.random() * 1000)}`;
    const started = Date.now();
    const error = await transport.run(worker1, ['sleep', marker], { timeoutMs: 500 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TransportError);
    expect((error as TransportError).retryable).to.equal(true);
    expect((error as TransportError).message).to.match(/^node-a: sleep .*timed out after 500 ms/);
    expect(Date.now() - started).to.be.lessThan(3000);
    // Closing the stream does not stop it (as with kubelet); its own deadline (timeout + 0.5 s grace) does.
    const pattern = `[s]leep ${marker}`;
    expect(running(pattern), 'still running right after the timeout').to.not.equal('');
    const deadline = Date.now() + 5000;
    while (running(pattern) !== '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(running(pattern), 'running after the remote deadline').to.equal('');
  });

  it('picks only a Running, not deleting pod of this cluster on the node; none is a TransportError naming the node', async () => {
    const finder = new DaemonSetPodFinder({ core: kubeConfigFor(server).makeApiClient(k8s.CoreV1Api), namespace: NAMESPACE, cluster: 'main' });
    expect(await finder.find('worker-1')).to.deep.equal({ namespace: NAMESPACE, name: 'glusterd-main-aaaaa', container: 'glusterd' });
    expect(await finder.find('worker-2')).to.deep.equal({ namespace: NAMESPACE, name: 'glusterd-main-bbbbb', container: 'glusterd' });
    expect(await finder.find('worker-3')).to.equal(undefined);
    const error = await transport.run({ name: 'node-c', manageAddress: 'worker-3' }, ['true']).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransportError);
    expect((error as Error).message).to.match(/^node-c: true: no running glusterd pod on Kubernetes node worker-3/);
  });

  it('follows a replaced pod: the cached pod is gone (404), the new one is found and used', async () => {
    await transport.run(worker1, ['true']);
    const pod = server.pods.find((p) => p.name === 'glusterd-main-aaaaa')!;
    pod.name = 'glusterd-main-zzzzz';
    const result = await transport.run(worker1, ['echo', 'hello']);
    expect(result.stdout).to.equal('hello\n');
    expect(server.requests.at(-1)!.pod).to.equal('glusterd-main-zzzzz');
  });

  it('fails with a TransportError when the API server rejects the credentials', async () => {
    const config = kubeConfigFor(server);
    config.users[0] = { ...config.users[0]!, token: 'wrong' };
    const denied = kubeExecTransport({ kubeConfig: config, namespace: NAMESPACE, cluster: 'main' });
    const error = await denied.run(worker1, ['true']).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransportError);
    await denied.close();
  });

  it('fails with a TransportError naming the node when the API server is unreachable', async () => {
    const config = kubeConfigFor(server);
    await server.stop();
    const error = await kubeExecTransport({ kubeConfig: config, namespace: NAMESPACE, cluster: 'main' })
      .run(worker1, ['true'])
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransportError);
    expect((error as Error).message).to.match(/^node-a: /);
    server = await startServer(); // for afterEach
  });
});

describe('transport: Kubernetes exec over the older v4 protocol', function () {
  this.timeout(20_000);
  it('runs commands and reads exit codes (stdin cannot be closed there, so no stdin here)', async () => {
    const server = await startServer({ pods: structuredClone(PODS), token: TOKEN, protocols: ['v4.channel.k8s.io'] });
    const transport = kubeExecTransport({ kubeConfig: kubeConfigFor(server), namespace: NAMESPACE, cluster: 'main' });
    try {
      expect(await transport.run(worker1, ['sh', '-c', 'echo v4; exit 3'])).to.deep.equal({ exitCode: 3, stdout: 'v4\n', stderr: '' });
      expect(server.requests.at(-1)!.protocol).to.equal('v4.channel.k8s.io');
    } finally {
      await transport.close();
      await server.stop();
    }
  });
});

describe('transport: exec status to exit code', () => {
  it('maps Success to 0, NonZeroExitCode to its ExitCode cause, and anything else to undefined', () => {
    expect(exitCodeFromStatus({ status: 'Success' })).to.equal(0);
    expect(exitCodeFromStatus({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } })).to.equal(42);
    expect(exitCodeFromStatus({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: 'x' }] } })).to.equal(undefined);
    expect(exitCodeFromStatus({ status: 'Failure', reason: 'InternalError', message: 'container not running' })).to.equal(undefined);
    // A runtime that cannot start the command at all: what a shell reports as 127.
    const notFound = 'failed to exec in container: OCI runtime exec failed: exec: "timeout": executable file not found in $PATH: unknown';
    expect(exitCodeFromStatus({ status: 'Failure', reason: 'InternalError', message: notFound })).to.equal(127);
  });
});
