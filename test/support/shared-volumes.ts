import { LABEL_ROLE, SHARED_DIRECTORIES_ROLE } from '../../src/provisioner/directory-placement.ts';
import { kubectl } from './kube.ts';

/** The selector of the shared volumes a `claimLayout: directory` class makes. */
export const SHARED_VOLUME_SELECTOR = `${LABEL_ROLE}=${SHARED_DIRECTORIES_ROLE}`;

/**
 * Lets the shared volumes of `namespace` go as a user would: they are Retain by design (the provisioner never
 * deletes them), so each is switched to Delete, then deleted; the operator removes their Gluster volumes once no
 * directory is left in them. Waits up to `timeoutS` for them to be gone; tolerates there being none.
 */
export async function releaseSharedVolumes(namespace: string, timeoutS = 120): Promise<void> {
  const { stdout } = await kubectl(['-n', namespace, 'get', 'glustervolumes', '-l', SHARED_VOLUME_SELECTOR, '-o', 'name'], { allowFailure: true });
  const names = stdout.split('\n').map((line) => line.trim()).filter(Boolean);
  for (const name of names) {
    await kubectl(['-n', namespace, 'patch', name, '--type=merge', '-p', '{"spec":{"reclaimPolicy":"Delete"}}'], { allowFailure: true });
  }
  if (names.length === 0) return;
  await kubectl(['-n', namespace, 'delete', ...names, '--ignore-not-found', '--wait=true', `--timeout=${timeoutS}s`], { allowFailure: true });
}
