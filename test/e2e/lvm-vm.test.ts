import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, DRIVER_NAME, glusterNodeSchema, glusterVolumeSchema, type GlusterNode, type GlusterVolume } from '../../src/api/index.ts';
import { thinPoolSizing } from '../../src/bricks/sizing.ts';
import { topologyCodec } from '../../src/topology/backup/codec.ts';
import { SecretBackupStore } from '../../src/topology/backup/secret-store.ts';
import { BRICK_MOUNT_ROOT, type TopologyDatabase } from '../../src/topology/model.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { killAllOperators, startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { removeOperatorState } from '../support/operator-suite.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { installSnapshotCrds, removeSnapshotCrds, startSnapshotComponents, type SnapshotComponents } from '../support/snapshotter.ts';
import { testbedEnv, testbedVmEnv } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);
const MIB = 1024 * 1024;
/** The extent every device is set up with (vgcreate's default, which the operator keeps). */
const EXTENT_BYTES = 4 * MIB;

/**
 * The production brick backend end to end, through the operator, on a Gluster server with device-mapper (a
 * VM of the test bed: this machine's kernel has none): blank disks become volume groups, a disk holding data
 * is refused and left as it was, destroyData wipes only the disk it names; bricks are thin LVs in thin pools
 * sized by the snapshot factor, with XFS, mounted and served by glusterd; a volume grows by lvextend and xfs_growfs and its
 * data stays; deleting it removes its LVs and thin pools and nothing else. Every Gluster command in the VM
 * takes about a second (software emulation), hence the long waits.
 */
describe('LVM bricks on a server with device-mapper (VM node)', function () {
  this.timeout(600_000);
  const env = testbedEnv();
  const vm = testbedVmEnv();
  const server = vm.nodes[0]!;
  const [blankDisk, dataDisk, wipeDisk] = vm.disks as [string, string, string];
  const config = kubeConfig();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  let namespace: Awaited<ReturnType<typeof createTestNamespace>> | undefined;
  let operator: OperatorProcess | undefined;
  const mounts: string[] = [];
  const MARKER = 'data the operator must not touch\n';
  // The operator serves CSI snapshots here; the csi-snapshotter sidecar dials it.
  const socketDir = mkdtempSync(join(tmpdir(), 'lvm-csi-'));
  const csiSocket = join(socketDir, 'controller.sock');
  const startOperator = (identity: string) => startOperatorProcess(identity, 18700 + Math.floor(Math.random() * 90), { CSI_CONTROLLER_ENDPOINT: `unix://${csiSocket}` });
  let snapshotComponents: SnapshotComponents | undefined;
  const SNAP = { group: 'snapshot.storage.k8s.io', version: 'v1' };

  const get = async (plural: string, name: string) =>
    unlessNotFound(custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace!.name, plural, name }));
  const glusterNode = async (): Promise<GlusterNode> => glusterNodeSchema.parse(await get('glusternodes', 'vm'));
  const volume = async (name: string): Promise<GlusterVolume | undefined> => {
    const found = await get('glustervolumes', name);
    return found === undefined ? undefined : glusterVolumeSchema.parse(found);
  };
  const ready = (name: string, timeoutMs = 420_000) =>
    eventually(`GlusterVolume ${name} Ready at its generation`, async () => {
      const current = await volume(name);
      const condition = current?.status?.conditions?.find((c) => c.type === 'Ready');
      return condition?.status === 'True' && current?.status?.observedGeneration === current?.metadata.generation ? current! : notYet({ generation: current?.metadata.generation, status: current?.status });
    }, timeoutMs);

  /** The LVs of the VG a brick path names (…/mounts/<vg>/brick_<id>/brick), as lvs reports them in bytes. */
  async function logicalVolumes(vg: string): Promise<Array<{ name: string; sizeBytes: number; pool: string; metadataBytes: number }>> {
    const out = await sshCheck(server, ['lvs', '--noheadings', '--units', 'b', '--nosuffix', '--separator', ',', '-o', 'lv_name,lv_size,pool_lv,lv_metadata_size', vg]);
    return out
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const [name, size, pool, metadata] = line.split(',');
        return { name: name!, sizeBytes: Number(size), pool: pool ?? '', metadataBytes: Number(metadata || 0) };
      });
  }
  const brickParts = (brickPath: string) => {
    const match = /^([^:]+):(.*\/(vg_[^/]+)\/(brick_[^/]+))\/brick$/.exec(brickPath);
    if (!match) throw new Error(`not an LVM brick path: ${brickPath}`);
    return { host: match[1]!, mountPoint: match[2]!, vg: match[3]!, lv: match[4]!, pool: match[4]!.replace(/^brick_/, 'tp_') };
  };
  const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

  async function mount(source: string): Promise<string> {
    const target = mkdtempSync(join(tmpdir(), 'lvm-mount-'));
    await execFileAsync('mount', ['-t', 'glusterfs', source.replace(':', ':/'), target]);
    mounts.push(target);
    return target;
  }
  async function unmount(target: string): Promise<void> {
    await execFileAsync('umount', [target]).catch(() => execFileAsync('umount', ['-l', target]));
    rmdirSync(target);
    mounts.splice(mounts.indexOf(target), 1);
  }

  /** A disk holding a file system with a file on it, as a careless wipe would find it. */
  async function fillWithData(disk: string): Promise<void> {
    await sshCheck(server, ['mkfs.xfs', '-f', '-q', disk]);
    await sshCheck(server, ['sh', '-c', 'set -e; d=$(mktemp -d); mount "$1" "$d"; printf %s "$2" > "$d/marker"; umount "$d"; rmdir "$d"', 'sh', disk, MARKER]);
  }
  async function markerOf(disk: string): Promise<string> {
    return await sshCheck(server, ['sh', '-c', 'set -e; d=$(mktemp -d); mount -o ro "$1" "$d"; cat "$d/marker"; umount "$d"; rmdir "$d"', 'sh', disk]);
  }

  /** Returns the VM's disks to blank, whatever a failed run left: volumes, brick mounts, LVs, VGs, signatures. */
  async function blankTheServer(): Promise<void> {
    // Snapshots first: glusterd refuses to delete a volume that has any.
    await sshRun(server, ['gluster', '--mode=script', 'snapshot', 'delete', 'all']);
    const volumes = (await sshRun(server, ['gluster', '--mode=script', 'volume', 'list'])).stdout.split('\n').filter((v) => v && !v.startsWith('No volumes'));
    for (const gv of volumes) {
      await sshRun(server, ['gluster', '--mode=script', 'volume', 'stop', gv, 'force']);
      await sshRun(server, ['gluster', '--mode=script', 'volume', 'delete', gv]);
    }
    // Brick mounts: the operator's, and glusterd's for snapshots and clones (`volume delete` of a clone leaves them).
    const roots = [BRICK_MOUNT_ROOT, '/var/lib/heketi/mounts', '/run/gluster/snaps'];
    await sshRun(server, ['sh', '-c', 'for m in $(findmnt -rn -o TARGET | grep -E "^($1|$2|$3)/" | sort -r); do umount "$m" || umount -l "$m"; done; rm -rf "$2" "$3"/*', 'sh', ...roots]);
    await sshRun(server, ['sh', '-c', 'for vg in $(vgs --noheadings -o vg_name); do vgremove -f "$vg"; done']);
    for (const disk of vm.disks) {
      await sshRun(server, ['pvremove', '-ff', '-y', disk]);
      await sshRun(server, ['wipefs', '--all', '--quiet', disk]);
    }
  }

  before(async () => {
    await blankTheServer();
    await fillWithData(dataDisk);
    await fillWithData(wipeDisk);
    namespace = await createTestNamespace('lvm-vm');
    await kubectl(['-n', namespace.name, 'create', 'secret', 'generic', 'gluster-ssh', `--from-file=ssh-privatekey=${env.TESTBED_SSH_KEY}`]);
    const objects = [
      {
        kind: 'GlusterCluster',
        metadata: { name: 'lvm' },
        spec: {
          access: { mode: 'External', external: { sshSecretRef: { name: 'gluster-ssh' } } },
          brickBackend: 'LVM',
          // Small bricks (heketi's minimum is 1Gi): the VM's disks are 2G, and a growth must have room to happen.
          minBrickSize: '300Mi',
          maxBrickSize: '1Gi',
          // The test host mounts the volumes (see demo-topology.ts: withTestHostAsClient).
          clientAccess: { addresses: [env.TESTBED_HOST_IP] },
        },
      },
      {
        kind: 'GlusterNode',
        metadata: { name: 'vm' },
        spec: {
          cluster: 'lvm',
          manageAddress: server,
          storageAddress: server,
          devices: [{ name: blankDisk }, { name: dataDisk }, { name: wipeDisk, destroyData: true }],
        },
      },
    ];
    for (const object of objects) {
      await custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: `${object.kind.toLowerCase()}s`, body: { apiVersion: `${API_GROUP}/${API_VERSION}`, ...object } });
    }
    operator = await startOperator('operator-lvm-vm');
  });

  after(async () => {
    for (const target of [...mounts]) await unmount(target).catch(() => undefined);
    if (namespace) {
      // Claims first: snapshot-controller keeps a VolumeSnapshot (finalizer volumesnapshot-as-source-protection)
      // while a claim restored from it is still Pending.
      await kubectl(['-n', namespace.name, 'delete', 'pvc', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
      await kubectl(['-n', namespace.name, 'delete', 'volumesnapshots', '--all', '--wait=true', '--timeout=120s'], { allowFailure: true });
      await kubectl(['delete', 'pv', `lvm-${namespace.name}`.slice(0, 60), '--ignore-not-found', '--wait=true', '--timeout=60s'], { allowFailure: true });
      await kubectl(['delete', 'volumesnapshotclass', `lvm-${namespace.name}`.slice(0, 60), '--ignore-not-found'], { allowFailure: true });
      await kubectl(['delete', 'storageclass', `lvm-copies-${namespace.name}`.slice(0, 63), '--ignore-not-found'], { allowFailure: true });
    }
    await snapshotComponents?.stop();
    await removeSnapshotCrds();
    if (namespace) {
      await kubectl(['-n', namespace.name, 'patch', 'glustervolumes', '--all', '--type=merge', '-p', '{"spec":{"reclaimPolicy":"Delete"}}'], { allowFailure: true });
      await kubectl(['-n', namespace.name, 'delete', 'glustervolumes', '--all', '--wait=true', '--timeout=300s'], { allowFailure: true });
      await kubectl(['-n', namespace.name, 'delete', 'glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=120s'], { allowFailure: true });
    }
    await operator?.stop();
    await killAllOperators();
    await blankTheServer();
    await removeOperatorState({ namespace, nodes: [], brickRoot: undefined });
    rmSync(socketDir, { recursive: true, force: true });
  });

  it('makes blank disks and the destroyData one volume groups, and refuses the disk holding data, which stays as it was', async () => {
    const settled = await eventually('three devices decided', async () => {
      const node = await glusterNode();
      const states = node.status?.devices?.map((d) => `${d.name}=${d.state}`) ?? [];
      return states.length === 3 && !states.some((s) => s.endsWith('=Pending')) && node.status?.devices?.filter((d) => d.state === 'Ready').length === 2 ? node : notYet(node.status);
    }, 300_000);
    const byName = new Map(settled.status!.devices!.map((d) => [d.name, d]));
    expect(byName.get(blankDisk)?.state).to.equal('Ready');
    expect(byName.get(wipeDisk)?.state, 'destroyData: true').to.equal('Ready');
    expect(byName.get(dataDisk)?.state).to.equal('Refused');
    expect(byName.get(dataDisk)?.message).to.match(/not blank.*xfs.*destroyData/);

    const pvs = await sshCheck(server, ['pvs', '--noheadings', '-o', 'pv_name,vg_name']);
    expect(pvs).to.match(new RegExp(`${blankDisk}\\s+vg_`));
    expect(pvs).to.match(new RegExp(`${wipeDisk}\\s+vg_`));
    expect(pvs).to.not.include(dataDisk);
    expect((await sshCheck(server, ['blkid', '-p', '-o', 'value', '-s', 'TYPE', dataDisk])).trim()).to.equal('xfs');
    expect(await markerOf(dataDisk), 'the refused disk’s file').to.equal(MARKER);
  });

  let written: { name: string; digest: string } | undefined;

  it('creates a volume on thin LVs in thin pools sized by the snapshot factor, with XFS, served to a client', async () => {
    await custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: namespace!.name,
      plural: 'glustervolumes',
      body: {
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind: 'GlusterVolume',
        metadata: { name: 'thin' },
        spec: { cluster: 'lvm', size: '512Mi', durability: { type: 'None' }, snapshotFactor: 1.5, reclaimPolicy: 'Delete' },
      },
    });
    const created = await ready('thin');
    expect(created.status!.bricks).to.have.length(1);
    const brick = brickParts(created.status!.bricks![0]!.path);
    expect(brick.host).to.equal(server);
    const expected = thinPoolSizing(512 * MIB, 1.5, EXTENT_BYTES);
    const lvs = await logicalVolumes(brick.vg);
    const pool = lvs.find((lv) => lv.name === brick.pool);
    const thin = lvs.find((lv) => lv.name === brick.lv);
    expect(pool, `thin pool ${brick.pool} in ${JSON.stringify(lvs)}`).to.not.equal(undefined);
    expect(pool!.sizeBytes, 'thin pool = brick size × snapshot factor').to.equal(expected.thinPoolSizeBytes);
    expect(pool!.metadataBytes).to.equal(expected.poolMetadataSizeBytes);
    expect(thin, `thin LV ${brick.lv}`).to.include({ pool: brick.pool, sizeBytes: 512 * MIB });
    const fs = await sshCheck(server, ['findmnt', '-n', '-o', 'SOURCE,FSTYPE', brick.mountPoint]);
    expect(fs).to.match(new RegExp(`^/dev/mapper/${brick.vg.replaceAll('-', '--')}-${brick.lv.replaceAll('-', '--')}\\s+xfs$`, 'm'));

    const target = await mount(created.status!.mountSource!);
    const data = randomBytes(8 * MIB);
    writeFileSync(join(target, 'blob'), data);
    written = { name: 'blob', digest: md5(data) };
    await unmount(target);
    const onBrick = await sshCheck(server, ['md5sum', `${brick.mountPoint}/brick/blob`]);
    expect(onBrick.split(' ')[0]).to.equal(written.digest);
  });

  it('grows the volume by growing its thin LV and thin pool in place (lvextend, xfs_growfs), and the data written before reads back', async () => {
    await kubectl(['-n', namespace!.name, 'patch', 'glustervolume', 'thin', '--type=merge', '-p', '{"spec":{"size":"1Gi"}}']);
    const grown = await ready('thin');
    expect(grown.status!.bricks, 'still one brick: grown, not added to').to.have.length(1);
    const brick = brickParts(grown.status!.bricks![0]!.path);
    const expected = thinPoolSizing(1024 * MIB, 1.5, EXTENT_BYTES);
    const lvs = await logicalVolumes(brick.vg);
    expect(lvs.find((lv) => lv.name === brick.lv)?.sizeBytes, 'thin LV').to.equal(1024 * MIB);
    expect(lvs.find((lv) => lv.name === brick.pool)?.sizeBytes, 'thin pool, still × snapshot factor').to.equal(expected.thinPoolSizeBytes);
    const brickFs = await sshCheck(server, ['df', '--output=size', '-B1', brick.mountPoint]);
    expect(Number(brickFs.trim().split('\n').pop()), 'the brick’s XFS grew with its LV').to.be.greaterThan(900 * MIB);

    const target = await mount(grown.status!.mountSource!);
    expect(md5(readFileSync(join(target, written!.name))), 'the data written before the growth').to.equal(written!.digest);
    const { stdout } = await execFileAsync('df', ['--output=size', '-B1', target]);
    expect(Number(stdout.trim().split('\n').pop()), 'what the client sees').to.be.greaterThan(900 * MIB);
    await unmount(target);
  });

  /** Every LV in the operator's volume groups, as vg/lv. */
  async function allLogicalVolumes(): Promise<string[]> {
    const out = await sshCheck(server, ['lvs', '--noheadings', '--separator', '/', '-o', 'vg_name,lv_name']);
    return out.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('vg_')).sort();
  }
  const lvsOfBricks = (current: GlusterVolume) => current.status!.bricks!.flatMap((b) => {
    const brick = brickParts(b.path);
    return [`${brick.vg}/${brick.lv}`, `${brick.vg}/${brick.pool}`];
  });

  it('rebuilds its database from the live server (gluster, pvs, vgs, lvs) after losing the backup, and serves the same bricks', async () => {
    const before = (await volume('thin'))!;
    const brick = brickParts(before.status!.bricks![0]!.path);
    await operator!.stop();
    await kubectl(['-n', 'gluster-operator', 'delete', 'secrets', '-l', 'app.kubernetes.io/part-of=gluster-operator']);
    operator = await startOperator('operator-lvm-vm-rebuilt');
    const started = operator;
    await eventually('the new process rebuilt its database from the cluster', async () => {
      const line = started.logs.find((entry) => entry.includes('topology ready'));
      return line?.includes('RebuiltFromCluster') ? line : notYet(line ?? started.logs.slice(-3));
    }, 300_000);
    // The rebuilt database, as the new process wrote it back: the brick with the size lvs reports.
    const core = config.makeApiClient(k8s.CoreV1Api);
    const loaded = await new SecretBackupStore<TopologyDatabase>({ core, namespace: 'gluster-operator', codec: topologyCodec() }).load();
    expect(loaded.state, 'a backup written from the rebuilt database').to.equal('ok');
    const db = (loaded as { db: TopologyDatabase }).db;
    const record = db.volumes.find((candidate) => candidate.name === `${namespace!.name}/thin`);
    expect(record, `volume in ${JSON.stringify(db.volumes.map((v) => v.name))}`).to.not.equal(undefined);
    expect(record!.bricks).to.have.length(1);
    expect(`brick_${record!.bricks[0]!.id}`, 'the LV rebuilt from lvs').to.equal(brick.lv);
    expect(record!.bricks[0]!.size).to.equal(1024 * MIB);
    const device = db.devices.find((candidate) => candidate.id === record!.bricks[0]!.device);
    expect(device?.vg).to.equal(brick.vg);
    const rebuilt = await ready('thin');
    expect(rebuilt.status!.bricks!.map((b) => b.path)).to.deep.equal(before.status!.bricks!.map((b) => b.path));
  });

  it('a kill -9 in the middle of brick creation leaves no orphan LV: the next process finishes the bricks it had recorded', async () => {
    const known = new Set(await allLogicalVolumes());
    await custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: namespace!.name,
      plural: 'glustervolumes',
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterVolume', metadata: { name: 'interrupted' }, spec: { cluster: 'lvm', size: '512Mi', durability: { type: 'None' }, reclaimPolicy: 'Delete' } },
    });
    // The first LVM object of the new brick (its thin pool) is the moment: the brick is recorded, not finished.
    const seen = await eventually('a new thin pool on the server', async () => {
      const now = await allLogicalVolumes();
      const added = now.filter((lv) => !known.has(lv));
      return added.length > 0 ? added : notYet(now);
    }, { timeoutMs: 300_000, intervalMs: 100 });
    await operator!.stop('SIGKILL');
    const atKill = await volume('interrupted');
    expect(atKill?.status?.conditions?.find((c) => c.type === 'Ready')?.status, `killed before Ready (saw ${seen.join(', ')})`).to.not.equal('True');

    operator = await startOperator('operator-lvm-vm-after-kill');
    const finished = await ready('interrupted');
    const thin = (await volume('thin'))!;
    expect(await allLogicalVolumes(), 'exactly the LVs of the two volumes’ bricks').to.deep.equal([...lvsOfBricks(thin), ...lvsOfBricks(finished)].sort());
    await kubectl(['-n', namespace!.name, 'delete', 'glustervolume', 'interrupted', '--wait=true', '--timeout=300s']);
    expect(await allLogicalVolumes()).to.deep.equal(lvsOfBricks(thin).sort());
  });

  const pvName = () => `lvm-${namespace!.name}`.slice(0, 60);
  /** Snapshot CRDs, snapshot-controller, csi-snapshotter and a VolumeSnapshotClass (named as pvName()), once per run. */
  async function snapshotsServed(): Promise<void> {
    if (snapshotComponents) return;
    await installSnapshotCrds();
    snapshotComponents = await startSnapshotComponents(csiSocket, process.env.OPERATOR_TEST_LOG_DIR);
    await custom.createClusterCustomObject({ ...SNAP, plural: 'volumesnapshotclasses', body: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshotClass', metadata: { name: pvName() }, driver: DRIVER_NAME, deletionPolicy: 'Delete' } });
  }
  const vsc = async (name: string) => (await custom.getClusterCustomObject({ ...SNAP, plural: 'volumesnapshotcontents', name })) as { status?: { snapshotHandle?: string; readyToUse?: boolean; restoreSize?: number } };
  const glusterSnapshots = async (gv: string) =>
    (await sshCheck(server, ['gluster', '--mode=script', 'snapshot', 'list', gv])).split('\n').filter((line) => line && !line.startsWith('No snapshots'));

  it('a VolumeSnapshot of a claim becomes a Gluster snapshot (through snapshot-controller, csi-snapshotter and the operator), ready, with the size to restore', async () => {
    const thin = (await volume('thin'))!;
    await snapshotsServed();
    const core = config.makeApiClient(k8s.CoreV1Api);
    await core.createPersistentVolume({
      body: {
        metadata: { name: pvName() },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteMany'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: '',
          claimRef: { namespace: namespace!.name, name: 'thin-claim' },
          csi: { driver: DRIVER_NAME, volumeHandle: `${namespace!.name}/thin` },
        },
      },
    });
    await core.createNamespacedPersistentVolumeClaim({
      namespace: namespace!.name,
      body: { metadata: { name: 'thin-claim' }, spec: { accessModes: ['ReadWriteMany'], storageClassName: '', volumeName: pvName(), resources: { requests: { storage: '1Gi' } } } },
    });
    await custom.createNamespacedCustomObject({
      ...SNAP,
      namespace: namespace!.name,
      plural: 'volumesnapshots',
      body: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 'before' }, spec: { volumeSnapshotClassName: pvName(), source: { persistentVolumeClaimName: 'thin-claim' } } },
    });
    const snapshot = await eventually('VolumeSnapshot before ready to use', async () => {
      const current = (await custom.getNamespacedCustomObject({ ...SNAP, namespace: namespace!.name, plural: 'volumesnapshots', name: 'before' })) as { status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string; restoreSize?: string; error?: unknown } };
      return current.status?.readyToUse === true ? current : notYet({ status: current.status, sidecar: snapshotComponents!.logs.slice(-5) });
    }, 300_000);
    expect(snapshot.status!.restoreSize).to.equal('1Gi');
    const content = await vsc(snapshot.status!.boundVolumeSnapshotContentName!);
    const handle = content.status!.snapshotHandle!;
    expect(handle).to.match(new RegExp(`^${namespace!.name}/lvm/snapshot-[0-9a-f-]{36}$`));
    const gv = thin.status!.glusterVolumeName!;
    expect(await glusterSnapshots(gv)).to.deep.equal([handle.split('/')[2]]);
  });

  it('deleting the volume waits while it has snapshots; deleting the VolumeSnapshot removes the Gluster snapshot, then the volume, its LVs, thin pools and mounts go, and the volume groups and the refused disk stay', async () => {
    const before = (await volume('thin'))!;
    const gv = before.status!.glusterVolumeName!;
    const bricks = before.status!.bricks!.map((b) => brickParts(b.path));
    await kubectl(['-n', namespace!.name, 'delete', 'pvc', 'thin-claim', '--wait=true', '--timeout=60s']);
    await kubectl(['delete', 'pv', pvName(), '--wait=true', '--timeout=60s']);
    await kubectl(['-n', namespace!.name, 'delete', 'glustervolume', 'thin', '--wait=false']);
    const waiting = await eventually('deletion waiting on the snapshot', async () => {
      const current = await volume('thin');
      const ready = current?.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.reason === 'VolumeHasSnapshots' ? ready : notYet(current?.status?.conditions);
    }, 300_000);
    expect(waiting.message).to.contain('1 snapshot(s)');
    expect(await sshCheck(server, ['gluster', '--mode=script', 'volume', 'info', gv]), 'not stopped either').to.match(/^Status: Started$/m);

    await kubectl(['-n', namespace!.name, 'delete', 'volumesnapshot', 'before', '--wait=true', '--timeout=300s']);
    expect(await glusterSnapshots(gv)).to.deep.equal([]);
    await eventually('GlusterVolume thin gone', async () => ((await volume('thin')) === undefined ? true : notYet((await volume('thin'))?.status?.conditions)), 420_000);
    expect(await allLogicalVolumes(), 'no LV left in the operator’s volume groups').to.deep.equal([]);
    for (const brick of bricks) {
      const mounted = await sshRun(server, ['findmnt', '-n', brick.mountPoint]);
      expect(mounted.code, `${brick.mountPoint} still mounted: ${mounted.stdout}`).to.not.equal(0);
    }
    const vgs = await sshCheck(server, ['vgs', '--noheadings', '-o', 'vg_name']);
    for (const vg of new Set(bricks.map((b) => b.vg))) expect(vgs).to.include(vg);
    expect(await markerOf(dataDisk), 'the refused disk, after everything').to.equal(MARKER);
  });
  const className = () => `lvm-copies-${namespace!.name}`.slice(0, 63);
  const core = () => config.makeApiClient(k8s.CoreV1Api);
  const boundClaim = (name: string) =>
    eventually(`claim ${name} Bound`, async () => {
      const claim = await core().readNamespacedPersistentVolumeClaim({ namespace: namespace!.name, name });
      if (claim.status?.phase === 'Bound') return claim;
      const events = await core().listNamespacedEvent({ namespace: namespace!.name, fieldSelector: `involvedObject.name=${name}` });
      return notYet({ status: claim.status, events: events.items.slice(-3).map((e) => `${e.reason}: ${e.message}`) });
    }, 420_000);
  /** The claim's GlusterVolume, Ready (the provisioner names it as the PV: pvc-<claim uid>). */
  const volumeOfClaim = async (name: string) => {
    const claim = await boundClaim(name);
    return ready(claim.spec!.volumeName!);
  };
  const readFiles = async (current: GlusterVolume) => {
    const target = await mount(current.status!.mountSource!);
    const { stdout } = await execFileAsync('sh', ['-c', 'cd "$1" && for f in *; do [ -f "$f" ] && printf "%s=%s\\n" "$f" "$(cat "$f")"; done; true', 'sh', target]);
    await unmount(target);
    return stdout.split('\n').filter(Boolean).sort();
  };
  const writeFile = async (current: GlusterVolume, name: string, content: string) => {
    const target = await mount(current.status!.mountSource!);
    writeFileSync(join(target, name), content);
    await unmount(target);
  };
  const claimBody = (name: string, dataSource?: k8s.V1TypedLocalObjectReference) => ({
    metadata: { name },
    spec: { storageClassName: className(), accessModes: ['ReadWriteMany'], resources: { requests: { storage: '320Mi' } }, ...(dataSource ? { dataSource } : {}) },
  });

  it('restores a claim from a VolumeSnapshot (data before the snapshot, not after) and clones a claim (all its data), as thin LVs in the source’s thin pool; deleting the copies removes their LVs and leaves the source as it was', async () => {
    await snapshotsServed();
    const storage = config.makeApiClient(k8s.StorageV1Api);
    await storage.createStorageClass({
      body: {
        metadata: { name: className() },
        provisioner: DRIVER_NAME,
        reclaimPolicy: 'Delete',
        parameters: { clusternamespace: namespace!.name, clusterid: 'lvm', volumetype: 'none', snapfactor: '1' },
      },
    });
    await core().createNamespacedPersistentVolumeClaim({ namespace: namespace!.name, body: claimBody('source') });
    const source = await volumeOfClaim('source');
    await writeFile(source, 'one', 'before the snapshot');
    await custom.createNamespacedCustomObject({
      ...SNAP,
      namespace: namespace!.name,
      plural: 'volumesnapshots',
      body: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 'point' }, spec: { volumeSnapshotClassName: pvName(), source: { persistentVolumeClaimName: 'source' } } },
    });
    await eventually('VolumeSnapshot point ready to use', async () => {
      const current = (await custom.getNamespacedCustomObject({ ...SNAP, namespace: namespace!.name, plural: 'volumesnapshots', name: 'point' })) as { status?: { readyToUse?: boolean } };
      return current.status?.readyToUse === true ? current : notYet({ status: current.status, sidecar: snapshotComponents!.logs.slice(-5) });
    }, 300_000);
    await writeFile(source, 'two', 'after the snapshot');

    await core().createNamespacedPersistentVolumeClaim({ namespace: namespace!.name, body: claimBody('restored', { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'point' }) });
    const restored = await volumeOfClaim('restored');
    expect(restored.status!.copiedFrom).to.match(/^snapshot snapshot-[0-9a-f-]{36}$/);
    expect(await readFiles(restored), 'the restored claim: what was written before the snapshot only').to.deep.equal(['one=before the snapshot']);

    await core().createNamespacedPersistentVolumeClaim({ namespace: namespace!.name, body: claimBody('cloned', { kind: 'PersistentVolumeClaim', name: 'source' }) });
    const cloned = await volumeOfClaim('cloned');
    expect(cloned.status!.copiedFrom).to.equal(`GlusterVolume ${source.metadata.name}`);
    expect(await readFiles(cloned), 'the cloned claim: everything').to.deep.equal(['one=before the snapshot', 'two=after the snapshot']);
    expect(await glusterSnapshots(source.status!.glusterVolumeName!), 'the operator’s own snapshot for the clone is gone; the user’s stays').to.have.length(1);

    // Each copy is the thin LV glusterd cloned, in the source brick's thin pool, and a volume of its own: writes stay in it.
    const sourceBrick = brickParts(source.status!.bricks![0]!.path);
    const lvs = await logicalVolumes(sourceBrick.vg);
    for (const copy of [restored, cloned]) {
      const lv = `${copy.status!.glusterVolumeId!.replaceAll('-', '')}_0`;
      expect(lvs.find((candidate) => candidate.name === lv), `${lv} in ${JSON.stringify(lvs)}`).to.include({ pool: sourceBrick.pool });
    }
    await writeFile(cloned, 'three', 'only in the clone');
    expect(await readFiles(source), 'the source, untouched by its copies').to.deep.equal(['one=before the snapshot', 'two=after the snapshot']);

    for (const name of ['restored', 'cloned']) await kubectl(['-n', namespace!.name, 'delete', 'pvc', name, '--wait=true', '--timeout=60s']);
    for (const copy of [restored, cloned]) {
      await eventually(`GlusterVolume ${copy.metadata.name} gone`, async () => ((await volume(copy.metadata.name)) === undefined ? true : notYet((await volume(copy.metadata.name))?.status?.conditions)), 420_000);
    }
    const left = (await logicalVolumes(sourceBrick.vg)).map((lv) => lv.name).sort();
    expect(left, 'the source’s LV, its thin pool and the snapshot’s LV only').to.have.length(3);
    expect(left).to.include.members([sourceBrick.lv, sourceBrick.pool]);
    expect(await readFiles(source), 'the source, after its copies were deleted').to.deep.equal(['one=before the snapshot', 'two=after the snapshot']);

    await kubectl(['-n', namespace!.name, 'delete', 'volumesnapshot', 'point', '--wait=true', '--timeout=300s']);
    await kubectl(['-n', namespace!.name, 'delete', 'pvc', 'source', '--wait=true', '--timeout=60s']);
    await eventually(`GlusterVolume ${source.metadata.name} gone`, async () => ((await volume(source.metadata.name)) === undefined ? true : notYet((await volume(source.metadata.name))?.status?.conditions)), 420_000);
    expect(await allLogicalVolumes(), 'no LV left in the operator’s volume groups').to.deep.equal([]);
  });
});
