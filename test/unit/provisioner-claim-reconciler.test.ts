import { expect } from 'chai';
import type { GlusterCluster, GlusterVolume } from '../../src/api/index.ts';
import { MemoryEventRecorder } from '../../src/controller/events.ts';
import { ClaimReconciler } from '../../src/provisioner/claim-reconciler.ts';
import type { ProvisionerKube } from '../../src/provisioner/kube-io.ts';
import { claimSchema, type Claim, type StorageClass } from '../../src/provisioner/kube-objects.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { sampleClass, sampleCluster } from './provisioner-builders.test.ts';

const HEKETI_ID = '630372ccdc720a92c681fb928f27b53f';
const CREATED = Date.parse('2025-06-01T12:00:00Z');

/** The reads and writes the claim reconciler makes, in memory; counts the GlusterCluster LISTs. */
class FakeKube {
  readonly claims = new Map<string, Claim>();
  readonly classes = new Map<string, StorageClass>();
  readonly glusterVolumes = new Map<string, GlusterVolume>();
  clusters: GlusterCluster[] = [];
  clusterLists = 0;
  clusterWideLists = 0;
  readonly volumes = {
    get: async (namespace: string, name: string) => this.glusterVolumes.get(`${namespace}/${name}`),
    delete: async (namespace: string, name: string) => void this.glusterVolumes.delete(`${namespace}/${name}`),
  };
  async readClaim(namespace: string, name: string) {
    return this.claims.get(`${namespace}/${name}`);
  }
  // The watch-cache reads of the real ProvisionerKube: here the same maps.
  observeClaim(namespace: string, name: string) {
    return this.readClaim(namespace, name);
  }
  observeStorageClass(name: string) {
    return this.readStorageClass(name);
  }
  observePersistentVolume() {
    return this.readPersistentVolume();
  }
  observeGlusterVolume(namespace: string, name: string) {
    return this.volumes.get(namespace, name);
  }
  async readStorageClass(name: string) {
    return this.classes.get(name);
  }
  async readPersistentVolume() {
    return undefined;
  }
  async listPersistentVolumes() {
    return [];
  }
  async listGlusterVolumes() {
    return [...this.glusterVolumes.values()];
  }
  async listGlusterClusters(namespace: string | undefined) {
    // Counted apart: the namespace's LIST resolves the cluster, the cluster-wide one finds a heketi id's namespace.
    if (namespace === undefined) {
      this.clusterWideLists += 1;
      return [...this.clusters];
    }
    this.clusterLists += 1;
    return this.clusters.filter((cluster) => cluster.metadata.namespace === namespace);
  }
  async createGlusterVolume(volume: GlusterVolume) {
    const key = `${volume.metadata.namespace}/${volume.metadata.name}`;
    const existing = this.glusterVolumes.get(key);
    if (existing) return { volume: existing, created: false };
    this.glusterVolumes.set(key, volume);
    return { volume, created: true };
  }
}

function setUp(options: { serveInTreeClasses?: boolean } = {}) {
  const kube = new FakeKube();
  const events = new MemoryEventRecorder();
  const clock = { at: CREATED, now: () => clock.at, sleep: async () => undefined };
  const reconciler = new ClaimReconciler({
    kube: kube as unknown as ProvisionerKube,
    events,
    logger: createLogger('error'),
    clock,
    defaultVolumeNamespace: 'storage',
    serveInTreeClasses: options.serveInTreeClasses ?? true,
  });
  kube.clusters = [sampleCluster('other', { namespace: 'storage' }), sampleCluster('imported', { namespace: 'storage', heketiId: HEKETI_ID })];
  return { kube, events, clock, reconciler };
}

function addClaim(kube: FakeKube, name: string, meta: { annotations?: Record<string, string>; storageClassName?: string }): string {
  kube.claims.set(
    `apps/${name}`,
    claimSchema.parse({
      metadata: { name, namespace: 'apps', uid: `uid-${name}`, creationTimestamp: new Date(CREATED).toISOString(), annotations: meta.annotations ?? {} },
      spec: { ...(meta.storageClassName ? { storageClassName: meta.storageClassName } : {}), accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } },
    }),
  );
  return `apps/${name}`;
}

const inTreeClass = () =>
  sampleClass({ metadata: { name: 'glusterfs-old' }, provisioner: 'kubernetes.io/glusterfs', parameters: { resturl: 'http://heketi:8080', clusterid: HEKETI_ID, volumetype: 'replicate:3' } });

describe('provisioner: the claim reconciler with in-tree classes, beta-annotation claims and cluster resolution', () => {
  it('serves an in-tree class claim after the grace: GlusterVolume on the cluster the heketi id resolves to, ServedByGlusterOperator once', async () => {
    const { kube, events, clock, reconciler } = setUp();
    kube.classes.set('glusterfs-old', inTreeClass());
    const key = addClaim(kube, 'old', { storageClassName: 'glusterfs-old' });

    clock.at = CREATED + 1_000;
    expect(await reconciler.reconcile(key)).to.deep.equal({ requeueAfterMs: 4_000 });
    expect(kube.glusterVolumes.size, 'nothing made within the grace').to.equal(0);

    clock.at = CREATED + 6_000;
    await reconciler.reconcile(key);
    const volume = kube.glusterVolumes.get('storage/pvc-uid-old');
    expect(volume?.spec.cluster).to.equal('imported');
    expect(events.recorded.map((event) => `${event.type} ${event.reason}`)).to.deep.equal(['Warning IgnoredParameters', 'Normal ServedByGlusterOperator', 'Normal Provisioning']);

    const lists = kube.clusterLists;
    await reconciler.reconcile(key);
    expect(kube.clusterLists, 'no GlusterCluster LIST once the GlusterVolume exists').to.equal(lists);
    expect(kube.clusterWideLists, 'the heketi id is looked up in every namespace while the claim has no PV').to.be.greaterThan(0);
    expect(events.recorded.filter((event) => event.reason === 'ServedByGlusterOperator')).to.have.length(1);
  });

  it('leaves in-tree class claims alone when the setting is off', async () => {
    const { kube, events, clock, reconciler } = setUp({ serveInTreeClasses: false });
    kube.classes.set('glusterfs-old', inTreeClass());
    const key = addClaim(kube, 'old', { storageClassName: 'glusterfs-old' });
    clock.at = CREATED + 60_000;
    await reconciler.reconcile(key);
    expect(kube.glusterVolumes.size).to.equal(0);
    expect(events.recorded).to.deep.equal([]);
  });

  it('serves a claim naming our class only through the beta annotation, and indexes it under that class', async () => {
    const { kube, reconciler } = setUp();
    kube.classes.set('gluster', sampleClass({ parameters: { clusterid: 'other' } }));
    const key = addClaim(kube, 'sts-0', {
      annotations: { 'volume.beta.kubernetes.io/storage-class': 'gluster', 'volume.kubernetes.io/storage-provisioner': 'gluster.gluster-operator.dev' },
    });
    await reconciler.reconcile(key);
    expect(kube.glusterVolumes.get('storage/pvc-uid-sts-0')?.spec.cluster).to.equal('other');
    expect(reconciler.claimKeysOfClass('gluster')).to.deep.equal([key]);
  });

  it('records ProvisioningFailed naming the candidates when the class means no single cluster, and makes nothing', async () => {
    const { kube, events, reconciler } = setUp();
    kube.classes.set('gluster', sampleClass({ parameters: {} }));
    const key = addClaim(kube, 'data', { storageClassName: 'gluster', annotations: { 'volume.kubernetes.io/storage-provisioner': 'gluster.gluster-operator.dev' } });
    await reconciler.reconcile(key);
    expect(kube.glusterVolumes.size).to.equal(0);
    expect(events.recorded).to.have.length(1);
    expect(events.recorded[0]).to.deep.include({ type: 'Warning', reason: 'ProvisioningFailed' });
    expect(events.recorded[0]!.note).to.contain(`other, imported (heketi id ${HEKETI_ID})`);
  });
});

describe('provisioner: the claim reconciler from the watches’ copies, and directory claims', () => {
  function cachedSetUp(cache: { pvs: unknown[] | undefined; volumes: unknown[] | undefined }) {
    const base = setUp();
    const reconciler = new ClaimReconciler({
      kube: base.kube as unknown as ProvisionerKube,
      events: base.events,
      logger: createLogger('error'),
      clock: base.clock,
      defaultVolumeNamespace: 'storage',
      serveInTreeClasses: true,
      cached: { persistentVolumes: () => cache.pvs, glusterVolumes: () => cache.volumes },
    });
    return { ...base, reconciler };
  }
  const asked = { annotations: { 'volume.kubernetes.io/storage-provisioner': 'gluster.gluster-operator.dev' }, storageClassName: 'gluster' };

  it('a watch that lags never gives two claims one GID: what was made here counts until the watch shows it', async () => {
    const cache = { pvs: [] as unknown[], volumes: [] as unknown[] };
    const { kube, reconciler } = cachedSetUp(cache);
    kube.classes.set('gluster', sampleClass({ parameters: { clusterid: 'other' } }));
    let lists = 0;
    kube.listGlusterVolumes = async () => (lists++, [...kube.glusterVolumes.values()]);
    for (const name of ['a', 'b', 'c']) await reconciler.reconcile(addClaim(kube, name, asked));
    const gids = ['a', 'b', 'c'].map((name) => kube.glusterVolumes.get(`storage/pvc-uid-${name}`)?.spec.gid);
    expect(new Set(gids).size, String(gids)).to.equal(3);
    expect(lists, 'no LIST while the copies are synced').to.equal(0);
    // The watch catches up with a and b: their GIDs are still taken (now from the copies).
    cache.volumes = [kube.glusterVolumes.get('storage/pvc-uid-a'), kube.glusterVolumes.get('storage/pvc-uid-b')];
    await reconciler.reconcile(addClaim(kube, 'd', asked));
    expect(gids).to.not.include(kube.glusterVolumes.get('storage/pvc-uid-d')?.spec.gid);
  });

  it('a volume made and deleted before the watch showed it stops counting once a GET finds it gone', async () => {
    const cache = { pvs: [] as unknown[], volumes: [] as unknown[] };
    const { kube, clock, reconciler } = cachedSetUp(cache);
    kube.classes.set('gluster', sampleClass({ parameters: { clusterid: 'other', claimLayout: 'directory', sharedVolumeSize: '2Gi' } }));
    await reconciler.reconcile(addClaim(kube, 'a', asked));
    kube.glusterVolumes.delete('storage/pvc-uid-a');
    clock.at += 6_000;
    await reconciler.reconcile(addClaim(kube, 'b', asked));
    await reconciler.reconcile(addClaim(kube, 'c', asked));
    // a's 1Gi no longer counts: b and c fill the first shared volume.
    expect(kube.glusterVolumes.get('storage/pvc-uid-c')?.spec.directoryOf).to.equal('gluster-shared-1');
  });

  it('LISTs while the copies are not synced', async () => {
    const { kube, reconciler } = cachedSetUp({ pvs: undefined, volumes: [] });
    kube.classes.set('gluster', sampleClass({ parameters: { clusterid: 'other' } }));
    let lists = 0;
    kube.listGlusterVolumes = async () => (lists++, [...kube.glusterVolumes.values()]);
    await reconciler.reconcile(addClaim(kube, 'a', asked));
    expect(lists).to.equal(1);
  });

  it('claimLayout directory: claims become directories of one shared volume of the class until it is full, then of the next', async () => {
    const { kube, reconciler } = cachedSetUp({ pvs: [], volumes: [] });
    kube.classes.set('gluster', sampleClass({ parameters: { clusterid: 'other', claimLayout: 'directory', sharedVolumeSize: '2Gi' } }));
    for (const name of ['a', 'b', 'c']) await reconciler.reconcile(addClaim(kube, name, asked));
    const of = (name: string) => kube.glusterVolumes.get(`storage/pvc-uid-${name}`)?.spec.directoryOf;
    expect([of('a'), of('b'), of('c')]).to.deep.equal(['gluster-shared-1', 'gluster-shared-1', 'gluster-shared-2']);
    const shared = kube.glusterVolumes.get('storage/gluster-shared-1')!;
    expect(shared.spec).to.include({ size: '2Gi', reclaimPolicy: 'Retain', cluster: 'other' });
    expect(kube.glusterVolumes.get('storage/pvc-uid-a')?.spec).to.include({ size: '1Gi', reclaimPolicy: 'Delete' }).and.not.have.property('glusterVolumeName');
  });

  it('never puts a claim into a GlusterVolume that only has a shared volume’s name', async () => {
    const { kube, reconciler } = cachedSetUp({ pvs: [], volumes: [] });
    kube.classes.set('gluster', sampleClass({ parameters: { clusterid: 'other', claimLayout: 'directory' } }));
    // Made by someone else, not labelled: the copies of the provisioner's volumes do not list it, the create meets it.
    kube.glusterVolumes.set('storage/gluster-shared-1', { ...(await kube.createGlusterVolume({ apiVersion: 'storage.gluster-operator.dev/v1alpha1', kind: 'GlusterVolume', metadata: { name: 'gluster-shared-1', namespace: 'storage' }, spec: { cluster: 'other', size: '1Ti', durability: { type: 'None' }, snapshotFactor: 1, reclaimPolicy: 'Retain' } } as GlusterVolume)).volume });
    let failure: unknown;
    await reconciler.reconcile(addClaim(kube, 'a', asked)).catch((error: unknown) => (failure = error));
    expect(String(failure)).to.match(/is not a shared volume of StorageClass gluster/);
    expect(kube.glusterVolumes.get('storage/pvc-uid-a')).to.equal(undefined);
  });
});
