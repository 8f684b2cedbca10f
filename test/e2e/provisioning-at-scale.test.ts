import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { eventually, notYet } from '../support/eventually.ts';
import { kubeConfig, kubectl } from '../support/kube.ts';
import { setUpProvisioningCluster, type ProvisioningCluster } from '../support/provisioning-cluster.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';

/**
 * Fifty PVCs created at once against the real operator (own ServiceAccount), the real PV binder and real
 * glusterd: every claim ends Bound, and Gluster holds exactly fifty new volumes — one per claim, none twice
 * (a retried or concurrent provision must never make a second volume). The cluster uses the Directory
 * backend so that fifty volumes' bricks fit on the test bed's nodes; brick creation is not what is tested.
 */
const CLAIMS = 50;

describe('provisioning at scale: 50 PVCs at once with the real operator', function () {
  this.timeout(900_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const config = kubeConfig();
  const core = config.makeApiClient(k8s.CoreV1Api);
  let cluster: ProvisioningCluster;
  let volumesBefore: Set<string>;

  const glusterVolumes = async () =>
    new Set((await sshCheck(nodes[0]!, ['gluster', '--mode=script', 'volume', 'list'])).split('\n').filter((line) => line && line !== 'No volumes present in cluster'));

  before(async () => {
    volumesBefore = await glusterVolumes();
    cluster = await setUpProvisioningCluster({
      env,
      nodes,
      prefix: 'scale',
      cluster: 'scale',
      brickBackend: 'Directory',
      healthPortBase: 19300,
      cleanBricks: async (brickRoot) => {
        // Whatever the operator could not delete (a failed run) goes too, so the next suite starts clean.
        const left = [...(await glusterVolumes())].filter((name) => !volumesBefore.has(name));
        for (const name of left) {
          await sshRun(nodes[0]!, ['gluster', '--mode=script', 'volume', 'stop', name, 'force']);
          await sshRun(nodes[0]!, ['gluster', '--mode=script', 'volume', 'delete', name]);
        }
        for (const node of nodes) await sshRun(node, ['rm', '-rf', brickRoot]);
      },
    });
  });

  after(async () => {
    await cluster?.tearDown();
  });

  it(`${CLAIMS} PVCs created at once all end Bound, backed by exactly ${CLAIMS} new Gluster volumes`, async () => {
    const names = Array.from({ length: CLAIMS }, (_, i) => `claim-${String(i).padStart(2, '0')}`);
    await Promise.all(
      names.map((name) =>
        core.createNamespacedPersistentVolumeClaim({
          namespace: cluster.appNamespace,
          body: { metadata: { name }, spec: { storageClassName: cluster.storageClass, accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } },
        }),
      ),
    );
    const claims = await eventually(
      `${CLAIMS} claims Bound`,
      async () => {
        const list = (await core.listNamespacedPersistentVolumeClaim({ namespace: cluster.appNamespace })).items;
        const bound = list.filter((claim) => claim.status?.phase === 'Bound').length;
        return list.length === CLAIMS && bound === CLAIMS ? list : notYet(`${list.length} claims, ${bound} Bound; not Bound: ${list.filter((claim) => claim.status?.phase !== 'Bound').map((claim) => `${claim.metadata?.name}=${claim.status?.phase}`).join(' ')}`);
      },
      600_000,
    );

    // One PV per claim, each naming its own Gluster volume.
    const pvNames = new Set(claims.map((claim) => claim.spec!.volumeName!));
    expect(pvNames.size).to.equal(CLAIMS);
    const pvs = (await core.listPersistentVolume()).items.filter((pv) => pv.spec?.claimRef?.namespace === cluster.appNamespace);
    expect(pvs).to.have.length(CLAIMS);
    const backing = new Set(pvs.map((pv) => pv.spec!.csi!.volumeAttributes!.glusterVolumeName!));
    expect(backing.size).to.equal(CLAIMS);

    // Gluster itself: exactly fifty new volumes, and they are the ones the PVs name.
    const created = [...(await glusterVolumes())].filter((name) => !volumesBefore.has(name));
    expect(created).to.have.length(CLAIMS);
    expect(new Set(created)).to.deep.equal(backing);

    // And exactly fifty GlusterVolumes, all Ready.
    const { stdout } = await kubectl(['-n', cluster.storageNamespace, 'get', 'glustervolumes', '-o', 'json']);
    const volumes = JSON.parse(stdout).items as Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }>;
    expect(volumes).to.have.length(CLAIMS);
    expect(volumes.filter((volume) => volume.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).to.have.length(CLAIMS);
  });
});
