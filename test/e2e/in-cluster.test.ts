import { expect } from 'chai';
import { DRIVER_NAME } from '../../src/api/index.ts';
import {
  OPERATOR_NAMESPACE,
  appPod,
  applyObjects,
  createInClusterGluster,
  glusterdPodsByNode,
  installShippedOperator,
  podExec,
  removeShippedWorkloads,
  waitForPodReady,
  type InClusterGluster,
} from '../support/in-cluster.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { kubectl } from '../support/kube.ts';
import { installSnapshotCrds, removeSnapshotCrds, startSnapshotComponents, type SnapshotComponents } from '../support/snapshotter.ts';
import { crictl, glusterMountsOnNode, kubeNodesEnv, onNode, startKubeNode, stopKubeNode, type KubeNode } from '../support/kube-nodes.ts';

/** Every brick of the node's address online in `gluster volume status`, as glusterd in that pod reports it. */
async function bricksOnlineOn(namespace: string, glusterdPod: string, address: string): Promise<void> {
  await eventually(`the bricks on ${address} online`, async () => {
    const { stdout } = await podExec(namespace, glusterdPod, ['gluster', '--mode=script', 'volume', 'status', 'all', 'detail'], { allowFailure: true });
    const blocks = stdout.split(/^-+$/m).filter((block) => block.includes(`Brick                : Brick ${address}:`));
    return blocks.length > 0 && blocks.every((block) => /Online\s+:\s+Y/.test(block)) ? true : notYet(stdout.replace(/\s+/g, ' ').slice(0, 600));
  }, 180_000);
}

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
      return running.length === 2 ? running : notYet(running);
    }, 120_000);
    const leader = await eventually('a leader among the operator pods', async () => {
      const holder = await leaseHolder();
      return pods.includes(holder) ? holder : notYet({ holder, pods });
    }, 60_000);
    await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'pod', leader, '--wait=false']);
    const next = await eventually(`a new leader other than ${leader}`, async () => {
      const holder = await leaseHolder();
      return holder && holder !== leader ? holder : notYet({ holder });
    }, 90_000);
    expect(next).to.not.equal(leader);
    // The Deployment replaces the deleted pod; two replicas again.
    await kubectl(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/gluster-operator', '--timeout=180s']);
  });

  it('registers the CSI plugin with every kubelet (CSINode lists the driver)', async () => {
    for (const node of nodes) {
      await eventually(`CSINode ${node.name} listing ${DRIVER_NAME}`, async () => {
        const { stdout } = await kubectl(['get', 'csinode', node.name, '-o', 'jsonpath={.spec.drivers[*].name}'], { allowFailure: true });
        return stdout.split(' ').includes(DRIVER_NAME) ? true : notYet({ drivers: stdout });
      }, 60_000);
    }
  });

  it('runs glusterd as a DaemonSet on the labelled nodes and forms the pool over the nodes\' addresses', async () => {
    const podsByNode = await glusterdPodsByNode(gluster!);
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
        return code === 0 ? stdout.trim() : notYet({ code, stdout });
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
      await eventually(`the Pod's /data larger than ${before} bytes`, async () => {
        const size = await sizeOf();
        return size > before * 1.5 ? size : notYet({ dfSizeBytes: size });
      }, 300_000);
      await eventually('the claim reporting 2Gi', async () => {
        const { stdout } = await kubectl(['-n', ns, 'get', 'pvc', claim, '-o', 'jsonpath={.status.capacity.storage}']);
        return stdout.trim() === '2Gi' ? true : notYet({ capacity: stdout.trim() });
      }, 120_000);
    });

    it('deleting the Pods unpublishes: nothing of the volume stays mounted on the nodes', async () => {
      const ns = gluster!.appNamespace;
      const { stdout: volumeName } = await kubectl(['-n', ns, 'get', 'pvc', claim, '-o', 'jsonpath={.spec.volumeName}']);
      await kubectl(['-n', ns, 'delete', 'pod', writer, reader, '--wait=true', '--timeout=120s']);
      for (const node of nodes.slice(0, 2)) {
        await eventually(`no mount of ${volumeName} left on ${node.name}`, async () => {
          const mounts = await glusterMountsOnNode(node);
          return mounts.some((t) => t.includes(volumeName.trim())) ? notYet(mounts) : true;
        }, 60_000);
      }
    });
  });

  describe('VolumeSnapshots through the csi-snapshotter sidecar of the shipped operator pods', () => {
    const snapshotClass = 'incluster-snapshots';
    const snapshot = 'shared-snapshot';
    let controller: SnapshotComponents | undefined;

    before(async function () {
      this.timeout(180_000);
      // What a distribution installs: the snapshot CRDs and snapshot-controller (a host process here). The
      // sidecar is the shipped Deployment's own.
      await installSnapshotCrds();
      controller = await startSnapshotComponents(undefined, process.env.OPERATOR_TEST_LOG_DIR);
    });

    after(async function () {
      this.timeout(300_000);
      await kubectl(['-n', gluster!.appNamespace, 'delete', 'volumesnapshot', snapshot, '--ignore-not-found', '--wait=true', '--timeout=120s'], { allowFailure: true });
      await kubectl(['delete', 'volumesnapshotclass', snapshotClass, '--ignore-not-found'], { allowFailure: true });
      await controller?.stop();
      await removeSnapshotCrds();
    });

    const sidecarRestarts = async () => {
      const { stdout } = await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=gluster-operator', '-o',
        'jsonpath={range .items[*]}{.metadata.name}={range .status.containerStatuses[?(@.name=="csi-snapshotter")]}{.restartCount}{end}{"\\n"}{end}']);
      return Object.fromEntries(stdout.trim().split('\n').filter(Boolean).map((line) => line.split('=') as [string, string]));
    };

    it('the leader\'s sidecar takes a claim\'s VolumeSnapshot to the operator, which refuses it with its reason (these bricks are loop files, not thin LVs)', async () => {
      const ns = gluster!.appNamespace;
      await applyObjects([
        { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshotClass', metadata: { name: snapshotClass }, driver: DRIVER_NAME, deletionPolicy: 'Delete' },
        {
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshot',
          metadata: { name: snapshot, namespace: ns },
          spec: { volumeSnapshotClassName: snapshotClass, source: { persistentVolumeClaimName: 'shared' } },
        },
      ]);
      // Only the sidecar calls CreateSnapshot, and only the operator knows this reason: the message on the
      // VolumeSnapshot proves the whole way, sidecar → socket shared with the operator container → the
      // leader's snapshot backend, with the shipped RBAC.
      const message = await eventually('the operator\'s refusal on the VolumeSnapshot', async () => {
        const { stdout } = await kubectl(['-n', ns, 'get', 'volumesnapshot', snapshot, '-o', 'jsonpath={.status.readyToUse} {.status.error.message}']);
        return /need thin LVM bricks/.test(stdout) ? stdout.trim() : notYet({ status: stdout.trim() });
      }, 180_000);
      expect(message).to.match(/brickBackend LoopFile/);
      expect(message).to.not.match(/^true/);
    });

    it('the standby pod\'s sidecar waits for its operator to lead instead of restarting (its connect gives up after 30 s)', async () => {
      // Both pods have run for minutes by now, the standby's sidecar unconnected all along.
      const restarts = await sidecarRestarts();
      expect(Object.keys(restarts)).to.have.length(2);
      expect(restarts, JSON.stringify(restarts)).to.deep.equal(Object.fromEntries(Object.keys(restarts).map((pod) => [pod, '0'])));
    });

    it('deleting the VolumeSnapshot removes its content: nothing is left to clean up on Gluster', async () => {
      const ns = gluster!.appNamespace;
      const { stdout: content } = await kubectl(['-n', ns, 'get', 'volumesnapshot', snapshot, '-o', 'jsonpath={.status.boundVolumeSnapshotContentName}']);
      expect(content.trim()).to.not.equal('');
      await kubectl(['-n', ns, 'delete', 'volumesnapshot', snapshot, '--wait=true', '--timeout=120s']);
      await eventually(`VolumeSnapshotContent ${content.trim()} gone`, async () => {
        const { stdout } = await kubectl(['get', 'volumesnapshotcontent', content.trim(), '--ignore-not-found', '-o', 'name']);
        return stdout.trim() === '' ? true : notYet(stdout.trim());
      }, 120_000);
    });
  });

  describe('disruptions a storage system must survive', () => {
    const journalClaim = 'journal';
    const logger = 'logger';
    const plugin = 'csi-plugin';
    const lines = async () => Number((await podExec(gluster!.appNamespace, logger, ['wc', '-l', '/data/journal'])).stdout.trim().split(/\s+/)[0]);
    /** The journal grows while we watch: the application's mount works. */
    const stillWriting = async (what: string) => {
      const before = await lines();
      await eventually(`${what}: the logger's journal growing past ${before} lines`, async () => {
        const now = await lines();
        return now > before + 3 ? true : notYet({ lines: now });
      }, 30_000);
    };
    const pluginOn = async (nodeName: string) => {
      const { stdout } = await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=gluster-csi-node', '--field-selector', `spec.nodeName=${nodeName}`, '-o', 'jsonpath={.items[0].metadata.name} {.items[0].status.containerStatuses[0].restartCount}']);
      const [name, restarts] = stdout.trim().split(' ');
      return { name: name!, restarts: Number(restarts) };
    };
    /** Kills the plugin container the way a crash or an OOM kill would: no grace, every process at once. */
    const killPluginContainer = async (node: KubeNode) => {
      const { stdout } = await crictl(node, ['ps', '--name', plugin, '--state', 'Running', '-q']);
      const id = stdout.trim().split('\n')[0];
      expect(id, `a running ${plugin} container on ${node.name}`).to.match(/^[0-9a-f]+$/);
      await crictl(node, ['stop', '--timeout', '0', id!]);
    };
    const waitForPluginBack = async (node: KubeNode, restartsBefore: number) => {
      await eventually(`the CSI plugin on ${node.name} restarted and Ready`, async () => {
        const { stdout } = await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=gluster-csi-node', '--field-selector', `spec.nodeName=${node.name}`, '-o', 'jsonpath={.items[0].status.containerStatuses[0].restartCount} {.items[0].status.containerStatuses[0].ready}']);
        const [restarts, ready] = stdout.trim().split(' ');
        return Number(restarts) > restartsBefore && ready === 'true' ? true : notYet({ restarts, ready });
      }, 120_000);
    };
    const glusterfsClients = async (node: KubeNode) => (await onNode(node, ['pgrep', '-x', 'glusterfs'], { allowFailure: true })).stdout.split('\n').filter(Boolean);

    before(async () => {
      const ns = gluster!.appNamespace;
      await applyObjects([
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: journalClaim, namespace: ns },
          spec: { accessModes: ['ReadWriteMany'], storageClassName: gluster!.storageClass, resources: { requests: { storage: '1Gi' } } },
        },
        appPod({ name: logger, namespace: ns, node: nodes[0]!.name, claim: journalClaim, image: operatorImage, script: 'i=0; while :; do i=$((i+1)); echo "$i" >> /data/journal; sleep 0.2; done' }),
      ]);
      await waitForPodReady(ns, logger, 300_000);
      await stillWriting('before any disruption');
    });

    it('keeps an application\'s mount working when the CSI plugin container is killed, and the restarted plugin serves new Pods', async () => {
      const node = nodes[0]!;
      const clients = await glusterfsClients(node);
      expect(clients, `glusterfs FUSE clients on ${node.name}`).to.not.be.empty;
      const { restarts } = await pluginOn(node.name);
      await killPluginContainer(node);
      await stillWriting('right after the plugin was killed');
      // The FUSE clients were not in the plugin container's cgroup: the same processes still serve the mounts.
      expect(await glusterfsClients(node)).to.include.members(clients);
      await waitForPluginBack(node, restarts);
      await stillWriting('after the plugin came back');
      const ns = gluster!.appNamespace;
      await applyObjects([appPod({ name: 'after-restart', namespace: ns, node: node.name, claim: journalClaim, image: operatorImage, script: 'exec sleep infinity' })]);
      await waitForPodReady(ns, 'after-restart');
      expect(Number((await podExec(ns, 'after-restart', ['wc', '-l', '/data/journal'])).stdout.trim().split(/\s+/)[0])).to.be.greaterThan(0);
      await kubectl(['-n', ns, 'delete', 'pod', 'after-restart', '--wait=true', '--timeout=60s']);
    });

    it('without FUSE isolation (--fuse-isolation=none) the same kill breaks the mount: what the isolation prevents', async () => {
      const node = nodes[0]!;
      const ns = gluster!.appNamespace;
      const setIsolation = async (mode: string) => {
        const { stdout } = await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'daemonset', 'gluster-csi-node', '-o', 'jsonpath={.spec.template.spec.containers[0].args}']);
        const args = JSON.parse(stdout) as string[];
        const index = args.findIndex((arg) => arg.startsWith('--fuse-isolation='));
        expect(index, 'the DaemonSet passes --fuse-isolation').to.be.greaterThanOrEqual(0);
        await kubectl(['-n', OPERATOR_NAMESPACE, 'patch', 'daemonset', 'gluster-csi-node', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: `/spec/template/spec/containers/0/args/${index}`, value: `--fuse-isolation=${mode}` }])]);
        await kubectl(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'daemonset/gluster-csi-node', '--timeout=180s']);
      };
      await setIsolation('none');
      try {
        await applyObjects([appPod({ name: 'fragile', namespace: ns, node: node.name, claim: journalClaim, image: operatorImage, script: 'exec sleep infinity' })]);
        await waitForPodReady(ns, 'fragile');
        expect((await podExec(ns, 'fragile', ['ls', '/data'])).code).to.equal(0);
        await killPluginContainer(node);
        const broken = await eventually('the unisolated mount broken by the kill', async () => {
          const { code, stderr } = await podExec(ns, 'fragile', ['ls', '/data'], { allowFailure: true });
          return code !== 0 ? stderr : notYet({ code });
        }, 60_000);
        expect(broken).to.match(/Transport endpoint is not connected|No such device|Input\/output error/);
        // The logger's mount, published under isolation, is unharmed by the same kill.
        await stillWriting('the isolated mount after the unisolated one broke');
        await kubectl(['-n', ns, 'delete', 'pod', 'fragile', '--wait=true', '--timeout=120s']);
      } finally {
        await setIsolation('auto');
      }
    });

    it('recreates a deleted glusterd pod: its bricks come back online and its GlusterNode goes Degraded, then Ready', async () => {
      const node = nodes[2]!;
      const storage = gluster!.storageNamespace;
      const nodeReady = async () => (await kubectl(['-n', storage, 'get', 'glusternode', node.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout.trim();
      expect(await nodeReady()).to.equal('True');
      const podOn = async () => (await glusterdPodsByNode(gluster!)).get(node.name) ?? '';
      const old = await podOn();
      await kubectl(['-n', storage, 'delete', 'pod', old, '--wait=false']);
      const readyIs = (wanted: string) => async () => {
        const ready = await nodeReady();
        return ready === wanted ? true : notYet({ ready });
      };
      await eventually(`GlusterNode ${node.name} not Ready while its glusterd pod is gone`, readyIs('False'), 60_000);
      await eventually(`GlusterNode ${node.name} Ready again`, readyIs('True'), 240_000);
      const fresh = await podOn();
      expect(fresh).to.not.equal(old);
      await bricksOnlineOn(storage, fresh, node.ip);
      await stillWriting('after glusterd came back');
    });

    it('brings a stopped node\'s Pods back, mounted again, when the node starts', async () => {
      const node = nodes[1]!;
      const ns = gluster!.appNamespace;
      await applyObjects([appPod({ name: 'survivor', namespace: ns, node: node.name, claim: journalClaim, image: operatorImage, script: 'exec sleep infinity' })]);
      await waitForPodReady(ns, 'survivor');
      await stopKubeNode(node);
      try {
        await eventually(`node ${node.name} NotReady`, async () => {
          const { stdout } = await kubectl(['get', 'node', node.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
          return stdout.trim() !== 'True' ? true : notYet({ ready: stdout.trim() });
        }, 120_000);
        await stillWriting(`while ${node.name} is down`);
      } finally {
        await startKubeNode(node);
      }
      await waitForPodReady(ns, 'survivor', 300_000);
      const { stdout } = await eventually('the journal readable in the survivor Pod again', async () => {
        const result = await podExec(ns, 'survivor', ['wc', '-l', '/data/journal'], { allowFailure: true });
        return result.code === 0 ? result : notYet(result);
      }, 120_000);
      expect(Number(stdout.trim().split(/\s+/)[0])).to.be.greaterThan(0);
      const storage = gluster!.storageNamespace;
      await bricksOnlineOn(storage, (await glusterdPodsByNode(gluster!)).get(node.name)!, node.ip);
      await stillWriting(`after ${node.name} came back`);
    });
  });

  describe('at the end: every claim deleted', () => {
    it('removes every provisioned GlusterVolume, and no brick process is left on any node (also when a node restart left a multiplexed glusterfsd behind)', async () => {
      const ns = gluster!.appNamespace;
      const storage = gluster!.storageNamespace;
      await kubectl(['-n', ns, 'delete', 'pods,pvc', '--all', '--wait=true', '--timeout=180s']);
      await eventually('the provisioned GlusterVolumes gone', async () => {
        const { stdout } = await kubectl(['-n', storage, 'get', 'glustervolumes', '-o',
          'jsonpath={range .items[*]}{.metadata.name}: {.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Ready")].message}{"\\n"}{end}']);
        return stdout.trim() === '' ? true : notYet(stdout.trim());
      }, 300_000);
      // Processes that run: glusterd is PID 1 of its container and leaves the brick processes it stopped as
      // zombies (state Z), which hold nothing.
      for (const [nodeName, pod] of await glusterdPodsByNode(gluster!)) {
        await eventually(`no glusterfsd running in ${pod} on ${nodeName}`, async () => {
          const { stdout } = await podExec(storage, pod, ['ps', '-C', 'glusterfsd', '-o', 'stat=,pid=,args='], { allowFailure: true });
          const running = stdout.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('Z'));
          return running.length === 0 ? true : notYet(running.join('\n').slice(0, 400));
        }, 60_000);
      }
      // Whether this run met the leftover process of a node restart (it does not every time): said, not asserted.
      const { stdout: stopped } = await kubectl(['-n', storage, 'get', 'events', '--field-selector', 'reason=OrphanedBrickProcessStopped', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
      if (stopped.trim() !== '') console.log(`      (orphaned brick processes stopped: ${stopped.trim()})`);
    });
  });
});
