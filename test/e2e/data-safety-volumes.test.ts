import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, DRIVER_NAME, glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { OWNER_OPTION, RELEASED_MARK } from '../../src/operator/reconcilers/volume-ownership.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { applyTestbedTopology } from '../support/demo-topology.ts';
import { killAllOperators, startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';
import { removeOperatorState } from '../support/operator-suite.ts';

const execFileAsync = promisify(execFile);
const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];

/**
 * Paths that used to destroy data, each shown closed with the real operator process (its own
 * ServiceAccount), the real apiserver and PV binder, and real glusterd: a second object naming a volume
 * another owns; deleting a volume a PV is bound to or a client mounts; a volume that vanished behind the
 * operator's back; an existing volume taken over only when asked, and kept when its object goes.
 */
describe('data safety: GlusterVolumes never destroy what they do not own or what is in use', function () {
  this.timeout(240_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const config = kubeConfig();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const core = config.makeApiClient(k8s.CoreV1Api);
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let brickRoot: string;
  let operator: OperatorProcess | undefined;
  const mounts: string[] = [];
  const handMade: string[] = [];
  const pvs: string[] = [];
  const healthPort = 18900 + Math.floor(Math.random() * 90);

  async function volume(name: string): Promise<GlusterVolume | undefined> {
    const found = await unlessNotFound(custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glustervolumes', name }));
    return found === undefined ? undefined : glusterVolumeSchema.parse(found);
  }
  const condition = (object: GlusterVolume | undefined, type: string) => object?.status?.conditions?.find((c) => c.type === type);

  async function createVolume(name: string, spec: Record<string, unknown>): Promise<void> {
    await custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: namespace.name,
      plural: 'glustervolumes',
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterVolume', metadata: { name }, spec: { cluster: 'safe', size: '1Gi', ...spec } },
    });
  }

  /** Waits for a reason on the Ready condition (or Ready itself), at the object's current generation. */
  function readyReason(name: string, reason: string, timeoutMs = 120_000): Promise<GlusterVolume> {
    return eventually(`GlusterVolume ${name} with reason ${reason}`, async () => {
      const current = await volume(name);
      const ready = condition(current, 'Ready');
      return ready?.reason === reason && current?.status?.observedGeneration === current?.metadata.generation ? current! : notYet({ generation: current?.metadata.generation, conditions: current?.status?.conditions });
    }, timeoutMs);
  }

  async function mount(source: string): Promise<string> {
    const target = mkdtempSync(join(tmpdir(), 'safety-mount-'));
    await execFileAsync('mount', ['-t', 'glusterfs', source.replace(':', ':/'), target]);
    mounts.push(target);
    return target;
  }
  async function unmount(target: string): Promise<void> {
    await execFileAsync('umount', [target]).catch(() => execFileAsync('umount', ['-l', target]));
    rmdirSync(target);
    mounts.splice(mounts.indexOf(target), 1);
  }
  const glusterVolumes = async () => (await sshCheck(nodes[0]!, gluster('volume', 'list'))).split('\n').filter(Boolean);
  /** An option as `volume info` lists it under "Options Reconfigured" (undefined when not set). */
  const option = async (gv: string, key: string) => new RegExp(`^${key.replaceAll('.', '\\.')}: (.*)$`, 'm').exec(await sshCheck(nodes[0]!, gluster('volume', 'info', gv)))?.[1]?.trim();

  before(async () => {
    namespace = await createTestNamespace('safety');
    brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    await applyTestbedTopology(namespace.name, nodes, { cluster: 'safe', backend: 'Directory', directoryRoot: brickRoot, sshKey: env.TESTBED_SSH_KEY });
    operator = await startOperatorProcess('operator-safety', healthPort);
  });

  after(async () => {
    // Also after a failure half-way: mounts, hand-made PVs and volumes, the objects, the bricks, the namespace.
    for (const target of [...mounts]) await unmount(target).catch(() => undefined);
    for (const pv of pvs) await kubectl(['delete', 'pv', pv, '--ignore-not-found', '--wait=false'], { allowFailure: true });
    await kubectl(['-n', namespace.name, 'delete', 'pvc', '--all', '--wait=false'], { allowFailure: true });
    await kubectl(['-n', namespace.name, 'patch', 'glustervolumes', '--all', '--type=merge', '-p', '{"spec":{"reclaimPolicy":"Delete"}}'], { allowFailure: true });
    await kubectl(['-n', namespace.name, 'delete', 'glustervolumes', '--all', '--wait=true', '--timeout=120s'], { allowFailure: true });
    await kubectl(['-n', namespace.name, 'delete', 'glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await operator?.stop();
    await killAllOperators();
    for (const gv of handMade) {
      await sshRun(nodes[0]!, gluster('volume', 'stop', gv, 'force'));
      await sshRun(nodes[0]!, gluster('volume', 'delete', gv));
    }
    await removeOperatorState({ namespace, nodes, brickRoot });
  });

  it('a second GlusterVolume naming an owned Gluster volume is refused, and deleting it leaves the first volume’s data readable', async () => {
    await createVolume('first', { reclaimPolicy: 'Delete', durability: { type: 'Replicate', replicate: { replica: 3 } } });
    const first = await readyReason('first', 'VolumeStarted');
    const gv = first.status!.glusterVolumeName!;
    expect(await option(gv, OWNER_OPTION)).to.equal(`${namespace.name}/first`);
    const target = await mount(first.status!.mountSource!);
    writeFileSync(join(target, 'keep.txt'), 'first volume data\n');
    await unmount(target);

    await createVolume('second', { reclaimPolicy: 'Delete', glusterVolumeName: gv, options: { 'performance.cache-size': '48MB' } });
    const refused = await readyReason('second', 'OwnedByAnother');
    expect(condition(refused, 'Ready')?.message).to.contain(`${namespace.name}/first`);
    expect(await option(gv, 'performance.cache-size'), 'the second object’s options were not applied').to.not.equal('48MB');

    await kubectl(['-n', namespace.name, 'delete', 'glustervolume', 'second', '--wait=true', '--timeout=60s']);
    expect(await glusterVolumes()).to.include(gv);
    const [host, path] = first.status!.bricks![0]!.path.split(':') as [string, string];
    expect(await sshCheck(host, ['cat', `${path}/keep.txt`])).to.equal('first volume data\n');
    expect(condition(await volume('first'), 'Ready')?.status).to.equal('True');
  });

  it('deleting a GlusterVolume whose PV is Bound waits, and so does one a client mounts; the data stays until both are gone', async () => {
    const first = (await volume('first'))!;
    const gv = first.status!.glusterVolumeName!;
    const pvName = `safety-${namespace.name}`.slice(0, 60);
    pvs.push(pvName);
    await core.createPersistentVolume({
      body: {
        metadata: { name: pvName },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteMany'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: '',
          claimRef: { namespace: namespace.name, name: 'app-data' },
          csi: { driver: DRIVER_NAME, volumeHandle: `${namespace.name}/first` },
        },
      },
    });
    await core.createNamespacedPersistentVolumeClaim({
      namespace: namespace.name,
      body: { metadata: { name: 'app-data' }, spec: { accessModes: ['ReadWriteMany'], storageClassName: '', volumeName: pvName, resources: { requests: { storage: '1Gi' } } } },
    });
    await eventually('claim Bound', async () => {
      const claim = await core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name: 'app-data' });
      return claim.status?.phase === 'Bound' ? true : notYet(claim.status);
    }, 60_000);
    const target = await mount(first.status!.mountSource!);

    await kubectl(['-n', namespace.name, 'delete', 'glustervolume', 'first', '--wait=false']);
    const waiting = await readyReason('first', 'VolumeInUse', 60_000);
    expect(condition(waiting, 'Ready')?.message).to.contain(pvName);
    expect(await glusterVolumes()).to.include(gv);

    await kubectl(['-n', namespace.name, 'delete', 'pvc', 'app-data', '--wait=true', '--timeout=60s']);
    const mounted = await eventually('deletion waiting on the mount', async () => {
      const current = await volume('first');
      const message = condition(current, 'Ready')?.message ?? '';
      return /client\(s\) still mount/.test(message) ? current! : notYet(current?.status?.conditions);
    }, 60_000);
    expect(mounted.status?.clients).to.equal(1);
    expect(await glusterVolumes()).to.include(gv);
    const [host, path] = first.status!.bricks![0]!.path.split(':') as [string, string];
    expect(await sshCheck(host, ['cat', `${path}/keep.txt`]), 'the data is still on the brick').to.equal('first volume data\n');

    await unmount(target);
    await eventually('GlusterVolume first gone', async () => ((await volume('first')) === undefined ? true : notYet((await volume('first'))?.status?.conditions)), 90_000);
    expect(await glusterVolumes()).to.not.include(gv);
  });

  it('a Gluster volume that vanished behind the operator is reported, never re-created empty', async () => {
    await createVolume('vanishing', { reclaimPolicy: 'Delete', durability: { type: 'Replicate', replicate: { replica: 3 } } });
    const ready = await readyReason('vanishing', 'VolumeStarted');
    const gv = ready.status!.glusterVolumeName!;
    // glusterd refuses while the operator's own query holds the volume's lock ("Another transaction is in progress").
    await eventually(`Gluster volume ${gv} deleted behind the operator`, async () => {
      await sshRun(nodes[0]!, gluster('volume', 'stop', gv, 'force'));
      const deleted = await sshRun(nodes[0]!, gluster('volume', 'delete', gv));
      return deleted.code === 0 ? true : notYet(deleted.stderr || deleted.stdout);
    }, 30_000);
    await kubectl(['-n', namespace.name, 'patch', 'glustervolume', 'vanishing', '--type=merge', '-p', '{"spec":{"options":{"performance.cache-size":"32MB"}}}']);
    const missing = await readyReason('vanishing', 'VolumeMissing', 60_000);
    expect(condition(missing, 'Ready')?.message).to.contain('not re-created');
    expect(await glusterVolumes()).to.not.include(gv);
  });

  it('an existing Gluster volume is taken over only with adoptExisting, checked against the spec, and kept (Retain) when its object goes', async () => {
    const gv = `${namespace.name.replaceAll('.', '-')}-legacy`.slice(0, 60);
    const bricks = nodes.map((node) => `${node}:${brickRoot}/legacy/brick`);
    for (const node of nodes) await sshCheck(node, ['mkdir', '-p', `${brickRoot}/legacy/brick`]);
    await sshCheck(nodes[0]!, gluster('volume', 'create', gv, 'replica', '3', ...bricks, 'force'));
    handMade.push(gv);
    await sshCheck(nodes[0]!, gluster('volume', 'start', gv));
    const target = await mount(`${nodes[0]}:${gv}`);
    writeFileSync(join(target, 'legacy.txt'), 'written before the operator\n');
    await unmount(target);

    await createVolume('legacy', { glusterVolumeName: gv, durability: { type: 'Replicate', replicate: { replica: 3 } } });
    const refused = await readyReason('legacy', 'VolumeExists');
    expect(condition(refused, 'Ready')?.message).to.contain('adoptExisting');
    await createVolume('legacy-wrong', { glusterVolumeName: gv, adoptExisting: true, durability: { type: 'Replicate', replicate: { replica: 2 } } });
    const mismatch = await readyReason('legacy-wrong', 'AdoptionMismatch');
    expect(condition(mismatch, 'Ready')?.message).to.contain('replica 2');
    await kubectl(['-n', namespace.name, 'delete', 'glustervolume', 'legacy-wrong', '--wait=true', '--timeout=60s']);

    await kubectl(['-n', namespace.name, 'patch', 'glustervolume', 'legacy', '--type=merge', '-p', '{"spec":{"adoptExisting":true}}']);
    const adopted = await readyReason('legacy', 'VolumeStarted');
    expect(adopted.spec.reclaimPolicy).to.equal('Retain');
    expect(adopted.status?.bricks?.map((brick) => brick.path)).to.deep.equal(bricks);
    expect(await option(gv, OWNER_OPTION)).to.equal(`${namespace.name}/legacy`);
    const again = await mount(adopted.status!.mountSource!);
    expect(readFileSync(join(again, 'legacy.txt'), 'utf8')).to.equal('written before the operator\n');
    await unmount(again);

    await kubectl(['-n', namespace.name, 'delete', 'glustervolume', 'legacy', '--wait=true', '--timeout=60s']);
    expect(await glusterVolumes()).to.include(gv);
    expect(await option(gv, OWNER_OPTION), 'the owner mark is released').to.equal(RELEASED_MARK);
    expect(await sshCheck(nodes[1]!, ['cat', `${brickRoot}/legacy/brick/legacy.txt`])).to.equal('written before the operator\n');
  });
});
