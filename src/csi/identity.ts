import { DRIVER_NAME } from '../api/group.ts';
import { OPERATOR_VERSION } from '../deploy/images.ts';

/**
 * The Identity service. No CONTROLLER_SERVICE capability: the operator creates PVs itself, so this is a
 * node-only driver and no external-provisioner or external-attacher sidecar ever calls a Controller service.
 */
export class IdentityService {
  private readonly isReady: () => boolean;
  constructor(isReady: () => boolean) {
    this.isReady = isReady;
  }

  getPluginInfo(): { name: string; vendor_version: string; manifest: Record<string, string> } {
    return { name: DRIVER_NAME, vendor_version: OPERATOR_VERSION, manifest: {} };
  }

  getPluginCapabilities(): { capabilities: unknown[] } {
    return { capabilities: [] };
  }

  /** Not ready until the start-up check of existing mounts has finished (kubelet may call before that). */
  probe(): { ready: { value: boolean } } {
    return { ready: { value: this.isReady() } };
  }
}
