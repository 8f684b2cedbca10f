/** Labels shared by everything the project deploys, so `kubectl get all -l app.kubernetes.io/part-of=gluster-operator` finds it. */
export const PART_OF = { 'app.kubernetes.io/part-of': 'gluster-operator' } as const;
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'gluster-operator' } as const;
/** Label on objects the operator creates for one GlusterCluster. */
export const CLUSTER_LABEL = 'storage.gluster-operator.dev/cluster';
