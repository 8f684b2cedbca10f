import type * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, type GlusterCluster, type GlusterVolume } from '../api/index.ts';
import type { CustomResourceClient, ObjectCacheView } from '../controller/custom-objects.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { ControllerDefinition, WatchSource } from '../controller/manager.ts';
import type { Clock } from '../runtime/clock.ts';
import { systemClock } from '../runtime/clock.ts';
import type { Logger } from '../runtime/logger.ts';
import { ClaimReconciler } from './claim-reconciler.ts';
import { ANN_CLAIM_NAME, ANN_CLAIM_NAMESPACE, LABEL_PROVISIONED_BY, PROVISIONER_NAME } from './constants.ts';
import { classService } from './claim-class.ts';
import { isOurPersistentVolume } from './decisions.ts';
import { ProvisionerKube } from './kube-io.ts';
import { persistentVolumeSchema, storageClassSchema } from './kube-objects.ts';
import { PersistentVolumeReconciler } from './volume-reconciler.ts';

export { parseStorageClassParameters, formatParameterErrors } from './storage-class-parameters.ts';
export { buildPersistentVolume } from './pv-builder.ts';
export { buildGlusterVolume } from './volume-builder.ts';
export { PROVISIONER_NAME } from './constants.ts';

/**
 * The dynamic provisioner as two controllers for the ControllerManager (run by the leader only):
 * `provisioner-claims` (PVCs of StorageClasses whose provisioner is gluster.gluster-operator.dev, or the
 * removed in-tree kubernetes.io/glusterfs: GlusterVolume, then pre-bound PV; resize) and
 * `provisioner-volumes` (reclaim of our PVs when Released).
 */
export interface ProvisionerOptions {
  kubeConfig: k8s.KubeConfig;
  events: EventRecorder;
  logger: Logger;
  clock?: Clock;
  /** Shared GlusterVolume client, e.g. the operator's; one is made when absent. */
  volumes?: CustomResourceClient<GlusterVolume>;
  /** Shared GlusterCluster client (read only here); one is made when absent. */
  clusters?: CustomResourceClient<GlusterCluster>;
  /**
   * Serve claims of StorageClasses whose provisioner is the removed in-tree `kubernetes.io/glusterfs` (default
   * true: nothing else can since Kubernetes 1.26; claim-class.ts says more). Operator setting
   * SERVE_IN_TREE_GLUSTERFS_CLASSES.
   */
  serveInTreeGlusterfsClasses?: boolean;
  /** Claims reconciled at once (default 4). */
  concurrency?: number;
  /**
   * Only claims (and GlusterVolumes, and PVs bound to claims) of this namespace. Unset: the whole cluster,
   * as in production. Tests on a shared cluster set it so two provisioners never act on one claim.
   */
  namespace?: string;
  /** Where GlusterVolumes go when a StorageClass has no `clusternamespace` parameter (the operator's namespace). */
  defaultVolumeNamespace?: string;
  /** A watch source's synced copies by source name (the controller manager's syncedObjects), once it runs. */
  syncedObjects?: (source: string) => readonly unknown[] | undefined;
  /** The same caches for reads by name (the controller manager's syncedCache): a claim's reconcile observes there. */
  syncedCache?: (source: string) => ObjectCacheView | undefined;
}

const GLUSTER_VOLUMES_OF_PROVISIONER = `${LABEL_PROVISIONED_BY}=${PROVISIONER_NAME}`;
/** Watch source names: the manager keeps one informer per name, and the claim reconciler reads two of them. */
export const PERSISTENT_VOLUMES_SOURCE = 'persistentvolumes';
const PROVISIONED_VOLUMES_SOURCE = 'glustervolumes (provisioned)';
const CLAIMS_SOURCE = 'persistentvolumeclaims';
const STORAGE_CLASSES_SOURCE = 'storageclasses';

type AnyList = k8s.KubernetesListObject<k8s.KubernetesObject>;

export function createProvisionerControllers(options: ProvisionerOptions): ControllerDefinition[] {
  const cache = (source: string) => () => options.syncedCache?.(source);
  const kube = new ProvisionerKube(options.kubeConfig, options.volumes, options.clusters, {
    claims: cache(CLAIMS_SOURCE),
    storageClasses: cache(STORAGE_CLASSES_SOURCE),
    persistentVolumes: cache(PERSISTENT_VOLUMES_SOURCE),
    provisionedVolumes: cache(PROVISIONED_VOLUMES_SOURCE),
  });
  const shared = { kube, events: options.events, logger: options.logger, clock: options.clock ?? systemClock };
  const serveInTreeClasses = options.serveInTreeGlusterfsClasses ?? true;
  const claims = new ClaimReconciler({
    ...shared,
    serveInTreeClasses,
    ...(options.defaultVolumeNamespace ? { defaultVolumeNamespace: options.defaultVolumeNamespace } : {}),
    ...(options.syncedObjects
      ? {
          cached: {
            persistentVolumes: () => options.syncedObjects!(PERSISTENT_VOLUMES_SOURCE),
            glusterVolumes: () => options.syncedObjects!(PROVISIONED_VOLUMES_SOURCE),
          },
        }
      : {}),
  });
  const volumes = new PersistentVolumeReconciler({ ...shared, ...(options.namespace ? { namespace: options.namespace } : {}) });

  const namespace = options.namespace;
  const claimSource: WatchSource = {
    name: CLAIMS_SOURCE,
    path: namespace ? `/api/v1/namespaces/${namespace}/persistentvolumeclaims` : '/api/v1/persistentvolumeclaims',
    list: async () =>
      (namespace ? await kube.core.listNamespacedPersistentVolumeClaim({ namespace }) : await kube.core.listPersistentVolumeClaimForAllNamespaces()) as AnyList,
  };
  const persistentVolumeSource: WatchSource = {
    name: PERSISTENT_VOLUMES_SOURCE,
    path: '/api/v1/persistentvolumes',
    list: async () => (await kube.core.listPersistentVolume()) as AnyList,
  };
  const storageClassSource: WatchSource = {
    name: STORAGE_CLASSES_SOURCE,
    path: '/apis/storage.k8s.io/v1/storageclasses',
    list: async () => (await kube.storage.listStorageClass()) as AnyList,
  };
  const glusterVolumeSource: WatchSource = {
    name: PROVISIONED_VOLUMES_SOURCE,
    path: kube.volumes.watchPath(namespace),
    labelSelector: GLUSTER_VOLUMES_OF_PROVISIONER,
    list: () =>
      (namespace
        ? kube.custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, plural: 'glustervolumes', namespace, labelSelector: GLUSTER_VOLUMES_OF_PROVISIONER })
        : kube.custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: 'glustervolumes', labelSelector: GLUSTER_VOLUMES_OF_PROVISIONER })) as Promise<AnyList>,
  };

  return [
    {
      name: 'provisioner-claims',
      reconcile: claims.reconcile,
      concurrency: options.concurrency ?? 4,
      primary: claimSource,
      related: [
        {
          // Status of a GlusterVolume we made (Ready, capacity) moves its claim on.
          source: glusterVolumeSource,
          toKeys: (object) => {
            const claimName = object.metadata?.annotations?.[ANN_CLAIM_NAME];
            const claimNamespace = object.metadata?.annotations?.[ANN_CLAIM_NAMESPACE] ?? object.metadata?.namespace;
            return claimName && claimNamespace ? [`${claimNamespace}/${claimName}`] : [];
          },
        },
        {
          // A PV of ours changing (bound, capacity) concerns its claim.
          source: persistentVolumeSource,
          toKeys: (object) => {
            const parsed = persistentVolumeSchema.safeParse(object);
            if (!parsed.success || !isOurPersistentVolume(parsed.data)) return [];
            const ref = parsed.data.spec.claimRef;
            return ref?.namespace && ref.name ? [`${ref.namespace}/${ref.name}`] : [];
          },
        },
        {
          // A StorageClass created or recreated after its claims: wake the claims that named it.
          source: storageClassSource,
          toKeys: (object) => {
            const parsed = storageClassSchema.safeParse(object);
            return parsed.success && classService(parsed.data, serveInTreeClasses) ? claims.claimKeysOfClass(parsed.data.metadata.name) : [];
          },
        },
      ],
    },
    {
      name: 'provisioner-volumes',
      reconcile: volumes.reconcile,
      concurrency: 2,
      primary: persistentVolumeSource,
      related: [
        {
          // GlusterVolume `pvc-<uid>` backs PV `pvc-<uid>`: its deletion lets the released PV go.
          source: glusterVolumeSource,
          toKeys: (object) => (object.metadata?.name ? [object.metadata.name] : []),
        },
      ],
    },
  ];
}
