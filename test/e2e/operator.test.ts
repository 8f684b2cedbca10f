import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { applyTestbedTopology } from '../support/demo-topology.ts';
import { killAllOperators, startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { ensureDaemon, stopDaemon } from '../support/testbed-nodes.ts';
import { testbedEnv } from '../support/testbed-env.ts';
import { deleteGlusterObjects, removeOperatorState } from '../support/operator-suite.ts';

const execFileAsync = promisify(execFile);
const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];

/**
 * The operator end to end: a separate process with its own ServiceAccount token and only the RBAC of
 * manifests/, against the real apiserver and the three real Gluster nodes.
 */
describe('operator end to end (own ServiceAccount, real apiserver and Gluster)', function () {
  this.timeout(240_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const config = kubeConfig();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let brickRoot: string;
  let operator: OperatorProcess | undefined;
  let healthPort = 18500 + Math.floor(Math.random() * 400);

  const start = async (identity = 'operator-a') => {
    operator = await startOperatorProcess(identity, healthPort++);
    return operator;
  };

  async function volume(name: string): Promise<GlusterVolume | undefined> {
    const found = await unlessNotFound(custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glustervolumes', name }));
    return found === undefined ? undefined : glusterVolumeSchema.parse(found);
  }

  const condition = (object: { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } } | undefined, type: string) =>
    object?.status?.conditions?.find((c) => c.type === type);

  async function createVolume(name: string, size: string): Promise<void> {
    await custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: namespace.name,
      plural: 'glustervolumes',
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterVolume', metadata: { name }, spec: { cluster: 'demo', size, reclaimPolicy: 'Delete', durability: { type: 'Replicate', replicate: { replica: 3 } } } },
    });
  }

  async function readyVolume(name: string, timeoutMs = 120_000): Promise<GlusterVolume> {
    return eventually(`GlusterVolume ${name} Ready`, async () => {
      const current = await volume(name);
      return condition(current, 'Ready')?.status === 'True' && current?.status?.observedGeneration === current?.metadata.generation ? current : notYet({ generation: current?.metadata.generation, status: current?.status });
    }, timeoutMs);
  }

  /** Brick entries (loop files and mount dirs) on a node under this suite's brick root. */
  async function brickEntries(node: string): Promise<string[]> {
    const result = await sshRun(node, ['ls', '-1', brickRoot]);
    return result.code === 0 ? result.stdout.split('\n').filter(Boolean) : [];
  }

  before(async () => {
    namespace = await createTestNamespace('operator');
    brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    await applyTestbedTopology(namespace.name, nodes, { cluster: 'demo', backend: 'LoopFile', directoryRoot: brickRoot, sshKey: env.TESTBED_SSH_KEY });
  });

  after(async () => {
    // Let a live operator delete what it made; then make sure nothing is left, even if it could not.
    await ensureDaemon(3, 'glusterd');
    await killAllOperators();
    const cleaner = await start('operator-cleanup');
    await deleteGlusterObjects(namespace.name);
    await cleaner.stop();
    await killAllOperators();
    await removeOperatorState({ namespace, nodes, brickRoot });
  });

  it('demo scenario: cluster, nodes from the heketi topology import and a replicate-3 volume all become Ready; the volume mounts and takes a file', async () => {
    await start();
    await createVolume('data', '1Gi');
    const ready = await readyVolume('data');
    expect(ready.status?.bricks).to.have.length(3);
    expect(new Set(ready.status?.bricks?.map((b) => b.node)).size).to.equal(3);
    expect(ready.status?.mountSource).to.equal(`${ready.status?.bricks?.[0]?.path.split(':')[0]}:${namespace.name}_data`);
    expect(ready.status?.backupVolfileServers).to.have.length(2);
    const { stdout } = await kubectl(['-n', namespace.name, 'get', 'glusterclusters,glusternodes,glustervolumes']);
    for (const line of stdout.split('\n').filter((l) => /^glus/.test(l))) expect(line, line).to.match(/\sTrue\s/);

    const mountPoint = mkdtempSync(join(tmpdir(), 'operator-mount-'));
    try {
      await execFileAsync('mount', ['-t', 'glusterfs', '-o', `backup-volfile-servers=${ready.status!.backupVolfileServers!.join(':')}`, ready.status!.mountSource!.replace(':', ':/'), mountPoint]);
      writeFileSync(join(mountPoint, 'hello.txt'), 'hello from the operator\n');
      expect(readFileSync(join(mountPoint, 'hello.txt'), 'utf8')).to.equal('hello from the operator\n');
    } finally {
      await execFileAsync('umount', [mountPoint]).catch(() => execFileAsync('umount', ['-l', mountPoint]));
      rmdirSync(mountPoint);
    }
    for (const brick of ready.status!.bricks!) {
      const [host, path] = brick.path.split(':') as [string, string];
      expect(await sshCheck(host, ['cat', `${path}/hello.txt`]), brick.path).to.equal('hello from the operator\n');
    }
  });

  it('expands a volume: a larger spec.size adds a replica set and reports the rebalance', async () => {
    await kubectl(['-n', namespace.name, 'patch', 'glustervolume', 'data', '--type=merge', '-p', '{"spec":{"size":"2Gi"}}']);
    const grown = await eventually('two replica sets and a finished rebalance', async () => {
      const current = await readyVolume('data');
      return current.status?.bricks?.length === 6 && condition(current, 'Rebalanced')?.status === 'True' ? current : notYet({ bricks: current.status?.bricks?.length, conditions: current.status?.conditions });
    }, 120_000);
    expect(grown.status?.durability).to.equal('replicate 3, 2 sets');
    const info = await sshCheck(nodes[0]!, gluster('volume', 'info', `${namespace.name}_data`));
    expect(info).to.match(/Number of Bricks: 2 x 3 = 6/);
  });

  it('a node whose glusterd stops turns Degraded, and Ready again once glusterd is back', async () => {
    await stopDaemon(3, 'glusterd');
    try {
      const degraded = await eventually('cluster Degraded', async () => {
        const cluster = await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glusterclusters', name: 'demo' });
        return condition(cluster, 'Degraded')?.status === 'True' ? cluster : notYet((cluster as { status?: unknown }).status);
      }, 60_000);
      expect(condition(degraded, 'Degraded')?.message).to.match(/not Ready/);
    } finally {
      await ensureDaemon(3, 'glusterd');
    }
    await eventually('cluster Ready and not Degraded', async () => {
      const cluster = await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glusterclusters', name: 'demo' });
      return condition(cluster, 'Ready')?.status === 'True' && condition(cluster, 'Degraded')?.status === 'False' ? true : notYet((cluster as { status?: unknown }).status);
    }, 90_000);
  });

  it('deletes a volume: the Gluster volume and every brick are gone', async () => {
    const before = await volume('data');
    const bricks = before!.status!.bricks!;
    await kubectl(['-n', namespace.name, 'delete', 'glustervolume', 'data', '--wait=true', '--timeout=120s']);
    const list = await sshCheck(nodes[0]!, gluster('volume', 'list'));
    expect(list.split('\n')).to.not.include(`${namespace.name}_data`);
    for (const brick of bricks) {
      const [host, path] = brick.path.split(':') as [string, string];
      expect((await sshRun(host, ['test', '-e', path])).code, `${brick.path} removed`).to.not.equal(0);
    }
  });

  it('killed with SIGKILL in the middle of a create and restarted: exactly one Gluster volume, no orphan bricks', async () => {
    await createVolume('crash', '1Gi');
    // Mid-create: the first brick's loop file exists on some node, the volume is not Ready yet.
    await eventually('a first brick on disk', async () => {
      const entries: Record<string, string[]> = {};
      for (const node of nodes) {
        entries[node] = await brickEntries(node);
        if (entries[node].some((entry) => entry.endsWith('.img'))) return true;
      }
      return notYet({ brickRoot, entries });
    }, 60_000);
    expect(condition(await volume('crash'), 'Ready')?.status).to.not.equal('True');
    await operator!.stop('SIGKILL');
    await start('operator-restarted');
    const ready = await readyVolume('crash');
    const gvName = `${namespace.name}_crash`;
    const list = (await sshCheck(nodes[0]!, gluster('volume', 'list'))).split('\n');
    expect(list.filter((name) => name === gvName)).to.have.length(1);
    const expected = new Set(ready.status!.bricks!.map((b) => b.path.split(':')[1]!.replace(/\/brick$/, '').split('/').pop()!));
    for (const node of nodes) {
      for (const entry of await brickEntries(node)) {
        expect(expected.has(entry.replace(/\.img$/, '')), `${node}:${brickRoot}/${entry} belongs to a brick of the volume`).to.equal(true);
      }
    }
  });

  it('two replicas: one leader reconciles; when it dies the other takes over', async () => {
    await operator?.stop();
    const a = await startOperatorProcess('replica-a', healthPort++);
    const b = await startOperatorProcess('replica-b', healthPort++);
    const coordination = config.makeApiClient(k8s.CoordinationV1Api);
    const holder = async () => (await coordination.readNamespacedLease({ name: 'gluster-operator-leader', namespace: 'gluster-operator' })).spec?.holderIdentity;
    const leader = await eventually('a leader', async () => (await holder()) ?? notYet('Lease without a holder'), 30_000);
    expect(['replica-a', 'replica-b']).to.include(leader);
    const [leading, standby] = leader === 'replica-a' ? [a, b] : [b, a];
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(standby.logs.some((line) => line.includes('controllers started')), 'standby started no controllers').to.equal(false);
    await leading.stop('SIGKILL');
    await eventually('failover to the standby', async () => {
      const current = await holder();
      return current === standby.identity ? true : notYet(`Lease held by ${current ?? 'nobody'}`);
    }, 30_000);
    await createVolume('after-failover', '1Gi');
    await readyVolume('after-failover');
    expect(standby.logs.some((line) => line.includes('controllers started'))).to.equal(true);
    operator = standby;
  });
});
