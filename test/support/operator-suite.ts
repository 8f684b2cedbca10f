import { removeBrickRoot, removeLeftoverVolumes } from './brick-cleanup.ts';
import { kubectl } from './kube.ts';
import { killAllOperators, removeOperatorKubeconfig, type OperatorProcess } from './operator-process.ts';

/**
 * The end of a suite that ran the operator process on the test bed's Gluster nodes: the one home of its
 * clean-up, which runs also when the suite failed half-way (every step tolerates what is already gone).
 */
export interface OperatorSuite {
  namespace: { name: string; remove: () => Promise<void> } | undefined;
  /** The Gluster nodes' addresses the suite's volumes are on. */
  nodes: string[];
  brickRoot: string | undefined;
}

/** Deletes the suite's GlusterVolumes, then its GlusterNodes and GlusterCluster, waiting for the operator's finalizers. */
export async function deleteGlusterObjects(namespace: string): Promise<void> {
  await kubectl(['-n', namespace, 'delete', 'glustervolumes', '--all', '--wait=true', '--timeout=120s'], { allowFailure: true });
  await kubectl(['-n', namespace, 'delete', 'glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
}

/**
 * What is left once no operator runs: Gluster volumes and bricks named after the namespace, the operator's
 * topology backup and leader Lease (so the next suite starts clean), the namespace, the operator's kubeconfig.
 */
export async function removeOperatorState({ namespace, nodes, brickRoot }: OperatorSuite): Promise<void> {
  if (namespace) await removeLeftoverVolumes(nodes, `${namespace.name}_`);
  if (brickRoot) await removeBrickRoot(nodes, brickRoot);
  await kubectl(['-n', 'gluster-operator', 'delete', 'secrets,leases', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
  await kubectl(['-n', 'gluster-operator', 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
  await namespace?.remove();
  removeOperatorKubeconfig();
}

/** The whole clean-up: objects deleted while the suite's operator still runs (it removes their Gluster side), then the rest. */
export async function tearDownOperatorSuite(suite: OperatorSuite & { operator: OperatorProcess | undefined }): Promise<void> {
  if (suite.namespace) await deleteGlusterObjects(suite.namespace.name);
  await suite.operator?.stop();
  await killAllOperators();
  await removeOperatorState(suite);
}
