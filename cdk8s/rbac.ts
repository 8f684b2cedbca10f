import { API_GROUP } from '../src/api/group.ts';

/**
 * What the operator may do, and why. Proven sufficient by the end-to-end tests, which run the operator with
 * this ServiceAccount's token and nothing else. Namespaced powers (Secrets for the topology backup, Leases
 * for leader election) stay in a Role in the operator's own namespace.
 */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const READ = ['get', 'list', 'watch'];

export const CLUSTER_RULES: PolicyRule[] = [
  // The three kinds: read and converge them, own their status and finalizers; the provisioner creates
  // and deletes GlusterVolumes for PVCs. It never writes spec of user objects, but it must create its own.
  { apiGroups: [API_GROUP], resources: ['glusterclusters', 'glusternodes'], verbs: [...READ, 'update', 'patch'] },
  { apiGroups: [API_GROUP], resources: ['glustervolumes'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
  {
    apiGroups: [API_GROUP],
    resources: ['glusterclusters/status', 'glusternodes/status', 'glustervolumes/status'],
    verbs: ['get', 'update', 'patch'],
  },
  {
    apiGroups: [API_GROUP],
    resources: ['glusterclusters/finalizers', 'glusternodes/finalizers', 'glustervolumes/finalizers'],
    verbs: ['update'],
  },
  // Events on the objects it acts on, in their namespaces.
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  // The glusterd DaemonSet of each InCluster GlusterCluster lives in that cluster's namespace.
  { apiGroups: ['apps'], resources: ['daemonsets'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
  // Commands reach in-cluster glusterd through the exec API, in the pod on the node.
  { apiGroups: [''], resources: ['pods'], verbs: READ },
  // The exec stream is a WebSocket upgrade, a GET: the apiserver checks `get` on pods/exec, and `create` too
  // (AuthorizePodWebsocketUpgradeCreatePermission); SPDY clients need `create` alone.
  { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
  { apiGroups: [''], resources: ['nodes'], verbs: READ },
  // Deleting a GlusterVolume: is its namespace going away (then data goes only with the cluster's cleanupPolicy)?
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
  // The SSH key Secret a GlusterCluster names, in that cluster's namespace. Read only.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  // Dynamic provisioning: PVCs of our StorageClasses in, PVs out; resize updates the PVC's status.
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: READ },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: [...READ, 'update', 'patch'] },
  { apiGroups: [''], resources: ['persistentvolumeclaims/status'], verbs: ['update', 'patch'] },
  { apiGroups: [''], resources: ['persistentvolumes'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
];

export const NAMESPACE_RULES: PolicyRule[] = [
  // The topology database's backup, split across Secrets of the operator's namespace.
  { apiGroups: [''], resources: ['secrets'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
  // Leader election, so two replicas never act at once.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];
