import { z } from 'zod';
import { GLUSTERD_IMAGE } from '../deploy/images.ts';
import type { ClusterPolicy } from './reconcilers/cluster-policy.ts';

/** How often every object is reconciled again without a change (seconds): Gluster changes behind our back. */
export const DEFAULT_RESYNC_SECONDS = 300;

/**
 * Commands on one GlusterCluster's nodes (src/runtime/rate-limiter.ts): the rate and burst of a token bucket,
 * and how many run at once. Steady reconciling of a cluster with tens of volumes sends a few a second and never
 * waits; they bound the storm of a restart with many objects, which would otherwise queue inside glusterd.
 */
export const DEFAULT_NODE_COMMAND_LIMITS = { ratePerSecond: 20, burst: 40, maxInFlight: 8 } as const;

const positiveInteger = (fallback: number) =>
  z.coerce.number('must be a positive integer').int('must be a positive integer').min(1, 'must be a positive integer').default(fallback);

/** A comma-separated setting: blanks around entries, empty entries and repeats are dropped. */
const commaList = (item: z.ZodString) =>
  z
    .string()
    .transform((value) => [...new Set(value.split(',').map((entry) => entry.trim()).filter(Boolean))])
    .pipe(z.array(item));

const namespaceName = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name (a lowercase RFC 1123 label)');

/** GLUSTER_NAMESPACES as the operator and `npm run synth -- --gluster-namespaces` read it. */
export const glusterNamespacesSetting = commaList(namespaceName);

/** The operator's settings, from its environment (the Deployment sets them). Parsed once at start. */
const operatorConfigSchema = z.object({
  OPERATOR_NAMESPACE: z.string().min(1).default('gluster-operator'),
  POD_NAME: z.string().min(1).default(`gluster-operator-${process.pid}`),
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  HEALTH_HOST: z.string().default('0.0.0.0'),
  /** Watch one namespace only; all namespaces when empty. */
  WATCH_NAMESPACE: z.string().default(''),
  LEADER_ELECTION: z.enum(['true', 'false']).default('true'),
  LEASE_DURATION_SECONDS: z.coerce.number().int().min(2).default(15),
  RENEW_DEADLINE_SECONDS: z.coerce.number().int().min(1).default(10),
  RETRY_PERIOD_SECONDS: z.coerce.number().min(0.1).default(2),
  RESYNC_SECONDS: z.coerce.number().int().min(5).default(DEFAULT_RESYNC_SECONDS),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  /**
   * The glusterd image of InCluster GlusterClusters that name none (spec.access.inCluster.image). Set by the
   * Deployment, so image references live in the manifests alone; the release's pinned image when unset.
   * Always one a GlusterCluster may name.
   */
  GLUSTERD_IMAGE: z.string().trim().min(1).default(GLUSTERD_IMAGE),
  /**
   * Other images a GlusterCluster may name in spec.access.inCluster.image (a mirror, a pinned digest); none by
   * default. The image is the privileged DaemonSet's: whoever may edit a GlusterCluster must not pick it.
   */
  GLUSTERD_IMAGES: commaList(z.string().max(512)).default([]),
  /**
   * The namespaces where GlusterClusters are served (the operator's own when unset or empty). A GlusterCluster
   * is a privileged DaemonSet (InCluster) or root on the servers its Secret's key opens (External): elsewhere
   * it is refused with NamespaceNotAllowed and nothing is done for it. The operator holds pods/exec,
   * DaemonSets and Secrets only in these namespaces (cdk8s/rbac.ts namespaceGrants): the two lists must agree.
   */
  GLUSTER_NAMESPACES: glusterNamespacesSetting.default([]),
  /**
   * Provision claims of StorageClasses whose provisioner is the removed in-tree `kubernetes.io/glusterfs`. On by
   * default: since Kubernetes 1.26 nothing else can serve them and a class's provisioner cannot be changed.
   * `false` where something else serves those classes.
   */
  SERVE_IN_TREE_GLUSTERFS_CLASSES: z.enum(['true', 'false']).default('true'),
  /**
   * Where the operator serves the CSI Controller service's snapshot calls (`unix:///path`), for the
   * csi-snapshotter sidecar beside it; off when empty. The Deployment sets it when snapshots are installed.
   */
  CSI_CONTROLLER_ENDPOINT: z
    .string()
    .regex(/^(unix:\/\/\/.+)?$/, 'must be unix:///absolute/path')
    .default(''),
  GLUSTER_COMMANDS_PER_SECOND: positiveInteger(DEFAULT_NODE_COMMAND_LIMITS.ratePerSecond),
  GLUSTER_COMMAND_BURST: positiveInteger(DEFAULT_NODE_COMMAND_LIMITS.burst),
  GLUSTER_COMMANDS_IN_FLIGHT: positiveInteger(DEFAULT_NODE_COMMAND_LIMITS.maxInFlight),
});

export type OperatorConfig = ReturnType<typeof loadOperatorConfig>;

export function loadOperatorConfig(env: NodeJS.ProcessEnv) {
  const parsed = operatorConfigSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid operator environment: ${z.prettifyError(parsed.error)}`);
  const c = parsed.data;
  return {
    namespace: c.OPERATOR_NAMESPACE,
    identity: c.POD_NAME,
    healthPort: c.HEALTH_PORT,
    healthHost: c.HEALTH_HOST,
    watchNamespace: c.WATCH_NAMESPACE || undefined,
    leaderElection: c.LEADER_ELECTION === 'true',
    leaseDurationMs: c.LEASE_DURATION_SECONDS * 1000,
    renewDeadlineMs: c.RENEW_DEADLINE_SECONDS * 1000,
    retryPeriodMs: c.RETRY_PERIOD_SECONDS * 1000,
    resyncMs: c.RESYNC_SECONDS * 1000,
    logLevel: c.LOG_LEVEL,
    glusterdImage: c.GLUSTERD_IMAGE,
    /** What a GlusterCluster may be and name to be served (reconcilers/cluster-policy.ts). */
    clusterPolicy: {
      namespaces: c.GLUSTER_NAMESPACES.length > 0 ? c.GLUSTER_NAMESPACES : [c.OPERATOR_NAMESPACE],
      images: [...new Set([c.GLUSTERD_IMAGE, ...c.GLUSTERD_IMAGES])],
    } satisfies ClusterPolicy as ClusterPolicy,
    serveInTreeGlusterfsClasses: c.SERVE_IN_TREE_GLUSTERFS_CLASSES === 'true',
    csiControllerEndpoint: c.CSI_CONTROLLER_ENDPOINT || undefined,
    /** Per GlusterCluster, the options of the KeyedRateLimiter every command on its nodes passes. */
    nodeCommandLimits: {
      ratePerSecond: c.GLUSTER_COMMANDS_PER_SECOND,
      burst: c.GLUSTER_COMMAND_BURST,
      maxInFlight: c.GLUSTER_COMMANDS_IN_FLIGHT,
    },
  };
}
