import * as k8s from '@kubernetes/client-node';
import { API_GROUP } from '../api/group.ts';

/**
 * An External GlusterCluster's SSH key Secret is held by a finalizer while the cluster exists. Deleting a
 * namespace deletes everything in it at once, and a Secret (with no finalizer) goes first: without the key,
 * the operator could neither release the owner marks of the volumes it keeps nor destroy the ones the
 * cluster's cleanupPolicy confirms. Held, the Secret stays readable (deleting, not gone) until the cluster's
 * own finalizer is done. An accidental `kubectl delete secret` is held the same way.
 */
export const SSH_SECRET_FINALIZER = `${API_GROUP}/ssh-key-in-use`;

const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** The finalizers `secret` should have: with ours when `hold`, without it otherwise; undefined when unchanged. Pure. */
export function heldFinalizers(secret: { metadata?: { finalizers?: string[]; deletionTimestamp?: unknown } }, hold: boolean): string[] | undefined {
  const finalizers = secret.metadata?.finalizers ?? [];
  const has = finalizers.includes(SSH_SECRET_FINALIZER);
  // The apiserver refuses new finalizers on an object being deleted: too late to hold it.
  if (hold) return has || secret.metadata?.deletionTimestamp ? undefined : [...finalizers, SSH_SECRET_FINALIZER];
  return has ? finalizers.filter((finalizer) => finalizer !== SSH_SECRET_FINALIZER) : undefined;
}

async function setHold(core: k8s.CoreV1Api, namespace: string, name: string, hold: boolean): Promise<void> {
  let secret: k8s.V1Secret;
  try {
    secret = await core.readNamespacedSecret({ namespace, name });
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return;
    throw error;
  }
  const finalizers = heldFinalizers(secret, hold);
  if (finalizers === undefined) return;
  // resourceVersion makes the merge patch conditional: a finalizer list changed meanwhile is a 409, retried.
  await core.patchNamespacedSecret(
    { namespace, name, body: { metadata: { finalizers, resourceVersion: secret.metadata?.resourceVersion } } },
    MERGE_PATCH,
  );
}

export const holdSshSecret = (core: k8s.CoreV1Api, namespace: string, name: string) => setHold(core, namespace, name, true);
export const releaseSshSecret = (core: k8s.CoreV1Api, namespace: string, name: string) => setHold(core, namespace, name, false);
