import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_IMAGES } from '../../cdk8s/charts.ts';
import { synthesizeFiles } from '../../cdk8s/synthesize.ts';
import { DRIVER_NAME } from '../../src/api/index.ts';
import { glusterdDaemonSetName, glusterdPodLabels } from '../../src/deploy/glusterd-daemonset.ts';
import { eventually, notYet } from './eventually.ts';
import { createTestNamespace, kubectl } from './kube.ts';
import type { KubeNode } from './kube-nodes.ts';

/**
 * The operator installed the way a user installs it, on the test bed's real nodes: `kubectl apply -f crds/
 * -f manifests/` runs the operator Deployment and the CSI DaemonSet from the images `hack/build-images` built
 * (their references are the shipped ones). Then an InCluster GlusterCluster: glusterd as the operator's
 * DaemonSet on the labelled nodes, bricks as loop files under the nodes' /var/lib/gluster-operator/bricks.
 */
export const OPERATOR_NAMESPACE = 'gluster-operator';
export const STORAGE_NODE_LABEL = 'storagenode';
export const BRICK_ROOT = '/var/lib/gluster-operator/bricks';
const WORKLOAD_MANIFESTS = ['manifests/20-operator.yaml', 'manifests/30-csi.yaml'];

export async function installShippedOperator(): Promise<void> {
  await kubectl(['apply', '-f', 'crds/', '-f', 'manifests/']);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', 'crds/']);
  await kubectl(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/gluster-operator', '--timeout=180s']);
  await kubectl(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'daemonset/gluster-csi-node', '--timeout=180s']);
}

/** The Deployment and the DaemonSet go; the namespace, RBAC and CRDs stay for the suites that follow. */
export async function removeShippedWorkloads(): Promise<void> {
  await kubectl(['delete', '--ignore-not-found', '--wait=true', '--timeout=120s', ...WORKLOAD_MANIFESTS.flatMap((f) => ['-f', f])], { allowFailure: true });
  await eventually('the operator and CSI pods gone', async () => {
    const { stdout } = await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-o', 'name']);
    return stdout.trim() === '' ? true : notYet(stdout.trim());
  }, 120_000).catch(() => undefined);
  // What the in-cluster operator kept in its namespace: the topology backup and the leader Lease.
  await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'secrets', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
  await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
}

/**
 * The shipped operator Deployment as `npm run synth -- --out DIR --gluster-namespaces` writes it for the
 * operator's namespace and `namespaces`, applied and rolled out: it then serves GlusterClusters there. Only
 * its GLUSTER_NAMESPACES differs from manifests/; the grants are the ones createTestNamespace made.
 */
export async function serveInShippedOperator(namespaces: string[]): Promise<void> {
  const deployment = synthesizeFiles(DEFAULT_IMAGES, [OPERATOR_NAMESPACE, ...namespaces]).get('manifests/20-operator.yaml');
  if (!deployment) throw new Error('synth wrote no manifests/20-operator.yaml');
  const dir = mkdtempSync(join(tmpdir(), 'shipped-operator-'));
  try {
    writeFileSync(join(dir, '20-operator.yaml'), deployment);
    await kubectl(['apply', '-f', join(dir, '20-operator.yaml')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await kubectl(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/gluster-operator', '--timeout=180s']);
}

export interface InClusterGluster {
  storageNamespace: string;
  appNamespace: string;
  cluster: string;
  storageClass: string;
  tearDown(): Promise<void>;
}

export async function createInClusterGluster(options: { nodes: KubeNode[]; prefix: string }): Promise<InClusterGluster> {
  const { nodes, prefix } = options;
  const storageNs = await createTestNamespace(`${prefix}-storage`);
  const appNs = await createTestNamespace(`${prefix}-app`, { servesGlusterClusters: false });
  const cluster = 'incluster';
  const storageClass = `gluster-${storageNs.name}`;

  const tearDown = async () => {
    await kubectl(['-n', appNs.name, 'delete', 'pods,pvc', '--all', '--wait=true', '--timeout=180s'], { allowFailure: true });
    await eventually('provisioned GlusterVolumes gone', async () => {
      const { stdout } = await kubectl(['-n', storageNs.name, 'get', 'glustervolumes', '-o', 'name']);
      return stdout.trim() === '' ? true : notYet(stdout.trim());
    }, 300_000).catch(() => undefined);
    await kubectl(['-n', storageNs.name, 'delete', 'glustervolumes,glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=120s'], { allowFailure: true });
    await kubectl(['-n', storageNs.name, 'delete', 'daemonset', glusterdDaemonSetName(cluster), '--ignore-not-found', '--wait=true'], { allowFailure: true });
    await kubectl(['delete', 'storageclass', storageClass, '--ignore-not-found'], { allowFailure: true });
    await kubectl(['label', 'nodes', ...nodes.map((n) => n.name), `${STORAGE_NODE_LABEL}-`], { allowFailure: true });
    await appNs.remove();
    await storageNs.remove();
  };

  try {
    await serveInShippedOperator([storageNs.name]);
    await kubectl(['label', '--overwrite', 'nodes', ...nodes.map((n) => n.name), `${STORAGE_NODE_LABEL}=glusterfs`]);
    const objects = [
      {
        apiVersion: 'storage.gluster-operator.dev/v1alpha1',
        kind: 'GlusterCluster',
        metadata: { name: cluster, namespace: storageNs.name },
        spec: {
          access: { mode: 'InCluster', inCluster: { nodeSelector: { [STORAGE_NODE_LABEL]: 'glusterfs' } } },
          brickBackend: 'LoopFile',
          directoryRoot: `${BRICK_ROOT}/${storageNs.name}`,
        },
      },
      ...nodes.map((node, i) => ({
        apiVersion: 'storage.gluster-operator.dev/v1alpha1',
        kind: 'GlusterNode',
        metadata: { name: node.name, namespace: storageNs.name },
        spec: { cluster, manageAddress: node.name, storageAddress: node.ip, zone: String(i + 1) },
      })),
      {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: storageClass },
        provisioner: DRIVER_NAME,
        parameters: { clusterid: cluster, clusternamespace: storageNs.name, volumetype: 'replicate:3', gidMin: '41000', gidMax: '41100' },
        reclaimPolicy: 'Delete',
        allowVolumeExpansion: true,
        volumeBindingMode: 'Immediate',
      },
    ];
    await applyObjects(objects);
    await kubectl(['-n', storageNs.name, 'wait', '--for=condition=Ready', '--timeout=300s', `glustercluster/${cluster}`]);
    await kubectl(['-n', storageNs.name, 'wait', '--for=condition=Ready', '--timeout=120s', 'glusternodes', '--all']);
  } catch (error) {
    await tearDown();
    throw error;
  }
  return { storageNamespace: storageNs.name, appNamespace: appNs.name, cluster, storageClass, tearDown };
}

export async function applyObjects(objects: unknown[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'in-cluster-'));
  try {
    const file = join(dir, 'objects.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    await kubectl(['apply', '-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A Pod on one node that mounts the claim at /data and runs argv (the operator image has a shell and coreutils). */
export function appPod(options: { name: string; namespace: string; node: string; claim: string; image: string; script: string }): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: options.name, namespace: options.namespace, labels: { app: 'in-cluster-test' } },
    spec: {
      nodeName: options.node,
      terminationGracePeriodSeconds: 2,
      // Not root: the volume's gid (pv.beta.kubernetes.io/gid, added to the pod's groups by the kubelet) is what
      // lets it write, as with heketi's volumes.
      securityContext: { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true },
      containers: [
        {
          name: 'app',
          image: options.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', options.script],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: options.claim } }],
    },
  };
}

export async function podExec(namespace: string, pod: string, argv: string[], options: { allowFailure?: boolean } = {}) {
  return kubectl(['-n', namespace, 'exec', pod, '--', ...argv], options);
}

/** Waits for the Pod to be Ready; on a timeout the error shows its phase, container states and last Events. */
export async function waitForPodReady(namespace: string, pod: string, timeoutMs = 180_000): Promise<void> {
  try {
    await eventually(`pod ${namespace}/${pod} Ready`, async () => {
      const { stdout } = await kubectl(['-n', namespace, 'get', 'pod', pod, '-o', 'json']);
      const status = (JSON.parse(stdout) as { status?: PodStatus }).status ?? {};
      return status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : notYet(describePodStatus(status));
    }, timeoutMs);
  } catch (error) {
    // The Pod's Events (FailedMount, ErrImageNeverPull, ...) say why; they are read once, on the way out.
    const events = await kubectl(['-n', namespace, 'get', 'events', '--field-selector', `involvedObject.name=${pod}`, '-o', 'custom-columns=REASON:.reason,MESSAGE:.message', '--no-headers'], { allowFailure: true });
    throw new Error(`${(error as Error).message}; events: ${events.stdout.trim().split('\n').slice(-5).join(' | ') || 'none'}`, { cause: error });
  }
}

interface PodStatus {
  phase?: string;
  conditions?: Array<{ type: string; status: string }>;
  containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number; state?: Record<string, { reason?: string; message?: string }> }>;
}

function describePodStatus(status: PodStatus): string {
  const containers = (status.containerStatuses ?? []).map((c) => {
    const [state, detail] = Object.entries(c.state ?? {})[0] ?? ['unknown', {}];
    return `${c.name}=${state}${detail?.reason ? `(${detail.reason})` : ''} restarts=${c.restartCount}`;
  });
  return `phase ${status.phase ?? '?'}${containers.length ? `, ${containers.join(', ')}` : ''}`;
}

/** The cluster's glusterd pods by Kubernetes node name. */
export async function glusterdPodsByNode(gluster: InClusterGluster): Promise<Map<string, string>> {
  const selector = Object.entries(glusterdPodLabels(gluster.cluster)).map(([k, v]) => `${k}=${v}`).join(',');
  const { stdout } = await kubectl(['-n', gluster.storageNamespace, 'get', 'pods', '-l', selector, '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.metadata.name}{"\\n"}{end}']);
  return new Map(stdout.trim().split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
}
