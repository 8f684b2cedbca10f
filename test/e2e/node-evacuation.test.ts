import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterNodeSchema, glusterVolumeSchema, type GlusterNode, type GlusterVolume } from '../../src/api/index.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { importTopology, testbedHeketiTopology } from '../support/demo-topology.ts';
import { killAllOperators, removeOperatorKubeconfig, startOperatorProcess } from '../support/operator-process.ts';
import { removeBrickRoot, removeLeftoverVolumes } from '../support/brick-cleanup.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { cutOffSsh, ensureDaemon } from '../support/testbed-nodes.ts';
import { testbedEnv } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);
const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];

/**
 * Deleting a GlusterNode that holds bricks, with the real operator (own ServiceAccount) and real glusterd:
 * bricks that can move are replaced on another node and healed before the old ones are removed; a volume
 * whose bricks cannot move (replica 3 on all three nodes) keeps the deletion waiting, untouched, and says
 * so; once that volume is gone the node leaves the pool and the database, and its finalizer goes.
 */
describe('node evacuation: deleting a GlusterNode moves its bricks first', function () {
  this.timeout(300_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let brickRoot: string;
  let mountPoint: string | undefined;
  let topologyYaml: string;
  let sshdStopped: number | undefined;

  const get = async <T>(plural: string, name: string, parse: (value: unknown) => T): Promise<T | undefined> => {
    const found = await unlessNotFound(custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural, name }));
    return found === undefined ? undefined : parse(found);
  };
  const volume = (name: string) => get<GlusterVolume>('glustervolumes', name, (v) => glusterVolumeSchema.parse(v));
  const node = (name: string) => get<GlusterNode>('glusternodes', name, (v) => glusterNodeSchema.parse(v));
  const ready = (object: { status?: { conditions?: Array<{ type: string; status: string }> } } | undefined) =>
    object?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

  async function createVolume(name: string, replica: number): Promise<GlusterVolume> {
    await custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: namespace.name,
      plural: 'glustervolumes',
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterVolume', metadata: { name }, spec: { cluster: 'evac', size: '1Gi', reclaimPolicy: 'Delete', durability: { type: 'Replicate', replicate: { replica } } } },
    });
    return eventually(`GlusterVolume ${name} Ready`, async () => {
      const current = await volume(name);
      return ready(current) && current?.status?.observedGeneration === current?.metadata.generation ? current : notYet({ generation: current?.metadata.generation, status: current?.status });
    }, 120_000);
  }

  const patchNode = (name: string, spec: Record<string, unknown>) =>
    custom.patchNamespacedCustomObject(
      { group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glusternodes', name, body: { spec } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  const addressOf = async (name: string) => (await node(name))!.spec.storageAddress;
  const filesOn = async (brick: string) => {
    const [host, path] = brick.split(':') as [string, string];
    return Promise.all(Array.from({ length: 20 }, (_, i) => sshCheck(host, ['cat', `${path}/file-${i}.txt`])));
  };
  const payloads = Array.from({ length: 20 }, (_, i) => `payload ${i}\n`);

  const liveBricks = async (glusterName: string) =>
    (await sshCheck(nodes.find((_, i) => i + 1 !== sshdStopped)!, gluster('volume', 'info', glusterName))).split('\n').filter((line) => /^Brick\d+:/.test(line)).map((line) => line.replace(/^Brick\d+:\s*/, '').trim());

  before(async () => {
    namespace = await createTestNamespace('evacuation');
    brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    await kubectl(['-n', namespace.name, 'create', 'secret', 'generic', 'gluster-ssh', `--from-file=ssh-privatekey=${env.TESTBED_SSH_KEY}`]);
    const dir = mkdtempSync(join(tmpdir(), 'evacuation-e2e-'));
    topologyYaml = await importTopology(testbedHeketiTopology(nodes, []), ['--cluster', 'evac', '--namespace', namespace.name, '--brick-backend', 'LoopFile', '--directory-root', brickRoot]);
    writeFileSync(join(dir, 'topology.yaml'), topologyYaml);
    await kubectl(['apply', '-f', join(dir, 'topology.yaml')]);
    rmSync(dir, { recursive: true });
    await startOperatorProcess('operator-evacuation', 19500 + Math.floor(Math.random() * 200));
    await kubectl(['-n', namespace.name, 'wait', '--for=condition=Ready', '--timeout=180s', 'glustercluster/evac']);
  });

  after(async () => {
    if (sshdStopped) await ensureDaemon(sshdStopped, 'sshd');
    if (mountPoint) {
      await execFileAsync('umount', ['-l', mountPoint]).catch(() => undefined);
      rmdirSync(mountPoint);
    }
    await kubectl(['-n', namespace.name, 'delete', 'glustervolumes', '--all', '--wait=true', '--timeout=120s'], { allowFailure: true });
    await kubectl(['-n', namespace.name, 'delete', 'glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await killAllOperators();
    // A failed run can leave objects whose finalizer no operator will remove now; the namespace must go anyway.
    for (const kind of ['glustervolumes', 'glusternodes', 'glusterclusters']) {
      const { stdout } = await kubectl(['-n', namespace.name, 'get', kind, '-o', 'name'], { allowFailure: true });
      for (const object of stdout.split('\n').filter(Boolean)) {
        await kubectl(['-n', namespace.name, 'patch', object, '--type=merge', '-p', '{"metadata":{"finalizers":null}}'], { allowFailure: true });
      }
    }
    await removeLeftoverVolumes(nodes, `${namespace.name}_`);
    await removeBrickRoot(nodes, brickRoot);
    // The detached node rejoins the pool, as the next suites expect the test bed.
    for (const from of nodes) for (const to of nodes) if (from !== to) await sshRun(from, gluster('peer', 'probe', to));
    await kubectl(['-n', 'gluster-operator', 'delete', 'secrets', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
    await kubectl(['-n', 'gluster-operator', 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
    await namespace?.remove();
    removeOperatorKubeconfig();
  });

  it('spec.state Failed moves the node\'s bricks to another node and keeps the node in the pool', async () => {
    const movable = await createVolume('movable', 2);
    const movableName = movable.status!.glusterVolumeName!;
    const failed = movable.status!.bricks![0]!.node;
    const failedAddress = await addressOf(failed);
    const oldBrick = movable.status!.bricks![0]!.path;

    // Data written through a mount before the move must be on the new brick after it.
    mountPoint = mkdtempSync(join(tmpdir(), 'evacuation-mount-'));
    await execFileAsync('mount', ['-t', 'glusterfs', movable.status!.mountSource!.replace(':', ':/'), mountPoint]);
    for (let i = 0; i < 20; i += 1) writeFileSync(join(mountPoint, `file-${i}.txt`), payloads[i]!);

    await patchNode(failed, { state: 'Failed' });
    const evacuated = await eventually('Failed node evacuated', async () => {
      const current = await node(failed);
      const condition = current?.status?.conditions?.find((c) => c.type === 'Ready');
      return condition?.reason === 'NodeFailed' && current?.status?.evacuation?.remainingBricks === 0 ? current : notYet(current?.status);
    }, 120_000);
    expect(evacuated.status!.bricks).to.equal(0);
    const bricks = await liveBricks(movableName);
    expect(bricks).to.have.length(2);
    expect(bricks.some((brick) => brick.startsWith(`${failedAddress}:`))).to.equal(false);
    const newBrick = bricks.find((brick) => brick !== movable.status!.bricks![1]!.path)!;
    expect(await filesOn(newBrick)).to.deep.equal(payloads);
    expect((await sshRun(failedAddress, ['test', '-e', oldBrick.split(':')[1]!])).code, 'old brick removed').to.not.equal(0);
    // Still a member of the pool: Failed is not deletion.
    expect(await sshCheck(nodes.find((n) => n !== failedAddress)!, gluster('pool', 'list'))).to.include(failedAddress);

    await patchNode(failed, { state: 'Online' });
    await eventually('node Ready again', async () => {
      const current = await node(failed);
      return ready(current) ? true : notYet(current?.status?.conditions);
    }, 60_000);
    await eventually('GlusterVolume status shows the new brick', async () => {
      const paths = (await volume('movable'))?.status?.bricks?.map((brick) => brick.path) ?? [];
      return paths.includes(newBrick) && !paths.includes(oldBrick) ? true : notYet({ bricks: paths, want: newBrick, gone: oldBrick });
    }, 60_000);
  });

  it('deletion moves what can move, heals it, keeps the rest waiting with the reason, then lets the node go', async () => {
    const movable = (await volume('movable'))!;
    const pinned = await createVolume('pinned', 3);
    const movableName = movable.status!.glusterVolumeName!;
    const pinnedName = pinned.status!.glusterVolumeName!;
    const [leavingNode, stayingNode] = movable.status!.bricks!.map((brick) => brick.node) as [string, string];
    const leavingAddress = await addressOf(leavingNode);
    const oldBrick = movable.status!.bricks!.find((brick) => brick.node === leavingNode)!.path;
    const pinnedBefore = await liveBricks(pinnedName);

    await kubectl(['-n', namespace.name, 'delete', 'glusternode', leavingNode, '--wait=false']);

    // The movable volume: the old brick replaced by one on the third node, healed, the old one removed.
    const moved = await eventually('movable volume off the leaving node', async () => {
      const bricks = await liveBricks(movableName);
      return bricks.length === 2 && !bricks.includes(oldBrick) ? bricks : notYet({ bricks, gone: oldBrick });
    }, 120_000);
    const stayingAddress = await addressOf(stayingNode);
    const newBrick = moved.find((brick) => !brick.startsWith(`${stayingAddress}:`))!;
    const [newHost, newPath] = newBrick.split(':') as [string, string];
    expect(newHost).to.not.equal(leavingAddress);
    await eventually('old brick remains removed', async () => {
      const [, oldPath] = oldBrick.split(':') as [string, string];
      return (await sshRun(leavingAddress, ['test', '-e', oldPath])).code !== 0 ? true : notYet(`${oldPath} still exists on ${leavingAddress}`);
    }, 120_000);
    // Only after self-heal filled it: every file is on the new brick, with its content.
    expect(await filesOn(newBrick)).to.deep.equal(payloads);
    expect(readFileSync(join(mountPoint!, 'file-7.txt'), 'utf8')).to.equal('payload 7\n');

    // The pinned volume has nowhere to go: the node waits, says why, and the volume is untouched.
    const waiting = await eventually('deletion blocked by the pinned volume', async () => {
      const current = await node(leavingNode);
      const blocked = current?.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'EvacuationBlocked');
      // A status of a pass that began before the movable brick's removal also says blocked (and 2 bricks):
      // wait for the one written after it.
      const settled = blocked && current?.status?.evacuation?.blockedVolumes?.includes(pinnedName) && current.status.evacuation.remainingBricks === 1;
      return settled ? current : notYet(current?.status);
    }, 120_000);
    expect(waiting.status!.conditions!.find((c) => c.type === 'Ready')!.message).to.match(/no device can take brick/);
    expect(await liveBricks(pinnedName)).to.deep.equal(pinnedBefore);
    const events = (await kubectl(['-n', namespace.name, 'get', 'events', '--field-selector', `involvedObject.name=${leavingNode}`, '-o', 'jsonpath={.items[*].reason}'])).stdout;
    expect(events).to.include('BrickReplaced').and.include('BricksMoved').and.include('EvacuationBlocked');

    // The GlusterVolume reports where its bricks are now.
    await eventually('movable GlusterVolume status shows the new brick', async () => {
      const current = await volume('movable');
      const paths = current?.status?.bricks?.map((brick) => brick.path) ?? [];
      return paths.includes(newBrick) && !paths.includes(oldBrick) ? true : notYet({ bricks: paths, want: newBrick, gone: oldBrick });
    }, 60_000);

    // Without the pinned volume, the node is evacuated: it leaves the pool and the API.
    await kubectl(['-n', namespace.name, 'delete', 'glustervolume', 'pinned', '--wait=true', '--timeout=120s']);
    await eventually('GlusterNode gone', async () => {
      const current = await node(leavingNode);
      return current ? notYet({ deletionTimestamp: current.metadata.deletionTimestamp, finalizers: current.metadata.finalizers, status: current.status }) : true;
    }, 120_000);
    const pool = await sshCheck(newHost, gluster('pool', 'list'));
    expect(pool).to.not.include(leavingAddress);
    expect(readFileSync(join(mountPoint!, 'file-19.txt'), 'utf8')).to.equal('payload 19\n');
  });

  it('forceRemoval: a node the operator cannot reach gives its bricks away without waiting, and its remains are reported', async () => {
    // The node deleted above comes back (the same topology applied again) and joins the pool.
    const dir = mkdtempSync(join(tmpdir(), 'evacuation-e2e-'));
    writeFileSync(join(dir, 'topology.yaml'), topologyYaml);
    await kubectl(['apply', '-f', join(dir, 'topology.yaml')]).finally(() => rmSync(dir, { recursive: true }));
    await eventually('three nodes Ready', async () => {
      const { stdout } = await kubectl(['-n', namespace.name, 'get', 'glusternodes', '-o', 'json']);
      const items = JSON.parse(stdout).items as GlusterNode[];
      return items.length === 3 && items.every((item) => ready(item)) ? true : notYet(items.map((item) => ({ name: item.metadata.name, conditions: item.status?.conditions })));
    }, 120_000);
    const movable = (await volume('movable'))!;
    const movableName = movable.status!.glusterVolumeName!;
    const gone = movable.status!.bricks![0]!;
    const goneAddress = await addressOf(gone.node);
    const index = nodes.indexOf(goneAddress) + 1;

    // Unreachable for the operator (its sshd is down); glusterd still serves the brick.
    sshdStopped = index;
    await cutOffSsh(index);
    await patchNode(gone.node, { forceRemoval: true });
    await kubectl(['-n', namespace.name, 'delete', 'glusternode', gone.node, '--wait=false']);
    await eventually('GlusterNode gone', async () => {
      const current = await node(gone.node);
      return current ? notYet({ deletionTimestamp: current.metadata.deletionTimestamp, finalizers: current.metadata.finalizers, status: current.status }) : true;
    }, 180_000);

    const bricks = await liveBricks(movableName);
    expect(bricks).to.have.length(2);
    expect(bricks.some((brick) => brick.startsWith(`${goneAddress}:`))).to.equal(false);
    const events = (await kubectl(['-n', namespace.name, 'get', 'events', '--field-selector', `involvedObject.name=${gone.node}`, '-o', 'jsonpath={.items[*].reason}'])).stdout;
    expect(events).to.include('BrickReplaced').and.include('BrickRemainsLeft').and.include('PeerDetached');
    await ensureDaemon(index, 'sshd');
    sshdStopped = undefined;
    // The remains were left, as reported: the old brick directory is still on the server.
    expect((await sshRun(goneAddress, ['test', '-d', gone.path.split(':')[1]!])).code).to.equal(0);
    // Self-heal still fills the new brick afterwards.
    const newBrick = bricks.find((brick) => brick !== movable.status!.bricks![1]!.path)!;
    await eventually('new brick healed', async () => {
      const files = await filesOn(newBrick);
      return JSON.stringify(files) === JSON.stringify(payloads) ? true : notYet({ brick: newBrick, files });
    }, 120_000);
  });
});
