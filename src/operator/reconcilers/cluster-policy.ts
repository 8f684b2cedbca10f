import type { GlusterClusterSpec } from '../../api/index.ts';
import type { ClusterObservation } from '../../topology/rebuild/observe.ts';

/**
 * Which GlusterClusters the operator serves, from its own settings (config.ts), never from a GlusterCluster:
 * serving one means a privileged, hostNetwork glusterd DaemonSet with the host's /dev (InCluster) or root over
 * SSH with the key its Secret holds (External). Whoever may create a GlusterCluster would otherwise choose
 * where that runs and with which image. Pure; the reconcilers and the access pool ask it before they act.
 */
export interface ClusterPolicy {
  /** GLUSTER_NAMESPACES: where GlusterClusters are served (and where the operator's RBAC grants reach). */
  readonly namespaces: readonly string[];
  /** GLUSTERD_IMAGE and GLUSTERD_IMAGES: the glusterd images a GlusterCluster may name. */
  readonly images: readonly string[];
}

export type ClusterRefusal = { reason: 'NamespaceNotAllowed' | 'ImageNotAllowed'; message: string };

/** The image a GlusterCluster asks for, if any; the empty string asks for none (the operator's default). */
export function requestedGlusterdImage(spec: Pick<GlusterClusterSpec, 'access'>): string | undefined {
  return spec.access.inCluster?.image || undefined;
}

/**
 * Why a GlusterCluster in `namespace` is not served, or undefined when it is. `spec` is the cluster's when it
 * exists (a GlusterNode may name one that does not): the namespace alone is checked without it.
 */
export function clusterRefusal(policy: ClusterPolicy, namespace: string, spec?: Pick<GlusterClusterSpec, 'access'>): ClusterRefusal | undefined {
  if (!policy.namespaces.includes(namespace)) {
    return {
      reason: 'NamespaceNotAllowed',
      message:
        `GlusterClusters in namespace ${namespace} are not served: the operator serves them only in its GLUSTER_NAMESPACES (${policy.namespaces.join(', ')}), ` +
        'and nothing is done for this one (no DaemonSet, no Secret read, no command on a node). Create the cluster in one of those, or have the ' +
        `operator's administrator add ${namespace} to GLUSTER_NAMESPACES with its RoleBinding (npm run synth -- --out DIR --gluster-namespaces ...).`,
    };
  }
  const image = spec ? requestedGlusterdImage(spec) : undefined;
  if (image !== undefined && !policy.images.includes(image)) {
    return {
      reason: 'ImageNotAllowed',
      message:
        `spec.access.inCluster.image ${JSON.stringify(image)} is not a glusterd image the operator allows (GLUSTERD_IMAGE and GLUSTERD_IMAGES: ${policy.images.join(', ')}), ` +
        'and nothing is done for this cluster (its DaemonSet is neither applied nor changed). Remove the field to run the operator\'s image, ' +
        'or have the operator\'s administrator add this one to GLUSTERD_IMAGES.',
    };
  }
  return undefined;
}

/**
 * The start-up observation of the cluster (topology/rebuild/observe.ts) without what the operator does not
 * serve: the refused clusters, their nodes, volumes and recorded generations, and the findings about those
 * nodes. Their nodes cannot be observed (the access pool refuses them), and a rebuild that cannot see a
 * cluster with volumes refuses to start: a GlusterCluster in a namespace the operator does not serve must
 * not hold back the ones it does.
 */
export function servedObservation(policy: ClusterPolicy, observation: ClusterObservation): ClusterObservation {
  const key = (namespace: string | undefined, name: string) => `${namespace ?? 'default'}/${name}`;
  const specOf = new Map(observation.clusters.map((cluster) => [key(cluster.metadata.namespace, cluster.metadata.name), cluster.spec]));
  const served = (namespace: string | undefined, cluster: string) => clusterRefusal(policy, namespace ?? 'default', specOf.get(key(namespace, cluster))) === undefined;
  const nodes = observation.nodes.filter((node) => served(node.metadata.namespace, node.spec.cluster));
  const droppedNodes = new Set(observation.nodes.filter((node) => !nodes.includes(node)).map((node) => key(node.metadata.namespace, node.metadata.name)));
  const droppedClusters = new Set(observation.clusters.filter((c) => !served(c.metadata.namespace, c.metadata.name)).map((c) => key(c.metadata.namespace, c.metadata.name)));
  return {
    clusters: observation.clusters.filter((cluster) => !droppedClusters.has(key(cluster.metadata.namespace, cluster.metadata.name))),
    nodes,
    volumes: observation.volumes.filter((volume) => served(volume.metadata.namespace, volume.spec.cluster)),
    observations: observation.observations.filter((entry) => !droppedNodes.has(entry.node)),
    recordedGenerations: observation.recordedGenerations.filter((recorded) => ![...droppedClusters].some((cluster) => recorded.source === `GlusterCluster ${cluster}`)),
    findings: observation.findings.filter((finding) => finding.node === undefined || !droppedNodes.has(finding.node)),
  };
}
