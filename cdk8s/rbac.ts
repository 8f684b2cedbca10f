import { API_GROUP } from '../src/api/group.ts';
import { OPERATOR_LABELS, OPERATOR_NAME, OPERATOR_NAMESPACE } from './identity.ts';

/**
 * What the operator may do, and why. Proven sufficient by the end-to-end tests, which run the operator with
 * this ServiceAccount's token and nothing else (test namespaces get namespaceGrants below, as an install
 * gets it for every namespace it lists). Nothing is cluster-wide that can be namespaced: the powers that make
 * a stolen token dangerous (exec into pods, DaemonSets, Secrets) hold only in the namespaces where the
 * operator serves GlusterClusters (its GLUSTER_NAMESPACES setting), and in its own namespace for its own state.
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
  // Events on the objects it acts on, in their namespaces (a refused GlusterCluster's included: it is told why).
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  // Deleting a GlusterVolume: is its namespace going away (then data goes only with the cluster's cleanupPolicy)?
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
  // Who may mount: each volume's auth.allow lists the Kubernetes nodes' InternalIP addresses (read, never written).
  { apiGroups: [''], resources: ['nodes'], verbs: READ },
  // Dynamic provisioning: PVCs of our StorageClasses in (claims are never written, only their status: resize
  // conditions and capacity), PVs out.
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: READ },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: READ },
  { apiGroups: [''], resources: ['persistentvolumeclaims/status'], verbs: ['update', 'patch'] },
  { apiGroups: [''], resources: ['persistentvolumes'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
  // Claims with a dataSource: the VolumeSnapshot (and its content's snapshot handle) a claim is restored from, read only.
  { apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: ['get'] },
  // The csi-snapshotter sidecar in the operator's pods (same ServiceAccount): it watches the contents of
  // every driver and the classes, and records on our contents the snapshot the operator made.
  { apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshotclasses'], verbs: READ },
  { apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshotcontents'], verbs: [...READ, 'update', 'patch'] },
  { apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshotcontents/status'], verbs: ['update', 'patch'] },
];

/** The operator's own state, in its own namespace. */
export const OPERATOR_NAMESPACE_RULES: PolicyRule[] = [
  // The topology database's backup, split across Secrets of the operator's namespace.
  { apiGroups: [''], resources: ['secrets'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
  // Leader election, so two replicas never act at once.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/**
 * In each namespace where the operator serves GlusterClusters, and nowhere else: what reaching their nodes
 * takes. Whoever may create a GlusterCluster in such a namespace has the operator run a privileged glusterd
 * there, so these namespaces are for storage administrators only.
 */
export const GLUSTER_NAMESPACE_RULES: PolicyRule[] = [
  // The glusterd DaemonSet of each InCluster GlusterCluster, server-side applied (a patch; the apiserver also
  // checks `create` when the apply creates it). Its deletion is the garbage collector's, through the owner reference.
  { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['create', 'patch'] },
  // The glusterd pods: found by label (the exec transport) and watched (a node follows its pod).
  { apiGroups: [''], resources: ['pods'], verbs: READ },
  // The exec stream is a WebSocket upgrade, a GET: the apiserver checks `get` on pods/exec, and `create` too
  // (AuthorizePodWebsocketUpgradeCreatePermission); SPDY clients need `create` alone.
  { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
  // The SSH key Secret an External GlusterCluster names. Read only.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
];

/** Name of the Role and RoleBinding namespaceGrants makes in each namespace the operator serves. */
export const GLUSTER_NAMESPACE_ROLE = `${OPERATOR_NAME}-gluster-namespace`;

export interface NamespacedRbacObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'Role' | 'RoleBinding';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  rules?: PolicyRule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace: string }>;
}

/**
 * The Role and RoleBinding that let the operator serve GlusterClusters in `namespace` (GLUSTER_NAMESPACE_RULES).
 * The shipped manifests hold them for every namespace the install lists, and the test support creates the same
 * objects for the test namespaces: the suites run with exactly what an install grants.
 */
export function namespaceGrants(namespace: string): [NamespacedRbacObject, NamespacedRbacObject] {
  const metadata = { name: GLUSTER_NAMESPACE_ROLE, namespace, labels: { ...OPERATOR_LABELS } };
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules: GLUSTER_NAMESPACE_RULES },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { ...metadata, labels: { ...OPERATOR_LABELS } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: GLUSTER_NAMESPACE_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE }],
    },
  ];
}
