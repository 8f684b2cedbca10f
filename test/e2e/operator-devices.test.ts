import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterNodeSchema, type GlusterNode } from '../../src/api/index.ts';
import { deviceId, topologyName } from '../../src/topology/model.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl } from '../support/kube.ts';
import { killAllOperators, removeOperatorKubeconfig, startOperatorProcess } from '../support/operator-process.ts';
import { sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);

/**
 * Device preparation with the LVM backend on a real loop disk: pvcreate and vgcreate work on this kernel
 * (only thin LVs need device-mapper). A disk holding a filesystem is refused, named, and left untouched;
 * destroyData: true wipes it and makes it a volume group.
 */
describe('operator: device preparation (LVM backend, real loop disk)', function () {
  this.timeout(180_000);
  const env = testbedEnv();
  const node = env.TESTBED_NODES[0]!;
  const disk = (process.env.TESTBED_DISKS ?? '').split(' ')[0]!;
  const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  // The operator names the VG after the device's id in its database, where names are namespaced.
  const vg = () => `vg_${deviceId(topologyName(namespace.name, 'disk-node'), disk)}`;

  async function glusterNode(): Promise<GlusterNode> {
    return glusterNodeSchema.parse(
      await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glusternodes', name: 'disk-node' }),
    );
  }

  before(async () => {
    expect(disk, 'TESTBED_DISKS').to.match(/^\/dev\/loop\d+$/);
    namespace = await createTestNamespace('devices');
    // Something a careless wipe would destroy: a filesystem on the node's disk.
    await execFileAsync('mkfs.xfs', ['-f', '-q', disk]);
    await kubectl(['-n', namespace.name, 'create', 'secret', 'generic', 'gluster-ssh', `--from-file=ssh-privatekey=${env.TESTBED_SSH_KEY}`]);
    const objects = [
      { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterCluster', metadata: { name: 'lvm' }, spec: { access: { mode: 'External', external: { sshSecretRef: { name: 'gluster-ssh' } } } } },
      { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterNode', metadata: { name: 'disk-node' }, spec: { cluster: 'lvm', manageAddress: node, storageAddress: node, devices: [{ name: disk }] } },
    ];
    for (const body of objects) {
      await custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: `${body.kind.toLowerCase()}s`, body });
    }
    await startOperatorProcess('operator-devices', 18950 + Math.floor(Math.random() * 40));
  });

  after(async () => {
    await kubectl(['-n', namespace.name, 'delete', 'glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await killAllOperators();
    await sshRun(node, ['vgremove', '-f', vg()]);
    await sshRun(node, ['pvremove', '-y', disk]);
    await execFileAsync('wipefs', ['--all', '--quiet', disk]);
    await kubectl(['-n', 'gluster-operator', 'delete', 'secrets', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
    await kubectl(['-n', 'gluster-operator', 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
    await namespace?.remove();
    removeOperatorKubeconfig();
  });

  it('refuses a device that holds a filesystem, says what it found, and leaves it untouched', async () => {
    const refused = await eventually('device Refused', async () => {
      const current = await glusterNode();
      return current.status?.devices?.[0]?.state === 'Refused' ? current : notYet(current.status);
    }, 60_000);
    expect(refused.status!.devices![0]!.message).to.match(/not blank.*xfs.*destroyData/);
    const degraded = refused.status!.conditions!.find((c) => c.type === 'Degraded');
    expect(degraded).to.include({ status: 'True', reason: 'DeviceRefused' });
    const { stdout } = await execFileAsync('blkid', ['-p', '-o', 'value', '-s', 'TYPE', disk]);
    expect(stdout.trim(), 'filesystem still on the disk').to.equal('xfs');
  });

  it('with destroyData: true wipes it and makes it a volume group, reported Ready with its size', async () => {
    await kubectl(['-n', namespace.name, 'patch', 'glusternode', 'disk-node', '--type=json', '-p', '[{"op":"replace","path":"/spec/devices/0/destroyData","value":true}]']);
    const ready = await eventually('device Ready', async () => {
      const current = await glusterNode();
      return current.status?.devices?.[0]?.state === 'Ready' && current.status.observedGeneration === current.metadata.generation ? current : notYet({ generation: current.metadata.generation, status: current.status });
    }, 60_000);
    expect(ready.status!.devices![0]!.size).to.match(/Gi|Mi/);
    expect(ready.status!.readyDevices).to.equal(1);
    const vgs = await sshRun(node, ['vgs', '--noheadings', '-o', 'vg_name', vg()]);
    expect(vgs.code, vgs.stderr).to.equal(0);
    expect(vgs.stdout.trim()).to.equal(vg());
  });
});
