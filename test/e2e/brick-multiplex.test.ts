import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterClusterSchema, glusterVolumeSchema, type GlusterCluster, type GlusterVolume } from '../../src/api/index.ts';
import { brickMultiplexSettings, parseVolumeGetXml, type BrickMultiplexSettings } from '../../src/gluster/parsers/volume-get.ts';
import { parseVolumeStatusXml } from '../../src/gluster/parsers/volume-status.ts';
import { applyTestbedTopology } from '../support/demo-topology.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';
import { tearDownOperatorSuite } from '../support/operator-suite.ts';

const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];
const VOLUMES = ['mux1', 'mux2', 'mux3'];

/**
 * Brick multiplexing (issue 16, item 1) with the real operator process and glusterd: a pool the operator forms
 * (the test bed's three nodes, no Gluster volume) gets cluster.brick-multiplex on under the default mode Auto,
 * recorded as the operator's decision with a Normal Event; three replica-3 volumes then run with one glusterfsd
 * per node serving all their bricks, and the decision holds once the pool has volumes. Mode Disabled turns it off
 * and the running bricks keep their shared process (glusterd applies the option to bricks started afterwards).
 *
 * cluster.brick-multiplex is pool-wide and outlives the suite's GlusterCluster, so before() checks the pool
 * starts as today (no volumes, multiplexing off) and after() resets it on every node, whatever happened.
 */
describe('brick multiplexing: on for a pool the operator forms, one brick process per node', function () {
  this.timeout(10 * 60_000);
  const { TESTBED_NODES, TESTBED_BRICK_ROOT, TESTBED_SSH_KEY } = testbedEnv();
  const nodes = TESTBED_NODES.slice(0, 3);
  const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
  /** What after() tears down: set by before() as far as it got. */
  const suite: { namespace?: Awaited<ReturnType<typeof createTestNamespace>>; brickRoot?: string; operator?: OperatorProcess } = {};
  const where = (plural: string) => ({ group: API_GROUP, version: API_VERSION, namespace: suite.namespace!.name, plural });

  /** One of the suite's objects, parsed, or undefined while it does not exist. */
  async function read<T>(plural: 'glusterclusters' | 'glustervolumes', name: string, schema: { parse: (raw: unknown) => T }): Promise<T | undefined> {
    const found = await unlessNotFound(custom.getNamespacedCustomObject({ ...where(plural), name }));
    return found === undefined ? undefined : schema.parse(found);
  }
  const cluster = (): Promise<GlusterCluster | undefined> => read('glusterclusters', 'mux', glusterClusterSchema);
  const volume = (name: string): Promise<GlusterVolume | undefined> => read('glustervolumes', name, glusterVolumeSchema);
  /** The pool-wide settings as glusterd reports them on the first node. */
  async function live(): Promise<BrickMultiplexSettings> {
    return brickMultiplexSettings(parseVolumeGetXml(await sshCheck(nodes[0]!, gluster('--xml', 'volume', 'get', 'all', 'all'))));
  }
  async function eventNotes(reason: string): Promise<string> {
    return (await kubectl(['-n', suite.namespace!.name, 'get', 'events', '--field-selector', `involvedObject.name=mux,reason=${reason}`, '-o', 'jsonpath={.items[*].message}'])).stdout;
  }
  /** Brick pids of the suite's volumes, per brick host, from `volume status` (the pids glusterd itself reports). */
  async function brickPids(): Promise<Map<string, { bricks: number; pids: Set<number> }>> {
    const perHost = new Map<string, { bricks: number; pids: Set<number> }>();
    for (const name of VOLUMES) {
      const gv = (await volume(name))!.status!.glusterVolumeName!;
      const [status] = parseVolumeStatusXml(await sshCheck(nodes[0]!, gluster('--xml', 'volume', 'status', gv)));
      for (const brick of status!.bricks) {
        const entry = perHost.get(brick.host) ?? { bricks: 0, pids: new Set<number>() };
        entry.bricks += 1;
        if (brick.pid !== null) entry.pids.add(brick.pid);
        perHost.set(brick.host, entry);
      }
    }
    return perHost;
  }

  /** Other suites share the test bed and expect glusterd's default: reset on every node (the pool may be gone by now). */
  async function resetMultiplexing(): Promise<void> {
    for (const node of nodes) {
      const reset = await sshRun(node, gluster('volume', 'reset', 'all', 'cluster.brick-multiplex')).catch(() => undefined);
      if (reset?.code !== 0) await sshRun(node, gluster('volume', 'set', 'all', 'cluster.brick-multiplex', 'off')).catch(() => undefined);
    }
  }

  before(async () => {
    const present = (await sshCheck(nodes[0]!, gluster('volume', 'list'))).split('\n').filter((line) => line && line !== 'No volumes present in cluster');
    if (present.length > 0) throw new Error(`the test bed's pool must have no Gluster volume for a pool the operator forms; it has ${present.join(', ')}`);
    // A run killed before its after() left it on: back to today's default before the operator first sees the pool.
    if ((await live()).enabled) await resetMultiplexing();
    suite.namespace = await createTestNamespace('mux');
    suite.brickRoot = `${TESTBED_BRICK_ROOT}/${suite.namespace.name}`;
    await applyTestbedTopology(suite.namespace.name, nodes, { cluster: 'mux', backend: 'Directory', directoryRoot: suite.brickRoot, sshKey: TESTBED_SSH_KEY });
    suite.operator = await startOperatorProcess('operator-mux', 19400 + Math.floor(Math.random() * 50));
  });

  after(async () => {
    await tearDownOperatorSuite({ namespace: suite.namespace, nodes, brickRoot: suite.brickRoot, operator: suite.operator });
    await resetMultiplexing();
  });

  it('a pool with no volume gets cluster.brick-multiplex on (mode Auto), recorded as the operator\'s decision with an Event naming old and new', async () => {
    const decided = await eventually('GlusterCluster mux with brick multiplexing decided', async () => {
      const current = await cluster();
      return current?.status?.brickMultiplexing ? current : notYet(current?.status);
    }, 180_000);
    expect(decided.status!.brickMultiplexing).to.deep.equal({ enabled: true, maxBricksPerProcess: 250, decidedBy: 'Operator' });
    expect(await live()).to.deep.equal({ enabled: true, maxBricksPerProcess: 250 });
    expect(await eventNotes('BrickMultiplexingChanged')).to.contain('cluster.brick-multiplex off → on (mode Auto: the pool has no volume yet)');
  });

  it('three replica-3 volumes then run with one glusterfsd per node serving all their bricks, and the decision holds', async () => {
    for (const name of VOLUMES) {
      await custom.createNamespacedCustomObject({
        ...where('glustervolumes'),
        body: {
          apiVersion: `${API_GROUP}/${API_VERSION}`,
          kind: 'GlusterVolume',
          metadata: { name },
          spec: { cluster: 'mux', size: '1Gi', reclaimPolicy: 'Delete', durability: { type: 'Replicate', replicate: { replica: 3 } } },
        },
      });
    }
    for (const name of VOLUMES) {
      await eventually(`GlusterVolume ${name} Ready with 3 bricks online`, async () => {
        const current = await volume(name);
        const ready = current?.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'True' && current?.status?.bricksOnline === 3 ? current : notYet(current?.status);
      }, 240_000);
    }
    const perHost = await brickPids();
    expect([...perHost.keys()]).to.have.length(3);
    for (const [host, { bricks, pids }] of perHost) {
      expect(bricks, `bricks on ${host}`).to.equal(3);
      expect(pids.size, `distinct brick pids on ${host}: ${[...pids].join(', ')}`).to.equal(1);
    }
    // Decided once: the cluster's later passes (it now counts the volumes) keep the operator's decision.
    const later = await eventually('GlusterCluster mux counting the 3 volumes', async () => {
      const current = await cluster();
      return current?.status?.volumes === 3 ? current : notYet(current?.status);
    }, 120_000);
    expect(later.status!.brickMultiplexing).to.deep.equal({ enabled: true, maxBricksPerProcess: 250, decidedBy: 'Operator' });
    expect((await live()).enabled).to.equal(true);
  });

  it('mode Disabled turns it off on a pool with volumes; the running bricks keep their shared process', async () => {
    const pidsBefore = await brickPids();
    await custom.patchNamespacedCustomObject(
      { ...where('glusterclusters'), name: 'mux', body: { spec: { brickMultiplexing: { mode: 'Disabled' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const off = await eventually('GlusterCluster mux with brick multiplexing off', async () => {
      const current = await cluster();
      return current?.status?.brickMultiplexing?.enabled === false ? current : notYet(current?.status);
    }, 120_000);
    expect(off.status!.brickMultiplexing).to.include({ enabled: false, decidedBy: 'Operator' });
    expect((await live()).enabled).to.equal(false);
    const notes = await eventNotes('BrickMultiplexingChanged');
    expect(notes).to.contain('cluster.brick-multiplex on → off (mode Disabled)');
    expect(notes).to.contain('bricks already running keep their own processes until their volume is restarted');
    const pidsAfter = await brickPids();
    for (const [host, { pids }] of pidsBefore) expect([...pidsAfter.get(host)!.pids], `brick pids on ${host}`).to.deep.equal([...pids]);
  });
});
