/** The API group this project owns. Not under k8s.io or kubernetes.io, which are reserved for Kubernetes. */
export const API_GROUP = 'storage.gluster-operator.dev';
export const API_VERSION = 'v1alpha1';
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
/** The category that makes `kubectl get gluster` list every kind of this operator. */
export const CATEGORY = 'gluster';
/** Name the operator uses as StorageClass provisioner and CSI driver. */
export const DRIVER_NAME = 'gluster.gluster-operator.dev';
