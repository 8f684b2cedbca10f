import { expect } from 'chai';
import { DRIVER_NAME } from '../../src/api/index.ts';
import { glusterdPodLabels } from '../../src/deploy/glusterd-daemonset.ts';
import {
  OPERATOR_NAMESPACE,
  appPod,
  applyObjects,
  createInClusterGluster,
  installShippedOperator,
  podExec,
  removeShippedWorkloads,
  waitForPodReady,
  type InClusterGluster,
} from '../support/in-cluster.ts';
import { eventually, kubectl } from '../support/kube.ts';
import { glusterMountsOnNode, kubeNodesEnv } from '../support/kube-nodes.ts';

/**
 * The product as users run it, on the test bed's real Kubernetes nodes (kubelet, containerd, runc): the
 * shipped manifests (operator Deployment, CSI DaemonSet) from the images built here, an InCluster
 * GlusterCluster whose glusterd runs as the operator's DaemonSet and is driven through the Kubernetes exec API,
 * and Pods that write and read a claim through the CSI plugin's FUSE mounts.
 */
describe('in cluster: the shipped manifests on real Kubernetes nodes', function () {
  this.timeout(600_000);
  const { nodes, operatorImage } = kubeNodesEnv();
  let gluster: InClusterGluster | undefined;

  before(async function () {
    this.timeout(900_000);
    await installShippedOperator();
    gluster = await createInClusterGluster({ nodes, prefix: 'incluster' });
  });

  after(async function () {
    this.timeout(900_000);
    await gluster?.tearDown();
    await removeShippedWorkloads();
  });

  const leaseHolder = async () => {
    const { stdout } = await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'lease', 'gluster-operator-leader', '-o', 'jsonpath={.spec.holderIdentity}'], { allowFailure: true });
    return stdout.trim();
  };
  const operatorPods = async () => {
    const { stdout } = await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=gluster-operator', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.metadata.deletionTimestamp}{"\\n"}{end}']);
    return stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '))
      .filter(([, phase, deleting]) => phase === 'Running' && !deleting)
      .map(([name]) => name!);
  };

  it('runs the operator as two replicas with one leader, and another pod leads when the leader pod is deleted', async () => {
    const pods = await eventually('two running operator pods', async () => {
      const running = await operatorPods();
      return running.length === 2 ? running : undefined;
    }, 120_000);
    const leader = await eventually('a leader among the operator pods', async () => {
      const holder = await leaseHolder();
      return pods.includes(holder) ? holder : undefined;
    }, 60_000);
    await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'pod', leader, '--wait=false']);
    const next = await eventually(`a new leader other than ${leader}`, async () => {
      const holder = await leaseHolder();
      return holder && holder !== leader ? holder : undefined;
    }, 90_000);
    expect(next).to.not.equal(leader);
    // The Deployment replaces the deleted pod; two replicas again.
    await kubectl(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/gluster-operator', '--timeout=180s']);
  });

  it('registers the CSI plugin with every kubelet (CSINode lists the driver)', async () => {
    for (const node of nodes) {
      await eventually(`CSINode ${node.name} listing ${DRIVER_NAME}`, async () => {
        const { stdout } = await kubectl(['get', 'csinode', node.name, '-o', 'jsonpath={.spec.drivers[*].name}'], { allowFailure: true });
        return stdout.split(' ').includes(DRIVER_NAME) ? true : undefined;
      }, 60_000);
    }
  });

  it('runs glusterd as a DaemonSet on the labelled nodes and forms the pool over the nodes\' addresses', async () => {
    const selector = Object.entries(glusterdPodLabels(gluster!.cluster)).map(([k, v]) => `${k}=${v}`).join(',');
    const { stdout } = await kubectl(['-n', gluster!.storageNamespace, 'get', 'pods', '-l', selector, '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.metadata.name}{"\\n"}{end}']);
    const podsByNode = new Map(stdout.trim().split('\n').map((line) => line.split(' ') as [string, string]));
    expect([...podsByNode.keys()].sort()).to.deep.equal(nodes.map((n) => n.name).sort());
    const pool = await podExec(gluster!.storageNamespace, podsByNode.get(nodes[0]!.name)!, ['gluster', '--mode=script', 'pool', 'list']);
    for (const node of nodes.slice(1)) expect(pool.stdout).to.match(new RegExp(`${node.ip.replaceAll('.', '\\.')}\\s+Connected`));
    expect(pool.stdout.match(/Connected/g)).to.have.length(nodes.length);
  });

  describe('a claim of the StorageClass, mounted by Pods on two nodes', () => {
    const claim = 'shared';
    const writer = 'writer';
    const reader = 'reader';

    it('binds a ReadWriteMany claim; a Pod on one node writes and a Pod on another node reads the file', async () => {
      const ns = gluster!.appNamespace;
      await applyObjects([
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: claim, namespace: ns },
          spec: { accessModes: ['ReadWriteMany'], storageClassName: gluster!.storageClass, resources: { requests: { storage: '1Gi' } } },
        },
        appPod({ name: writer, namespace: ns, node: nodes[0]!.name, claim, image: operatorImage, script: 'echo "written on $(hostname)" > /data/hello.txt && exec sleep infinity' }),
      ]);
      await waitForPodReady(ns, writer, 300_000);
      await applyObjects([appPod({ name: reader, namespace: ns, node: nodes[1]!.name, claim, image: operatorImage, script: 'exec sleep infinity' })]);
      await waitForPodReady(ns, reader);
      const read = await eventually('the writer\'s file on the reader\'s mount', async () => {
        const { stdout, code } = await podExec(ns, reader, ['cat', '/data/hello.txt'], { allowFailure: true });
        return code === 0 ? stdout.trim() : undefined;
      });
      expect(read).to.equal(`written on ${writer}`);
      // Both mounts are Gluster FUSE mounts on their nodes.
      expect((await glusterMountsOnNode(nodes[0]!)).some((t) => t.includes('/volumes/kubernetes.io~csi/'))).to.equal(true);
      expect((await glusterMountsOnNode(nodes[1]!)).some((t) => t.includes('/volumes/kubernetes.io~csi/'))).to.equal(true);
    });

    it('grows the volume while mounted: the Pod sees the new size', async () => {
      const ns = gluster!.appNamespace;
      const sizeOf = async () => {
        const { stdout } = await podExec(ns, writer, ['df', '--output=size', '-B1', '/data']);
        return Number(stdout.trim().split('\n').pop());
      };
      const before = await sizeOf();
      await kubectl(['-n', ns, 'patch', 'pvc', claim, '--type=merge', '-p', JSON.stringify({ spec: { resources: { requests: { storage: '2Gi' } } } })]);
      let last = before;
      await eventually(`the Pod's /data larger than ${before} bytes`, async () => {
        last = await sizeOf();
        return last > before * 1.5 ? last : undefined;
      }, 300_000).catch((error: Error) => {
        throw new Error(`${error.message}; last df size ${last}`);
      });
      await eventually('the claim reporting 2Gi', async () => {
        const { stdout } = await kubectl(['-n', ns, 'get', 'pvc', claim, '-o', 'jsonpath={.status.capacity.storage}']);
        return stdout.trim() === '2Gi' ? true : undefined;
      }, 120_000);
    });

    it('deleting the Pods unpublishes: nothing of the volume stays mounted on the nodes', async () => {
      const ns = gluster!.appNamespace;
      const { stdout: volumeName } = await kubectl(['-n', ns, 'get', 'pvc', claim, '-o', 'jsonpath={.spec.volumeName}']);
      await kubectl(['-n', ns, 'delete', 'pod', writer, reader, '--wait=true', '--timeout=120s']);
      for (const node of nodes.slice(0, 2)) {
        await eventually(`no mount of ${volumeName} left on ${node.name}`, async () => {
          const mounts = await glusterMountsOnNode(node);
          return mounts.some((t) => t.includes(volumeName.trim())) ? undefined : true;
        }, 60_000);
      }
    });
  });
});
