/**
 * One promise chain per key: work under one key runs one at a time, in the order it was asked for; work
 * under other keys runs in parallel. A failure is handed to its caller only, never to the work queued
 * behind it. A key's chain is dropped once it has drained, so the map holds only busy keys.
 *
 * The one home of per-key serialisation: bricks (src/bricks/serialized.ts), glusterd mutations
 * (src/gluster/mutation-queue.ts), GID allocation (src/provisioner/claim-reconciler.ts) and CSI publishes
 * (src/csi/node.ts) all queue through it.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    // Tails never reject (below), so `work` always runs after the previous one settled.
    const result = previous.then(work);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with queued or running work (for tests and metrics). */
  get activeKeys(): number {
    return this.#tails.size;
  }
}
