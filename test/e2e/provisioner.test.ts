import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, DRIVER_NAME, glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { CustomResourceClient } from '../../src/controller/custom-objects.ts';
import { KubeEventRecorder } from '../../src/controller/events.ts';
import { ControllerManager } from '../../src/controller/manager.ts';
import { createProvisionerControllers } from '../../src/provisioner/index.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { FakeVolumeReconciler } from '../support/fake-volume-reconciler.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, unlessNotFound } from '../support/kube.ts';
import { testbedEnv } from '../support/testbed-env.ts';

/**
 * The provisioner against the real apiserver and kube-controller-manager of the test bed: the real PV
 * controller asks for provisioning (volume.kubernetes.io/storage-provisioner) and binds the pre-bound PVs
 * we create. The GlusterVolume reconciler's part (status Ready + mountSource + capacity) is played by the
 * test-only FakeVolumeReconciler, so this suite proves the provisioner alone.
 */
describe('dynamic provisioner on the real apiserver and PV binder', function () {
  this.timeout(120_000);
  const config = kubeConfig();
  const core = config.makeApiClient(k8s.CoreV1Api);
  const storage = config.makeApiClient(k8s.StorageV1Api);
  const eventsApi = config.makeApiClient(k8s.EventsV1Api);
  const volumes = new CustomResourceClient<GlusterVolume>(config, 'glustervolumes', glusterVolumeSchema);
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const suffix = randomBytes(3).toString('hex');
  const classes = {
    immediate: `prov-${suffix}-immediate`,
    wffc: `prov-${suffix}-wffc`,
    retain: `prov-${suffix}-retain`,
    heketi: `prov-${suffix}-heketi`,
    bad: `prov-${suffix}-bad`,
    noSpace: `prov-${suffix}-nospace`,
    bulk: `prov-${suffix}-bulk`,
  };
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let fake: FakeVolumeReconciler;
  let manager: ControllerManager | undefined;

  async function startProvisioner(): Promise<void> {
    const events = new KubeEventRecorder(config, {
      controller: DRIVER_NAME,
      instance: `e2e-${suffix}`,
      onError: (error) => logger.warn('event lost', { error: String(error) }),
    });
    manager = new ControllerManager({ kubeConfig: config, clock: systemClock, logger, resyncMs: 20_000 });
    await manager.start(createProvisionerControllers({ kubeConfig: config, events, logger, namespace: namespace.name, concurrency: 4 }));
  }

  async function stopProvisioner(): Promise<void> {
    await manager?.stop();
    manager = undefined;
  }

  async function createClass(name: string, extra: Partial<k8s.V1StorageClass> & { parameters?: Record<string, string> } = {}): Promise<void> {
    await storage.createStorageClass({
      body: {
        metadata: { name, labels: { 'gluster-operator.dev/test': 'true' } },
        provisioner: DRIVER_NAME,
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'Immediate',
        parameters: { clusterid: 'testbed' },
        ...extra,
      },
    });
  }

  async function createClaim(name: string, storageClassName: string, size = '1Gi', accessModes = ['ReadWriteMany']): Promise<k8s.V1PersistentVolumeClaim> {
    return core.createNamespacedPersistentVolumeClaim({
      namespace: namespace.name,
      body: { metadata: { name }, spec: { storageClassName, accessModes, resources: { requests: { storage: size } } } },
    });
  }

  const readClaim = (name: string) => core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name });
  const readPV = (name: string) => unlessNotFound(core.readPersistentVolume({ name }));

  async function bound(name: string, timeoutMs = 60_000): Promise<k8s.V1PersistentVolumeClaim> {
    return eventually(`claim ${name} Bound`, async () => {
      const claim = await readClaim(name);
      return claim.status?.phase === 'Bound' ? claim : notYet(claim.status);
    }, timeoutMs);
  }

  /** Events of both APIs about one object of our namespace: `type reason: note`. */
  async function eventsOf(name: string): Promise<string[]> {
    const list = await eventsApi.listNamespacedEvent({ namespace: namespace.name });
    return list.items.filter((event) => event.regarding?.name === name).map((event) => `${event.type} ${event.reason}: ${event.note ?? ''}`);
  }

  /** The first event about `name` that starts with `prefix`; a timeout lists the events there were. */
  function eventStartingWith(name: string, prefix: string): Promise<string> {
    return eventually(`event "${prefix}" about ${name}`, async () => {
      const events = await eventsOf(name);
      return events.find((event) => event.startsWith(prefix)) ?? notYet(events);
    });
  }

  async function ourVolumes(): Promise<GlusterVolume[]> {
    return volumes.list(namespace.name);
  }

  before(async function () {
    this.timeout(60_000);
    namespace = await createTestNamespace('provisioner');
    fake = new FakeVolumeReconciler(config, {
      namespace: namespace.name,
      servers: testbedEnv().TESTBED_NODES,
      failClusters: { 'no-space': 'no space: cannot place 3 bricks of 1Gi on distinct nodes (0 of 3 nodes have room)' },
    });
    fake.start();
    await createClass(classes.immediate, { allowVolumeExpansion: true, mountOptions: ['log-level=WARNING'], parameters: { clusterid: 'testbed', gidMin: '3000', gidMax: '3999' } });
    await createClass(classes.wffc, { volumeBindingMode: 'WaitForFirstConsumer' });
    await createClass(classes.retain, { reclaimPolicy: 'Retain' });
    await createClass(classes.heketi, {
      parameters: { resturl: 'http://heketi.example:8080', restuser: 'admin', secretName: 'heketi-secret', secretNamespace: 'default', clusterid: 'testbed', volumetype: 'replicate:3' },
    });
    await createClass(classes.bad, { parameters: { clusterid: 'testbed', volumetype: 'mirror:2' } });
    await createClass(classes.noSpace, { parameters: { clusterid: 'no-space' } });
    await createClass(classes.bulk, { parameters: { clusterid: 'testbed', volumetype: 'disperse:4:2' } });
    await startProvisioner();
  });

  after(async function () {
    this.timeout(240_000);
    try {
      // Reclaim through the provisioner itself while it still runs: Delete classes take their PVs along.
      if (manager && namespace) {
        await core.deleteCollectionNamespacedPersistentVolumeClaim({ namespace: namespace.name });
        await eventually(
          'PVs of Delete classes reclaimed',
          async () => {
            const pvs = await core.listPersistentVolume();
            const left = pvs.items.filter((pv) => pv.spec?.claimRef?.namespace === namespace.name && pv.spec?.persistentVolumeReclaimPolicy === 'Delete');
            return left.length === 0 ? true : notYet(left.map((pv) => `${pv.metadata?.name}: ${pv.status?.phase}`));
          },
          90_000,
        ).catch((error) => logger.warn('cleanup: reclaim incomplete', { error: String(error) }));
      }
    } finally {
      await stopProvisioner();
      await fake?.stop();
      const pvs = await core.listPersistentVolume();
      for (const pv of pvs.items) {
        if (namespace && pv.spec?.claimRef?.namespace === namespace.name) await core.deletePersistentVolume({ name: pv.metadata!.name! }).catch(() => undefined);
      }
      for (const name of Object.values(classes)) await storage.deleteStorageClass({ name }).catch(() => undefined);
      await namespace?.remove();
    }
  });

  it('provisions a claim: GlusterVolume, then a pre-bound PV that the real PV binder binds', async () => {
    const claim = await createClaim('first', classes.immediate, '1Gi', ['ReadWriteMany', 'ReadOnlyMany']);
    const uid = claim.metadata!.uid!;
    const volume = await eventually(`GlusterVolume pvc-${uid}`, async () => (await volumes.get(namespace.name, `pvc-${uid}`)) ?? notYet('not there (404)'));
    expect(volume.metadata.ownerReferences, 'no ownerReference: deleting the claim must not cascade').to.equal(undefined);
    expect(volume.metadata.labels).to.include({ 'storage.gluster-operator.dev/claim-uid': uid, 'storage.gluster-operator.dev/claim-name': 'first' });
    expect(volume.spec).to.deep.include({ cluster: 'testbed', size: '1Gi', reclaimPolicy: 'Delete', glusterVolumeName: `pvc-${uid}` });
    expect(volume.spec.durability).to.deep.equal({ type: 'Replicate', replicate: { replica: 3, arbiter: false } });
    expect(volume.spec.gid).to.be.within(3000, 3999);

    const claimBound = await bound('first');
    expect(claimBound.spec!.volumeName).to.equal(`pvc-${uid}`);
    const pv = (await readPV(`pvc-${uid}`))!;
    expect(pv.status?.phase).to.equal('Bound');
    expect(pv.metadata!.annotations).to.include({ 'pv.kubernetes.io/provisioned-by': DRIVER_NAME, 'pv.beta.kubernetes.io/gid': String(volume.spec.gid) });
    expect(pv.spec!.claimRef).to.deep.include({ namespace: namespace.name, name: 'first', uid });
    expect(pv.spec!.capacity).to.deep.equal({ storage: '1Gi' });
    expect(pv.spec!.accessModes).to.have.members(['ReadWriteMany', 'ReadOnlyMany']);
    expect(pv.spec!.persistentVolumeReclaimPolicy).to.equal('Delete');
    expect(pv.spec!.mountOptions).to.deep.equal(['log-level=WARNING']);
    expect(pv.spec!.storageClassName).to.equal(classes.immediate);
    const nodes = testbedEnv().TESTBED_NODES;
    expect(pv.spec!.csi).to.deep.equal({
      driver: DRIVER_NAME,
      volumeHandle: `${namespace.name}/pvc-${uid}`,
      volumeAttributes: {
        mountSource: `${nodes[0]}:pvc-${uid}`,
        backupVolfileServers: nodes.slice(1).join(':'),
        glusterVolumeName: `pvc-${uid}`,
        gid: String(volume.spec.gid),
      },
    });
    expect(claimBound.status?.capacity).to.deep.equal({ storage: '1Gi' });
    await eventStartingWith('first', `Normal ProvisioningSucceeded: Successfully provisioned volume pvc-${uid}`);
  });

  it('grows a bound claim: GlusterVolume spec.size, then PV capacity, then the claim status', async () => {
    const before = await readClaim('first');
    const uid = before.metadata!.uid!;
    await core.patchNamespacedPersistentVolumeClaim(
      { namespace: namespace.name, name: 'first', body: { spec: { resources: { requests: { storage: '3Gi' } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await eventually('GlusterVolume spec.size 3Gi', async () => {
      const size = (await volumes.get(namespace.name, `pvc-${uid}`))?.spec.size;
      return size === '3Gi' ? true : notYet(`spec.size ${size}`);
    });
    await eventually('PV capacity 3Gi', async () => {
      const capacity = (await readPV(`pvc-${uid}`))?.spec?.capacity?.storage;
      return capacity === '3Gi' ? true : notYet(`capacity ${capacity}`);
    });
    const claim = await eventually('claim status capacity 3Gi', async () => {
      const current = await readClaim('first');
      return current.status?.capacity?.storage === '3Gi' ? current : notYet(current.status);
    });
    expect((claim.status?.conditions ?? []).map((condition) => condition.type)).not.to.include('Resizing');
    expect(claim.status?.allocatedResourceStatuses?.storage).to.equal(undefined);
    expect(claim.status?.phase).to.equal('Bound');
    await eventStartingWith('first', 'Normal VolumeResizeSuccessful');
  });

  it('deletes the GlusterVolume, then (only once it is gone) the PV, when a claim of a Delete class goes', async () => {
    const claim = await readClaim('first');
    const name = `pvc-${claim.metadata!.uid}`;
    // Stand in for the volume reconciler's finalizer: the Gluster volume takes a while to remove.
    const finalizer = 'test.gluster-operator.dev/slow-delete';
    const setFinalizers = (finalizers: string[]) =>
      custom.patchNamespacedCustomObject(
        { group: API_GROUP, version: API_VERSION, plural: 'glustervolumes', namespace: namespace.name, name, body: { metadata: { finalizers } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    await setFinalizers([finalizer]);
    await core.deleteNamespacedPersistentVolumeClaim({ namespace: namespace.name, name: 'first' });
    await eventually('GlusterVolume being deleted', async () => {
      const current = await volumes.get(namespace.name, name);
      return current?.metadata.deletionTimestamp ? true : notYet(current ? { deletionTimestamp: current.metadata.deletionTimestamp, finalizers: current.metadata.finalizers } : 'no GlusterVolume');
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const released = await readPV(name);
    expect(released?.status?.phase, 'the PV stays while its GlusterVolume is being deleted').to.equal('Released');
    await setFinalizers([]);
    await eventually('GlusterVolume deleted', async () => {
      const current = await volumes.get(namespace.name, name);
      return current === undefined ? true : notYet({ deletionTimestamp: current.metadata.deletionTimestamp, finalizers: current.metadata.finalizers });
    });
    await eventually('PV deleted', async () => {
      const pv = await readPV(name);
      return pv === undefined ? true : notYet({ phase: pv.status?.phase, finalizers: pv.metadata?.finalizers, deletionTimestamp: pv.metadata?.deletionTimestamp });
    });
  });

  it('keeps the PV (Released) and the GlusterVolume when a claim of a Retain class goes', async () => {
    const claim = await createClaim('kept', classes.retain);
    const name = `pvc-${claim.metadata!.uid}`;
    await bound('kept');
    expect((await volumes.get(namespace.name, name))?.spec.reclaimPolicy).to.equal('Retain');
    expect((await readPV(name))?.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
    await core.deleteNamespacedPersistentVolumeClaim({ namespace: namespace.name, name: 'kept' });
    await eventually('PV Released', async () => {
      const pv = await readPV(name);
      return pv?.status?.phase === 'Released' ? true : notYet(pv ? pv.status : 'no PV');
    });
    // Give the provisioner several chances to (wrongly) act.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((await readPV(name))?.status?.phase).to.equal('Released');
    expect(await volumes.get(namespace.name, name)).not.to.equal(undefined);
  });

  it('waits for a selected node with WaitForFirstConsumer, then provisions', async () => {
    const claim = await createClaim('late', classes.wffc);
    const name = `pvc-${claim.metadata!.uid}`;
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(await volumes.get(namespace.name, name), 'no GlusterVolume before a node is selected').to.equal(undefined);
    expect(await readPV(name)).to.equal(undefined);
    expect((await readClaim('late')).status?.phase).to.equal('Pending');
    // What the scheduler does when the claim's first pod is placed (no kubelet or scheduler on the test bed).
    await core.patchNamespacedPersistentVolumeClaim(
      { namespace: namespace.name, name: 'late', body: { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'node-1' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await bound('late');
    expect(await volumes.get(namespace.name, name)).not.to.equal(undefined);
  });

  it('warns about heketi-only parameters, naming them, and still provisions', async () => {
    await createClaim('from-heketi', classes.heketi);
    await bound('from-heketi');
    const warning = await eventStartingWith('from-heketi', 'Warning IgnoredParameters');
    for (const parameter of ['resturl', 'restuser', 'secretName', 'secretNamespace']) expect(warning).to.contain(parameter);
    expect(warning).not.to.contain('clusterid');
  });

  it('refuses a bad volumetype with a ProvisioningFailed event naming it, and makes no GlusterVolume', async () => {
    const claim = await createClaim('bad-type', classes.bad);
    const failed = await eventStartingWith('bad-type', 'Warning ProvisioningFailed');
    expect(failed).to.contain('volumetype');
    expect(failed).to.contain('mirror:2');
    expect(await volumes.get(namespace.name, `pvc-${claim.metadata!.uid}`)).to.equal(undefined);
    expect((await readClaim('bad-type')).status?.phase).to.equal('Pending');
  });

  it('reports the GlusterVolume\'s own failure (placement) as ProvisioningFailed, with no PV', async () => {
    const claim = await createClaim('no-room', classes.noSpace);
    const failed = await eventStartingWith('no-room', 'Warning ProvisioningFailed');
    expect(failed).to.contain('PlacementFailed');
    expect(failed).to.contain('0 of 3 nodes have room');
    expect(await readPV(`pvc-${claim.metadata!.uid}`)).to.equal(undefined);
  });

  it('provisions 50 claims created at once, exactly one GlusterVolume and PV each, across a provisioner restart', async function () {
    this.timeout(240_000);
    const names = Array.from({ length: 50 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`);
    await Promise.all(names.map((name) => createClaim(name, classes.bulk, '1Gi', ['ReadWriteOnce'])));
    const bulkVolumes = async () => (await ourVolumes()).filter((volume) => volume.metadata.annotations?.['storage.gluster-operator.dev/storage-class'] === classes.bulk);
    // Restart mid-way: some volumes made, not all.
    await eventually('some GlusterVolumes', async () => {
      const made = (await bulkVolumes()).length;
      return made >= 5 ? true : notYet(`${made} GlusterVolumes`);
    }, 60_000);
    await stopProvisioner();
    const madeBeforeRestart = (await bulkVolumes()).length;
    await startProvisioner();
    await eventually(
      '50 claims Bound',
      async () => {
        const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: namespace.name });
        const boundCount = claims.items.filter((claim) => claim.metadata!.name!.startsWith('bulk-') && claim.status?.phase === 'Bound').length;
        return boundCount === 50 ? true : notYet(`${boundCount} of 50 Bound`);
      },
      180_000,
    );
    const made = await bulkVolumes();
    expect(made, 'exactly 50 GlusterVolumes').to.have.length(50);
    expect(new Set(made.map((volume) => volume.metadata.labels?.['storage.gluster-operator.dev/claim-uid'])).size).to.equal(50);
    const gids = made.map((volume) => volume.spec.gid);
    expect(new Set(gids).size, 'GIDs unique within the class').to.equal(50);
    expect(Math.min(...(gids as number[]))).to.equal(2000);
    expect(Math.max(...(gids as number[]))).to.equal(2049);
    const pvs = (await core.listPersistentVolume()).items.filter((pv) => pv.spec?.storageClassName === classes.bulk);
    expect(pvs, 'exactly 50 PVs').to.have.length(50);
    for (const pv of pvs) expect(pv.metadata!.name).to.equal(`pvc-${pv.spec!.claimRef!.uid}`);
    logger.info('bulk', { madeBeforeRestart });
  });
});
