import type { GlusterCluster } from '../api/index.ts';
import { HEKETI_CLUSTER_ID_ANNOTATION } from '../heketi/annotations.ts';
import type { ProvisioningParameters } from './storage-class-parameters.ts';

/**
 * Which GlusterCluster a StorageClass means. `clusterid` was heketi's comma list of cluster ids, any of which
 * heketi could place the volume on; here each entry is a GlusterCluster name or a heketi id that
 * `kubectl gluster heketi import` recorded on a GlusterCluster (HEKETI_CLUSTER_ID_ANNOTATION), and the first
 * entry that resolves wins. Without `clusterid`, the one GlusterCluster of the namespace is meant.
 */
export type ClusterResolution = { resolved: true; cluster: string } | { resolved: false; message: string };

/** heketi's ids: 16 random bytes in lowercase hex (utils.GenUUID). */
const HEKETI_ID = /^[0-9a-f]{32}$/;

export const isHeketiId = (id: string) => HEKETI_ID.test(id);

function heketiIdOf(cluster: GlusterCluster): string | undefined {
  return cluster.metadata.annotations?.[HEKETI_CLUSTER_ID_ANNOTATION]?.trim() || undefined;
}

function describe(cluster: GlusterCluster): string {
  const heketiId = heketiIdOf(cluster);
  return heketiId ? `${cluster.metadata.name} (heketi id ${heketiId})` : cluster.metadata.name;
}

const IMMUTABLE = 'StorageClass parameters cannot be changed: recreate the StorageClass';

/**
 * Pure. `clusters`: the GlusterClusters of `namespace`, where the claim's GlusterVolume goes (a GlusterVolume
 * names a cluster of its own namespace).
 *
 * A name-shaped entry that matches nothing is still taken as the GlusterCluster's name, as before `clusterid`
 * could be a heketi id: a GlusterVolume may be created before its GlusterCluster (it reports ClusterNotFound,
 * which the claim shows as ProvisioningFailed, until the cluster exists). A heketi id that matches nothing can
 * only come to mean something through the import, so it fails here, naming the candidates.
 */
export function resolveCluster(parameters: Pick<ProvisioningParameters, 'clusterIds'>, clusters: readonly GlusterCluster[], namespace: string): ClusterResolution {
  const candidates = clusters.length === 0 ? 'there is none' : `there are ${clusters.map(describe).join(', ')}`;
  const ids = parameters.clusterIds;
  if (ids.length === 0) {
    if (clusters.length === 1) return { resolved: true, cluster: clusters[0]!.metadata.name };
    if (clusters.length === 0) {
      return {
        resolved: false,
        message: `no GlusterCluster in namespace ${namespace} to provision on: create one there, or (${IMMUTABLE}) set clusternamespace to the namespace of yours`,
      };
    }
    return {
      resolved: false,
      message: `StorageClass parameter clusterid is not set and namespace ${namespace} holds several GlusterClusters: ${candidates}; ${IMMUTABLE} with clusterid naming one of them`,
    };
  }
  for (const id of ids) {
    const matches = clusters.filter((cluster) => cluster.metadata.name === id || heketiIdOf(cluster) === id);
    if (matches.length === 1) return { resolved: true, cluster: matches[0]!.metadata.name };
    if (matches.length > 1) {
      return {
        resolved: false,
        message: `clusterid ${id} matches several GlusterClusters in namespace ${namespace} (by name or by annotation ${HEKETI_CLUSTER_ID_ANNOTATION}): ${matches.map(describe).join(', ')}; ${IMMUTABLE} with clusterid naming one of them, or remove the annotation from the others`,
      };
    }
  }
  const name = ids.find((id) => !HEKETI_ID.test(id));
  if (name !== undefined) return { resolved: true, cluster: name };
  return {
    resolved: false,
    message:
      `clusterid ${ids.join(',')} names no GlusterCluster in namespace ${namespace}: no GlusterCluster carries heketi id ${ids.join(' or ')} ` +
      `(annotation ${HEKETI_CLUSTER_ID_ANNOTATION}) and ${candidates}; import heketi's clusters with kubectl gluster heketi import, ` +
      `or ${IMMUTABLE} with clusterid naming one of the GlusterClusters`,
  };
}

/**
 * Where a claim's GlusterVolume lives (the namespace of its GlusterCluster). Pure. In order: the class's
 * `clusternamespace`; the namespace the PV made for the claim names in its volumeHandle (once made, that
 * is where the volume is); the namespace of the one GlusterCluster, anywhere, that carries a heketi id the
 * class's `clusterid` lists (a heketi-era class cannot be edited to add `clusternamespace`, and heketi's ids
 * are unique, so the import's annotation is enough to find it); else the provisioner's default.
 */
export function volumeNamespaceFor(input: {
  clusterNamespace: string | undefined;
  clusterIds: readonly string[];
  /** The namespace in the volumeHandle of the claim's PV, when it exists. */
  persistentVolumeNamespace: string | undefined;
  /** GlusterClusters of every namespace (read only when the first two give nothing and a heketi id is listed). */
  clustersEverywhere: readonly GlusterCluster[];
  defaultNamespace: string;
}): string {
  if (input.clusterNamespace !== undefined) return input.clusterNamespace;
  if (input.persistentVolumeNamespace !== undefined) return input.persistentVolumeNamespace;
  for (const id of input.clusterIds.filter(isHeketiId)) {
    const namespaces = new Set(input.clustersEverywhere.filter((cluster) => heketiIdOf(cluster) === id).map((cluster) => cluster.metadata.namespace));
    // Several namespaces: resolveCluster names them in the default namespace's terms; no guess here.
    if (namespaces.size === 1) {
      const [namespace] = namespaces;
      if (namespace) return namespace;
    }
  }
  return input.defaultNamespace;
}
