import type { Logger } from '../runtime/logger.ts';
import type { MountHealth } from './mounter.ts';
import { isGlusterMount, mountAt, type MountEntry } from './mountinfo.ts';
import type { PublishRecord } from './state.ts';
import { errorMessage } from '../runtime/error-message.ts';

/** What start-up recovery needs from the host. */
export interface RecoveryHost {
  readMounts(): Promise<MountEntry[]>;
  checkHealth(path: string): Promise<MountHealth>;
  mount(argv: readonly string[], targetPath: string): Promise<void>;
  unmount(targetPath: string, lazy: boolean): Promise<void>;
  listRecords(): Promise<PublishRecord[]>;
  removeRecord(targetPath: string): Promise<void>;
}

export interface RecoveryReport {
  healthy: string[];
  repaired: string[];
  failed: string[];
  forgotten: string[];
}

/**
 * Re-checks every mount this plugin published before it (re)started. Mounts made by an earlier plugin process
 * keep working on their own (the FUSE client is not ours); this finds the ones whose client died meanwhile
 * and mounts them again with the recorded argv, so new containers of the pod, and kubelet's checks, see a
 * working volume. A record whose target is no longer mounted is dropped: kubelet unpublished it or the node
 * rebooted, and kubelet publishes again itself when a pod still needs it.
 */
export async function recoverPublishedMounts(host: RecoveryHost, logger: Logger): Promise<RecoveryReport> {
  const report: RecoveryReport = { healthy: [], repaired: [], failed: [], forgotten: [] };
  const mounts = await host.readMounts();
  for (const record of await host.listRecords()) {
    const log = logger.child({ volumeId: record.volumeId, targetPath: record.targetPath });
    const entry = mountAt(mounts, record.targetPath);
    if (!entry || !isGlusterMount(entry)) {
      await host.removeRecord(record.targetPath);
      report.forgotten.push(record.targetPath);
      log.info('published mount is gone; forgetting it');
      continue;
    }
    const health = await host.checkHealth(record.targetPath).catch((error: unknown): MountHealth => ({ state: 'broken', reason: String(error) }));
    if (health.state === 'healthy') {
      report.healthy.push(record.targetPath);
      continue;
    }
    log.warn('published mount is broken; mounting it again', { health });
    try {
      await host.unmount(record.targetPath, false).catch(() => host.unmount(record.targetPath, true));
      await host.mount(record.mountArgv, record.targetPath);
      report.repaired.push(record.targetPath);
    } catch (error) {
      // Left for kubelet's next NodePublishVolume, which repairs broken mounts as well.
      log.error('repairing the mount failed', { error: errorMessage(error) });
      report.failed.push(record.targetPath);
    }
  }
  logger.info('start-up mount check done', { ...report });
  return report;
}
