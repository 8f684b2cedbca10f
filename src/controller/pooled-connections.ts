import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';

/**
 * One connection pool to the apiserver per KubeConfig instead of one TLS connection per request.
 *
 * @kubernetes/client-node 2.0 builds a new undici Agent (its "dispatcher") in applySecurityAuthentication for
 * every API call: each GET, PATCH and LIST opens a TCP connection and does a TLS handshake, and the agent is
 * garbage afterwards. Measured with a CPU profile of the operator during a burst of 100 claims: TLS set-up and
 * secure contexts took a quarter of its busy time and garbage collection another fifth, and it was the
 * operator's CPU, not Gluster, that held claims back. Its http.Agent path has a cache (createAgent,
 * agentCache); the dispatcher path has none, so one is added here, keyed by the dispatcher's own options (CA,
 * client certificate and key as read for that request): a rotated client certificate gets a new pool.
 *
 * createDispatcher is private in the typings; it is reached through a cast, and a unit test fails if a release
 * of client-node renames it (pooled-connections.test.ts).
 */
interface DispatcherFactory {
  createDispatcher(cluster: unknown, agentOptions: unknown): unknown;
  createDispatcherOptions(cluster: unknown, agentOptions: unknown): unknown;
}

const POOLED = Symbol('gluster-operator.pooledConnections');

export function withPooledConnections<T extends k8s.KubeConfig>(config: T): T {
  const target = config as unknown as DispatcherFactory & { [POOLED]?: true };
  if (target[POOLED]) return config;
  if (typeof target.createDispatcher !== 'function' || typeof target.createDispatcherOptions !== 'function') {
    throw new Error('@kubernetes/client-node no longer has KubeConfig.createDispatcher/createDispatcherOptions: revisit src/controller/pooled-connections.ts');
  }
  const create = target.createDispatcher.bind(config);
  const options = target.createDispatcherOptions.bind(config);
  const pools = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const key = createHash('sha256').update(JSON.stringify(options(cluster, agentOptions))).digest('hex');
    if (!pools.has(key)) pools.set(key, create(cluster, agentOptions));
    return pools.get(key);
  };
  target[POOLED] = true;
  return config;
}
