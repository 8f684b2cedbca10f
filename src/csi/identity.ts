import { DRIVER_NAME } from '../api/group.ts';
import { OPERATOR_VERSION } from '../deploy/images.ts';

/**
 * The Identity service. The node plugin's announces no CONTROLLER_SERVICE: the operator creates PVs itself, so
 * no external-provisioner or external-attacher sidecar ever calls a Controller service there. The operator's
 * controller endpoint (src/csi/controller.ts: snapshots, for the csi-snapshotter sidecar) announces it.
 */
export interface IdentityOptions {
  /** Announce CONTROLLER_SERVICE (the operator's snapshot endpoint). */
  controller?: boolean;
  /**
   * A Probe made while not ready waits up to this long for readiness before it answers "not ready"
   * (default 0: answer at once). The operator's standby replica is not ready until it leads, possibly for
   * days; its csi-snapshotter sidecar probes once a second while the answer is "not ready", and logs each
   * probe. Holding the probe (below the sidecar's --timeout) cuts that to one pair of lines per wait, and
   * the answer comes the moment the replica is ready.
   */
  notReadyWaitMs?: number;
}

/** How often a held Probe looks at readiness again. */
const READY_POLL_MS = 250;

export class IdentityService {
  private readonly isReady: () => boolean;
  private readonly controller: boolean;
  private readonly notReadyWaitMs: number;
  constructor(isReady: () => boolean, options: IdentityOptions = {}) {
    this.isReady = isReady;
    this.controller = options.controller === true;
    this.notReadyWaitMs = options.notReadyWaitMs ?? 0;
  }

  getPluginInfo(): { name: string; vendor_version: string; manifest: Record<string, string> } {
    return { name: DRIVER_NAME, vendor_version: OPERATOR_VERSION, manifest: {} };
  }

  getPluginCapabilities(): { capabilities: unknown[] } {
    return { capabilities: this.controller ? [{ service: { type: 'CONTROLLER_SERVICE' } }] : [] };
  }

  /** Not ready until the start-up check of existing mounts has finished (kubelet may call before that). */
  async probe(): Promise<{ ready: { value: boolean } }> {
    const deadline = Date.now() + this.notReadyWaitMs;
    while (!this.isReady() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(READY_POLL_MS, Math.max(1, deadline - Date.now()))));
    }
    return { ready: { value: this.isReady() } };
  }
}
