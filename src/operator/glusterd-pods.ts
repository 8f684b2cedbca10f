import * as k8s from '@kubernetes/client-node';
import type { WatchSource } from '../controller/manager.ts';

/**
 * InCluster nodes are only as healthy as their glusterd pod. The GlusterNode reconciler learns of a pod that
 * is deleted, restarted or becomes Ready from these events, not from its 5-minute steady requeue: a glusterd pod
 * that the DaemonSet replaces within seconds still shows as Degraded and then Ready again.
 *
 * A glusterd pod names only its Kubernetes node (spec.nodeName); the GlusterNodes of that node are those in the
 * pod's namespace whose manageAddress is that node name (the exec transport's own mapping). The index is fed
 * by the GlusterNode watch. Entries are never removed: a stale one (a deleted node, an old manageAddress) only
 * enqueues a key whose reconcile finds nothing to do.
 */
export const GLUSTERD_POD_SELECTOR = 'app.kubernetes.io/name=glusterd';

export class GlusterNodesByKubeNode {
  readonly #keys = new Map<string, Set<string>>();

  observe(node: k8s.KubernetesObject): void {
    const manageAddress = (node as { spec?: { manageAddress?: string } }).spec?.manageAddress;
    const { namespace, name } = node.metadata ?? {};
    if (!manageAddress || !namespace || !name) return;
    const at = `${namespace}/${manageAddress}`;
    let keys = this.#keys.get(at);
    if (!keys) this.#keys.set(at, (keys = new Set()));
    keys.add(`${namespace}/${name}`);
  }

  keysForPod(pod: k8s.KubernetesObject): string[] {
    const nodeName = (pod as k8s.V1Pod).spec?.nodeName;
    const namespace = pod.metadata?.namespace;
    if (!nodeName || !namespace) return [];
    return [...(this.#keys.get(`${namespace}/${nodeName}`) ?? [])];
  }
}

export function glusterdPodSource(core: k8s.CoreV1Api, watchNamespace?: string): WatchSource {
  return {
    name: 'glusterd-pods',
    path: watchNamespace ? `/api/v1/namespaces/${watchNamespace}/pods` : '/api/v1/pods',
    labelSelector: GLUSTERD_POD_SELECTOR,
    list: () =>
      (watchNamespace
        ? core.listNamespacedPod({ namespace: watchNamespace, labelSelector: GLUSTERD_POD_SELECTOR })
        : core.listPodForAllNamespaces({ labelSelector: GLUSTERD_POD_SELECTOR })) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>,
  };
}
