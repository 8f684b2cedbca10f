import { createServer, type Server } from 'node:http';

/**
 * /healthz answers while the process's event loop runs; /readyz only once every readiness check passes
 * (informers synced). A standby replica is ready: it serves, it just does not reconcile.
 */
export type ReadinessCheck = { name: string; ready: () => boolean };

export function startHealthServer(port: number, checks: ReadinessCheck[], host = '0.0.0.0'): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/healthz') {
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
