import type { CustomResourceClient } from '../controller/custom-objects.ts';
import { FINALIZER } from './context.ts';

type Finalizable = { metadata: { name: string; namespace?: string; resourceVersion?: string; finalizers?: string[] } };

/** Adds our finalizer when missing; returns the updated object (or the same one). */
export async function ensureFinalizer<T extends Finalizable>(client: CustomResourceClient<T>, object: T): Promise<T> {
  const current = object.metadata.finalizers ?? [];
  if (current.includes(FINALIZER)) return object;
  return client.setFinalizers(object, [...current, FINALIZER]);
}

export async function removeFinalizer<T extends Finalizable>(client: CustomResourceClient<T>, object: T): Promise<void> {
  const current = object.metadata.finalizers ?? [];
  if (!current.includes(FINALIZER)) return;
  await client.setFinalizers(object, current.filter((finalizer) => finalizer !== FINALIZER));
}

export function hasFinalizer(object: Finalizable): boolean {
  return (object.metadata.finalizers ?? []).includes(FINALIZER);
}
