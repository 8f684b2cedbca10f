import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, DRIVER_NAME, glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { CustomResourceClient } from '../../src/controller/custom-objects.ts';
import { KubeEventRecorder } from '../../src/controller/events.ts';
import { ControllerManager } from '../../src/controller/manager.ts';
import { HEKETI_CLUSTER_ID_ANNOTATION } from '../../src/heketi/annotations.ts';
import { createProvisionerControllers } from '../../src/provisioner/index.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { FakeVolumeReconciler } from '../support/fake-volume-reconciler.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, unlessNotFound } from '../support/kube.ts';
import { testbedEnv } from '../support/testbed-env.ts';

/**
 * The StorageClasses users kept from heketi, against the test bed's real apiserver and kube-controller-manager
 * (whose PV controller finds no plugin for `kubernetes.io/glusterfs`, says ProvisioningFailed and sets no
 * storage-provisioner annotation, but binds a PV pre-bound to the claim). As in provisioner.test.ts the
 * GlusterVolume reconciler's part is played by FakeVolumeReconciler; the GlusterCluster is only the object
 * `kubectl gluster heketi import` would print (heketi's cluster id in its annotation), with no operator
 * running on it: this suite proves the provisioner alone.
 */
describe('dynamic provisioner: in-tree kubernetes.io/glusterfs classes and claims of every era', function () {
  this.timeout(120_000);
  const config = kubeConfig();
  const core = config.makeApiClient(k8s.CoreV1Api);
  const storage = config.makeApiClient(k8s.StorageV1Api);
  const eventsApi = config.makeApiClient(k8s.EventsV1Api);
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const volumes = new CustomResourceClient<GlusterVolume>(config, 'glustervolumes', glusterVolumeSchema);
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const suffix = randomBytes(3).toString('hex');
  /** heketi's ids are 16 random bytes in hex; one the import carried over, one of a cluster heketi had and we do not. */
  const heketiId = randomBytes(16).toString('hex');
  const goneHeketiId = randomBytes(16).toString('hex');
  const classes = { inTree: `intree-${suffix}-heketi`, ours: `intree-${suffix}-csi` };
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let fake: FakeVolumeReconciler;
  let manager: ControllerManager | undefined;

  /** Every Event about `name` (`type reason: note`), once there is one of `reason`. */
  function eventsOnceThereIs(name: string, reason: string): Promise<string[]> {
    return eventually(`a ${reason} event about ${name}`, async () => {
      const list = await eventsApi.listNamespacedEvent({ namespace: namespace.name });
      const events = list.items.filter((event) => event.regarding?.name === name).map((event) => `${event.type} ${event.reason}: ${event.note ?? ''}`);
      return events.some((event) => event.split(' ')[1] === `${reason}:`) ? events : notYet(events);
    });
  }

  const readClaim = (name: string) => core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name });

  async function bound(name: string): Promise<k8s.V1PersistentVolumeClaim> {
    return eventually(`claim ${name} Bound`, async () => {
      const claim = await readClaim(name);
      return claim.status?.phase === 'Bound' ? claim : notYet(claim.status);
    }, 60_000);
  }

  before(async function () {
    this.timeout(60_000);
    namespace = await createTestNamespace('provisioner-in-tree');
    fake = new FakeVolumeReconciler(config, { namespace: namespace.name, servers: testbedEnv().TESTBED_NODES });
    fake.start();
    await custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      plural: 'glusterclusters',
      namespace: namespace.name,
      body: {
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind: 'GlusterCluster',
        metadata: { name: 'imported', annotations: { [HEKETI_CLUSTER_ID_ANNOTATION]: heketiId } },
        spec: { access: { mode: 'External', external: { sshSecretRef: { name: 'gluster-ssh' } } } },
      },
    });
    const labels = { 'gluster-operator.dev/test': 'true' };
    // As heketi users wrote them: connection parameters, heketi's cluster ids (the first one gone), replicate:3.
    await storage.createStorageClass({
      body: {
        metadata: { name: classes.inTree, labels },
        provisioner: 'kubernetes.io/glusterfs',
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'Immediate',
        parameters: {
          resturl: 'http://heketi.example:8080',
          restuser: 'admin',
          secretName: 'heketi-secret',
          secretNamespace: 'default',
          clusterid: `${goneHeketiId},${heketiId}`,
          volumetype: 'replicate:3',
        },
      },
    });
    // Our driver, no clusterid: the one GlusterCluster of the namespace is meant.
    await storage.createStorageClass({
      body: { metadata: { name: classes.ours, labels }, provisioner: DRIVER_NAME, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate', parameters: { volumetype: 'replicate:3' } },
    });
    const events = new KubeEventRecorder(config, { controller: DRIVER_NAME, instance: `e2e-${suffix}`, onError: (error) => logger.warn('event lost', { error: String(error) }) });
    manager = new ControllerManager({ kubeConfig: config, clock: systemClock, logger, resyncMs: 20_000 });
    await manager.start(createProvisionerControllers({ kubeConfig: config, events, logger, namespace: namespace.name }));
  });

  after(async function () {
    this.timeout(180_000);
    try {
      if (manager && namespace) {
        await core.deleteCollectionNamespacedPersistentVolumeClaim({ namespace: namespace.name });
        await eventually('PVs reclaimed', async () => {
          const left = (await core.listPersistentVolume()).items.filter((pv) => pv.spec?.claimRef?.namespace === namespace.name);
          return left.length === 0 ? true : notYet(left.map((pv) => `${pv.metadata?.name}: ${pv.status?.phase}`));
        }, 90_000).catch((error) => logger.warn('cleanup: reclaim incomplete', { error: String(error) }));
      }
    } finally {
      await manager?.stop();
      await fake?.stop();
      for (const pv of (await core.listPersistentVolume()).items) {
        if (namespace && pv.spec?.claimRef?.namespace === namespace.name) await core.deletePersistentVolume({ name: pv.metadata!.name! }).catch(() => undefined);
      }
      for (const name of Object.values(classes)) await storage.deleteStorageClass({ name }).catch(() => undefined);
      await namespace?.remove();
    }
  });

  it('provisions a claim of a kubernetes.io/glusterfs class: GlusterVolume on the cluster heketi\'s id names, CSI PV, Bound, explained', async () => {
    const claim = await core.createNamespacedPersistentVolumeClaim({
      namespace: namespace.name,
      body: { metadata: { name: 'from-heketi' }, spec: { storageClassName: classes.inTree, accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } },
    });
    const uid = claim.metadata!.uid!;
    const claimBound = await bound('from-heketi');
    expect(claimBound.spec!.volumeName).to.equal(`pvc-${uid}`);
    expect(claimBound.metadata!.annotations ?? {}, 'the PV controller asked nobody').not.to.have.property('volume.kubernetes.io/storage-provisioner');

    const volume = (await volumes.get(namespace.name, `pvc-${uid}`))!;
    expect(volume.spec.cluster, 'the second clusterid, carried by the imported GlusterCluster').to.equal('imported');
    expect(volume.spec.durability).to.deep.equal({ type: 'Replicate', replicate: { replica: 3, arbiter: false } });
    // client-node gives the claim's timestamp as a Date, the zod-parsed volume's as the wire string.
    const waited = new Date(volume.metadata.creationTimestamp!).getTime() - new Date(claim.metadata!.creationTimestamp!).getTime();
    expect(waited, 'no GlusterVolume within the 5 s grace (timestamps have whole seconds)').to.be.at.least(4_000);

    const pv = (await unlessNotFound(core.readPersistentVolume({ name: `pvc-${uid}` })))!;
    expect(pv.spec!.csi?.driver).to.equal(DRIVER_NAME);
    expect(pv.spec!.glusterfs).to.equal(undefined);
    expect(pv.spec!.storageClassName).to.equal(classes.inTree);
    expect(pv.metadata!.annotations).to.include({ 'pv.kubernetes.io/provisioned-by': DRIVER_NAME });

    // Ours are recorded before the GlusterVolume is made, the PV controller's on its first sync of the claim.
    const events = await eventsOnceThereIs('from-heketi', 'ServedByGlusterOperator');
    expect(events).to.include(
      `Normal ServedByGlusterOperator: StorageClass ${classes.inTree} names the removed in-tree provisioner kubernetes.io/glusterfs; ` +
        'gluster-operator provisions this claim (the ProvisioningFailed event from persistentvolume-controller can be ignored)',
    );
    expect(events.find((event) => event.startsWith('Warning IgnoredParameters'))).to.contain('resturl');
    expect(events.some((event) => event.startsWith('Warning ProvisioningFailed') && event.includes('no volume plugin matched')), 'the PV controller\'s own warning, which ours explains').to.equal(true);
  });

  it('provisions a claim that names its class only through volume.beta.kubernetes.io/storage-class', async () => {
    const claim = await core.createNamespacedPersistentVolumeClaim({
      namespace: namespace.name,
      body: {
        metadata: { name: 'sts-data-0', annotations: { 'volume.beta.kubernetes.io/storage-class': classes.ours } },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    const uid = claim.metadata!.uid!;
    const claimBound = await bound('sts-data-0');
    expect(claimBound.spec!.volumeName).to.equal(`pvc-${uid}`);
    const pv = (await unlessNotFound(core.readPersistentVolume({ name: `pvc-${uid}` })))!;
    expect(pv.spec!.storageClassName).to.equal(classes.ours);
    expect(pv.spec!.csi?.driver).to.equal(DRIVER_NAME);
    expect((await volumes.get(namespace.name, `pvc-${uid}`))?.spec.cluster, 'no clusterid: the only GlusterCluster').to.equal('imported');
  });
});
