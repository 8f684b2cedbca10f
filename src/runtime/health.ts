import { createServer, type Server } from 'node:http';
import { errorMessage } from './error-message.ts';

/**
 * /healthz answers while the process's event loop runs; /readyz only once every readiness check passes
 * (see operatorReady for what the operator's check means).
 */
export type ReadinessCheck = { name: string; ready: () => boolean };

export interface OperatorReadinessState {
  leaderElection: boolean;
  leading: boolean;
  /** The election loop has read the Lease and seen who holds it. */
  leaderSeen: boolean;
  /** The controllers run (only ever on the leader). */
  started: boolean;
  synced: boolean;
}

/**
 * The operator's readiness. Nothing routes traffic to the operator, so Ready only gates rollouts and
 * availability, and it means "this replica is doing its part":
 *  - the leader, once its controllers run with synced caches (before that it cannot act: a leader retrying
 *    its start stays not Ready, and a rollout waits for it);
 *  - a standby, once it has seen the Lease and its holder: its election loop reaches the apiserver and may
 *    read Leases, so it can take over. A healthy standby must be Ready, or a 2-replica Deployment is never
 *    fully available and `kubectl rollout status` never returns; one that cannot see the Lease could never
 *    take over, and a rollout must not count it;
 *  - without leader election (one process), once its controllers run with synced caches.
 */
export function operatorReady(state: OperatorReadinessState): boolean {
  if (state.started) return state.synced;
  if (!state.leaderElection || state.leading) return false;
  return state.leaderSeen;
}

/** What /metrics serves (src/metrics: the exposition of a prom-client registry). */
export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
}

/**
 * /healthz, /readyz and, given `metrics`, /metrics. Prometheus scrapes the health port: one port to open, probe
 * and document (cdk8s/monitoring.ts). A failing render answers 500 with the reason, so the scrape shows it.
 */
export function startHealthServer(port: number, checks: ReadinessCheck[], host = '0.0.0.0', metrics?: MetricsEndpoint): Promise<Server> {
  const server = createServer((request, response) => {
    if (metrics && request.url?.split('?')[0] === '/metrics') {
      metrics.render().then(
        (body) => response.writeHead(200, { 'content-type': metrics.contentType }).end(body),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${errorMessage(error)}\n`),
      );
    } else if (request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (request.url === '/readyz') {
      const failing = checks.filter((check) => !check.ready()).map((check) => check.name);
      response
        .writeHead(failing.length ? 503 : 200, { 'content-type': 'text/plain' })
        .end(failing.length ? `not ready: ${failing.join(', ')}\n` : 'ok\n');
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
