import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { DRIVER_NAME, type GlusterVolume } from '../../src/api/index.ts';
import { importTopology, testbedHeketiTopology } from './demo-topology.ts';
import { eventually, notYet } from './eventually.ts';
import { createTestNamespace, kubeConfig, kubectl } from './kube.ts';
import { killAllOperators, removeOperatorKubeconfig, startOperatorProcess, type OperatorProcess } from './operator-process.ts';
import type { TestbedEnv } from './testbed-env.ts';

/**
 * What the provisioning suites share: a storage namespace holding a GlusterCluster and GlusterNodes made by
 * the topology import from the test bed's nodes, an application namespace for the PVCs, a replica-3
 * StorageClass pointing at the cluster, and the operator as a process. `tearDown` removes all of it —
 * claims first, so the operator itself deletes the volumes — and is safe after a failed `setUp`.
 */
export interface ProvisioningCluster {
  storageNamespace: string;
  appNamespace: string;
  storageClass: string;
  brickRoot: string;
  tearDown(): Promise<void>;
}

export async function setUpProvisioningCluster(options: {
  env: TestbedEnv;
  nodes: string[];
  prefix: string;
  cluster: string;
  brickBackend: 'LoopFile' | 'Directory';
  storageClassParameters?: Record<string, string>;
  allowVolumeExpansion?: boolean;
  healthPortBase: number;
  /** Removes what bricks the operator left under the brick root on every node (a failed run). */
  cleanBricks: (brickRoot: string) => Promise<void>;
}): Promise<ProvisioningCluster> {
  const { env, nodes, prefix, cluster } = options;
  const storageNs = await createTestNamespace(`${prefix}-storage`);
  // Claims and pods only: the operator has no grants there, as in an install.
  const appNs = await createTestNamespace(`${prefix}-app`, { servesGlusterClusters: false });
  const brickRoot = `${env.TESTBED_BRICK_ROOT}/${storageNs.name}`;
  const storageClass = `gluster-${storageNs.name}`;
  const storage = kubeConfig().makeApiClient(k8s.StorageV1Api);
  let operator: OperatorProcess | undefined;

  const tearDown = async () => {
    await kubectl(['-n', appNs.name, 'delete', 'pvc', '--all', '--wait=true', '--timeout=300s'], { allowFailure: true });
    await eventually('provisioned GlusterVolumes gone', async () => {
      const left = await glusterVolumesLeft(storageNs.name);
      return left.length === 0 ? true : notYet(left);
    }, 600_000).catch((error: unknown) => {
      // The operator's last warnings say why (CI keeps no operator log files).
      const warnings = (operator?.logs ?? []).filter((line) => /"level":"(warn|error)"/.test(line)).slice(-20);
      console.error(`teardown: ${String(error)}\noperator's last warnings:\n${warnings.join('\n') || '(none)'}`);
    });
    await kubectl(['-n', storageNs.name, 'delete', 'glustervolumes,glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await killAllOperators();
    await kubectl(['delete', 'storageclass', storageClass, '--ignore-not-found'], { allowFailure: true });
    await options.cleanBricks(brickRoot);
    await kubectl(['-n', 'gluster-operator', 'delete', 'secrets', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
    await kubectl(['-n', 'gluster-operator', 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
    await appNs.remove();
    await storageNs.remove();
    removeOperatorKubeconfig();
  };

  try {
    await createCluster();
  } catch (error) {
    await tearDown();
    throw error;
  }
  return { storageNamespace: storageNs.name, appNamespace: appNs.name, storageClass, brickRoot, tearDown };

  async function createCluster(): Promise<void> {
    await kubectl(['-n', storageNs.name, 'create', 'secret', 'generic', 'gluster-ssh', `--from-file=ssh-privatekey=${env.TESTBED_SSH_KEY}`]);
    const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    try {
      writeFileSync(
        join(dir, 'topology.yaml'),
        await importTopology(testbedHeketiTopology(nodes, []), ['--cluster', cluster, '--namespace', storageNs.name, '--brick-backend', options.brickBackend, '--directory-root', brickRoot]),
      );
      await kubectl(['apply', '-f', join(dir, 'topology.yaml')]);
    } finally {
      rmSync(dir, { recursive: true });
    }
    await storage.createStorageClass({
      body: {
        metadata: { name: storageClass },
        provisioner: DRIVER_NAME,
        parameters: { clusterid: cluster, clusternamespace: storageNs.name, volumetype: 'replicate:3', ...options.storageClassParameters },
        reclaimPolicy: 'Delete',
        allowVolumeExpansion: options.allowVolumeExpansion ?? false,
        volumeBindingMode: 'Immediate',
      },
    });
    operator = await startOperatorProcess(`operator-${prefix}`, options.healthPortBase + Math.floor(Math.random() * 200));
    await kubectl(['-n', storageNs.name, 'wait', '--for=condition=Ready', '--timeout=180s', `glustercluster/${cluster}`]);
  }
}

/**
 * What a teardown waiting for the operator to delete its volumes last saw of each one left: whether its
 * deletion has started (the provisioner deletes it once its PV is Released), its PV's phase, and the
 * operator's own word (the Ready condition's reason and message), so a timeout says where deletion stopped.
 */
async function glusterVolumesLeft(namespace: string): Promise<string[]> {
  const { stdout } = await kubectl(['-n', namespace, 'get', 'glustervolumes', '-o', 'json']);
  const volumes = (JSON.parse(stdout) as { items: GlusterVolume[] }).items;
  if (volumes.length === 0) return [];
  const pvs = (await kubeConfig().makeApiClient(k8s.CoreV1Api).listPersistentVolume()).items;
  const phaseOf = new Map(pvs.map((pv) => [pv.metadata?.name ?? '', pv.status?.phase ?? 'unknown']));
  return volumes.map(({ metadata, status }) => {
    const ready = status?.conditions?.find((condition) => condition.type === 'Ready');
    const deleting = metadata.deletionTimestamp ? `deleting since ${metadata.deletionTimestamp}` : 'not deleted';
    return `${metadata.name}: ${deleting}; PV ${phaseOf.get(metadata.name) ?? 'none'}; Ready ${ready?.reason ?? '-'}: ${ready?.message ?? '-'}`;
  });
}
