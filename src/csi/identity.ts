import { DRIVER_NAME } from '../api/group.ts';
import { OPERATOR_VERSION } from '../deploy/images.ts';

/**
 * The Identity service. The node plugin's announces no CONTROLLER_SERVICE: the operator creates PVs itself, so
 * no external-provisioner or external-attacher sidecar ever calls a Controller service there. The operator's
 * controller endpoint (src/csi/controller.ts: snapshots, for the csi-snapshotter sidecar) announces it.
 */
export class IdentityService {
  private readonly isReady: () => boolean;
  private readonly controller: boolean;
  constructor(isReady: () => boolean, options: { controller?: boolean } = {}) {
    this.isReady = isReady;
    this.controller = options.controller === true;
  }

  getPluginInfo(): { name: string; vendor_version: string; manifest: Record<string, string> } {
    return { name: DRIVER_NAME, vendor_version: OPERATOR_VERSION, manifest: {} };
  }

  getPluginCapabilities(): { capabilities: unknown[] } {
    return { capabilities: this.controller ? [{ service: { type: 'CONTROLLER_SERVICE' } }] : [] };
  }

  /** Not ready until the start-up check of existing mounts has finished (kubelet may call before that). */
  probe(): { ready: { value: boolean } } {
    return { ready: { value: this.isReady() } };
  }
}
