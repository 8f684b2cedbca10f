import { expect } from 'chai';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, DRIVER_NAME } from '../../src/api/index.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { kubeletTargetPath, startCsiPlugin, type CsiPluginProcess } from '../support/csi-plugin.ts';
import { setUpProvisioningCluster, type ProvisioningCluster } from '../support/provisioning-cluster.ts';
import { removeBrickRoot } from '../support/brick-cleanup.ts';
import { sshCheck } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';

/**
 * The whole path a user takes, with every part real: a PVC of our StorageClass in an application
 * namespace → the operator (own ServiceAccount) provisions a GlusterVolume in the cluster's namespace and a
 * real Gluster volume → a CSI PV that the real PV binder binds → the CSI node plugin mounts it from the
 * PV's own attributes → data lands on the bricks → a resize grows volume, PV and PVC → deleting the PVC
 * removes the Gluster volume.
 */
describe('provisioning end to end: PVC → Gluster volume → bound PV → CSI mount', function () {
  this.timeout(300_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const config = kubeConfig();
  const core = config.makeApiClient(k8s.CoreV1Api);
  let cluster: ProvisioningCluster;
  let plugin: CsiPluginProcess | undefined;
  let target: string | undefined;

  const claim = () => core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: cluster.appNamespace });

  before(async () => {
    cluster = await setUpProvisioningCluster({
      env,
      nodes,
      prefix: 'e2e',
      cluster: 'main',
      brickBackend: 'LoopFile',
      storageClassParameters: { gidMin: '40000', gidMax: '40100' },
      allowVolumeExpansion: true,
      healthPortBase: 19100,
      cleanBricks: (brickRoot) => removeBrickRoot(nodes, brickRoot),
    });
  });

  after(async () => {
    if (target) await sshlessUnmount(target);
    await plugin?.stop();
    await cluster?.tearDown();
  });

  async function sshlessUnmount(path: string): Promise<void> {
    const { execFile } = await import('node:child_process');
    await new Promise((resolve) => execFile('umount', ['-l', path], () => resolve(undefined)));
    rmSync(path, { recursive: true, force: true });
  }

  it('a PVC becomes a real Gluster volume and a CSI PV that the real PV binder binds', async () => {
    await core.createNamespacedPersistentVolumeClaim({
      namespace: cluster.appNamespace,
      body: {
        metadata: { name: 'data' },
        spec: { storageClassName: cluster.storageClass, accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    const bound = await eventually('PVC Bound', async () => {
      const current = await claim();
      return current.status?.phase === 'Bound' ? current : notYet(current.status);
    }, 180_000);
    const pv = await core.readPersistentVolume({ name: bound.spec!.volumeName! });
    expect(pv.spec?.csi?.driver).to.equal(DRIVER_NAME);
    expect(pv.spec?.claimRef).to.include({ namespace: cluster.appNamespace, name: 'data' });
    expect(pv.metadata?.annotations?.['pv.beta.kubernetes.io/gid']).to.match(/^400\d\d$/);
    const glusterName = pv.spec!.csi!.volumeAttributes!.glusterVolumeName!;
    const info = await sshCheck(nodes[0]!, ['gluster', '--mode=script', 'volume', 'info', glusterName]);
    expect(info).to.match(/Number of Bricks: 1 x 3 = 3/).and.match(/Status: Started/);
    // The GlusterVolume lives with its cluster, not in the application namespace.
    const { stdout } = await kubectl(['-n', cluster.storageNamespace, 'get', 'glustervolume', pv.metadata!.name!, '-o', 'name']);
    expect(stdout.trim()).to.equal(`glustervolume.${API_GROUP}/${pv.metadata!.name}`);
  });

  it('the CSI node plugin mounts the PV from its own attributes, and data lands on every brick', async () => {
    const pv = await core.readPersistentVolume({ name: (await claim()).spec!.volumeName! });
    plugin = await startCsiPlugin('testnode');
    target = kubeletTargetPath(plugin.dir, 'p1', pv.metadata!.name!);
    await plugin.call('Node', 'NodePublishVolume', {
      volume_id: pv.spec!.csi!.volumeHandle,
      target_path: target,
      volume_capability: { mount: { fs_type: '', mount_flags: pv.spec!.mountOptions ?? [] }, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } },
      readonly: false,
      volume_context: pv.spec!.csi!.volumeAttributes,
    });
    writeFileSync(join(target, 'from-a-pod.txt'), 'provisioned and mounted\n');
    expect(readFileSync(join(target, 'from-a-pod.txt'), 'utf8')).to.equal('provisioned and mounted\n');
    const volume = JSON.parse((await kubectl(['-n', cluster.storageNamespace, 'get', 'glustervolume', pv.metadata!.name!, '-o', 'json'])).stdout);
    for (const brick of volume.status.bricks as Array<{ path: string }>) {
      const [host, path] = brick.path.split(':') as [string, string];
      expect(await sshCheck(host, ['cat', `${path}/from-a-pod.txt`]), brick.path).to.equal('provisioned and mounted\n');
    }
    await plugin.call('Node', 'NodeUnpublishVolume', { volume_id: pv.spec!.csi!.volumeHandle, target_path: target });
    target = undefined;
  });

  it('a larger PVC request grows the Gluster volume, then the PV, then the PVC status', async () => {
    await core.patchNamespacedPersistentVolumeClaim(
      { name: 'data', namespace: cluster.appNamespace, body: { spec: { resources: { requests: { storage: '2Gi' } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const grown = await eventually('PVC capacity 2Gi', async () => {
      const current = await claim();
      return current.status?.capacity?.storage === '2Gi' ? current : notYet(current.status);
    }, 180_000);
    const pv = await core.readPersistentVolume({ name: grown.spec!.volumeName! });
    expect(pv.spec?.capacity?.storage).to.equal('2Gi');
    const info = await sshCheck(nodes[0]!, ['gluster', '--mode=script', 'volume', 'info', pv.spec!.csi!.volumeAttributes!.glusterVolumeName!]);
    expect(info).to.match(/Number of Bricks: 2 x 3 = 6/);
  });

  it('deleting the PVC (reclaim policy Delete) removes PV, GlusterVolume and the Gluster volume', async () => {
    const pvName = (await claim()).spec!.volumeName!;
    const glusterName = (await core.readPersistentVolume({ name: pvName })).spec!.csi!.volumeAttributes!.glusterVolumeName!;
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'data', namespace: cluster.appNamespace });
    await eventually(`PV ${pvName} gone`, async () => {
      const pv = await unlessNotFound(core.readPersistentVolume({ name: pvName }));
      return pv === undefined ? true : notYet({ phase: pv.status?.phase, finalizers: pv.metadata?.finalizers, deletionTimestamp: pv.metadata?.deletionTimestamp });
    }, 180_000);
    const list = await sshCheck(nodes[0]!, ['gluster', '--mode=script', 'volume', 'list']);
    expect(list.split('\n')).to.not.include(glusterName);
  });
});
