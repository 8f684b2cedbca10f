import { errorMessage } from '../runtime/error-message.ts';
import type { Logger } from '../runtime/logger.ts';
import type { MountHealth } from './mount-health.ts';
import { sameGlusterSource } from './mount-options.ts';
import { isGlusterMount, mountAt, type MountEntry } from './mountinfo.ts';
import { planPublish, requestOfRecord, type PublishPlan } from './publish-plan.ts';
import type { PublishRecord } from './state.ts';
import { resolvedTargetProblem, type ResolveFs } from './target-path.ts';

/** What start-up recovery needs from the host. */
export interface RecoveryHost {
  readMounts(): Promise<MountEntry[]>;
  checkHealth(path: string): Promise<MountHealth>;
  mount(argv: readonly string[], targetPath: string): Promise<void>;
  unmount(targetPath: string, lazy: boolean): Promise<void>;
  listRecords(): Promise<PublishRecord[]>;
  removeRecord(targetPath: string): Promise<void>;
}

export interface RecoveryOptions {
  kubeletDir: string;
  resolveFs?: ResolveFs;
}

export interface RecoveryReport {
  healthy: string[];
  repaired: string[];
  failed: string[];
  forgotten: string[];
  /** Records that a fresh NodePublishVolume with their fields would be refused for: never mounted from. */
  invalid: string[];
}

/**
 * Re-checks every mount this plugin published before it (re)started. Mounts made by an earlier plugin process
 * keep working on their own (the FUSE client is not ours); this finds the ones whose client died meanwhile
 * and mounts them again, so new containers of the pod, and kubelet's checks, see a working volume. A record
 * whose target is no longer mounted is dropped: kubelet unpublished it or the node rebooted, and kubelet
 * publishes again itself when a pod still needs it.
 *
 * A record is data from disk, not a command: it goes through planPublish like a request from kubelet, and the
 * argv is built from the validated fields. A record refused there is logged and left (the mount too).
 */
export async function recoverPublishedMounts(host: RecoveryHost, logger: Logger, options: RecoveryOptions): Promise<RecoveryReport> {
  const report: RecoveryReport = { healthy: [], repaired: [], failed: [], forgotten: [], invalid: [] };
  const mounts = await host.readMounts();
  for (const record of await host.listRecords()) {
    const target = record.targetPath;
    const log = logger.child({ volumeId: record.volumeId, targetPath: target });
    const entry = mountAt(mounts, target);
    if (!entry || !isGlusterMount(entry)) {
      await host.removeRecord(target);
      report.forgotten.push(target);
      log.info('published mount is gone; forgetting it');
      continue;
    }
    const plan = await revalidate(record, entry, options);
    if (typeof plan === 'string') {
      log.error('publish record refused; it is not mounted from, and its mount is left as it is', { problem: plan });
      report.invalid.push(target);
      continue;
    }
    const health = await host.checkHealth(target).catch((error: unknown): MountHealth => ({ state: 'broken', reason: String(error) }));
    if (health.state === 'healthy') {
      report.healthy.push(target);
      continue;
    }
    log.warn('published mount is broken; mounting it again', { health });
    try {
      await host.unmount(target, false).catch(() => host.unmount(target, true));
      await host.mount(plan.argv, target);
      report.repaired.push(target);
    } catch (error) {
      // Left for kubelet's next NodePublishVolume, which repairs broken mounts as well.
      log.error('repairing the mount failed', { error: errorMessage(error) });
      report.failed.push(target);
    }
  }
  logger.info('start-up mount check done', { ...report });
  return report;
}

/** The plan a fresh publish of the record's fields would get, or why there is none. */
async function revalidate(record: PublishRecord, entry: MountEntry, options: RecoveryOptions): Promise<PublishPlan | string> {
  let plan: PublishPlan;
  try {
    plan = planPublish(requestOfRecord(record), options.kubeletDir);
  } catch (error) {
    return errorMessage(error);
  }
  if (!sameGlusterSource(entry.source, plan.spec)) return `${record.targetPath} holds a glusterfs mount of ${entry.source}, not of the recorded volume`;
  return (await resolvedTargetProblem(options.kubeletDir, record.targetPath, true, options.resolveFs)) ?? plan;
}
