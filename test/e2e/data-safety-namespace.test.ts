import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DESTROY_DATA_CONFIRMATION } from '../../src/api/limits.ts';
import { OWNER_OPTION, RELEASED_MARK } from '../../src/operator/reconcilers/volume-ownership.ts';
import { removeBrickRoot, removeLeftoverVolumes } from '../support/brick-cleanup.ts';
import { applyTestbedTopology } from '../support/demo-topology.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubectl } from '../support/kube.ts';
import { killAllOperators, removeOperatorKubeconfig, startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);
const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];

/**
 * Deleting a whole namespace (cluster, nodes, volumes, the SSH Secret and the operator's grants there, all at
 * once) never destroys data the GlusterCluster's cleanupPolicy did not confirm, and never hangs: before the
 * fix, the volumes waited for Gluster access that had gone with the namespace, and the namespace stayed
 * Terminating for good.
 */
describe('data safety: deleting a namespace keeps its Gluster volumes unless cleanupPolicy confirms', function () {
  this.timeout(300_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  let operator: OperatorProcess | undefined;
  const created: { namespace: Awaited<ReturnType<typeof createTestNamespace>>; brickRoot: string }[] = [];
  const kept: string[] = [];

  // Created before the operator starts: it serves the namespaces it is told of at start (GLUSTER_NAMESPACES).
  const namespaces: Record<'keep' | 'destroy', Awaited<ReturnType<typeof createTestNamespace>>> = {} as never;
  before(async () => {
    for (const [key, prefix] of [['keep', 'nskeep'], ['destroy', 'nsdestroy']] as const) {
      namespaces[key] = await createTestNamespace(prefix);
      created.push({ namespace: namespaces[key], brickRoot: `${env.TESTBED_BRICK_ROOT}/${namespaces[key].name}` });
    }
    operator = await startOperatorProcess('operator-namespace', 18880 + Math.floor(Math.random() * 9));
  });

  after(async () => {
    for (const { namespace } of created) {
      await kubectl(['-n', namespace.name, 'patch', 'glustervolumes', '--all', '--type=merge', '-p', '{"spec":{"reclaimPolicy":"Delete"}}'], { allowFailure: true });
      await namespace.remove().catch(() => undefined);
    }
    await operator?.stop();
    await killAllOperators();
    for (const gv of kept) {
      await sshRun(nodes[0]!, gluster('volume', 'stop', gv, 'force'));
      await sshRun(nodes[0]!, gluster('volume', 'delete', gv));
    }
    for (const { namespace, brickRoot } of created) {
      await removeLeftoverVolumes(nodes, `${namespace.name}_`);
      await removeBrickRoot(nodes, brickRoot);
    }
    await kubectl(['-n', 'gluster-operator', 'delete', 'secrets,leases', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
    await kubectl(['-n', 'gluster-operator', 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
    removeOperatorKubeconfig();
  });

  /** A namespace with the test bed's cluster and one Ready replica-3 volume (reclaimPolicy Delete) holding a file. */
  async function namespaceWithVolume(which: 'keep' | 'destroy', confirm: boolean): Promise<{ name: string; gv: string; brick: string }> {
    const namespace = namespaces[which];
    const brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    await applyTestbedTopology(namespace.name, nodes, { cluster: 'ns', backend: 'Directory', directoryRoot: brickRoot, sshKey: env.TESTBED_SSH_KEY });
    if (confirm) {
      await kubectl(['-n', namespace.name, 'patch', 'glustercluster', 'ns', '--type=merge', '-p', JSON.stringify({ spec: { cleanupPolicy: { confirmation: DESTROY_DATA_CONFIRMATION } } })]);
    }
    const manifest = { apiVersion: 'storage.gluster-operator.dev/v1alpha1', kind: 'GlusterVolume', metadata: { name: 'data', namespace: namespace.name }, spec: { cluster: 'ns', size: '1Gi', reclaimPolicy: 'Delete', durability: { type: 'Replicate', replicate: { replica: 3 } } } };
    const dir = mkdtempSync(join(tmpdir(), 'ns-volume-'));
    writeFileSync(join(dir, 'volume.json'), JSON.stringify(manifest));
    await kubectl(['apply', '-f', join(dir, 'volume.json')]);
    await kubectl(['-n', namespace.name, 'wait', '--for=condition=Ready', '--timeout=120s', 'glustervolume/data']);
    const status = JSON.parse((await kubectl(['-n', namespace.name, 'get', 'glustervolume', 'data', '-o', 'json'])).stdout).status as { glusterVolumeName: string; mountSource: string; bricks: { path: string }[] };
    const target = join(dir, 'mnt');
    await execFileAsync('mkdir', ['-p', target]);
    await execFileAsync('mount', ['-t', 'glusterfs', status.mountSource.replace(':', ':/'), target]);
    try {
      writeFileSync(join(target, 'keep.txt'), `data of ${namespace.name}\n`);
    } finally {
      await execFileAsync('umount', [target]).catch(() => execFileAsync('umount', ['-l', target]));
      rmdirSync(target);
      rmSync(dir, { recursive: true, force: true });
    }
    return { name: namespace.name, gv: status.glusterVolumeName, brick: status.bricks[0]!.path };
  }

  const glusterVolumes = async () => (await sshCheck(nodes[0]!, gluster('volume', 'list'))).split('\n').filter(Boolean);
  const option = async (gv: string, key: string) => new RegExp(`^${key.replaceAll('.', '\\.')}: (.*)$`, 'm').exec(await sshCheck(nodes[0]!, gluster('volume', 'info', gv)))?.[1]?.trim();
  async function deleteNamespace(name: string): Promise<void> {
    await kubectl(['delete', 'namespace', name, '--wait=false']);
    await eventually(`namespace ${name} gone`, async () => {
      const { stdout } = await kubectl(['get', 'namespace', name, '--ignore-not-found', '-o', 'jsonpath={.status.phase}']);
      if (stdout.trim() === '') return true;
      const left = await kubectl(['-n', name, 'get', 'glustervolumes,glusternodes,glusterclusters', '-o', 'custom-columns=KIND:.kind,NAME:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].message', '--no-headers'], { allowFailure: true });
      return notYet(`${stdout.trim()}: ${left.stdout.trim() || left.stderr.trim()}`);
    }, 180_000);
  }

  it('without cleanupPolicy confirmation, the namespace goes and the Gluster volume, its data and its bricks stay', async () => {
    const { name, gv, brick } = await namespaceWithVolume('keep', false);
    kept.push(gv);
    await deleteNamespace(name);
    expect(await glusterVolumes()).to.include(gv);
    // Released when the operator still reached Gluster, else still naming the deleted object (the namespace's
    // Secret and the operator's grants there go with it): either way no GlusterVolume can take it by accident.
    expect([RELEASED_MARK, `${name}/data`]).to.include(await option(gv, OWNER_OPTION));
    const [host, path] = [brick.slice(0, brick.lastIndexOf(':')), brick.slice(brick.lastIndexOf(':') + 1)];
    expect(await sshCheck(host, ['cat', `${path}/keep.txt`])).to.equal(`data of ${name}\n`);
  });

  it('with cleanupPolicy.confirmation the namespace goes too; its volume is destroyed if Gluster could still be reached, else kept', async () => {
    const { name, gv } = await namespaceWithVolume('destroy', true);
    await deleteNamespace(name);
    if ((await glusterVolumes()).includes(gv)) {
      kept.push(gv);
      expect([RELEASED_MARK, `${name}/data`]).to.include(await option(gv, OWNER_OPTION));
    }
  });
});
