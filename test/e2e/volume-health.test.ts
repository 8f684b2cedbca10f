import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { parseHealSummaryXml } from '../../src/gluster/parsers/heal-summary.ts';
import { parseVolumeStatusXml } from '../../src/gluster/parsers/volume-status.ts';
import { REQUEUE } from '../../src/operator/context.ts';
import { HEAL_REFRESH_MS } from '../../src/operator/reconcilers/volume-health.ts';
import { applyTestbedTopology } from '../support/demo-topology.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';
import { tearDownOperatorSuite } from '../support/operator-suite.ts';

const execFileAsync = promisify(execFile);
const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];
/** The binary glusterd starts brick processes from (glusterd and glusterfs are links to it). */
const BRICK_BINARY = '/usr/sbin/glusterfsd';

/**
 * Health in GlusterVolume status with the real operator process and real glusterd: a replica-3 volume reports
 * its bricks, quorum and heal backlog; a brick that is down and cannot be started is Degraded BricksOffline
 * within the steady refresh period, with one Warning Event however many passes see it; files written meanwhile
 * are Healing; the brick back clears Degraded and self-heal brings the backlog to 0.
 *
 * The operator restarts a killed brick of a Ready node at once (volume start force), so killing it would only
 * show BricksRestarted. To keep it down the way a brick whose disk is gone stays down, the test binds /bin/false
 * over the brick binary in that node's mount namespace (private: the host and the other nodes keep theirs)
 * before killing the brick process; after() undoes the bind on every node, whatever happened.
 */
describe('volume health: bricks online, quorum, heal and split-brain in GlusterVolume status', function () {
  this.timeout(20 * 60_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const config = kubeConfig();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let brickRoot: string;
  let operator: OperatorProcess | undefined;
  const mounts: string[] = [];
  const held: string[] = [];
  const healthPort = 18900 + Math.floor(Math.random() * 90);
  // A down brick is seen at the next pass: the steady period after the last healthy one, plus a pass.
  const detection = REQUEUE.steady + 2 * HEAL_REFRESH_MS;

  async function volume(name: string): Promise<GlusterVolume | undefined> {
    const found = await unlessNotFound(custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glustervolumes', name }));
    return found === undefined ? undefined : glusterVolumeSchema.parse(found);
  }
  const condition = (object: GlusterVolume | undefined, type: string) => object?.status?.conditions?.find((c) => c.type === type);
  const summary = (object: GlusterVolume | undefined) => ({
    conditions: object?.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`),
    bricksOnline: object?.status?.bricksOnline,
    quorum: object?.status?.quorum,
    heal: object?.status?.heal,
  });
  /** Waits until the GlusterVolume passes `check`, saying what it last saw. */
  function until(what: string, check: (object: GlusterVolume) => boolean, timeoutMs: number): Promise<GlusterVolume> {
    return eventually(what, async () => {
      const current = await volume('hv');
      return current && check(current) ? current : notYet(summary(current));
    }, timeoutMs);
  }
  const warnings = async (reason: string) =>
    (await kubectl(['-n', namespace.name, 'get', 'events', '--field-selector', `involvedObject.name=hv,reason=${reason},type=Warning`, '-o', 'jsonpath={.items[*].metadata.name}'])).stdout
      .split(' ')
      .filter(Boolean);

  async function mount(source: string): Promise<string> {
    const target = mkdtempSync(join(tmpdir(), 'health-mount-'));
    await execFileAsync('mount', ['-t', 'glusterfs', source.replace(':', ':/'), target]);
    mounts.push(target);
    return target;
  }

  before(async () => {
    namespace = await createTestNamespace('health');
    brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    await applyTestbedTopology(namespace.name, nodes, { cluster: 'healthy', backend: 'Directory', directoryRoot: brickRoot, sshKey: env.TESTBED_SSH_KEY });
    operator = await startOperatorProcess('operator-health', healthPort);
  });

  after(async () => {
    // Also after a failure half-way: the brick binary back on every node first, then mounts, objects, bricks.
    for (const host of nodes) await sshRun(host, ['umount', BRICK_BINARY]).catch(() => undefined);
    for (const target of [...mounts]) {
      await execFileAsync('umount', [target]).catch(() => execFileAsync('umount', ['-l', target])).catch(() => undefined);
      rmdirSync(target, { recursive: false });
    }
    await kubectl(['-n', namespace.name, 'patch', 'glustervolumes', '--all', '--type=merge', '-p', '{"spec":{"reclaimPolicy":"Delete"}}'], { allowFailure: true });
    await tearDownOperatorSuite({ namespace, nodes, brickRoot, operator });
  });

  it('a replica-3 Directory volume is Ready with its bricks online, quorum auto met and nothing pending heal', async () => {
    await custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: namespace.name,
      plural: 'glustervolumes',
      body: {
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind: 'GlusterVolume',
        metadata: { name: 'hv' },
        spec: { cluster: 'healthy', size: '1Gi', reclaimPolicy: 'Delete', durability: { type: 'Replicate', replicate: { replica: 3 } } },
      },
    });
    const ready = await until('hv Ready with heal figures', (v) => condition(v, 'Ready')?.status === 'True' && v.status?.heal !== undefined && v.status.bricksOnline === 3, 180_000);
    expect(ready.status!.heal).to.include({ pendingEntries: 0, splitBrainEntries: 0 });
    expect(ready.status!.quorum).to.deep.equal({ type: 'auto', met: true });
    expect(condition(ready, 'Degraded')?.status).to.equal('False');
    expect(condition(ready, 'Healing')).to.include({ status: 'False', reason: 'NoHealPending' });
    expect(ready.status!.bricks!.every((brick) => brick.online === true)).to.equal(true);
    // The parser on glusterd's own answer (the unit tests' documents are shaped after glfsheal's writer).
    const live = parseHealSummaryXml(await sshCheck(nodes[0]!, gluster('--xml', 'volume', 'heal', ready.status!.glusterVolumeName!, 'info', 'summary')));
    expect(live.map((brick) => [brick.connected, brick.healPending, brick.splitBrain])).to.deep.equal([[true, 0, 0], [true, 0, 0], [true, 0, 0]]);
  });

  it('a brick that is down and cannot start is Degraded BricksOffline within the refresh period, with one Warning Event', async () => {
    const gv = (await volume('hv'))!.status!.glusterVolumeName!;
    const [status] = parseVolumeStatusXml(await sshCheck(nodes[0]!, gluster('--xml', 'volume', 'status', gv)));
    const brick = status!.bricks.find((b) => b.host === nodes[2])!;
    expect(brick.pid, `brick of ${nodes[2]} has a pid`).to.be.a('number');
    await sshCheck(brick.host, ['mount', '--bind', '/bin/false', BRICK_BINARY]);
    held.push(brick.host);
    await sshCheck(brick.host, ['kill', '-9', String(brick.pid)]);
    const name = `${brick.host}:${brick.path}`;

    const degraded = await until(`hv Degraded BricksOffline naming ${name}`, (v) => condition(v, 'Degraded')?.status === 'True' && condition(v, 'Degraded')?.reason === 'BricksOffline', detection);
    expect(condition(degraded, 'Degraded')?.message).to.contain(name);
    expect(condition(degraded, 'Ready')?.status, 'a degraded volume still serves').to.equal('True');
    expect(degraded.status!.bricksOnline).to.equal(2);
    expect(degraded.status!.quorum).to.deep.equal({ type: 'auto', met: true });
    expect(degraded.status!.bricks!.find((b) => b.path === name)?.online).to.equal(false);
    // Passes come every REQUEUE.waiting while the brick is down: the Warning is said once.
    await new Promise((resolve) => setTimeout(resolve, 3 * REQUEUE.waiting));
    expect(await warnings('BricksOffline')).to.have.length(1);
  });

  it('files written while the brick is down are Healing, with pendingEntries > 0, still Degraded BricksOffline', async () => {
    const target = await mount((await volume('hv'))!.status!.mountSource!);
    for (let i = 0; i < 20; i++) writeFileSync(join(target, `while-down-${i}.txt`), `written with a brick down ${i}\n`);
    const healing = await until('hv Healing with entries pending', (v) => condition(v, 'Healing')?.status === 'True' && (v.status?.heal?.pendingEntries ?? 0) > 0, 3 * HEAL_REFRESH_MS);
    expect(condition(healing, 'Healing')?.reason).to.equal('HealPending');
    expect(condition(healing, 'Degraded')?.reason).to.equal('BricksOffline');
    expect(healing.status!.heal!.splitBrainEntries).to.equal(0);
  });

  it('the brick back (volume start force) clears Degraded, and self-heal brings pendingEntries to 0', async () => {
    const gv = (await volume('hv'))!.status!.glusterVolumeName!;
    for (const host of held.splice(0)) await sshCheck(host, ['umount', BRICK_BINARY]);
    await eventually(`${gv} started with force`, async () => {
      const started = await sshRun(nodes[0]!, gluster('volume', 'start', gv, 'force'));
      return started.code === 0 ? true : notYet(started.stderr || started.stdout);
    }, 60_000);
    const recovered = await until('hv no longer Degraded, 3 bricks online', (v) => condition(v, 'Degraded')?.status === 'False' && v.status?.bricksOnline === 3, 3 * HEAL_REFRESH_MS);
    expect(recovered.status!.quorum).to.deep.equal({ type: 'auto', met: true });
    const healed = await until('hv healed: pendingEntries 0', (v) => v.status?.heal?.pendingEntries === 0 && condition(v, 'Healing')?.status === 'False', 10 * HEAL_REFRESH_MS);
    expect(healed.status!.heal!.splitBrainEntries).to.equal(0);
    expect(condition(healed, 'Ready')).to.include({ status: 'True', reason: 'VolumeStarted' });
  });
});
