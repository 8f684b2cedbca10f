import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { GlusterCluster, GlusterNode } from '../api/index.ts';
import { selectBrickBackend, type BrickBackend } from '../bricks/index.ts';
import { serializedPerBrick } from '../bricks/serialized.ts';
import { ClusterExecutor } from '../gluster/executor.ts';
import type { MutationQueue } from '../gluster/mutation-queue.ts';
import type { NodeTarget, Transport } from '../gluster/transport.ts';
import { KeyedRateLimiter } from '../runtime/rate-limiter.ts';
import { BRICK_MOUNT_ROOT, objectNameOf, type TopologyNode } from '../topology/model.ts';
import { glusterNodeHostKeyExpectations } from '../transport/host-key-expectations.ts';
import { SecretHostKeyStore } from '../transport/host-key-secret-store.ts';
import { DaemonSetPodFinder, KubeExecTransport } from '../transport/kube-exec.ts';
import { SshTransport } from '../transport/ssh.ts';
import { loadOperatorConfig } from './config.ts';
import { clusterRefusal, type ClusterPolicy, type ClusterRefusal } from './reconcilers/cluster-policy.ts';

/**
 * How the operator reaches the nodes of one GlusterCluster: a transport (SSH for External clusters, exec
 * into the glusterd pod for InCluster ones), the cluster's executor (queries direct, mutations through the
 * shared per-cluster queue, both through the shared per-cluster rate limit) and its brick backend. Built
 * lazily and rebuilt when the access spec or the SSH key Secret changes; connections are pooled inside the
 * transport. Only for clusters the operator's policy
 * serves (cluster-policy.ts): every Secret read and every transport is built here, so a refused cluster is
 * never reached, whichever reconciler asks.
 */
export interface ClusterAccess {
  executor: ClusterExecutor;
  backend: BrickBackend;
  transport: Transport;
}

export function nodeTarget(node: GlusterNode): NodeTarget {
  return { name: node.metadata.name, manageAddress: node.spec.manageAddress };
}

/** The same target from the topology database's record (NodeTarget names are GlusterNode names). */
export function topologyNodeTarget(node: TopologyNode): NodeTarget {
  return { name: objectNameOf(node.name), manageAddress: node.manage };
}

/** A missing or unusable SSH Secret: permanent until the user fixes it, reported on the cluster. */
export class AccessConfigError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'AccessConfigError';
    this.field = field;
  }
}

/** A cluster the operator's settings do not serve (NamespaceNotAllowed, ImageNotAllowed): reported like a missing Secret. */
export class ClusterRefusedError extends AccessConfigError {
  readonly reason: ClusterRefusal['reason'];
  constructor(refusal: ClusterRefusal) {
    super(refusal.reason === 'ImageNotAllowed' ? 'spec.access.inCluster.image' : 'metadata.namespace', refusal.message);
    this.name = 'ClusterRefusedError';
    this.reason = refusal.reason;
  }
}

/** How long an SSH key Secret read is reused (ClusterAccessPool.recentSecret). */
export const SECRET_RECHECK_MS = 10_000;

export class ClusterAccessPool {
  private readonly kubeConfig: k8s.KubeConfig;
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly queue: MutationQueue;
  private readonly limiter: KeyedRateLimiter;
  private readonly policy: ClusterPolicy;
  private readonly hostKeyNamespace: string;
  private readonly cache = new Map<string, { fingerprint: string; access: ClusterAccess }>();
  private readonly readSecret: (namespace: string, name: string) => Promise<k8s.V1Secret>;
  private readonly now: () => number;
  /** SSH key Secrets read in the last SECRET_RECHECK_MS, by namespace/name (the read in flight included). */
  private readonly secretReads = new Map<string, { at: number; secret: Promise<k8s.V1Secret> }>();

  /**
   * `hostKeyNamespace`: where the SSH host key pins live, the operator's own namespace (its namespaced Role
   * covers Secrets there); OPERATOR_NAMESPACE as the operator's configuration reads it when not given.
   * `limiter`: every command on a cluster's nodes passes it, keyed like the cache below, so an executor
   * rebuilt for a changed spec keeps its cluster's bucket; the GLUSTER_COMMANDS_* settings when not given.
   */
  constructor(options: {
    kubeConfig: k8s.KubeConfig;
    queue: MutationQueue;
    policy: ClusterPolicy;
    hostKeyNamespace?: string;
    limiter?: KeyedRateLimiter;
    /** For tests: how a Secret is read (the apiserver by default) and the time. */
    readSecret?: (namespace: string, name: string) => Promise<k8s.V1Secret>;
    now?: () => number;
  }) {
    this.kubeConfig = options.kubeConfig;
    this.core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.readSecret = options.readSecret ?? ((namespace, name) => this.core.readNamespacedSecret({ name, namespace }));
    this.now = options.now ?? Date.now;
    this.custom = options.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.queue = options.queue;
    this.limiter = options.limiter ?? new KeyedRateLimiter(loadOperatorConfig(process.env).nodeCommandLimits);
    this.policy = options.policy;
    this.hostKeyNamespace = options.hostKeyNamespace ?? loadOperatorConfig(process.env).namespace;
  }

  /** Why the operator does not serve a GlusterCluster in `namespace` (with this spec, when it exists), or undefined. */
  refusal(namespace: string, cluster?: GlusterCluster): ClusterRefusal | undefined {
    return clusterRefusal(this.policy, namespace, cluster?.spec);
  }

  async forCluster(cluster: GlusterCluster): Promise<ClusterAccess> {
    const namespace = cluster.metadata.namespace ?? 'default';
    const key = `${namespace}/${cluster.metadata.name}`;
    const refused = this.refusal(namespace, cluster);
    if (refused) {
      // A cluster served until its spec named a refused image keeps no open connection either.
      await this.forget(cluster);
      throw new ClusterRefusedError(refused);
    }
    const { fingerprint, build } = await this.plan(cluster, namespace);
    const cached = this.cache.get(key);
    if (cached?.fingerprint === fingerprint) return cached.access;
    await cached?.access.transport.close();
    const transport = build();
    const executor = new ClusterExecutor({ transport, queue: this.queue, limiter: this.limiter, clusterKey: key });
    const backend = serializedPerBrick(selectBrickBackend(cluster.spec.brickBackend, executor, { mountRoot: BRICK_MOUNT_ROOT }));
    const access = { transport, executor, backend };
    this.cache.set(key, { fingerprint, access });
    return access;
  }

  async forget(cluster: GlusterCluster): Promise<void> {
    const key = `${cluster.metadata.namespace ?? 'default'}/${cluster.metadata.name}`;
    await this.cache.get(key)?.access.transport.close();
    this.cache.delete(key);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.cache.values()].map((entry) => entry.access.transport.close()));
    this.cache.clear();
  }

  /**
   * The Secret as read at most SECRET_RECHECK_MS ago: every reconcile of an External cluster's objects asks
   * for its access, and after a restart with 1,000 objects that was 1,000 GETs of one Secret. A changed key
   * is picked up within that time; a failed read is not remembered.
   */
  private recentSecret(namespace: string, name: string): Promise<k8s.V1Secret> {
    const key = `${namespace}/${name}`;
    const now = this.now();
    const recent = this.secretReads.get(key);
    if (recent && now - recent.at < SECRET_RECHECK_MS) return recent.secret;
    const secret = this.readSecret(namespace, name);
    const entry = { at: now, secret };
    this.secretReads.set(key, entry);
    secret.catch(() => {
      if (this.secretReads.get(key) === entry) this.secretReads.delete(key);
    });
    return secret;
  }

  private async plan(cluster: GlusterCluster, namespace: string): Promise<{ fingerprint: string; build: () => Transport }> {
    const { access } = cluster.spec;
    if (access.mode === 'InCluster') {
      return {
        fingerprint: `in-cluster:${cluster.spec.brickBackend}`,
        build: () =>
          new KubeExecTransport({
            kubeConfig: this.kubeConfig,
            podFinder: new DaemonSetPodFinder({ core: this.core, namespace, cluster: cluster.metadata.name }),
          }),
      };
    }
    const external = access.external;
    if (!external) throw new AccessConfigError('spec.access.external', 'spec.access.external is required for External clusters');
    let secret: k8s.V1Secret;
    try {
      secret = await this.recentSecret(namespace, external.sshSecretRef.name);
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) {
        throw new AccessConfigError(
          'spec.access.external.sshSecretRef.name',
          `Secret ${namespace}/${external.sshSecretRef.name} named by spec.access.external.sshSecretRef does not exist`,
        );
      }
      throw error;
    }
    const encoded = secret.data?.[external.sshSecretRef.key];
    if (!encoded) {
      throw new AccessConfigError(
        'spec.access.external.sshSecretRef.key',
        `Secret ${namespace}/${external.sshSecretRef.name} has no key "${external.sshSecretRef.key}" (spec.access.external.sshSecretRef.key)`,
      );
    }
    const privateKey = Buffer.from(encoded, 'base64');
    const fingerprint = createHash('sha256')
      .update(JSON.stringify({ external, backend: cluster.spec.brickBackend }))
      .update(privateKey)
      .digest('hex');
    return {
      fingerprint,
      build: () =>
        new SshTransport({
          access: {
            privateKey,
            user: external.user,
            port: external.port,
            sudo: external.sudo,
            connectTimeoutSeconds: external.connectTimeoutSeconds,
          },
          // Pinned keys only where the operator alone writes; each node's spec.sshHostKey, when set, instead.
          hostKeys: new SecretHostKeyStore({ core: this.core, namespace: this.hostKeyNamespace, nodeNamespace: namespace }),
          hostKeyExpectations: glusterNodeHostKeyExpectations(this.custom, namespace),
        }),
    };
  }
}
