import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { internalAddressesOf } from '../../src/operator/reconcilers/client-access.ts';
import { applyTestbedTopology } from '../support/demo-topology.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { kubeNodesEnv, onNode } from '../support/kube-nodes.ts';
import { createTestNamespace, kubeConfig, unlessNotFound } from '../support/kube.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { sshCheck } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';
import { tearDownOperatorSuite } from '../support/operator-suite.ts';

const execFileAsync = promisify(execFile);

/**
 * Who may mount (issue 12, item 4), with the real operator process, apiserver, Kubernetes nodes and glusterd:
 * each volume's auth.allow lists the Kubernetes nodes' InternalIP addresses, the pool's own servers and
 * spec.clientAccess.addresses,
 * and follows both; the bricks refuse a client outside it (the test host once it is no longer listed) and
 * still serve a Kubernetes node; mode Open is Gluster's `*`.
 */
describe('client access: auth.allow lists the Kubernetes nodes, follows them, and keeps other clients out', function () {
  this.timeout(300_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const kubeNode = kubeNodesEnv().nodes[0]!;
  const config = kubeConfig();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const fakeNode = `client-access-${process.pid}`;
  const fakeNodeIp = '10.77.0.199';
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let brickRoot: string;
  let operator: OperatorProcess | undefined;
  let hostMount: string | undefined;
  let nodeMount: string | undefined;
  let glusterName = '';
  const healthPort = 19300 + Math.floor(Math.random() * 50);
  const coordinates = (plural: string) => ({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural });

  async function volume(): Promise<GlusterVolume | undefined> {
    const found = await unlessNotFound(custom.getNamespacedCustomObject({ ...coordinates('glustervolumes'), name: 'guarded' }));
    return found === undefined ? undefined : glusterVolumeSchema.parse(found);
  }

  /** auth.allow as glusterd has it ("Options Reconfigured" of volume info); undefined when never set. */
  async function authAllow(): Promise<string | undefined> {
    const text = await sshCheck(nodes[0]!, ['gluster', '--mode=script', 'volume', 'info', glusterName]);
    return /^auth\.allow: (.*)$/m.exec(text)?.[1]?.trim();
  }

  function waitForAuthAllow(description: string, wanted: string): Promise<string> {
    return eventually(`auth.allow of ${glusterName} ${description}`, async () => {
      const live = await authAllow();
      return live === wanted ? live : notYet({ live, wanted });
    }, 60_000);
  }

  function patchClientAccess(clientAccess: Record<string, unknown>): Promise<unknown> {
    return custom.patchNamespacedCustomObject(
      { ...coordinates('glusterclusters'), name: 'guarded', body: { spec: { clientAccess } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }

  async function kubernetesNodeAddresses(): Promise<string[]> {
    return internalAddressesOf((await core.listNode()).items as Array<{ status?: { addresses?: Array<{ type: string; address: string }> } }>);
  }

  /** Mounts the volume from the test host; the mount helper exits 0 even when the bricks refuse, so findmnt decides. */
  async function mountOnHost(): Promise<boolean> {
    hostMount ??= mkdtempSync(join(tmpdir(), 'client-access-'));
    await execFileAsync('mount', ['-t', 'glusterfs', `${nodes[0]}:/${glusterName}`, hostMount], { timeout: 60_000 }).catch(() => undefined);
    return isMounted(hostMount);
  }

  async function isMounted(target: string): Promise<boolean> {
    const { stdout } = await execFileAsync('findmnt', ['-rn', '-t', 'fuse.glusterfs', '-o', 'TARGET', target]).catch(() => ({ stdout: '' }));
    return stdout.trim() === target;
  }

  async function unmountHost(): Promise<void> {
    if (!hostMount) return;
    if (await isMounted(hostMount)) await execFileAsync('umount', ['-l', hostMount]);
  }

  before(async () => {
    namespace = await createTestNamespace('client-access');
    brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    // The imported cluster lists the test host in spec.clientAccess.addresses (demo-topology.ts).
    await applyTestbedTopology(namespace.name, nodes, { cluster: 'guarded', backend: 'Directory', directoryRoot: brickRoot, sshKey: env.TESTBED_SSH_KEY });
    operator = await startOperatorProcess('operator-client-access', healthPort);
    await custom.createNamespacedCustomObject({
      ...coordinates('glustervolumes'),
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterVolume', metadata: { name: 'guarded' }, spec: { cluster: 'guarded', size: '1Gi', reclaimPolicy: 'Delete' } },
    });
    const ready = await eventually('GlusterVolume guarded Ready', async () => {
      const current = await volume();
      return current?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? current : notYet(current?.status?.conditions);
    }, 180_000);
    glusterName = ready.status!.glusterVolumeName!;
  });

  after(async () => {
    await unmountHost().catch(() => undefined);
    if (hostMount) rmSync(hostMount, { recursive: true, force: true });
    if (nodeMount) {
      await onNode(kubeNode, ['umount', '-l', nodeMount], { allowFailure: true });
      await onNode(kubeNode, ['rmdir', nodeMount], { allowFailure: true });
    }
    await unlessNotFound(core.deleteNode({ name: fakeNode }));
    await tearDownOperatorSuite({ namespace, nodes, brickRoot, operator });
  });

  it('lists exactly the Kubernetes nodes, the pool\'s servers and the listed addresses, and a listed client mounts and writes', async () => {
    const expected = [...(await kubernetesNodeAddresses()), ...nodes, env.TESTBED_HOST_IP].sort().join(',');
    expect(expected.split(',')).to.include(kubeNode.ip);
    expect(await authAllow()).to.equal(expected);
    expect(await mountOnHost(), 'the listed test host mounts').to.equal(true);
    writeFileSync(join(hostMount!, 'written-by-host'), 'kept\n');
  });

  it('a client no longer listed is cut off and refused; a Kubernetes node still mounts and reads', async () => {
    await patchClientAccess({ addresses: [] });
    const nodesOnly = [...(await kubernetesNodeAddresses()), ...nodes].sort().join(',');
    await waitForAuthAllow('without the test host', nodesOnly);
    // Gluster re-checks connected clients when the option changes: the host's mount loses its bricks.
    await eventually('the host mount cut off', async () => {
      const listing = await execFileAsync('ls', [hostMount!], { timeout: 10_000 }).then((result) => result.stdout, (error: Error) => `error: ${error.message}`);
      return listing.includes('written-by-host') ? notYet(listing) : listing;
    }, 30_000);
    await unmountHost();
    expect(await mountOnHost(), 'the unlisted test host mounts').to.equal(false);
    const log = readFileSync(`/var/log/glusterfs/${hostMount!.slice(1).replaceAll('/', '-')}.log`, 'utf8');
    expect(log).to.contain('Authentication failed');

    nodeMount = `/run/client-access-${process.pid}`; // node-private (the root filesystem is the host's)
    await onNode(kubeNode, ['mkdir', '-p', nodeMount]);
    await onNode(kubeNode, ['mount', '-t', 'glusterfs', `${nodes[0]}:/${glusterName}`, nodeMount]);
    const read = await onNode(kubeNode, ['cat', join(nodeMount, 'written-by-host')]);
    expect(read.stdout).to.equal('kept\n');
  });

  it('follows the Kubernetes nodes: a node that joins is added, and removed when it leaves', async () => {
    const before = [...(await kubernetesNodeAddresses()), ...nodes];
    await core.createNode({
      body: {
        metadata: { name: fakeNode },
        // No kubelet will ever run it: nothing may be scheduled there.
        spec: { taints: [{ key: 'gluster-operator.test/no-kubelet', effect: 'NoSchedule' }] },
        status: { addresses: [{ type: 'InternalIP', address: fakeNodeIp }] },
      },
    });
    await waitForAuthAllow('with the node that joined', [...before, fakeNodeIp].sort().join(','));
    await core.deleteNode({ name: fakeNode });
    await waitForAuthAllow('without the node that left', before.sort().join(','));
  });

  it('mode Open is Gluster\'s *: the test host mounts again', async () => {
    await patchClientAccess({ mode: 'Open' });
    await waitForAuthAllow('open', '*');
    mkdirSync(hostMount!, { recursive: true });
    expect(await mountOnHost(), 'any host mounts an open volume').to.equal(true);
    expect(readFileSync(join(hostMount!, 'written-by-host'), 'utf8')).to.equal('kept\n');
  });
});
