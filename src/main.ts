#!/usr/bin/env node
/**
 * The operator process (`npm start`): runs against the current kubeconfig (in a pod: its ServiceAccount).
 * Only the Lease holder reconciles; a standby serves /healthz and /readyz and waits. Losing the lease
 * exits the process (the Deployment restarts it as a standby), so two replicas never act at once.
 */
import * as k8s from '@kubernetes/client-node';
import { operatorMetrics } from './metrics/operator-metrics.ts';
import { loadOperatorConfig } from './operator/config.ts';
import { startOperator, type RunningOperator } from './operator/operator.ts';
import { systemClock } from './runtime/clock.ts';
import { errorMessage } from './runtime/error-message.ts';
import { operatorReady, startHealthServer } from './runtime/health.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { retryUntilStarted } from './runtime/retry-start.ts';
import { createLogger } from './runtime/logger.ts';
import { withPooledConnections } from './controller/pooled-connections.ts';
import { ControllerService, LeaderSnapshotBackend, startControllerServer } from './csi/controller.ts';
import { IdentityService } from './csi/identity.ts';

const config = loadOperatorConfig(process.env);
const logger = createLogger(config.logLevel);
const kubeConfig = withPooledConnections(new k8s.KubeConfig());
// KUBECONFIG, else ~/.kube/config, else (in a pod) the in-cluster config: KUBERNETES_SERVICE_HOST/PORT and
// the mounted ServiceAccount token and CA (client-node's loadFromDefault falls back to loadFromCluster when
// /var/run/secrets/kubernetes.io/serviceaccount/token exists; the token file is re-read every minute, so
// projected tokens rotate). The image sets no HOME with a kubeconfig, so a pod always takes the last branch.
kubeConfig.loadFromDefault();
logger.info('kubernetes API', { server: kubeConfig.getCurrentCluster()?.server });

let running: RunningOperator | undefined;
let starting: Promise<void> | undefined;
let shuttingDown = false;
let leaderSeen = false;

/**
 * Starting fails for reasons that pass: the apiserver answering 429 "storage is (re)initializing" right
 * after the CRDs were applied, a restarting apiserver, a topology start-up that refuses until the cluster
 * can be observed. Exiting on them would make a crash loop; the leader retries with capped backoff instead
 * (and stays not-ready meanwhile), until it starts or loses the lease.
 */
const STARTUP_BACKOFF = { baseMs: 1_000, maxMs: 30_000 };
const stopStarting = new AbortController();

function lead(): void {
  starting = (async () => {
    running = await retryUntilStarted(() => startOperator({ config, kubeConfig, logger, clock: systemClock }), {
      backoff: STARTUP_BACKOFF,
      signal: stopStarting.signal,
      onFailure: (error, attempt, retryInMs) =>
        logger.error('operator failed to start; retrying', { error: errorMessage(error), attempt, retryInMs }),
    });
  })();
}

const elector = config.leaderElection
  ? new LeaderElector({
      coordination: kubeConfig.makeApiClient(k8s.CoordinationV1Api),
      namespace: config.namespace,
      name: 'gluster-operator-leader',
      identity: config.identity,
      leaseDurationMs: config.leaseDurationMs,
      renewDeadlineMs: config.renewDeadlineMs,
      retryPeriodMs: config.retryPeriodMs,
      clock: systemClock,
      onStartedLeading: () => {
        logger.info('became leader', { identity: config.identity });
        lead();
      },
      onStoppedLeading: () => {
        logger.warn('lost leadership; exiting so a fresh standby takes its place', { identity: config.identity });
        void shutdown(shuttingDown ? 0 : 1);
      },
      onNewLeader: (identity) => {
        leaderSeen = true;
        logger.info('leader observed', { leader: identity });
      },
    })
  : undefined;

const health = await startHealthServer(
  config.healthPort,
  [
    {
      name: 'controllers',
      ready: () =>
        operatorReady({
          leaderElection: elector !== undefined,
          leading: elector?.isLeader ?? false,
          leaderSeen,
          started: running !== undefined,
          synced: running?.hasSynced() ?? false,
        }),
    },
  ],
  config.healthHost,
  operatorMetrics,
);
operatorMetrics.collectProcessMetrics();

/**
 * How long a Probe on the snapshot endpoint is held while this replica is not ready: below the sidecar's
 * --timeout (120 s in the shipped manifests), where a held probe would count as a failure and be logged.
 */
const SNAPSHOT_PROBE_WAIT_MS = 60_000;
// Served by every replica from the start (LeaderSnapshotBackend says why); only the leader's answers.
const snapshotServer = config.csiControllerEndpoint
  ? await startControllerServer({
      endpoint: config.csiControllerEndpoint,
      identity: new IdentityService(() => running?.hasSynced() ?? false, { controller: true, notReadyWaitMs: SNAPSHOT_PROBE_WAIT_MS }),
      controller: new ControllerService(new LeaderSnapshotBackend(() => running?.snapshots)),
      logger,
    })
  : undefined;
if (snapshotServer) logger.info('serving CSI snapshots', { endpoint: config.csiControllerEndpoint });
logger.info('health endpoints up', { port: config.healthPort, paths: ['/healthz', '/readyz', '/metrics'] });

if (elector) elector.start();
else {
  // One process without election leads alone; gluster_operator_leader says so, or "no leader" would fire.
  operatorMetrics.setLeader(true);
  lead();
}

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  stopStarting.abort();
  logger.info('shutting down', { code });
  await starting?.catch(() => undefined);
  await running?.stop().catch((error: unknown) => logger.error('shutdown error', { error: String(error) }));
  await elector?.stop();
  // A held Probe would keep a graceful shutdown waiting for up to a minute.
  snapshotServer?.forceShutdown();
  health.close();
  process.exit(code);
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
