import type * as k8s from '@kubernetes/client-node';
import type { Clock } from '../runtime/clock.ts';
import type { ObjectCacheView } from './custom-objects.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { ResilientInformer, objectKey } from '../runtime/informer.ts';
import type { Logger } from '../runtime/logger.ts';
import { WorkQueue, type Reconciler, type WorkQueueObserver } from '../runtime/work-queue.ts';

/**
 * Wires informers to work queues, controller-runtime style: one queue and one reconciler per kind; event
 * handlers only map objects to keys; watches of related kinds map their objects to keys of the owning kind
 * (a GlusterNode change wakes its GlusterCluster). Started only by the leader.
 */
export interface WatchSource {
  name: string;
  path: string;
  list: () => Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>;
  labelSelector?: string;
}

export interface ControllerDefinition {
  /** e.g. glustervolume; names the queue in logs. */
  name: string;
  reconcile: Reconciler;
  concurrency: number;
  /** The primary kind: its own key is enqueued. */
  primary: WatchSource;
  /** Related kinds and how their objects map to primary keys. */
  /**
   * Watches of other kinds that affect this one. `delayMs` coalesces bursts (a volume's status writes while it
   * is provisioned) into one later reconcile, off the path of the change that caused them.
   */
  related?: Array<{ source: WatchSource; toKeys: (object: k8s.KubernetesObject) => string[]; delayMs?: number }>;
}

export interface ManagerOptions {
  kubeConfig: k8s.KubeConfig;
  clock: Clock;
  logger: Logger;
  resyncMs: number;
  /** Where each controller's queue reports depth, wait and reconcile outcomes (the operator's metrics). */
  observeQueue?: (controller: string) => WorkQueueObserver;
}

export class ControllerManager {
  private readonly options: ManagerOptions;
  private readonly informers: ResilientInformer<k8s.KubernetesObject>[] = [];
  /** The informer of each watch source name, shared by the controllers that watch that kind (see watch). */
  private readonly informersBySource = new Map<string, ResilientInformer<k8s.KubernetesObject>>();
  /** The handlers (queues) each shared informer hands its objects to. */
  private readonly handlersBySource = new Map<string, Array<(object: k8s.KubernetesObject) => void>>();
  private readonly queues: WorkQueue[] = [];

  constructor(options: ManagerOptions) {
    this.options = options;
  }

  get hasSynced(): boolean {
    return this.informers.every((informer) => informer.hasSynced);
  }

  /** What the informer of watch source `name` (e.g. glustervolumes) holds now; [] when nothing watches it. */
  cachedObjects(name: string): readonly k8s.KubernetesObject[] {
    return this.informersBySource.get(name)?.list() ?? [];
  }

  /** Like cachedObjects, but undefined until that informer has completed its first list (or when nothing watches it). */
  syncedObjects(name: string): readonly k8s.KubernetesObject[] | undefined {
    const informer = this.informersBySource.get(name);
    return informer?.hasSynced ? informer.list() : undefined;
  }

  /** That informer's cache for reads by name or namespace once it has synced; undefined before (or when nothing watches it). */
  syncedCache(name: string): ObjectCacheView | undefined {
    const informer = this.informersBySource.get(name);
    return informer?.hasSynced ? informer : undefined;
  }

  async start(controllers: ControllerDefinition[]): Promise<void> {
    const { logger, observeQueue } = this.options;
    for (const controller of controllers) {
      const queue = new WorkQueue({
        concurrency: controller.concurrency,
        backoff: { baseMs: 1_000, maxMs: 5 * 60_000 },
        onError: (key, error, retryInMs) =>
          logger.warn('reconcile failed', { controller: controller.name, key, retryInMs, error: errorMessage(error) }),
        ...(observeQueue ? { observer: observeQueue(controller.name) } : {}),
      });
      this.queues.push(queue);
      const timedReconcile: Reconciler = async (key) => {
        const started = Date.now();
        const result = await controller.reconcile(key);
        logger.debug('reconciled', { controller: controller.name, key, ms: Date.now() - started });
        return result;
      };
      await this.watch(controller.primary, (object) => queue.add(objectKey(object)));
      for (const related of controller.related ?? []) {
        await this.watch(related.source, (object) => {
          for (const key of related.toKeys(object)) {
            if (related.delayMs) queue.addAfter(key, related.delayMs);
            else queue.add(key);
          }
        });
      }
      queue.start(timedReconcile);
    }
  }

  /** Graceful: stop watching, let in-flight reconciles finish. */
  async stop(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.stop()));
    await Promise.all(this.queues.map((queue) => queue.stop()));
  }

  /**
   * One informer per watch source name, whichever controllers watch it: every handler of that kind runs after
   * the one cache reconciles read has taken the change in. With an informer per controller, a queue could
   * be woken by its own informer while the cache (another informer) still held the older object, and the
   * reconcile would see the object as it was before the change that woke it, with nothing to wake it again.
   */
  private async watch(source: WatchSource, enqueue: (object: k8s.KubernetesObject) => void): Promise<void> {
    const shared = this.informersBySource.get(source.name);
    if (shared) {
      this.handlersBySource.get(source.name)!.push(enqueue);
      // What this handler would have seen as its own informer's first list.
      for (const object of shared.list()) enqueue(object);
      return;
    }
    const { kubeConfig, clock, logger, resyncMs } = this.options;
    const handlers = [enqueue];
    this.handlersBySource.set(source.name, handlers);
    const informer = new ResilientInformer({
      kubeConfig,
      path: source.path,
      list: source.list,
      labelSelector: source.labelSelector,
      onObject: (object) => {
        for (const handler of handlers) handler(object);
      },
      onError: (error, restartInMs) => logger.warn('watch failed; restarting', { source: source.name, restartInMs, error: errorMessage(error) }),
      resyncMs,
      restartBackoff: { baseMs: 500, maxMs: 30_000 },
      clock,
    });
    this.informers.push(informer);
    this.informersBySource.set(source.name, informer);
    await informer.start();
  }
}

/** Moved to src/runtime/error-message.ts; re-exported for the modules that import it from here. */
export { errorMessage } from '../runtime/error-message.ts';
