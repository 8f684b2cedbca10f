import * as k8s from '@kubernetes/client-node';
import type { z } from 'zod';
import { API_GROUP, API_VERSION } from '../api/group.ts';
import { isApiError } from './api-errors.ts';

/**
 * Typed access to one custom resource kind: every object read is parsed with its zod schema (a malformed
 * object is an error naming the field, not a crash later), status goes only through /status, and the
 * operator never writes spec — only metadata.finalizers, which it owns.
 */
export class CustomResourceClient<T extends { metadata: { name: string; namespace?: string } }> {
  private readonly api: k8s.CustomObjectsApi;
  readonly plural: string;
  private readonly schema: z.ZodType<T>;

  constructor(config: k8s.KubeConfig, plural: string, schema: z.ZodType<T>) {
    this.api = config.makeApiClient(k8s.CustomObjectsApi);
    this.plural = plural;
    this.schema = schema;
  }

  private coordinates(namespace: string) {
    return { group: API_GROUP, version: API_VERSION, namespace, plural: this.plural };
  }

  parse(raw: unknown): T {
    return this.schema.parse(raw);
  }

  /** The object, or undefined when it does not exist (any more). */
  async get(namespace: string, name: string): Promise<T | undefined> {
    try {
      return this.parse(await this.api.getNamespacedCustomObject({ ...this.coordinates(namespace), name }));
    } catch (error) {
      if (isApiError(error, 404)) return undefined;
      throw error;
    }
  }

  async list(namespace?: string): Promise<T[]> {
    const response = (
      namespace
        ? await this.api.listNamespacedCustomObject(this.coordinates(namespace))
        : await this.api.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: this.plural })
    ) as { items: unknown[] };
    return response.items.map((item) => this.parse(item));
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
