import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { z } from 'zod';
import { errorMessage } from '../../runtime/error-message.ts';
import {
  API_GROUP,
  API_VERSION,
  GROUP_VERSION,
  glusterClusterSchema,
  glusterNodeSchema,
  glusterVolumeSchema,
  type GlusterCluster,
  type GlusterNode,
  type GlusterVolume,
} from '../../api/index.ts';
import type { NodeCommand } from '../../gluster/commands/command.ts';
import { volumeInfo } from '../../gluster/commands/gluster.ts';
import { lvs, pvs, vgs } from '../../gluster/commands/lvm.ts';
import { topologyName } from '../model.ts';
import type { Finding, NodeObservation } from './rebuild.ts';

/**
 * The I/O around the pure rebuild: list the custom resources (zod-parsed: the apiserver's objects are
 * input like any other) and ask every Gluster node what it has. Every failure becomes part of the
 * observation (a finding, a node without output) rather than an exception: the decision what to do with
 * a partial view belongs to decideStartup.
 */

/** Annotation on a GlusterCluster where the cluster reconciler may record the topology generation it last saw. */
export const TOPOLOGY_GENERATION_ANNOTATION = 'storage.gluster-operator.dev/topology-generation';

/** Runs a command on a node (SSH for External clusters, exec in the glusterd pod for InCluster ones). */
export type NodeRunner = <T>(node: GlusterNode, command: NodeCommand<T>) => Promise<T>;

export interface ClusterObservation {
  clusters: GlusterCluster[];
  nodes: GlusterNode[];
  volumes: GlusterVolume[];
  observations: NodeObservation[];
  recordedGenerations: { source: string; generation: number }[];
  findings: Finding[];
}

export interface ObserveOptions {
  custom: Pick<CustomObjectsApi, 'listNamespacedCustomObject' | 'listClusterCustomObject'>;
  /** Namespace the operator watches; all namespaces when absent. */
  namespace?: string;
  run: NodeRunner;
}

async function listKind<T>(options: ObserveOptions, plural: string, kind: string, schema: z.ZodType<T>, findings: Finding[]): Promise<T[]> {
  const list = (options.namespace
    ? await options.custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: options.namespace, plural })
    : await options.custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural })) as { items?: unknown[] };
  const items: T[] = [];
  for (const item of list.items ?? []) {
    // Lists omit apiVersion/kind on items with some servers; the list itself is of this kind.
    const parsed = schema.safeParse({ apiVersion: GROUP_VERSION, kind, ...(item as object) });
    if (parsed.success) items.push(parsed.data);
    else {
      const name = (item as { metadata?: { name?: string } }).metadata?.name ?? '?';
      findings.push({ severity: 'warning', code: 'InvalidResource', message: `${kind} ${name} does not validate, ignored: ${z.prettifyError(parsed.error)}` });
    }
  }
  return items;
}


export async function observeCluster(options: ObserveOptions): Promise<ClusterObservation> {
  const findings: Finding[] = [];
  // API errors here are real errors (no permission, apiserver down): the caller retries start-up.
  const clusters = await listKind(options, 'glusterclusters', 'GlusterCluster', glusterClusterSchema, findings);
  const nodes = await listKind(options, 'glusternodes', 'GlusterNode', glusterNodeSchema, findings);
  const volumes = await listKind(options, 'glustervolumes', 'GlusterVolume', glusterVolumeSchema, findings);

  const recordedGenerations: { source: string; generation: number }[] = [];
  for (const cluster of clusters) {
    const raw = cluster.metadata.annotations?.[TOPOLOGY_GENERATION_ANNOTATION];
    if (raw !== undefined && /^\d+$/.test(raw)) {
      recordedGenerations.push({ source: `GlusterCluster ${cluster.metadata.namespace}/${cluster.metadata.name}`, generation: Number(raw) });
    }
  }

  const backendOf = new Map(clusters.map((c) => [topologyName(c.metadata.namespace, c.metadata.name), c.spec.brickBackend]));
  const observations = await Promise.all(
    nodes.map(async (node): Promise<NodeObservation> => {
      const observation: NodeObservation = { node: topologyName(node.metadata.namespace, node.metadata.name), errors: [] };
      try {
        observation.volumeInfo = await options.run(node, volumeInfo());
      } catch (error) {
        observation.errors!.push(`gluster volume info: ${errorMessage(error)}`);
        return observation; // unreachable or glusterd down: LVM would not answer either
      }
      if (backendOf.get(topologyName(node.metadata.namespace, node.spec.cluster)) === 'LVM') {
        try {
          observation.pvs = await options.run(node, pvs());
          observation.vgs = await options.run(node, vgs());
          const names = [...new Set(observation.pvs.map((p) => p.vgName).filter((v): v is string => v !== null))];
          observation.lvs = [];
          for (const vg of names) observation.lvs.push(...(await options.run(node, lvs(vg))));
        } catch (error) {
          observation.errors!.push(`lvm: ${errorMessage(error)}`);
        }
      }
      return observation;
    }),
  );
  for (const o of observations) {
    for (const error of o.errors ?? []) findings.push({ severity: 'warning', code: 'NodeNotObserved', node: o.node, message: `${o.node}: ${error}` });
  }
  return { clusters, nodes, volumes, observations, recordedGenerations, findings };
}

export type EventsApi = Pick<CoreV1Api, 'createNamespacedEvent'>;

/** A core/v1 Event on a GlusterCluster, as `kubectl describe glustercluster` shows it. Best effort. */
export async function recordClusterEvent(
  core: EventsApi,
  cluster: GlusterCluster,
  event: { type: 'Normal' | 'Warning'; reason: string; message: string },
  now: Date = new Date(),
  component = 'gluster-operator',
): Promise<void> {
  const namespace = cluster.metadata.namespace ?? 'default';
  await core.createNamespacedEvent({
    namespace,
    body: {
      metadata: { generateName: `${cluster.metadata.name}.`, namespace },
      involvedObject: {
        apiVersion: GROUP_VERSION,
        kind: 'GlusterCluster',
        name: cluster.metadata.name,
        namespace,
        ...(cluster.metadata.uid ? { uid: cluster.metadata.uid } : {}),
        ...(cluster.metadata.resourceVersion ? { resourceVersion: cluster.metadata.resourceVersion } : {}),
      },
      type: event.type,
      reason: event.reason,
      message: event.message.slice(0, 1024),
      source: { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
  });
}
