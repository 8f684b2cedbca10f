import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterClusterSchema, glusterVolumeSchema, type GlusterCluster, type GlusterVolume } from '../api/index.ts';
import { isApiError, unlessNotFound as orUndefined } from '../controller/api-errors.ts';
import { CustomResourceClient, type ObjectCacheView } from '../controller/custom-objects.ts';
import { claimSchema, persistentVolumeSchema, storageClassSchema, type Claim, type PersistentVolume, type StorageClass } from './kube-objects.ts';

/**
 * The provisioner's edge: every read is parsed with zod, a 404 is `undefined`, a create that meets 409
 * AlreadyExists returns the existing object (a retry is "already done, read it"), patches are merge patches.
 */
export { isApiError } from '../controller/api-errors.ts';

/** The provisioner's watch caches by kind, each undefined until synced (ControllerManager.syncedCache). */
export interface ProvisionerCaches {
  claims?: () => ObjectCacheView | undefined;
  storageClasses?: () => ObjectCacheView | undefined;
  persistentVolumes?: () => ObjectCacheView | undefined;
  /** GlusterVolumes labelled as the provisioner's. */
  provisionedVolumes?: () => ObjectCacheView | undefined;
}

const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export class ProvisionerKube {
  readonly core: k8s.CoreV1Api;
  readonly storage: k8s.StorageV1Api;
  readonly custom: k8s.CustomObjectsApi;
  readonly volumes: CustomResourceClient<GlusterVolume>;
  /** Read only: which GlusterCluster a StorageClass means (cluster-resolution.ts). */
  readonly clusters: CustomResourceClient<GlusterCluster>;

  private readonly caches: ProvisionerCaches;

  constructor(kubeConfig: k8s.KubeConfig, volumes?: CustomResourceClient<GlusterVolume>, clusters?: CustomResourceClient<GlusterCluster>, caches: ProvisionerCaches = {}) {
    this.caches = caches;
    this.core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.storage = kubeConfig.makeApiClient(k8s.StorageV1Api);
    this.custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.volumes = volumes ?? new CustomResourceClient<GlusterVolume>(kubeConfig, 'glustervolumes', glusterVolumeSchema);
    this.clusters = clusters ?? new CustomResourceClient<GlusterCluster>(kubeConfig, 'glusterclusters', glusterClusterSchema);
  }

  /** Of one namespace, or of all when `namespace` is undefined. */
  async listGlusterClusters(namespace: string | undefined): Promise<GlusterCluster[]> {
    return this.clusters.list(namespace);
  }

  /**
   * What a claim's reconcile observes, from the watch caches where they hold it: the claim, its class, its PV
   * and its GlusterVolume (the caches are the informers whose events wake the claim, so a read there is never
   * older than the change that woke it). Only a found object is trusted from a cache, except the PV: a PV not
   * there yet is the common case (it is made last), and acting on "no PV" only creates one, which meets 409
   * AlreadyExists if the cache was behind. A missing claim, class or GlusterVolume is asked of the apiserver,
   * because what follows from "gone" (orphan collection) must not rest on a cache. Reads that decide a deletion
   * (orphans, released PVs) stay on the apiserver.
   */
  async observeClaim(namespace: string, name: string): Promise<Claim | undefined> {
    const cached = this.caches.claims?.()?.get(name, namespace);
    return cached ? claimSchema.parse(cached) : this.readClaim(namespace, name);
  }

  async observeStorageClass(name: string): Promise<StorageClass | undefined> {
    const cached = this.caches.storageClasses?.()?.get(name);
    return cached ? storageClassSchema.parse(cached) : this.readStorageClass(name);
  }

  async observePersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    const cache = this.caches.persistentVolumes?.();
    if (!cache) return this.readPersistentVolume(name);
    const cached = cache.get(name);
    return cached ? persistentVolumeSchema.parse(cached) : undefined;
  }

  async observeGlusterVolume(namespace: string, name: string): Promise<GlusterVolume | undefined> {
    const cached = this.caches.provisionedVolumes?.()?.get(name, namespace);
    return cached ? this.volumes.parse(cached) : this.volumes.get(namespace, name);
  }

  async readClaim(namespace: string, name: string): Promise<Claim | undefined> {
    const raw = await orUndefined(() => this.core.readNamespacedPersistentVolumeClaim({ namespace, name }));
    return raw === undefined ? undefined : claimSchema.parse(raw);
  }

  async readStorageClass(name: string): Promise<StorageClass | undefined> {
    const raw = await orUndefined(() => this.storage.readStorageClass({ name }));
    return raw === undefined ? undefined : storageClassSchema.parse(raw);
  }

  async readPersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    const raw = await orUndefined(() => this.core.readPersistentVolume({ name }));
    return raw === undefined ? undefined : persistentVolumeSchema.parse(raw);
  }

  async listPersistentVolumes(): Promise<PersistentVolume[]> {
    const list = await this.core.listPersistentVolume();
    return list.items.map((item) => persistentVolumeSchema.parse(item));
  }

  async listGlusterVolumes(labelSelector: string, namespace?: string): Promise<GlusterVolume[]> {
    const response = (namespace
      ? await this.custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, plural: 'glustervolumes', namespace, labelSelector })
      : await this.custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: 'glustervolumes', labelSelector })) as { items: unknown[] };
    return response.items.map((item) => glusterVolumeSchema.parse(item));
  }

  /** Creates, or on 409 reads what is there: `created` says which. */
  async createGlusterVolume(volume: GlusterVolume): Promise<{ volume: GlusterVolume; created: boolean }> {
    const namespace = volume.metadata.namespace!;
    try {
      return { volume: await this.volumes.create(namespace, volume), created: true };
    } catch (error) {
      if (!isApiError(error, 409)) throw error;
      const existing = await this.volumes.get(namespace, volume.metadata.name);
      if (!existing) throw new Error(`GlusterVolume ${namespace}/${volume.metadata.name} conflicted on create but is gone; retrying`);
      return { volume: existing, created: false };
    }
  }

  /** The operator owns the GlusterVolumes it created, so it may change their spec (size on resize, reclaim policy). */
  async patchGlusterVolumeSpec(namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { group: API_GROUP, version: API_VERSION, plural: 'glustervolumes', namespace, name, body: { spec } },
      MERGE_PATCH,
    );
  }

  /** Merge-patches metadata.annotations of a GlusterVolume the provisioner created. */
  async annotateGlusterVolume(namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { group: API_GROUP, version: API_VERSION, plural: 'glustervolumes', namespace, name, body: { metadata: { annotations } } },
      MERGE_PATCH,
    );
  }

  async createPersistentVolume(pv: k8s.V1PersistentVolume): Promise<{ persistentVolume: PersistentVolume; created: boolean }> {
    try {
      return { persistentVolume: persistentVolumeSchema.parse(await this.core.createPersistentVolume({ body: pv })), created: true };
    } catch (error) {
      if (!isApiError(error, 409)) throw error;
      const existing = await this.readPersistentVolume(pv.metadata!.name!);
      if (!existing) throw new Error(`PersistentVolume ${pv.metadata!.name} conflicted on create but is gone; retrying`);
      return { persistentVolume: existing, created: false };
    }
  }

  async patchPersistentVolumeCapacity(name: string, storage: string): Promise<void> {
    await this.core.patchPersistentVolume({ name, body: { spec: { capacity: { storage } } } }, MERGE_PATCH);
  }

  async deletePersistentVolume(name: string): Promise<void> {
    await orUndefined(() => this.core.deletePersistentVolume({ name }));
  }

  async patchClaimStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
    await this.core.patchNamespacedPersistentVolumeClaimStatus({ namespace, name, body: { status } }, MERGE_PATCH);
  }
}
