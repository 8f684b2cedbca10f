import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterNodeSchema, glusterVolumeSchema } from '../../src/api/index.ts';
import { backupVerifyReportSchema } from '../../src/cli/backup-verify.ts';
import { healReportSchema } from '../../src/cli/heal-info.ts';
import { parseHeketiTopology } from '../../src/heketi/topology-file.ts';
import { removeBrickRoot } from '../support/brick-cleanup.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { kubeConfig, kubectl } from '../support/kube.ts';
import { setUpProvisioningCluster, type ProvisioningCluster } from '../support/provisioning-cluster.ts';
import { testbedEnv } from '../support/testbed-env.ts';
import { kubectlGluster } from '../support/kubectl-gluster.ts';

/**
 * The day-2 commands as an operator's user runs them (Node 24, the admin kubeconfig) against the real
 * apiserver, the real operator process and real glusterd: a replica 2 claim on three nodes is provisioned;
 * heal-info reads its status and (--via ssh) Gluster live; topology export prints what topology import reads;
 * backup verify finds the operator's backup whole and matching the objects and the live cluster; node drain
 * moves the volume's brick off one node onto the third and exits 0 when the node holds none.
 */
describe('kubectl gluster heal-info, topology export, backup verify and node drain on the test bed', function () {
  this.timeout(600_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
  let cluster: ProvisioningCluster | undefined;
  let volumeName = '';
  const via = ['--via', `ssh:${nodes[0]}`, '--ssh-key', env.TESTBED_SSH_KEY, '--known-hosts', process.env.TESTBED_SSH_KNOWN_HOSTS ?? '.testbed/ssh/known_hosts'];

  before(async () => {
    cluster = await setUpProvisioningCluster({
      env,
      nodes,
      prefix: 'day2',
      cluster: 'day2',
      brickBackend: 'Directory',
      // Two copies on three nodes: a drained node's brick has somewhere to go.
      storageClassParameters: { volumetype: 'replicate:2' },
      healthPortBase: 19700,
      cleanBricks: (brickRoot) => removeBrickRoot(nodes, brickRoot),
    });
    const app = cluster.appNamespace;
    await core.createNamespacedPersistentVolumeClaim({
      namespace: app,
      body: { metadata: { name: 'app-data' }, spec: { storageClassName: cluster.storageClass, accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } },
    });
    await eventually('claim app-data Bound', async () => {
      const claim = await core.readNamespacedPersistentVolumeClaim({ namespace: app, name: 'app-data' });
      return claim.status?.phase === 'Bound' ? true : notYet(claim.status);
    }, 180_000);
    // The operator reads heal info within a minute of the volume starting: heal-info without --via needs it.
    volumeName = await eventually('the volume\'s status carries heal figures', async () => {
      const list = (await custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: cluster!.storageNamespace, plural: 'glustervolumes' })) as { items: unknown[] };
      const volume = list.items.map((item) => glusterVolumeSchema.parse(item))[0];
      return volume?.status?.heal ? volume.metadata.name : notYet(volume?.status);
    }, 180_000);
  });

  after(async () => cluster?.tearDown());

  it('heal-info pvc:NS/NAME from status, and --via ssh live: nothing pending, exit 0', async () => {
    const { appNamespace: app } = cluster!;
    const fromStatus = await kubectlGluster(['heal-info', `pvc:${app}/app-data`, '-o', 'json']);
    expect(fromStatus.code, fromStatus.stdout + fromStatus.stderr).to.equal(0);
    const report = healReportSchema.parse(JSON.parse(fromStatus.stdout));
    expect(report).to.deep.include({ source: 'status', state: 'healthy', pendingEntries: 0, splitBrainEntries: 0 });
    expect(report.bricks).to.have.length(2);

    const live = await kubectlGluster(['heal-info', volumeName, '-n', cluster!.storageNamespace, ...via]);
    expect(live.code, live.stdout + live.stderr).to.equal(0);
    expect(live.stdout).to.match(/^Heal: 0 entries pending, 0 in split-brain \(live, checked \d+s ago\)$/m);
  });

  it('topology export: heketi topology.json that topology import reads, one cluster with the three nodes', async () => {
    const run = await kubectlGluster(['topology', 'export', '-n', cluster!.storageNamespace, '--cluster', 'day2']);
    expect(run.code, run.stderr).to.equal(0);
    const topology = parseHeketiTopology(run.stdout);
    expect(topology.clusters).to.have.length(1);
    expect(topology.clusters[0]!.nodes.map((n) => n.node.hostnames.manage[0]).sort()).to.deep.equal([...nodes].sort());
    expect(run.stderr).to.contain('kubectl gluster topology import --json FILE --cluster day2');
  });

  it('backup verify --via ssh: the operator\'s backup is whole and matches the objects and Gluster, exit 0', async () => {
    const run = await eventually('backup verify exits 0', async () => {
      // The backup is written right after each change: a run just after one may see it lag, as a script would.
      const attempt = await kubectlGluster(['backup', 'verify', '-n', cluster!.storageNamespace, ...via, '-o', 'json']);
      return attempt.code === 0 ? attempt : notYet(attempt.stdout || attempt.stderr);
    }, 60_000);
    const report = backupVerifyReportSchema.parse(JSON.parse(run.stdout));
    expect(report.backup.state).to.equal('ok');
    expect(report.compared).to.deep.include({ nodes: nodes.length, volumes: 1, bricks: 2 });
    expect(report.differences).to.deep.equal([]);
  });

  it('node drain --yes: the node holding a brick is marked Failed and drained, the brick now on another node', async () => {
    const storage = cluster!.storageNamespace;
    const volume = glusterVolumeSchema.parse(await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: storage, plural: 'glustervolumes', name: volumeName }));
    const drained = volume.status!.bricks![0]!.node;
    const refused = await kubectlGluster(['node', 'drain', drained, '-n', storage]);
    expect(refused.code, 'no terminal and no --yes').to.equal(1);
    expect(refused.stderr).to.match(/not drained/);

    const run = await kubectlGluster(['node', 'drain', drained, '-n', storage, '--yes', '--timeout', '5m']);
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    expect(run.stdout).to.contain(`GlusterNode ${storage}/${drained} drained`);
    expect(run.stderr).to.contain(`${drained}: spec.state set to Failed`);
    const node = glusterNodeSchema.parse(await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: storage, plural: 'glusternodes', name: drained }));
    expect(node.spec.state).to.equal('Failed');
    const after = glusterVolumeSchema.parse(await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: storage, plural: 'glustervolumes', name: volumeName }));
    expect(after.status?.bricks?.map((b) => b.node)).to.not.include(drained);

    const again = await kubectlGluster(['node', 'drain', drained, '-n', storage, '--yes', '--no-wait']);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('is already Failed');
    // Back into use, so the teardown deletes an ordinary node.
    await kubectl(['-n', storage, 'patch', 'glusternode', drained, '--type=merge', '-p', '{"spec":{"state":"Online"}}'], { allowFailure: true });
  });
});
