import type * as k8s from '@kubernetes/client-node';
import { glusterClusterSchema, glusterNodeSchema, glusterVolumeSchema, type GlusterCluster, type GlusterNode, type GlusterVolume } from '../api/index.ts';
import { CustomResourceClient } from '../controller/custom-objects.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Clock } from '../runtime/clock.ts';
import type { TopologyStore } from '../topology/store.ts';
import type { Condition } from '../api/common.ts';
import type { ClusterAccessPool } from './cluster-access.ts';
import type { EvacuationReports } from './evacuation-reports.ts';

/** Finalizer the operator puts on all three kinds: deletion waits until Gluster state is cleaned up. */
export const FINALIZER = 'storage.gluster-operator.dev/finalizer';

/** What every reconciler gets: API clients, the topology, how to reach nodes, events, logs, time. */
export interface ReconcileContext {
  kubeConfig: k8s.KubeConfig;
  clusters: CustomResourceClient<GlusterCluster>;
  nodes: CustomResourceClient<GlusterNode>;
  volumes: CustomResourceClient<GlusterVolume>;
  topology: TopologyStore;
  /** The TopologyRestored condition from start-up, for GlusterCluster status. */
  topologyCondition: Condition | undefined;
  access: ClusterAccessPool;
  /** glusterd image for clusters whose spec names none (operator setting GLUSTERD_IMAGE). */
  glusterdImage: string;
  /**
   * InternalIP addresses of the Kubernetes nodes from the operator's Node cache, or undefined before it has
   * synced: the clients each volume's auth.allow lets in (client-access.ts).
   */
  kubernetesNodeAddresses(): readonly string[] | undefined;
  /**
   * Every PV as the provisioner's watch has it, or undefined before it has synced (or where nothing watches
   * PVs): the deletion guards read it instead of a LIST of every PV per deleted volume.
   */
  cachedPersistentVolumes?(): readonly unknown[] | undefined;
  /** What each volume's reconcile last did about its bricks on each leaving node, for the nodes' status. */
  evacuations: EvacuationReports;
  events: EventRecorder;
  logger: Logger;
  clock: Clock;
  random: () => number;
}

export function customResourceClients(kubeConfig: k8s.KubeConfig) {
  return {
    clusters: new CustomResourceClient<GlusterCluster>(kubeConfig, 'glusterclusters', glusterClusterSchema),
    nodes: new CustomResourceClient<GlusterNode>(kubeConfig, 'glusternodes', glusterNodeSchema),
    volumes: new CustomResourceClient<GlusterVolume>(kubeConfig, 'glustervolumes', glusterVolumeSchema),
  };
}

export function splitKey(key: string): { namespace: string; name: string } {
  const [namespace, name] = key.includes('/') ? (key.split('/', 2) as [string, string]) : ['default', key];
  return { namespace, name };
}

/** Requeue periods: steady state re-checks Gluster (which changes behind our back) every few minutes. */
export const REQUEUE = { steady: 5 * 60_000, waiting: 10_000, unreachable: 30_000 } as const;
