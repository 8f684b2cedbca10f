import * as k8s from '@kubernetes/client-node';
import type { z } from 'zod';
import { API_GROUP, API_VERSION } from '../api/group.ts';
import { isApiError } from './api-errors.ts';

/** What an informer's cache offers (client-node's ObjectCache): objects by name, or all of a namespace. */
export interface ObjectCacheView {
  get(name: string, namespace?: string): k8s.KubernetesObject | undefined;
  list(namespace?: string): readonly k8s.KubernetesObject[];
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * Typed access to one custom resource kind: every object read is parsed with its zod schema (a malformed
 * object is an error naming the field, not a crash later), status goes only through /status, and the
 * operator never writes spec — only metadata.finalizers, which it owns.
 */
export class CustomResourceClient<T extends { metadata: { name: string; namespace?: string } }> {
  private readonly config: k8s.KubeConfig;
  private readonly api: k8s.CustomObjectsApi;
  readonly plural: string;
  private readonly schema: z.ZodType<T>;
  private readonly cache: (() => ObjectCacheView | undefined) | undefined;
  /** Each version of a cached object parsed once (list results are shared, so frozen: see `list`). */
  private readonly parsedVersions = new WeakMap<object, T>();

  constructor(config: k8s.KubeConfig, plural: string, schema: z.ZodType<T>, options: { cache?: () => ObjectCacheView | undefined } = {}) {
    this.config = config;
    this.api = config.makeApiClient(k8s.CustomObjectsApi);
    this.plural = plural;
    this.schema = schema;
    this.cache = options.cache;
  }

  /**
   * The same kind, read from an informer's cache once it has synced (the apiserver until then): a reconcile's
   * GETs and LISTs cost nothing, so a restart with thousands of objects does not turn into thousands of
   * requests. The cache may trail a write by a moment, as controller-runtime's does; that is safe because
   * the write's own watch event queues the object again, every step is idempotent or observed first, and
   * finalizer writes carry the read resourceVersion (a stale read is a 409, retried). Writes always go to
   * the apiserver.
   */
  readingFrom(cache: () => ObjectCacheView | undefined): CustomResourceClient<T> {
    return new CustomResourceClient(this.config, this.plural, this.schema, { cache });
  }

  private coordinates(namespace: string) {
    return { group: API_GROUP, version: API_VERSION, namespace, plural: this.plural };
  }

  parse(raw: unknown): T {
    return this.schema.parse(raw);
  }

  /** The object, or undefined when it does not exist (any more). A fresh copy the caller may change. */
  async get(namespace: string, name: string): Promise<T | undefined> {
    const cache = this.cache?.();
    if (cache) {
      const raw = cache.get(name, namespace);
      return raw === undefined ? undefined : this.parse(raw);
    }
    try {
      return this.parse(await this.api.getNamespacedCustomObject({ ...this.coordinates(namespace), name }));
    } catch (error) {
      if (isApiError(error, 404)) return undefined;
      throw error;
    }
  }

  /**
   * Every object (of `namespace`, when given). From the cache, each object version is parsed once and the
   * parsed copy is shared by every list that returns it, so it is deeply frozen: a caller that changes one
   * fails loudly instead of changing what the next reconcile reads.
   */
  async list(namespace?: string): Promise<T[]> {
    const cache = this.cache?.();
    if (cache) return cache.list(namespace).map((raw) => this.parsedOnce(raw));
    const response = (
      namespace
        ? await this.api.listNamespacedCustomObject(this.coordinates(namespace))
        : await this.api.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: this.plural })
    ) as { items: unknown[] };
    return response.items.map((item) => this.parse(item));
  }

  private parsedOnce(raw: object): T {
    let parsed = this.parsedVersions.get(raw);
    if (!parsed) {
      parsed = deepFreeze(this.parse(raw));
      this.parsedVersions.set(raw, parsed);
    }
    return parsed;
  }

  /** Raw list for informers (which want the list object with its resourceVersion). */
  async rawList(namespace?: string): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> {
    return (namespace
      ? await this.api.listNamespacedCustomObject(this.coordinates(namespace))
      : await this.api.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: this.plural })) as k8s.KubernetesListObject<k8s.KubernetesObject>;
  }

  watchPath(namespace?: string): string {
    return namespace ? `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${this.plural}` : `/apis/${API_GROUP}/${API_VERSION}/${this.plural}`;
  }

  /** Merge-patches status through the /status subresource. */
  async patchStatus(namespace: string, name: string, status: unknown): Promise<T> {
    const result = await this.api.patchNamespacedCustomObjectStatus(
      { ...this.coordinates(namespace), name, body: { status } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    return this.parse(result);
  }

  /**
   * Sets metadata.finalizers with the read resourceVersion as a precondition, so a concurrent change is a
   * 409 (retried by the queue) instead of a lost update. JSON patch: test + replace.
   */
  async setFinalizers(object: T & { metadata: { resourceVersion?: string; finalizers?: string[] } }, finalizers: string[]): Promise<T> {
    const patch = [
      { op: 'test', path: '/metadata/resourceVersion', value: object.metadata.resourceVersion },
      { op: object.metadata.finalizers ? 'replace' : 'add', path: '/metadata/finalizers', value: finalizers },
    ];
    const result = await this.api.patchNamespacedCustomObject(
      { ...this.coordinates(object.metadata.namespace ?? 'default'), name: object.metadata.name, body: patch },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    return this.parse(result);
  }

  async create(namespace: string, body: unknown): Promise<T> {
    return this.parse(await this.api.createNamespacedCustomObject({ ...this.coordinates(namespace), body }));
  }

  async delete(namespace: string, name: string): Promise<void> {
    try {
      await this.api.deleteNamespacedCustomObject({ ...this.coordinates(namespace), name });
    } catch (error) {
      if (!(isApiError(error, 404))) throw error;
    }
  }
}
