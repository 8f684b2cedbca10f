import * as k8s from '@kubernetes/client-node';
import type { ReconcileContext } from './context.ts';

/**
 * Is `namespace` being deleted (or gone)? Deleting a namespace deletes everything in it at once: the SSH
 * Secret, the glusterd pods and the operator's own grants there go while the GlusterVolumes and GlusterNodes
 * wait on their finalizers, so their deletion must not wait for Gluster access that will not come back.
 */
export async function namespaceTerminating(ctx: Pick<ReconcileContext, 'kubeConfig'>, namespace: string): Promise<boolean> {
  const core = ctx.kubeConfig.makeApiClient(k8s.CoreV1Api);
  try {
    const found = await core.readNamespace({ name: namespace });
    return found.metadata?.deletionTimestamp !== undefined || found.status?.phase === 'Terminating';
  } catch (error) {
    // Gone already: the namespace is being deleted as far as this object is concerned.
    if ((error as { code?: number }).code === 404) return true;
    throw error;
  }
}
