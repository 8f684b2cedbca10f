import type * as k8s from '@kubernetes/client-node';
import type { WatchSource } from '../controller/manager.ts';
import { internalAddressesOf } from './reconcilers/client-access.ts';

/**
 * The Kubernetes nodes' InternalIP addresses, read from the operator's Node watch (cluster-wide get, list and
 * watch of nodes: the only grant on them, cdk8s/rbac.ts). Each volume's auth.allow lists them, so a change of
 * the set (a node joins, leaves, or is readdressed) wakes every volume; the much more frequent status updates
 * of a node (conditions, images) change nothing here and wake nothing.
 */
export const KUBE_NODES_SOURCE = 'nodes';

export function kubeNodeSource(core: k8s.CoreV1Api): WatchSource {
  return {
    name: KUBE_NODES_SOURCE,
    path: '/api/v1/nodes',
    list: () => core.listNode() as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>,
  };
}

type NodeLike = { status?: { addresses?: Array<{ type: string; address: string }> } };

export class KubeNodeAddresses {
  private lastSeen: string | undefined;
  private readonly cached: () => readonly k8s.KubernetesObject[] | undefined;

  /**
   * @param cached the Node watch's cache; undefined until the watch has completed its first list (an empty
   * list from a cache that is still filling would take every node's access away).
   */
  constructor(cached: () => readonly k8s.KubernetesObject[] | undefined) {
    this.cached = cached;
  }

  current(): string[] | undefined {
    const nodes = this.cached();
    return nodes === undefined ? undefined : internalAddressesOf(nodes as readonly NodeLike[]);
  }

  /** Whether the set differs from the one the last call saw (the first call: whether there is one at all). */
  changed(): boolean {
    const addresses = this.current();
    const signature = addresses === undefined ? undefined : addresses.join(',');
    const changed = signature !== this.lastSeen;
    this.lastSeen = signature;
    return changed;
  }
}
