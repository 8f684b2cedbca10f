import type * as k8s from '@kubernetes/client-node';
import { glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { setConditions, standardConditions } from '../../src/controller/conditions.ts';
import { CustomResourceClient } from '../../src/controller/custom-objects.ts';

/**
 * TEST ONLY. Plays the GlusterVolume reconciler's part for the provisioner's e2e suite, which must not depend
 * on it: whenever a GlusterVolume of `namespace` appears or its size changes, it writes the status the real
 * reconciler writes once the Gluster volume exists (Ready True, mountSource, backupVolfileServers,
 * glusterVolumeName, capacity = spec.size) through the /status subresource. No Gluster volume is created.
 * A volume whose spec.cluster is in `failClusters` gets Ready False + Degraded True instead, as a placement
 * failure would. Polls (every 200 ms) one namespace only, so it never touches another suite's volumes.
 */
export class FakeVolumeReconciler {
  private readonly client: CustomResourceClient<GlusterVolume>;
  private readonly namespace: string;
  private readonly servers: string[];
  private readonly failClusters: Map<string, string>;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Volumes that got status from us, by name: for assertions. */
  readonly seen = new Set<string>();
  paused = false;

  constructor(config: k8s.KubeConfig, options: { namespace: string; servers: string[]; failClusters?: Record<string, string> }) {
    this.client = new CustomResourceClient<GlusterVolume>(config, 'glustervolumes', glusterVolumeSchema);
    this.namespace = options.namespace;
    this.servers = options.servers;
    this.failClusters = new Map(Object.entries(options.failClusters ?? {}));
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        if (!this.paused) {
          try {
            await this.pass();
          } catch {
            // The namespace may be going away, or the CRDs being reinstalled: try again next round.
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async pass(): Promise<void> {
    for (const volume of await this.client.list(this.namespace)) {
      if (volume.metadata.deletionTimestamp) continue;
      const status = this.desiredStatus(volume);
      const current = volume.status;
      const same =
        current?.capacity === status.capacity &&
        current?.mountSource === status.mountSource &&
        current?.observedGeneration === status.observedGeneration &&
        JSON.stringify(current?.conditions?.map((c) => [c.type, c.status, c.message])) === JSON.stringify(status.conditions.map((c) => [c.type, c.status, c.message]));
      if (same) continue;
      await this.client.patchStatus(this.namespace, volume.metadata.name, status);
      this.seen.add(volume.metadata.name);
    }
  }

  private desiredStatus(volume: GlusterVolume) {
    const generation = volume.metadata.generation ?? 1;
    const now = new Date();
    const failure = this.failClusters.get(volume.spec.cluster);
    if (failure !== undefined) {
      return {
        observedGeneration: generation,
        conditions: setConditions(volume.status?.conditions, standardConditions({ state: 'failed', reason: 'PlacementFailed', message: failure }), generation, now),
      } as { observedGeneration: number; conditions: ReturnType<typeof setConditions>; capacity?: string; mountSource?: string };
    }
    const name = volume.spec.glusterVolumeName ?? `${volume.metadata.namespace}_${volume.metadata.name}`;
    return {
      observedGeneration: generation,
      conditions: setConditions(volume.status?.conditions, standardConditions({ state: 'ready', reason: 'VolumeStarted', message: `volume ${name} started` }), generation, now),
      glusterVolumeName: name,
      mountSource: `${this.servers[0]}:${name}`,
      backupVolfileServers: this.servers.slice(1),
      capacity: volume.spec.size,
      durability: volume.spec.durability.type === 'Replicate' ? `replicate ${volume.spec.durability.replicate?.replica ?? 3}` : volume.spec.durability.type.toLowerCase(),
    };
  }
}
