import { API_GROUP } from '../api/group.ts';

/**
 * Annotations `kubectl gluster heketi import` puts on the objects it prints, so heketi's ids stay findable:
 * a StorageClass `clusterid` (heketi's hex cluster id) resolves to the GlusterCluster carrying it, a PV's
 * `gluster.kubernetes.io/heketi-volume-id` to the GlusterVolume. Values are heketi's full ids.
 */
export const HEKETI_CLUSTER_ID_ANNOTATION = `${API_GROUP}/heketi-cluster-id`;
export const HEKETI_NODE_ID_ANNOTATION = `${API_GROUP}/heketi-node-id`;
/** JSON object: device path → heketi device id (its LVM volume group is `vg_<id>`). */
export const HEKETI_DEVICE_IDS_ANNOTATION = `${API_GROUP}/heketi-device-ids`;
export const HEKETI_VOLUME_ID_ANNOTATION = `${API_GROUP}/heketi-volume-id`;
/**
 * JSON list of the volume's bricks as heketi recorded them (in heketi's order, by brick id, not Gluster's):
 * `{id, node, brick: "host:/path", device, vg, thinPool, lv, size, arbiter?}`; what an adoption check compares.
 */
export const HEKETI_BRICKS_ANNOTATION = `${API_GROUP}/heketi-bricks`;
