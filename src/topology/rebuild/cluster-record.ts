import type { GlusterCluster } from '../../api/index.ts';
import { topologyName, type TopologyCluster } from '../model.ts';
import { brickSizeBounds } from '../sizing.ts';

/**
 * A GlusterCluster as the topology database records it, for the start-up rebuild and for the reconcilers'
 * sync (src/operator/topology-sync.ts) alike, so both read a spec the same way. Never throws for a spec value
 * out of the API's bounds (an object stored before the CRD refused it): the record takes the nearest value
 * placement honours (brickSizeBounds), and `problems` says what was changed, naming the field.
 */
export function clusterRecordOf(cluster: GlusterCluster): { record: TopologyCluster; problems: string[] } {
  const { minBrickSize, maxBrickSize, problems } = brickSizeBounds(cluster.spec);
  const record: TopologyCluster = {
    name: topologyName(cluster.metadata.namespace, cluster.metadata.name),
    zoneChecking: cluster.spec.zoneChecking,
    minBrickSize,
    maxBrickSize,
    brickBackend: cluster.spec.brickBackend,
    ...(cluster.spec.directoryRoot ? { directoryRoot: cluster.spec.directoryRoot } : {}),
  };
  return { record, problems };
}
