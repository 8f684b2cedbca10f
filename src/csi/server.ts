import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { CsiMetrics } from '../metrics/csi-metrics.ts';
import { errorMessage } from '../runtime/error-message.ts';
import type { Logger } from '../runtime/logger.ts';
import { CsiError } from './errors.ts';
import type { IdentityService } from './identity.ts';
import type { NodeService } from './node.ts';

export const PROTO_PATH = fileURLToPath(new URL('./csi.proto', import.meta.url));

/**
 * proto-loader options shared by the server and test clients: field names as in the .proto (snake_case, what
 * the spec and kubelet logs use), enums as names, int64 as strings, defaults filled in so absent strings are ''.
 */
export const PROTO_OPTIONS: protoLoader.Options = { keepCase: true, enums: String, longs: String, defaults: true, oneofs: true };

export interface CsiPackage {
  Identity: grpc.ServiceClientConstructor;
  Node: grpc.ServiceClientConstructor;
  Controller: grpc.ServiceClientConstructor;
}

export function loadCsiPackage(): CsiPackage {
  const definition = protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS);
  const root = grpc.loadPackageDefinition(definition) as unknown as { csi: { v1: CsiPackage } };
  return root.csi.v1;
}

type Handler = (request: unknown) => unknown;

/**
 * Wraps a handler: CsiError → its gRPC code, anything else → INTERNAL; every call and failure is logged, and
 * counted and timed by method and code when `metrics` is given.
 */
export function unary(logger: Logger, method: string, handler: Handler, metrics?: CsiMetrics): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const started = Date.now();
    Promise.resolve()
      .then(() => handler(call.request))
      .then(
        (response) => {
          logger.debug('rpc ok', { method, ms: Date.now() - started });
          metrics?.observeCall(method, grpc.status.OK, Date.now() - started);
          callback(null, response);
        },
        (error: unknown) => {
          const code = error instanceof CsiError ? error.code : grpc.status.INTERNAL;
          const message = errorMessage(error);
          // `details`, not `message`: winston folds a `message` meta key into the log line's message.
          logger.warn('rpc failed', { method, code: grpc.status[code], details: message, ms: Date.now() - started });
          metrics?.observeCall(method, code, Date.now() - started);
          callback({ code, details: message, name: 'CsiError', message });
        },
      );
  };
}

export interface CsiServerOptions {
  /** `unix:///path/to/csi.sock`, as kubelet expects. */
  endpoint: string;
  identity: IdentityService;
  node: NodeService;
  logger: Logger;
  metrics?: CsiMetrics;
}

export function socketPath(endpoint: string): string {
  const match = /^unix:\/\/(\/.+)$/.exec(endpoint);
  if (!match?.[1]) throw new Error(`endpoint must be unix:///absolute/path, got ${endpoint}`);
  return match[1];
}

export async function startCsiServer(options: CsiServerOptions): Promise<grpc.Server> {
  const csi = loadCsiPackage();
  const server = new grpc.Server();
  const { identity, node, logger, metrics } = options;
  const rpc = (method: string, handler: Handler) => unary(logger, method, handler, metrics);
  addIdentityService(server, csi, identity, rpc);
  server.addService(csi.Node.service, {
    NodePublishVolume: rpc('NodePublishVolume', (request) => node.nodePublishVolume(request)),
    NodeUnpublishVolume: rpc('NodeUnpublishVolume', (request) => node.nodeUnpublishVolume(request)),
    NodeGetVolumeStats: rpc('NodeGetVolumeStats', (request) => node.nodeGetVolumeStats(request)),
    NodeGetCapabilities: rpc('NodeGetCapabilities', () => node.nodeGetCapabilities()),
    NodeGetInfo: rpc('NodeGetInfo', () => node.nodeGetInfo()),
  });
  await bindUnixSocket(server, socketPath(options.endpoint));
  return server;
}

/** The Identity service, the same on every endpoint of the driver (node plugin, the operator's controller). */
export function addIdentityService(server: grpc.Server, csi: CsiPackage, identity: IdentityService, rpc: (method: string, handler: Handler) => grpc.handleUnaryCall<unknown, unknown>): void {
  server.addService(csi.Identity.service, {
    GetPluginInfo: rpc('GetPluginInfo', () => identity.getPluginInfo()),
    GetPluginCapabilities: rpc('GetPluginCapabilities', () => identity.getPluginCapabilities()),
    Probe: rpc('Probe', () => identity.probe()),
  });
}

/** Listens on a unix socket path, replacing a socket file left by a previous (killed) plugin process. */
export async function bindUnixSocket(server: grpc.Server, path: string): Promise<void> {
  // A stale file would make bind fail with EADDRINUSE.
  await rm(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()));
  });
}
