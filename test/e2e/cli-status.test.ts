import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { statusReportSchema } from '../../src/cli/status-view.ts';
import { volumeDescriptionSchema } from '../../src/cli/volume-view.ts';
import { removeBrickRoot } from '../support/brick-cleanup.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { kubeConfig, kubectl } from '../support/kube.ts';
import { setUpProvisioningCluster, type ProvisioningCluster } from '../support/provisioning-cluster.ts';
import { testbedEnv } from '../support/testbed-env.ts';
import { kubectlGluster } from '../support/kubectl-gluster.ts';

/**
 * `kubectl gluster status` and `volume describe` as an operator's user runs them (Node 24, the admin
 * kubeconfig), against the real apiserver with the real operator process keeping the status fresh and real
 * glusterd behind it: a claim of the operator's StorageClass is provisioned (GlusterVolume, Gluster volume,
 * CSI PV bound by the real PV binder); status counts its volume Ready with exit code 0, and describing the
 * claim shows the PV, the claim and a pod using it.
 */
describe('kubectl gluster status and volume describe on the test bed', function () {
  this.timeout(300_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  let cluster: ProvisioningCluster | undefined;
  let pvName = '';

  before(async () => {
    cluster = await setUpProvisioningCluster({
      env,
      nodes,
      prefix: 'cli',
      cluster: 'status',
      brickBackend: 'Directory',
      healthPortBase: 19500,
      cleanBricks: (brickRoot) => removeBrickRoot(nodes, brickRoot),
    });
    const app = cluster.appNamespace;
    await core.createNamespacedPersistentVolumeClaim({
      namespace: app,
      body: { metadata: { name: 'app-data' }, spec: { storageClassName: cluster.storageClass, accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } },
    });
    pvName = await eventually('claim app-data Bound', async () => {
      const claim = await core.readNamespacedPersistentVolumeClaim({ namespace: app, name: 'app-data' });
      return claim.status?.phase === 'Bound' && claim.spec?.volumeName ? claim.spec.volumeName : notYet(claim.status);
    }, 180_000);
    // A pod that uses the claim and is never scheduled (no node has the label): a user while it has not
    // finished, that needs neither the CSI plugin nor a kubelet to mount anything.
    await core.createNamespacedPod({
      namespace: app,
      body: {
        metadata: { name: 'app' },
        spec: {
          nodeSelector: { 'cli-status.test/nowhere': 'true' },
          containers: [{ name: 'app', image: 'registry.invalid/none:0', command: ['true'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'app-data' } }],
        },
      },
    });
  });

  after(async () => {
    // The pod first: while it exists the claim's protection finalizer keeps the claim, and tearDown waits for it.
    if (cluster) await kubectl(['-n', cluster.appNamespace, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await cluster?.tearDown();
  });

  it('status -n NS: exit 0 once the cluster, its nodes and the volume are Ready; the volume counted Ready, the backup shown', async () => {
    const storage = cluster!.storageNamespace;
    // The nodes' Ready may trail the volume's by a resync: status is what waits, as a script would.
    const run = await eventually('kubectl gluster status exits 0', async () => {
      const attempt = await kubectlGluster(['status', '-n', storage]);
      return attempt.code === 0 ? attempt : notYet(attempt.stdout || attempt.stderr);
    }, 60_000);
    expect(run.stdout.split('\n')[0]).to.equal(`No problems in namespace ${storage}.`);
    expect(run.stdout).to.match(/^1 GlusterVolume: 1 Ready$/m);
    expect(run.stdout).to.match(/^1 GlusterCluster: 1 Ready$/m);
    expect(run.stdout).to.match(new RegExp(`^${nodes.length} GlusterNodes: ${nodes.length} Ready$`, 'm'));
    expect(run.stdout).to.match(/^Topology backup gluster-operator\/gluster-operator-topology: generation \d+/m);

    const json = await kubectlGluster(['status', '-n', storage, '-o', 'json']);
    expect(json.code, json.stderr).to.equal(0);
    const report = statusReportSchema.parse(JSON.parse(json.stdout));
    expect(report.problems).to.deep.equal([]);
    expect(report.counts.find((c) => c.kind === 'GlusterVolume')).to.deep.include({ total: 1, Ready: 1 });
  });

  it('volume describe pvc:NS/claim: the volume its CSI PV names, with the PV, the claim and a pod using it', async () => {
    const { appNamespace: app, storageNamespace: storage } = cluster!;
    const run = await kubectlGluster(['volume', 'describe', `pvc:${app}/app-data`]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.split('\n')[0]).to.match(new RegExp(`^GlusterVolume ${storage}/pvc-[0-9a-f-]+ \\(cluster status\\)$`));
    expect(run.stdout).to.match(new RegExp(`^ {2}${pvName} +CSI +Bound +${app}/app-data +Delete$`, 'm'));
    expect(run.stdout).to.match(new RegExp(`^ {2}${app} +app-data +Bound +1Gi +${pvName}$`, 'm'));
    expect(run.stdout).to.match(new RegExp(`^ {2}${app} +app +Pending +app-data$`, 'm'));
    expect(run.stdout).to.match(/^Bricks \(3, 3 online\):$/m);

    const json = await kubectlGluster(['volume', 'describe', `pvc:${app}/app-data`, '-o', 'json']);
    expect(json.code, json.stderr).to.equal(0);
    const described = volumeDescriptionSchema.parse(JSON.parse(json.stdout));
    expect(described.volume.status?.mountSource).to.be.a('string');
    expect(described.persistentVolumes.map((pv) => pv.name)).to.deep.equal([pvName]);
    expect(described.pods.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal([`${app}/app`]);
  });
});
