import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DRIVER_NAME } from '../api/group.ts';
import type { Logger } from '../runtime/logger.ts';
import { bindUnixSocket, PROTO_OPTIONS, unary } from './server.ts';

/**
 * The kubelet's plugin registration (pluginregistration v1), served by the plugin itself.
 *
 * Kubelet finds CSI drivers by watching /var/lib/kubelet/plugins_registry for sockets: on a new one it calls
 * GetInfo, learns the driver name and where the CSI socket is, calls NodeGetInfo there, and reports the outcome
 * with NotifyRegistrationStatus. Removing the socket unregisters the driver.
 *
 * The usual way is the node-driver-registrar sidecar. We serve it ourselves because:
 *  - that image cannot be fetched or built where this project is built and tested (it is not on the Go module
 *    proxy), so a DaemonSet depending on it could never be run here;
 *  - for a CSI plugin, all the sidecar does is this file: answer GetInfo with constants and log the status;
 *  - one container fewer per node: one image, one set of probes, no second process to keep in step with the
 *    plugin's socket.
 */
export const REGISTRATION_PROTO_PATH = fileURLToPath(new URL('./pluginregistration.proto', import.meta.url));

/** Kubelet's handler name for CSI drivers (the other type is DevicePlugin). */
export const CSI_PLUGIN_TYPE = 'CSIPlugin';
/** CSI versions offered to kubelet; kubelet takes any 1.x. What node-driver-registrar offers too. */
export const SUPPORTED_VERSIONS: readonly string[] = ['1.0.0'];

export interface RegistrationPackage {
  Registration: grpc.ServiceClientConstructor;
}

export function loadRegistrationPackage(): RegistrationPackage {
  const definition = protoLoader.loadSync(REGISTRATION_PROTO_PATH, PROTO_OPTIONS);
  return (grpc.loadPackageDefinition(definition) as unknown as { pluginregistration: RegistrationPackage }).pluginregistration;
}

/** `<registration-dir>/<driver>-reg.sock`, the name node-driver-registrar uses, so kubelet logs read the same. */
export function registrationSocketPath(registrationDir: string): string {
  return join(registrationDir, `${DRIVER_NAME}-reg.sock`);
}

export interface PluginInfo {
  type: string;
  name: string;
  endpoint: string;
  supported_versions: string[];
}

/**
 * GetInfo's answer. `endpoint` is the CSI socket as kubelet sees it on the host, not the path inside this
 * container: kubelet dials it itself.
 */
export function pluginInfo(kubeletEndpoint: string): PluginInfo {
  return { type: CSI_PLUGIN_TYPE, name: DRIVER_NAME, endpoint: kubeletEndpoint, supported_versions: [...SUPPORTED_VERSIONS] };
}

const registrationStatusSchema = z.object({ plugin_registered: z.boolean(), error: z.string() });

/**
 * Logs what kubelet says. A failure is only logged: kubelet's reconciler retries registration on its own
 * (with backoff) as long as the socket exists, so exiting (as node-driver-registrar does) is not needed.
 */
export function logRegistrationStatus(logger: Logger, request: unknown): Record<string, never> {
  const status = registrationStatusSchema.parse(request);
  if (status.plugin_registered) logger.info('registered with kubelet', { driver: DRIVER_NAME });
  else logger.warn('kubelet refused the registration', { driver: DRIVER_NAME, error: status.error });
  return {};
}

export interface RegistrationServer {
  socketPath: string;
  /** Stops serving and removes the socket: kubelet unregisters the driver when the socket goes. */
  close(): Promise<void>;
}

export interface RegistrationServerOptions {
  registrationDir: string;
  /** The CSI socket's path on the host, e.g. /var/lib/kubelet/plugins/<driver>/csi.sock. */
  kubeletEndpoint: string;
  logger: Logger;
}

/** Start only once the CSI socket serves: kubelet calls NodeGetInfo there as part of registering. */
export async function startRegistrationServer(options: RegistrationServerOptions): Promise<RegistrationServer> {
  const { logger } = options;
  const info = pluginInfo(options.kubeletEndpoint);
  const server = new grpc.Server();
  server.addService(loadRegistrationPackage().Registration.service, {
    GetInfo: unary(logger, 'GetInfo', () => info),
    NotifyRegistrationStatus: unary(logger, 'NotifyRegistrationStatus', (request) => logRegistrationStatus(logger, request)),
  });
  const socketPath = registrationSocketPath(options.registrationDir);
  await bindUnixSocket(server, socketPath);
  return {
    socketPath,
    close: async () => {
      await new Promise<void>((resolve) => {
        // Kubelet holds no long calls here; a stuck connection must not keep the socket (and the registration).
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await rm(socketPath, { force: true });
    },
  };
}
