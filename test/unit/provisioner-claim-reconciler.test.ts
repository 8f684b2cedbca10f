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
