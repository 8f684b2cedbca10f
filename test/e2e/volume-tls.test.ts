import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { TLS_ROOT, tlsDirFor } from '../../src/gluster/tls.ts';
import { csiVolumeSource } from '../../src/provisioner/pv-builder.ts';
import { startCsiPlugin, kubeletTargetPath, type CsiPluginProcess } from '../support/csi-plugin.ts';
import { applyTestbedTopology } from '../support/demo-topology.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { tearDownOperatorSuite } from '../support/operator-suite.ts';
import { sshCheck } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);

/**
 * TLS for a volume's I/O (issue 12, item 4), with the real operator process and glusterd: a GlusterCluster
 * naming a Secret (a CA and a certificate it signed, made here with openssl) gets volumes with client.ssl and
 * server.ssl on, the Secret's files on every server; a client holding that certificate mounts and reads, one
 * with a self-signed certificate or none at all is refused.
 *
 * On the test bed the Gluster nodes share the host's /var/lib, so the files the operator copies to the nodes
 * are also where the host's own mount (the client) reads them; the refused clients run in a private mount
 * namespace where other files (or none) are at that path.
 */
describe('volume TLS: certificates from a Secret, a client without one refused', function () {
  this.timeout(300_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const config = kubeConfig();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let brickRoot: string;
  let operator: OperatorProcess | undefined;
  let work: string | undefined;
  let tlsDir: string | undefined;
  let glusterName = '';
  let plugin: CsiPluginProcess | undefined;
  let csiTarget: string | undefined;
  const mountPoint = () => join(work!, 'mnt');
  const healthPort = 19350 + Math.floor(Math.random() * 50);
  const coordinates = (plural: string) => ({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural });

  async function volume(): Promise<GlusterVolume | undefined> {
    const found = await unlessNotFound(custom.getNamespacedCustomObject({ ...coordinates('glustervolumes'), name: 'secret-data' }));
    return found === undefined ? undefined : glusterVolumeSchema.parse(found);
  }

  async function openssl(args: string[]): Promise<void> {
    await execFileAsync('openssl', args, { cwd: work });
  }

  /** A mount from a private mount namespace where `replacement` (a directory, or an empty tmpfs) stands at the TLS directory. */
  async function mountsWithOtherFiles(replacement: string | 'nothing'): Promise<string> {
    const target = join(work!, replacement === 'nothing' ? 'mnt-none' : 'mnt-rogue');
    mkdirSync(target, { recursive: true });
    const script =
      'if [ "$1" = nothing ]; then mount -t tmpfs tmpfs "$2"; else mount --bind "$1" "$2"; fi && ' +
      'mount -t glusterfs "$3" "$4"; sleep 1; findmnt -n -o SOURCE "$4" || echo refused; umount -l "$4" 2>/dev/null; true';
    const { stdout } = await execFileAsync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', replacement, tlsDir!, `${nodes[0]}:/${glusterName}`, target], { timeout: 90_000 });
    return stdout.trim();
  }

  before(async () => {
    namespace = await createTestNamespace('tls');
    brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    work = mkdtempSync(join(tmpdir(), 'volume-tls-'));
    tlsDir = tlsDirFor(namespace.name, 'secure');
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=volume-tls-test-ca']);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=gluster']);
    await openssl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '2']);
    mkdirSync(join(work, 'rogue'));
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue/tls.key', '-out', 'rogue/tls.crt', '-days', '2', '-subj', '/CN=rogue']);
    writeFileSync(join(work, 'rogue', 'ca.crt'), readFileSync(join(work, 'ca.crt')));
    await applyTestbedTopology(namespace.name, nodes, { cluster: 'secure', backend: 'Directory', directoryRoot: brickRoot, sshKey: env.TESTBED_SSH_KEY });
    await kubectl(['-n', namespace.name, 'create', 'secret', 'generic', 'gluster-tls', ...['ca.crt', 'tls.crt', 'tls.key'].map((file) => `--from-file=${file}=${join(work!, file)}`)]);
    await custom.patchNamespacedCustomObject(
      { ...coordinates('glusterclusters'), name: 'secure', body: { spec: { tls: { secretName: 'gluster-tls' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    operator = await startOperatorProcess('operator-tls', healthPort);
    await custom.createNamespacedCustomObject({
      ...coordinates('glustervolumes'),
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterVolume', metadata: { name: 'secret-data' }, spec: { cluster: 'secure', size: '1Gi', reclaimPolicy: 'Delete' } },
    });
    const ready = await eventually('GlusterVolume secret-data Ready', async () => {
      const current = await volume();
      return current?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? current : notYet(current?.status?.conditions);
    }, 180_000);
    glusterName = ready.status!.glusterVolumeName!;
  });

  after(async () => {
    if (work) await execFileAsync('umount', ['-l', mountPoint()]).catch(() => undefined);
    // Never let the plugin's directory be removed with a mount still in it (the removal would reach the volume).
    if (csiTarget) await execFileAsync('umount', ['-l', csiTarget]).catch(() => undefined);
    await plugin?.stop();
    await tearDownOperatorSuite({ namespace, nodes, brickRoot, operator });
    if (tlsDir) {
      rmSync(join(tlsDir, '..'), { recursive: true, force: true });
      // The directories above it, if the operator's copy made them and nothing else is in them.
      for (const dir of [TLS_ROOT, dirname(TLS_ROOT)]) {
        try {
          rmdirSync(dir);
        } catch {
          // not empty, or not there
        }
      }
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('turns TLS on for the new volume, with the Secret\'s files on every server, and says so in status', async () => {
    const info = await sshCheck(nodes[0]!, ['gluster', '--mode=script', 'volume', 'info', glusterName]);
    for (const line of ['client.ssl: on', 'server.ssl: on', `ssl.own-cert: ${tlsDir}/tls.crt`, `ssl.private-key: ${tlsDir}/tls.key`, `ssl.ca-list: ${tlsDir}/ca.crt`]) expect(info).to.contain(line);
    const wanted = createHash('sha256').update(readFileSync(join(work!, 'tls.key'))).digest('hex');
    for (const node of nodes) expect((await sshCheck(node, ['sha256sum', `${tlsDir}/tls.key`])).split(' ')[0], node).to.equal(wanted);
    expect((await sshCheck(nodes[0]!, ['stat', '-c', '%a', `${tlsDir}/tls.key`])).trim()).to.equal('600');
    expect((await volume())?.status?.tls).to.deep.equal({ secretName: 'gluster-tls', secretNamespace: namespace.name, dir: tlsDir });
  });

  it('a client with a certificate of the CA mounts, writes and reads', async () => {
    mkdirSync(mountPoint(), { recursive: true });
    await execFileAsync('mount', ['-t', 'glusterfs', `${nodes[0]}:/${glusterName}`, mountPoint()], { timeout: 60_000 });
    writeFileSync(join(mountPoint(), 'over-tls'), 'encrypted on the wire\n');
    expect(readFileSync(join(mountPoint(), 'over-tls'), 'utf8')).to.equal('encrypted on the wire\n');
    await execFileAsync('umount', [mountPoint()]);
  });

  it('through the CSI plugin: the PV hands the Secret over (nodePublishSecretRef), the plugin mounts with it; without it, INVALID_ARGUMENT', async () => {
    const source = csiVolumeSource((await volume())!, { gid: undefined });
    expect(source.nodePublishSecretRef).to.deep.equal({ name: 'gluster-tls', namespace: namespace.name });
    expect(source.volumeAttributes?.tlsDir).to.equal(tlsDir);
    // What kubelet reads from that Secret and passes along (NodePublishVolumeRequest.secrets).
    const secrets = Object.fromEntries(['ca.crt', 'tls.crt', 'tls.key'].map((file) => [file, readFileSync(join(work!, file), 'utf8')]));
    plugin = await startCsiPlugin('tls-node');
    const target = kubeletTargetPath(plugin.dir, 'pod-tls', 'pv-tls');
    csiTarget = target;
    const request = {
      volume_id: source.volumeHandle,
      target_path: target,
      volume_capability: { mount: { fs_type: '', mount_flags: [] }, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } },
      readonly: false,
      volume_context: source.volumeAttributes,
    };
    const refused = await plugin.call('Node', 'NodePublishVolume', request).then(() => undefined, (error: { code: number; details: string }) => error);
    expect(refused?.code, 'published without the Secret').to.equal(grpc.status.INVALID_ARGUMENT);
    expect(refused?.details).to.contain('nodePublishSecretRef');
    await plugin.call('Node', 'NodePublishVolume', { ...request, secrets });
    expect(readFileSync(join(target, 'over-tls'), 'utf8')).to.equal('encrypted on the wire\n');
    await plugin.call('Node', 'NodeUnpublishVolume', { volume_id: source.volumeHandle, target_path: target });
  });

  it('a client with a self-signed certificate, or with none, is refused', async () => {
    expect(await mountsWithOtherFiles(join(work!, 'rogue'))).to.equal('refused');
    expect(await mountsWithOtherFiles('nothing')).to.equal('refused');
  });
});
