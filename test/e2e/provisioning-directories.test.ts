import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { openSync, closeSync, readdirSync, rmSync, statfsSync, writeSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, GROUP_VERSION } from '../../src/api/index.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { kubeletTargetPath, startCsiPlugin, type CsiPluginProcess } from '../support/csi-plugin.ts';
import { setUpProvisioningCluster, type ProvisioningCluster } from '../support/provisioning-cluster.ts';
import { removeBrickRoot } from '../support/brick-cleanup.ts';
import { releaseSharedVolumes } from '../support/shared-volumes.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';

/**
 * claimLayout: directory, every part real: claims of one class become quota-limited directories of one shared
 * Gluster volume the provisioner makes; the CSI node plugin mounts each claim's directory alone; Gluster's quota
 * stops writes past the claim's size; a resize changes the limit; deleting a claim removes its directory and
 * nothing else; the shared volume cannot be deleted while it holds directories; a directory the operator did
 * not make is never written into or removed.
 */
describe('provisioning: claims as directories of a shared volume (claimLayout: directory)', function () {
  this.timeout(300_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const config = kubeConfig();
  const core = config.makeApiClient(k8s.CoreV1Api);
  let cluster: ProvisioningCluster;
  let plugin: CsiPluginProcess | undefined;
  /** Published mounts: target path and the volume_id it was published with. */
  const targets: Array<{ path: string; volumeId: string }> = [];
  let sharedName: string | undefined;

  before(async () => {
    cluster = await setUpProvisioningCluster({
      env,
      nodes,
      prefix: 'e2e-dirs',
      cluster: 'main',
      brickBackend: 'Directory',
      storageClassParameters: { claimLayout: 'directory', sharedVolumeSize: '1Gi', gidMin: '41000', gidMax: '41100' },
      allowVolumeExpansion: true,
      healthPortBase: 19500,
      cleanBricks: (brickRoot) => removeBrickRoot(nodes, brickRoot),
    });
  });

  after(async () => {
    for (const target of targets) await unmountLazily(target.path);
    await plugin?.stop();
    if (cluster) {
      // The shared volume is Retain by design: the suite lets it go as a user would, with Delete.
      await kubectl(['-n', cluster.appNamespace, 'delete', 'pvc', '--all', '--wait=true', '--timeout=120s'], { allowFailure: true });
      await kubectl(['-n', cluster.storageNamespace, 'delete', 'glustervolume', 'foreign', '--ignore-not-found', '--wait=false'], { allowFailure: true });
      await releaseSharedVolumes(cluster.storageNamespace);
      await cluster.tearDown();
    }
  });

  function unmountLazily(path: string): Promise<void> {
    return new Promise((resolve) =>
      execFile('umount', ['-l', path], () => {
        rmSync(path, { recursive: true, force: true });
        resolve();
      }),
    );
  }

  const claimNames = ['alpha', 'beta'];
  const readClaim = (name: string) => core.readNamespacedPersistentVolumeClaim({ name, namespace: cluster.appNamespace });
  const volumeJson = async (name: string) => JSON.parse((await kubectl(['-n', cluster.storageNamespace, 'get', 'glustervolume', name, '-o', 'json'])).stdout);
  const quotaList = async (gluster: string) => sshCheck(nodes[0]!, ['gluster', '--mode=script', 'volume', 'quota', gluster, 'list']);

  /** EDQUOT: Node names it "Unknown system error -122" (libuv has no name for it), so the errno decides. */
  function isQuotaExceeded(error: unknown): boolean {
    return (error as NodeJS.ErrnoException).errno === -constants.errno.EDQUOT;
  }

  async function publish(pvName: string, pod: string): Promise<string> {
    const pv = await core.readPersistentVolume({ name: pvName });
    plugin ??= await startCsiPlugin('testnode');
    const target = kubeletTargetPath(plugin.dir, pod, pvName);
    targets.push({ path: target, volumeId: pv.spec!.csi!.volumeHandle });
    await plugin.call('Node', 'NodePublishVolume', {
      volume_id: pv.spec!.csi!.volumeHandle,
      target_path: target,
      volume_capability: { mount: { fs_type: '', mount_flags: [] }, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } },
      readonly: false,
      volume_context: pv.spec!.csi!.volumeAttributes,
    });
    return target;
  }

  it('two claims become two directories of one shared Gluster volume, each with its quota limit', async () => {
    for (const name of claimNames) {
      await core.createNamespacedPersistentVolumeClaim({
        namespace: cluster.appNamespace,
        body: { metadata: { name }, spec: { storageClassName: cluster.storageClass, accessModes: ['ReadWriteMany'], resources: { requests: { storage: '64Mi' } } } },
      });
    }
    const pvs = [];
    for (const name of claimNames) {
      const bound = await eventually(`PVC ${name} Bound`, async () => {
        const current = await readClaim(name);
        return current.status?.phase === 'Bound' ? current : notYet(current.status);
      }, 180_000);
      pvs.push(await core.readPersistentVolume({ name: bound.spec!.volumeName! }));
    }
    const attributes = pvs.map((pv) => pv.spec!.csi!.volumeAttributes!);
    expect(attributes[0]!.glusterVolumeName).to.equal(attributes[1]!.glusterVolumeName);
    expect(attributes.map((a) => a.subdirectory)).to.deep.equal(pvs.map((pv) => pv.metadata!.name));
    const directory = await volumeJson(pvs[0]!.metadata!.name!);
    sharedName = directory.spec.directoryOf;
    const shared = await volumeJson(sharedName!);
    expect(shared.metadata.labels[`${API_GROUP}/role`]).to.equal('shared-directories');
    expect(shared.spec.reclaimPolicy).to.equal('Retain');
    const quota = await quotaList(attributes[0]!.glusterVolumeName!);
    for (const pv of pvs) expect(quota).to.match(new RegExp(`/${pv.metadata!.name}\\s+64\\.0MB`));
    // The gid of each claim owns its directory, setgid, on every brick.
    for (const brick of shared.status.bricks as Array<{ path: string }>) {
      const [host, path] = brick.path.split(':') as [string, string];
      const stat = await sshCheck(host, ['stat', '-c', '%g %a', `${path}/${pvs[0]!.metadata!.name}`]);
      expect(stat.trim(), brick.path).to.equal(`${pvs[0]!.metadata!.annotations!['pv.beta.kubernetes.io/gid']} 2775`);
    }
  });

  it('the node plugin mounts each claim’s directory alone: a claim never sees another’s files', async () => {
    const [alpha, beta] = await Promise.all(claimNames.map(async (name) => (await readClaim(name)).spec!.volumeName!));
    const a = await publish(alpha!, 'pa');
    const b = await publish(beta!, 'pb');
    writeFileSync(join(a, 'only-alpha.txt'), 'alpha\n');
    expect(readdirSync(b)).to.not.include('only-alpha.txt');
    expect(readdirSync(a)).to.include('only-alpha.txt');
    // statfs of the mount is the directory's quota (features.quota-deem-statfs), not the shared volume's size.
    const size = statfsSync(a).blocks * statfsSync(a).bsize;
    expect(size).to.equal(64 * 1024 * 1024);
  });

  it('Gluster’s quota refuses writes past the claim’s size', async () => {
    const alpha = (await readClaim('alpha')).spec!.volumeName!;
    const a = targets[0]!.path;
    // 80 MiB into a 64 MiB directory: accounting lags writes by features.soft-timeout (the operator sets 5 s),
    // so the first write may pass the limit; once counted, every new write is refused.
    const fd = openSync(join(a, 'big.bin'), 'w');
    const chunk = Buffer.alloc(4 * 1024 * 1024, 1);
    try {
      for (let i = 0; i < 20; i++) writeSync(fd, chunk);
    } catch (error) {
      expect(isQuotaExceeded(error), String(error)).to.equal(true);
    } finally {
      closeSync(fd);
    }
    const gluster = (await volumeJson(alpha)).status.glusterVolumeName;
    await eventually(
      'a new write into the full directory refused with EDQUOT',
      async () => {
        try {
          writeFileSync(join(a, `more-${Date.now()}.bin`), Buffer.alloc(1024 * 1024, 2));
          return notYet({ wrote: 'another 1 MiB', quota: (await quotaList(gluster)).split('\n').find((line) => line.startsWith(`/${alpha}`)) });
        } catch (error) {
          return isQuotaExceeded(error) ? true : notYet(String(error));
        }
      },
      30_000,
    );
  });

  it('a larger request grows the directory’s limit, then the PV and the claim', async () => {
    await core.patchNamespacedPersistentVolumeClaim(
      { name: 'beta', namespace: cluster.appNamespace, body: { spec: { resources: { requests: { storage: '128Mi' } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const grown = await eventually('PVC beta capacity 128Mi', async () => {
      const current = await readClaim('beta');
      return current.status?.capacity?.storage === '128Mi' ? current : notYet(current.status);
    }, 120_000);
    const pv = await core.readPersistentVolume({ name: grown.spec!.volumeName! });
    expect(pv.spec?.capacity?.storage).to.equal('128Mi');
    expect(await quotaList(pv.spec!.csi!.volumeAttributes!.glusterVolumeName!)).to.match(new RegExp(`/${pv.metadata!.name}\\s+128\\.0MB`));
  });

  it('a directory the operator did not make is never taken over, and stays when its GlusterVolume goes', async () => {
    const gluster = (await volumeJson(sharedName!)).status.glusterVolumeName as string;
    // Made by hand through a mount of the shared volume, with a file in it.
    await sshCheck(nodes[0]!, ['sh', '-c', `mkdir -p /tmp/e2e-foreign && mount -t glusterfs localhost:/${gluster} /tmp/e2e-foreign && mkdir -p /tmp/e2e-foreign/foreign && echo precious > /tmp/e2e-foreign/foreign/keep.txt; umount /tmp/e2e-foreign; rmdir /tmp/e2e-foreign`]);
    await config.makeApiClient(k8s.CustomObjectsApi).createNamespacedCustomObject({
      group: API_GROUP,
      version: GROUP_VERSION.split('/')[1]!,
      namespace: cluster.storageNamespace,
      plural: 'glustervolumes',
      body: { apiVersion: GROUP_VERSION, kind: 'GlusterVolume', metadata: { name: 'foreign' }, spec: { cluster: 'main', size: '64Mi', directoryOf: sharedName, reclaimPolicy: 'Delete' } },
    });
    const failed = await eventually('foreign directory refused', async () => {
      const volume = await volumeJson('foreign');
      const ready = (volume.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
      return ready?.reason === 'DirectoryNotOurs' ? ready : notYet(ready);
    }, 60_000);
    expect(failed.message).to.match(/not this object's/);
    await kubectl(['-n', cluster.storageNamespace, 'delete', 'glustervolume', 'foreign', '--wait=true', '--timeout=60s']);
    const shared = await volumeJson(sharedName!);
    for (const brick of shared.status.bricks as Array<{ path: string }>) {
      const [host, path] = brick.path.split(':') as [string, string];
      expect(await sshCheck(host, ['cat', `${path}/foreign/keep.txt`]), brick.path).to.equal('precious\n');
    }
    expect(await quotaList(gluster)).to.not.match(/\/foreign\s/);
  });

  it('the shared volume is not deleted while it holds directories', async () => {
    // Retain (its default) would keep the Gluster volume once it may go; the suite lets it go with Delete.
    await kubectl(['-n', cluster.storageNamespace, 'patch', 'glustervolume', sharedName!, '--type=merge', '-p', '{"spec":{"reclaimPolicy":"Delete"}}']);
    await kubectl(['-n', cluster.storageNamespace, 'delete', 'glustervolume', sharedName!, '--wait=false']);
    const waiting = await eventually('shared volume deletion waiting', async () => {
      const shared = await volumeJson(sharedName!);
      const ready = (shared.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
      return ready?.reason === 'VolumeInUse' ? ready : notYet({ deletionTimestamp: shared.metadata.deletionTimestamp, ready });
    }, 60_000);
    expect(waiting.message).to.match(/directories of this volume/);
    // Its directories and their files are still there.
    expect(readdirSync(targets[0]!.path)).to.include('only-alpha.txt');
  });

  it('deleting a claim (reclaim policy Delete) removes its directory and nothing else; then the shared volume can go', async () => {
    const gluster = (await volumeJson(sharedName!)).status.glusterVolumeName as string;
    const alpha = (await readClaim('alpha')).spec!.volumeName!;
    const beta = (await readClaim('beta')).spec!.volumeName!;
    for (const target of targets.splice(0)) await plugin!.call('Node', 'NodeUnpublishVolume', { volume_id: target.volumeId, target_path: target.path });
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'alpha', namespace: cluster.appNamespace });
    await eventually(`PV ${alpha} and its GlusterVolume gone`, async () => {
      const pv = await unlessNotFound(core.readPersistentVolume({ name: alpha }));
      const { stdout } = await kubectl(['-n', cluster.storageNamespace, 'get', 'glustervolume', alpha, '--ignore-not-found', '-o', 'name']);
      return pv === undefined && stdout.trim() === '' ? true : notYet({ pv: pv?.status?.phase, volume: stdout.trim() });
    }, 120_000);
    const bricks = (await volumeJson(sharedName!)).status.bricks as Array<{ path: string }>;
    for (const brick of bricks) {
      const [host, path] = brick.path.split(':') as [string, string];
      expect((await sshRun(host, ['test', '-e', `${path}/${alpha}`])).code, `${brick.path}/${alpha}`).to.equal(1);
      expect((await sshRun(host, ['test', '-d', `${path}/${beta}`])).code, `${brick.path}/${beta}`).to.equal(0);
    }
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'beta', namespace: cluster.appNamespace });
    await eventually('shared volume gone once its directories are', async () => {
      const { stdout } = await kubectl(['-n', cluster.storageNamespace, 'get', 'glustervolume', '-o', 'name']);
      return stdout.trim() === '' ? true : notYet(stdout.trim().split('\n'));
    }, 120_000);
    // Its reclaimPolicy was set to Delete above: the Gluster volume went with it.
    expect((await sshCheck(nodes[0]!, ['gluster', '--mode=script', 'volume', 'list'])).split('\n')).to.not.include(gluster);
  });
});
