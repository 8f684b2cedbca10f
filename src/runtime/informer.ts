import * as k8s from '@kubernetes/client-node';
import type { Clock } from './clock.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

/**
 * A watch-backed cache of one kind that keeps going. client-node's informer re-lists on 410 Gone and
 * reconnects on a normal close, but stops for good on any other error, and a half-dead connection can leave
 * a watch silent for hours. So this one restarts the informer after errors (with backoff) and, every
 * resyncMs, re-lists and hands every cached object to the handler again: a missed event costs at most one
 * resync period.
 */
export type ObjectKey = string;

/** How long start() retries a failing first list before it returns unsynced (and goes on in the background). */
const FIRST_SYNC_PATIENCE_MS = 10_000;
export interface ResilientInformerOptions<T extends k8s.KubernetesObject> {
  kubeConfig: k8s.KubeConfig;
  /** Watch path, e.g. /apis/storage.gluster-operator.dev/v1alpha1/glustervolumes. */
  path: string;
  list: () => Promise<k8s.KubernetesListObject<T>>;
  labelSelector?: string;
  /** Called with every added, changed, deleted and resynced object. Should only enqueue. */
  onObject: (object: T, event: 'add' | 'update' | 'delete' | 'resync') => void;
  onError?: (error: unknown, restartInMs: number) => void;
  resyncMs: number;
  restartBackoff: BackoffPolicy;
  clock: Clock;
}

export function objectKey(object: k8s.KubernetesObject): ObjectKey {
  const { namespace, name } = object.metadata ?? {};
  return namespace ? `${namespace}/${name}` : `${name}`;
}

export class ResilientInformer<T extends k8s.KubernetesObject> {
  private readonly options: ResilientInformerOptions<T>;
  private informer: (k8s.Informer<T> & k8s.ObjectCache<T>) | undefined;
  private readonly abort = new AbortController();
  private synced = false;
  private failures = 0;
  private restarting: Promise<void> | undefined;
  private resyncLoop: Promise<void> | undefined;

  constructor(options: ResilientInformerOptions<T>) {
    this.options = options;
  }

  /** True once the first list completed; /readyz waits for it. */
  get hasSynced(): boolean {
    return this.synced;
  }

  list(namespace?: string): readonly T[] {
    return this.informer?.list(namespace) ?? [];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer?.get(name, namespace);
  }

  /**
   * Resolves once the first list has succeeded, retrying passing failures (a CRD's storage re-initializing
   * answers 429 for a moment) for up to FIRST_SYNC_PATIENCE_MS; after that it resolves unsynced and keeps
   * trying in the background: reconciles read the apiserver meanwhile, and /readyz waits.
   */
  async start(): Promise<void> {
    const started = this.options.clock.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startInformer();
        break;
      } catch (error) {
        const delay = backoffDelay(this.options.restartBackoff, attempt);
        if (this.abort.signal.aborted) break;
        if (this.options.clock.now() + delay - started > FIRST_SYNC_PATIENCE_MS) {
          this.scheduleRestart(error);
          break;
        }
        this.options.onError?.(error, delay);
        await this.options.clock.sleep(delay, this.abort.signal);
      }
    }
    this.resyncLoop = this.runResync();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.informer?.stop();
    await this.restarting;
    // A restart that was listing when stop came has put its new informer in service: stop that one too.
    await this.informer?.stop();
    await this.resyncLoop;
  }

  /**
   * A new informer, put in service only once its first list has succeeded: reconciles read the cache in
   * service (CustomResourceClient's readingFrom), and an empty or half-listed one would read as "no volumes,
   * no nodes". client-node reports a failed list as an error event, not by rejecting start(): that failure is
   * thrown here. Errors of an informer not (or no longer) in service are its own, never a reason to restart.
   */
  private async startInformer(): Promise<void> {
    const { kubeConfig, path, list, labelSelector, onObject } = this.options;
    const informer = k8s.makeInformer<T>(kubeConfig, path, list, labelSelector);
    let starting = true;
    let startFailure: { error: unknown } | undefined;
    informer.on('add', (object) => onObject(object, 'add'));
    informer.on('update', (object) => onObject(object, 'update'));
    informer.on('delete', (object) => onObject(object, 'delete'));
    informer.on('connect', () => {
      this.failures = 0;
    });
    informer.on('error', (error) => {
      if (starting) startFailure ??= { error };
      else if (informer === this.informer) this.scheduleRestart(error);
    });
    await informer.start();
    starting = false;
    if (startFailure) {
      await informer.stop();
      throw startFailure.error;
    }
    this.informer = informer;
    this.synced = true;
  }

  private scheduleRestart(error: unknown): void {
    if (this.abort.signal.aborted || this.restarting) return;
    this.failures += 1;
    const delay = backoffDelay(this.options.restartBackoff, this.failures);
    this.options.onError?.(error, delay);
    this.restarting = (async () => {
      await this.options.clock.sleep(delay, this.abort.signal);
      while (!this.abort.signal.aborted) {
        try {
          const previous = this.informer;
          await this.startInformer();
          if (previous !== this.informer) await previous?.stop();
          // A restart re-lists; hand everything to the handler so changes during the gap are seen.
          for (const object of this.list()) this.options.onObject(object, 'resync');
          return;
        } catch (restartError) {
          this.failures += 1;
          const next = backoffDelay(this.options.restartBackoff, this.failures);
          this.options.onError?.(restartError, next);
          await this.options.clock.sleep(next, this.abort.signal);
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
  }

  private async runResync(): Promise<void> {
    for (;;) {
      await this.options.clock.sleep(this.options.resyncMs, this.abort.signal);
      if (this.abort.signal.aborted) return;
      try {
        // A fresh list, not the cache: a silent watch would leave the cache as stale as the events.
        const fresh = await this.options.list();
        for (const object of fresh.items) this.options.onObject(object, 'resync');
      } catch (error) {
        this.options.onError?.(error, 0);
      }
    }
  }
}
