import * as k8s from '@kubernetes/client-node';
import type { GlusterNode } from '../api/index.ts';
import type { SnapshotBackend } from '../csi/controller.ts';
import { GlusterSnapshots } from './snapshots.ts';
import { EvacuationReports } from './evacuation-reports.ts';
import { ControllerManager, type ControllerDefinition, type WatchSource } from '../controller/manager.ts';
import { objectKey } from '../runtime/informer.ts';
import { KubeEventRecorder } from '../controller/events.ts';
import { warningsOnce } from '../controller/event-once.ts';
import type { NodeCommand } from '../gluster/commands/command.ts';
import { MutationQueue } from '../gluster/mutation-queue.ts';
import { operatorMetrics } from '../metrics/operator-metrics.ts';
import type { Clock } from '../runtime/clock.ts';
import { KeyedRateLimiter } from '../runtime/rate-limiter.ts';
import type { Logger } from '../runtime/logger.ts';
import { SecretBackupStore } from '../topology/backup/secret-store.ts';
import { topologyCodec } from '../topology/backup/codec.ts';
import type { TopologyDatabase } from '../topology/model.ts';
import { observeCluster } from '../topology/rebuild/observe.ts';
import { TopologyStore } from '../topology/store.ts';
import { createProvisionerControllers, PERSISTENT_VOLUMES_SOURCE } from '../provisioner/index.ts';
import { ClusterAccessPool, nodeTarget } from './cluster-access.ts';
import { GlusterNodesByKubeNode, glusterdPodSource } from './glusterd-pods.ts';
import { KUBE_NODES_SOURCE, KubeNodeAddresses, kubeNodeSource } from './kube-node-addresses.ts';
import type { OperatorConfig } from './config.ts';
import { customResourceClients, type ReconcileContext } from './context.ts';
import { reconcileCluster } from './reconcilers/cluster.ts';
import { servedObservation } from './reconcilers/cluster-policy.ts';
import { reconcileNode } from './reconcilers/node.ts';
import { reconcileVolume } from './reconcilers/volume.ts';
import { directoryKeysOf } from './reconcilers/directory-decisions.ts';
import { volumeKeysToWake } from './reconcilers/evacuation-handover.ts';

/**
 * The leader's work: restore (or rebuild) the topology, then run one controller per kind. Returned handle
 * stops everything gracefully: watches first, then in-flight reconciles, then the last backup write.
 */
export interface RunningOperator {
  hasSynced(): boolean;
  stop(): Promise<void>;
  /** Extra controllers (the provisioner) started against the same context. */
  context: ReconcileContext;
  /** What a VolumeSnapshot is on Gluster, for the CSI controller endpoint (src/main.ts serves it). */
  snapshots: SnapshotBackend;
}

/**
 * Node and cluster reconciles triggered by volume changes wait this long and run once per burst: each one
 * runs commands on the nodes, which otherwise compete with the volume creates that caused them
 * (bench:provision showed them doubling a single provision's Gluster time).
 */
const RELATED_VOLUME_DELAY_MS = 5_000;

/** Volumes woken by a leaving node wait this long: its own reconcile marks it Failed first. */
const LEAVING_NODE_DELAY_MS = 1_000;
/** Nodes joining together (a pool scaled up) update each volume's auth.allow once, not once per node. */
const KUBE_NODES_DELAY_MS = 2_000;

export async function startOperator(options: {
  config: OperatorConfig;
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  clock: Clock;
  extraControllers?: (context: ReconcileContext) => ControllerDefinition[];
}): Promise<RunningOperator> {
  const { config, kubeConfig, logger, clock } = options;
  const clients = customResourceClients(kubeConfig);
  const queue = new MutationQueue({
    onRetry: ({ key, attempt, delayMs, error }) => logger.info('glusterd busy; retrying', { cluster: key, attempt, delayMs, error: String(error) }),
  });
  // One limiter for every cluster, keyed by the pool's cluster key: a restart's burst of reconciles paces its commands.
  const limiter = new KeyedRateLimiter({ ...config.nodeCommandLimits, onWait: (_cluster, ms) => operatorMetrics.observeNodeCommandWait(ms) });
  const access = new ClusterAccessPool({ kubeConfig, queue, limiter, policy: config.clusterPolicy });
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);

  const runOnNode = async <T>(node: GlusterNode, command: NodeCommand<T>): Promise<T> => {
    const cluster = await clients.clusters.get(node.metadata.namespace ?? 'default', node.spec.cluster);
    if (!cluster) throw new Error(`GlusterCluster ${node.spec.cluster} of node ${node.metadata.name} not found`);
    return (await access.forCluster(cluster)).executor.run(nodeTarget(node), command);
  };
  const topology = new TopologyStore({
    backup: new SecretBackupStore<TopologyDatabase>({ core, namespace: config.namespace, codec: topologyCodec(), writer: config.identity }),
    observe: async () =>
      servedObservation(config.clusterPolicy, await observeCluster({ custom, run: runOnNode, ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}) })),
    events: core,
    log: (level, message, fields) => logger.log(level, message, fields),
  });
  // A start that fails part way (the apiserver busy, the cluster not observable yet) leaves nothing
  // running behind it: the caller retries with a fresh start.
  let manager: ControllerManager | undefined;
  const kubeNodes = new KubeNodeAddresses(() => manager?.syncedObjects(KUBE_NODES_SOURCE));
  try {
    const outcome = await topology.start();
    logger.info('topology ready', { reason: outcome.reason, message: outcome.message, generation: outcome.generation });

    // Reconciles read the three kinds from the controllers' watch caches (the apiserver until they have synced).
    const cachedReads = (client: (typeof clients)[keyof typeof clients]) => () => manager?.syncedCache(client.plural);
    const context: ReconcileContext = {
      kubeConfig,
      clusters: clients.clusters.readingFrom(cachedReads(clients.clusters)),
      nodes: clients.nodes.readingFrom(cachedReads(clients.nodes)),
      volumes: clients.volumes.readingFrom(cachedReads(clients.volumes)),
      topology,
      topologyCondition: outcome.condition,
      access,
      glusterdImage: config.glusterdImage,
      kubernetesNodeAddresses: () => kubeNodes.current(),
      evacuations: new EvacuationReports(),
      cachedPersistentVolumes: () => manager?.syncedObjects(PERSISTENT_VOLUMES_SOURCE),
      events: warningsOnce(
        new KubeEventRecorder(kubeConfig, {
          controller: 'gluster-operator',
          instance: config.identity,
          onError: (error) => logger.warn('event not recorded', { error: String(error) }),
        }),
        clock,
      ),
      logger,
      clock,
      random: Math.random,
    };

    const source = (client: (typeof clients)[keyof typeof clients]): WatchSource => ({
      name: client.plural,
      path: client.watchPath(config.watchNamespace),
      list: () => client.rawList(config.watchNamespace),
    });
    const byCluster = (object: k8s.KubernetesObject) => {
      const spec = (object as { spec?: { cluster?: string } }).spec;
      return spec?.cluster ? [`${object.metadata?.namespace}/${spec.cluster}`] : [];
    };
    const nodesOfVolume = (object: k8s.KubernetesObject) => {
      const bricks = (object as { status?: { bricks?: Array<{ node?: string }> } }).status?.bricks ?? [];
      return [...new Set(bricks.map((brick) => brick.node).filter(Boolean))].map((node) => `${object.metadata?.namespace}/${node}`);
    };
    const nodesByKubeNode = new GlusterNodesByKubeNode();
    // glusterd pods run only where GlusterClusters are served, and pods are readable only there (cdk8s/rbac.ts).
    const glusterdPodSources = config.clusterPolicy.namespaces
      .filter((namespace) => config.watchNamespace === undefined || namespace === config.watchNamespace)
      .map((namespace) => ({ source: { ...glusterdPodSource(core, namespace), name: `glusterd-pods/${namespace}` }, toKeys: (pod: k8s.KubernetesObject) => nodesByKubeNode.keysForPod(pod) }));
    const controllers: ControllerDefinition[] = [
      {
        name: 'glustercluster',
        concurrency: 2,
        reconcile: (key) => reconcileCluster(context, key),
        primary: source(clients.clusters),
        related: [
          { source: source(clients.nodes), toKeys: byCluster },
          // Volume churn (provisioning bursts) only changes the cluster's counts and capacity: coalesced.
          { source: source(clients.volumes), toKeys: byCluster, delayMs: RELATED_VOLUME_DELAY_MS },
        ],
      },
      {
        name: 'glusternode',
        concurrency: 4,
        reconcile: (key) => reconcileNode(context, key),
        primary: source(clients.nodes),
        related: [
          // A volume's bricks change the free space and brick counts its nodes report.
          { source: source(clients.volumes), toKeys: nodesOfVolume, delayMs: RELATED_VOLUME_DELAY_MS },
          // InCluster nodes follow their glusterd pod (deleted, restarted, Ready again); see glusterd-pods.ts.
          { source: { ...source(clients.nodes), name: 'glusternodes-by-kube-node' }, toKeys: (node) => (nodesByKubeNode.observe(node), []) },
          ...glusterdPodSources,
        ],
      },
      {
        name: 'glustervolume',
        concurrency: 4,
        reconcile: (key) => reconcileVolume(context, key),
        primary: source(clients.volumes),
        related: [
          // A node that leaves (deleted, or spec.state Failed) asks the volumes it holds bricks of to move them:
          // only a volume's own reconcile changes its bricks. A moment later, so the node's reconcile has marked
          // it Failed in the database first (evacuation-handover.ts waits for that anyway).
          { source: source(clients.nodes), toKeys: (node) => volumeKeysToWake(context.topology.db, node as GlusterNode), delayMs: LEAVING_NODE_DELAY_MS },
          // A volume becoming Ready (or going) moves the directories made in it (claimLayout: directory).
          { source: source(clients.volumes), toKeys: (volume) => directoryKeysOf(manager?.cachedObjects(clients.volumes.plural) ?? [], volume) },
          // auth.allow of every volume lists the Kubernetes nodes: a changed set of addresses updates them all.
          {
            source: kubeNodeSource(core),
            toKeys: () => (kubeNodes.changed() ? (manager?.cachedObjects(clients.volumes.plural) ?? []).map(objectKey) : []),
            delayMs: KUBE_NODES_DELAY_MS,
          },
        ],
      },
      // Dynamic provisioning: PVCs of our StorageClasses become GlusterVolumes (above) and pre-bound PVs.
      ...createProvisionerControllers({
        kubeConfig,
        events: context.events,
        logger,
        clock,
        volumes: clients.volumes,
        clusters: clients.clusters,
        defaultVolumeNamespace: config.namespace,
        serveInTreeGlusterfsClasses: config.serveInTreeGlusterfsClasses,
        ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
        syncedObjects: (source) => manager?.syncedObjects(source),
        syncedCache: (source) => manager?.syncedCache(source),
      }),
      ...(options.extraControllers?.(context) ?? []),
    ];
    manager = new ControllerManager({ kubeConfig, clock, logger, resyncMs: config.resyncMs, observeQueue: (name) => operatorMetrics.queueObserver(name) });
    await manager.start(controllers);
    const started = manager;
    logger.info('controllers started', { controllers: controllers.map((c) => c.name) });
    // Per-volume and per-device gauges come from these caches at scrape time; only the leader has them.
    operatorMetrics.setClusterState({
      volumes: () => started.cachedObjects(clients.volumes.plural),
      nodes: () => started.cachedObjects(clients.nodes.plural),
      topologyGeneration: () => (topology.started ? topology.db.generation : undefined),
    });

    return {
      context,
      // Snapshots (VolumeSnapshot → csi-snapshotter → here) need the clusters' access, which only the leader holds.
      snapshots: new GlusterSnapshots(context),
      hasSynced: () => started.hasSynced,
      stop: async () => {
        operatorMetrics.setClusterState(undefined);
        await started.stop();
        await topology.flush().catch((error: unknown) => logger.error('last topology backup failed', { error: String(error) }));
        await topology.stop();
        await access.closeAll();
      },
    };
  } catch (error) {
    await manager?.stop().catch(() => undefined);
    await topology.stop().catch(() => undefined);
    await access.closeAll().catch(() => undefined);
    throw error;
  }
}
