import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { CsiError } from '../../src/csi/errors.ts';
import { checkHealth, type MountHealth } from '../../src/csi/mount-health.ts';
import type { MountEntry } from '../../src/csi/mountinfo.ts';
import { NodeService, type NodeHost } from '../../src/csi/node.ts';
import { planPublish, recordOfRequest, requestOfRecord } from '../../src/csi/publish-plan.ts';
import { parseRequest, publishRequestSchema } from '../../src/csi/requests.ts';
import { recoverPublishedMounts } from '../../src/csi/recovery.ts';
import { PublishStore, type PublishRecord } from '../../src/csi/state.ts';
import type { TlsMaterial, TlsWriteReport } from '../../src/csi/tls-files.ts';
import { hangingStatfs } from './csi-mount-health.test.ts';

const silentLogger = winston.createLogger({ silent: true });
const logger = silentLogger;

/** An in-memory host: a mount table, per-path health, and the records; mount/umount edit the table. */
class FakeHost implements NodeHost {
  mounts: MountEntry[] = [];
  health = new Map<string, MountHealth>();
  records = new Map<string, PublishRecord>();
  calls: string[] = [];
  failPlainUnmount = false;
  nextId = 100;

  add(mountPoint: string, fsType: string, source: string, ro = false): void {
    this.mounts.push({
      id: this.nextId++, parentId: 1, majorMinor: '0:1', root: '/', mountPoint, mountOptions: [ro ? 'ro' : 'rw'],
      optionalFields: [], fsType, source, superOptions: [],
    });
  }
  async readMounts() {
    return [...this.mounts];
  }
  async checkHealth(path: string): Promise<MountHealth> {
    return this.health.get(path) ?? { state: 'healthy', stats: { blockSize: 4096n, blocks: 1000n, blocksFree: 400n, blocksAvailable: 300n, files: 500n, filesFree: 450n } };
  }
  async mount(argv: readonly string[], targetPath: string) {
    this.calls.push(argv.join(' '));
    const options = argv[argv.indexOf('-o') + 1] ?? '';
    this.add(targetPath, 'fuse.glusterfs', argv.at(-2)!, options.split(',').includes('ro'));
    this.health.delete(targetPath);
  }
  async unmount(targetPath: string, lazy: boolean) {
    this.calls.push(`umount${lazy ? ' -l' : ''} ${targetPath}`);
    if (!lazy && this.failPlainUnmount) throw new Error('umount: target is busy');
    const index = this.mounts.findLastIndex((m) => m.mountPoint === targetPath);
    if (index >= 0) this.mounts.splice(index, 1);
  }
  async readRecord(targetPath: string) {
    return this.records.get(targetPath);
  }
  async saveRecord(record: PublishRecord) {
    this.records.set(record.targetPath, record);
  }
  async removeRecord(targetPath: string) {
    this.records.delete(targetPath);
  }
  async listRecords() {
    return [...this.records.values()];
  }
  /** The TLS files written, by directory (what the real host puts on disk); calls as `tls <dir>`. */
  tlsFiles = new Map<string, Record<string, string>>();
  failTlsWrite = false;
  async writeTlsFiles(material: TlsMaterial): Promise<TlsWriteReport> {
    this.calls.push(`tls ${material.dir}`);
    if (this.failTlsWrite) throw new Error('ENOSPC: no space left on device');
    this.tlsFiles.set(material.dir, Object.fromEntries(['ca.crt', 'tls.crt', 'tls.key'].map((name) => [name, material.secrets.get(name) ?? ''])));
    return { written: ['ca.crt', 'tls.crt', 'tls.key'], unchanged: [] };
  }
}

async function grpcCode(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(CsiError);
    return (error as CsiError).code;
  }
  expect.fail('the call succeeded');
}

/** A kubelet directory in a temporary dir, with the parent kubelet makes for each CSI target. */
function kubeletLayout(): { kubeletDir: string; targetFor: (pod: string, pv?: string) => string; cleanup: () => void } {
  const kubeletDir = realpathSync(mkdtempSync(join(tmpdir(), 'csi-kubelet-')));
  const targetFor = (pod: string, pv = 'pv1') => {
    const parent = join(kubeletDir, 'pods', pod, 'volumes', 'kubernetes.io~csi', pv);
    mkdirSync(parent, { recursive: true });
    return join(parent, 'mount');
  };
  return { kubeletDir, targetFor, cleanup: () => rmSync(kubeletDir, { recursive: true, force: true }) };
}

const publishRequest = (target: string, overrides: Record<string, unknown> = {}) => ({
  volume_id: 'default/gv1',
  target_path: target,
  volume_capability: { mount: { fs_type: '', mount_flags: [] }, access_type: 'mount', access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } },
  readonly: false,
  volume_context: { mountSource: '10.0.0.1:default_gv1', backupVolfileServers: '10.0.0.2', glusterVolumeName: 'default_gv1' },
  ...overrides,
});

describe('CSI Node service', () => {
  let layout: ReturnType<typeof kubeletLayout>;
  let host: FakeHost;
  let service: NodeService;
  let target: string;
  const publish = (overrides: Record<string, unknown> = {}) => publishRequest(target, overrides);
  const unpublish = (volumeId = 'default/gv1', path = target) => service.nodeUnpublishVolume({ volume_id: volumeId, target_path: path });

  beforeEach(() => {
    layout = kubeletLayout();
    target = layout.targetFor('0d7c1f3e-pod');
    host = new FakeHost();
    service = new NodeService({ nodeId: 'node-a', kubeletDir: layout.kubeletDir, host, logger });
  });
  afterEach(() => layout.cleanup());

  it('reports node id and capabilities without staging', () => {
    expect(service.nodeGetInfo()).to.deep.equal({ node_id: 'node-a' });
    const types = service.nodeGetCapabilities().capabilities.map((c) => c.rpc.type);
    expect(types).to.include('GET_VOLUME_STATS').and.include('VOLUME_CONDITION').and.not.include('STAGE_UNSTAGE_VOLUME');
  });

  it('creates the target, mounts, and records the publish as fields (not an argv)', async () => {
    await service.nodePublishVolume(publish());
    expect(existsSync(target)).to.equal(true);
    expect(host.calls).to.deep.equal([`mount -t glusterfs -o backup-volfile-servers=10.0.0.2 10.0.0.1:/default_gv1 ${target}`]);
    expect(host.records.get(target)).to.deep.equal({
      version: 2, volumeId: 'default/gv1', targetPath: target, readOnly: false, accessMode: 'MULTI_NODE_MULTI_WRITER', mountFlags: [],
      volumeContext: { mountSource: '10.0.0.1:/default_gv1', backupVolfileServers: '10.0.0.2', glusterVolumeName: 'default_gv1' },
    });
  });

  it('records the publish before mounting, so a mount it made is never one it cannot prove it made', async () => {
    const recordedAtMount: boolean[] = [];
    const mount = host.mount.bind(host);
    host.mount = async (argv, path) => {
      recordedAtMount.push(host.records.has(path));
      await mount(argv, path);
    };
    await service.nodePublishVolume(publish());
    expect(recordedAtMount).to.deep.equal([true]);
  });

  it('is idempotent: a healthy mount of the same volume (from a backup server) is left alone', async () => {
    mkdirSync(target);
    host.add(target, 'fuse.glusterfs', '10.0.0.2:default_gv1');
    await service.nodePublishVolume(publish());
    expect(host.calls).to.deep.equal([]);
    expect(host.records.has(target)).to.equal(true);
  });

  it('answers ALREADY_EXISTS for another mount or a different read-only flag at the target', async () => {
    mkdirSync(target);
    host.add(target, 'fuse.glusterfs', '10.0.0.1:/other_volume');
    expect(await grpcCode(service.nodePublishVolume(publish()))).to.equal(status.ALREADY_EXISTS);
    host.mounts = [];
    host.add(target, 'tmpfs', 'tmpfs');
    expect(await grpcCode(service.nodePublishVolume(publish()))).to.equal(status.ALREADY_EXISTS);
    host.mounts = [];
    host.add(target, 'fuse.glusterfs', '10.0.0.1:/default_gv1', false);
    expect(await grpcCode(service.nodePublishVolume(publish({ readonly: true })))).to.equal(status.ALREADY_EXISTS);
    expect(host.calls).to.deep.equal([]);
  });

  it('replaces a broken FUSE mount: plain umount refused, lazy umount, mount again', async () => {
    mkdirSync(target);
    host.add(target, 'fuse.glusterfs', '10.0.0.1:/default_gv1');
    host.health.set(target, { state: 'broken', reason: 'ENOTCONN' });
    host.failPlainUnmount = true;
    await service.nodePublishVolume(publish());
    expect(host.calls).to.deep.equal([`umount ${target}`, `umount -l ${target}`, `mount -t glusterfs -o backup-volfile-servers=10.0.0.2 10.0.0.1:/default_gv1 ${target}`]);
    expect(host.mounts.filter((m) => m.mountPoint === target)).to.have.length(1);
  });

  it('never lazily unmounts a healthy busy mount', async () => {
    await service.nodePublishVolume(publish());
    host.calls = [];
    host.failPlainUnmount = true;
    expect(await grpcCode(unpublish())).to.equal(status.INTERNAL);
    expect(host.calls).to.deep.equal([`umount ${target}`]);
    expect(existsSync(target)).to.equal(true);
  });

  it('unpublishes: unmounts every stacked mount of its volume, removes the dir and the record; a second call is OK', async () => {
    await service.nodePublishVolume(publish());
    host.add(target, 'fuse.glusterfs', '10.0.0.1:/default_gv1');
    await unpublish();
    expect(host.mounts).to.deep.equal([]);
    expect(existsSync(target)).to.equal(false);
    expect(host.records.size).to.equal(0);
    await unpublish();
  });

  it('refuses to delete a target that still holds files after unmounting', async () => {
    mkdirSync(target);
    writeFileSync(join(target, 'data'), 'x');
    expect(await grpcCode(unpublish())).to.equal(status.INTERNAL);
    expect(existsSync(join(target, 'data'))).to.equal(true);
  });

  it('unpublish leaves a foreign filesystem alone: FAILED_PRECONDITION, no umount, the directory stays', async () => {
    await service.nodePublishVolume(publish());
    host.mounts = [];
    host.add(target, 'tmpfs', 'tmpfs');
    expect(await grpcCode(unpublish())).to.equal(status.FAILED_PRECONDITION);
    // Our own glusterfs mount under a foreign one on top: the foreign one stops it before anything is unmounted.
    host.mounts = [];
    host.add(target, 'fuse.glusterfs', '10.0.0.1:/default_gv1');
    host.add(target, 'ext4', '/dev/sdb1');
    expect(await grpcCode(unpublish())).to.equal(status.FAILED_PRECONDITION);
    expect(host.calls.filter((c) => c.startsWith('umount'))).to.deep.equal([]);
    expect(existsSync(target)).to.equal(true);
  });

  it('unpublish leaves a glusterfs mount alone that it has no record of, or recorded for another volume', async () => {
    mkdirSync(target);
    host.add(target, 'fuse.glusterfs', '10.0.0.1:/default_gv1');
    const refused = await service.nodeUnpublishVolume({ volume_id: 'default/gv1', target_path: target }).catch((error: CsiError) => error);
    expect(refused).to.be.instanceOf(CsiError).and.to.have.property('code', status.FAILED_PRECONDITION);
    expect((refused as CsiError).message).to.contain('no record of publishing');
    await service.nodePublishVolume(publish());
    expect(await grpcCode(unpublish('default/other'))).to.equal(status.FAILED_PRECONDITION);
    // The record says gv1, the mount there is of another volume: not ours either.
    host.mounts = [];
    host.add(target, 'fuse.glusterfs', '10.0.0.1:/default_gv2');
    expect(await grpcCode(unpublish())).to.equal(status.FAILED_PRECONDITION);
    expect(host.calls.filter((c) => c.startsWith('umount'))).to.deep.equal([]);
  });

  it('refuses target paths outside <kubelet-dir>/pods/<uid>/volumes/kubernetes.io~csi/<name>/mount, naming the path and the rule', async () => {
    const hostile = [
      '/etc',
      '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/pv/mount',
      join(layout.kubeletDir, 'plugins', 'x', 'mount'),
      join(layout.kubeletDir, 'pods', 'uid', 'volumes', 'kubernetes.io~empty-dir', 'pv', 'mount'),
      join(layout.kubeletDir, 'pods', 'uid', 'volumes', 'kubernetes.io~csi', 'pv', 'mount', 'deeper'),
      join(layout.kubeletDir, 'pods', 'uid', 'volumes', 'kubernetes.io~csi', 'pv', 'other'),
      join(layout.kubeletDir, 'pods', 'u.id', 'volumes', 'kubernetes.io~csi', 'pv', 'mount'),
    ];
    for (const path of hostile) {
      const error = await service.nodePublishVolume(publish({ target_path: path })).catch((e: CsiError) => e);
      expect(error, path).to.be.instanceOf(CsiError).and.to.have.property('code', status.INVALID_ARGUMENT);
      expect((error as CsiError).message).to.contain(path).and.contain('kubernetes.io~csi/<volume name>/mount');
      expect(await grpcCode(unpublish('default/gv1', path)), path).to.equal(status.INVALID_ARGUMENT);
    }
    expect(host.calls).to.deep.equal([]);
    expect(existsSync('/etc/mount')).to.equal(false);
  });

  it('refuses a target whose directories lead out of the kubelet directory through a symlink', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'csi-outside-'));
    try {
      const podVolumes = join(layout.kubeletDir, 'pods', 'evil', 'volumes', 'kubernetes.io~csi');
      mkdirSync(podVolumes, { recursive: true });
      symlinkSync(outside, join(podVolumes, 'pv1'));
      const escaping = join(podVolumes, 'pv1', 'mount');
      expect(await grpcCode(service.nodePublishVolume(publish({ target_path: escaping })))).to.equal(status.INVALID_ARGUMENT);
      expect(existsSync(join(outside, 'mount'))).to.equal(false);
      mkdirSync(join(outside, 'mount'));
      expect(await grpcCode(unpublish('default/gv1', escaping))).to.equal(status.INVALID_ARGUMENT);
      expect(existsSync(join(outside, 'mount'))).to.equal(true);
      // The target itself a symlink.
      symlinkSync(outside, target);
      expect(await grpcCode(service.nodePublishVolume(publish()))).to.equal(status.INVALID_ARGUMENT);
      expect(host.calls).to.deep.equal([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('refuses to create the pod directories kubelet did not make (FAILED_PRECONDITION)', async () => {
    const orphan = join(layout.kubeletDir, 'pods', 'gone', 'volumes', 'kubernetes.io~csi', 'pv1', 'mount');
    expect(await grpcCode(service.nodePublishVolume(publish({ target_path: orphan })))).to.equal(status.FAILED_PRECONDITION);
    expect(existsSync(join(layout.kubeletDir, 'pods', 'gone'))).to.equal(false);
  });

  it('refuses hostile mount options and a volume_id that names another volume, before touching the host', async () => {
    const capability = (flags: string[]) => ({ mount: { fs_type: '', mount_flags: flags }, access_type: 'mount', access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } });
    for (const flag of ['log-file=/etc/cron.d/x', 'volume-id=other_volume', 'xlator-option=*.auth=off', 'user-map-root=0', 'server-port=1']) {
      const error = await service.nodePublishVolume(publish({ volume_capability: capability([flag]) })).catch((e: CsiError) => e);
      expect(error, flag).to.have.property('code', status.INVALID_ARGUMENT);
      expect((error as CsiError).message).to.contain(flag.split('=')[0]);
    }
    expect(await grpcCode(service.nodePublishVolume(publish({ volume_id: 'default/someone-else' })))).to.equal(status.INVALID_ARGUMENT);
    expect(host.calls).to.deep.equal([]);
    expect(existsSync(target)).to.equal(false);
  });

  it('serializes concurrent publishes of one target into one mount', async () => {
    await Promise.all([service.nodePublishVolume(publish()), service.nodePublishVolume(publish()), service.nodePublishVolume(publish())]);
    expect(host.calls.filter((c) => c.startsWith('mount'))).to.have.length(1);
  });

  it('reports bytes and inodes, and an abnormal condition for a broken mount', async () => {
    await service.nodePublishVolume(publish());
    const stats = await service.nodeGetVolumeStats({ volume_id: 'default/gv1', volume_path: target });
    expect(stats.usage).to.deep.equal([
      { unit: 'BYTES', total: String(4096 * 1000), available: String(4096 * 300), used: String(4096 * 600) },
      { unit: 'INODES', total: '500', available: '450', used: '50' },
    ]);
    expect(stats.volume_condition.abnormal).to.equal(false);
    host.health.set(target, { state: 'broken', reason: 'ENOTCONN: Transport endpoint is not connected' });
    const broken = await service.nodeGetVolumeStats({ volume_id: 'default/gv1', volume_path: target });
    expect(broken.volume_condition).to.deep.include({ abnormal: true });
    expect(broken.volume_condition.message).to.contain('not connected');
  });

  it('answers stats with NOT_FOUND, never INVALID_ARGUMENT, unless the path holds a mount of that volume it published', async () => {
    const stats = (volumeId: string, path: string) => grpcCode(service.nodeGetVolumeStats({ volume_id: volumeId, volume_path: path }));
    expect(await stats('default/gv1', target), 'missing').to.equal(status.NOT_FOUND);
    mkdirSync(target);
    expect(await stats('default/gv1', target), 'a plain directory').to.equal(status.NOT_FOUND);
    expect(await stats('default/gv1', join(layout.kubeletDir, 'elsewhere')), 'outside the kubelet layout').to.equal(status.NOT_FOUND);
    host.add(target, 'fuse.glusterfs', '10.0.0.1:/default_gv1');
    expect(await stats('default/gv1', target), 'a glusterfs mount without a record').to.equal(status.NOT_FOUND);
    host.mounts = [];
    await service.nodePublishVolume(publish());
    expect(await stats('default/other', target), 'published for another volume_id').to.equal(status.NOT_FOUND);
    host.health.set(target, { state: 'missing' });
    expect(await stats('default/gv1', target), 'the mount point vanished').to.equal(status.NOT_FOUND);
    host.mounts = [];
    host.add(target, 'tmpfs', 'tmpfs');
    expect(await stats('default/gv1', target), 'a foreign filesystem').to.equal(status.NOT_FOUND);
  });

  it('a hung mount blocks no other request: publishes complete while more stats calls hang than libuv has threads', async function () {
    this.timeout(20_000);
    const hung = ['h1', 'h2', 'h3', 'h4', 'h5'].map((pod) => layout.targetFor(pod));
    for (const path of hung) await service.nodePublishVolume(publish({ target_path: path }));
    // statfs of those paths hangs (as on a FUSE mount whose servers are gone); of others it answers.
    const hang = hangingStatfs(layout.kubeletDir);
    host.checkHealth = (path) => checkHealth(path, hung.includes(path) ? { timeoutMs: 4_000, command: hang.command } : {});
    let statsAnswered = 0;
    const stats = hung.map((path) =>
      service.nodeGetVolumeStats({ volume_id: 'default/gv1', volume_path: path }).then((answer) => {
        statsAnswered++;
        return answer;
      }),
    );
    const started = Date.now();
    // A new publish (real mkdir, realpath and lstat on libuv's pool) and a stats call of a healthy mount.
    const other = layout.targetFor('other');
    await service.nodePublishVolume(publish({ target_path: other }));
    expect((await service.nodeGetVolumeStats({ volume_id: 'default/gv1', volume_path: other })).volume_condition.abnormal).to.equal(false);
    expect(Date.now() - started).to.be.lessThan(3_000);
    expect(statsAnswered, 'the hung stats calls are still waiting').to.equal(0);
    for (const answer of await Promise.all(stats)) {
      expect(answer.volume_condition.abnormal).to.equal(true);
      expect(answer.volume_condition.message).to.contain('did not answer within 4000 ms');
    }
  });

  it('maps invalid requests to INVALID_ARGUMENT before touching the host', async () => {
    expect(await grpcCode(service.nodePublishVolume(publish({ volume_context: {} })))).to.equal(status.INVALID_ARGUMENT);
    expect(await grpcCode(service.nodeUnpublishVolume({ volume_id: 'x', target_path: '' }))).to.equal(status.INVALID_ARGUMENT);
    expect(host.calls).to.deep.equal([]);
  });

  describe('directory-mode PVs (volume_context.subdirectory)', () => {
    /** Directory pvc-x of the shared Gluster volume default_shared, as the PV of GlusterVolume default/pvc-x. */
    const directoryPublish = (subdirectory = 'pvc-x', path = target) =>
      publishRequest(path, {
        volume_id: `default/${subdirectory}`,
        volume_context: { mountSource: '10.0.0.1:default_shared', backupVolfileServers: '10.0.0.2', glusterVolumeName: 'default_shared', subdirectory },
      });
    const mountLine = (path: string, subdirectory = 'pvc-x') => `mount -t glusterfs -o backup-volfile-servers=10.0.0.2 10.0.0.1:/default_shared/${subdirectory} ${path}`;
    const stats = (volumeId = 'default/pvc-x') => service.nodeGetVolumeStats({ volume_id: volumeId, volume_path: target });
    /** The target holding only a glusterfs mount of `source` (the record, if any, stays as it is). */
    const mountedThere = (source: string) => {
      host.mounts = [];
      host.add(target, 'fuse.glusterfs', source);
    };

    it('mounts the directory alone and records it apart from mountSource', async () => {
      await service.nodePublishVolume(directoryPublish());
      expect(host.calls).to.deep.equal([mountLine(target)]);
      expect(host.records.get(target)!.volumeContext).to.deep.equal({
        mountSource: '10.0.0.1:/default_shared', backupVolfileServers: '10.0.0.2', glusterVolumeName: 'default_shared', subdirectory: 'pvc-x',
      });
    });

    it('a record replays to the same directory, also after a trip through the on-disk store', async () => {
      await service.nodePublishVolume(directoryPublish());
      const store = new PublishStore(join(layout.kubeletDir, 'published'));
      await store.save(host.records.get(target)!);
      const replayed = planPublish(requestOfRecord((await store.get(target))!), layout.kubeletDir);
      expect(replayed.spec.subdirectory).to.equal('pvc-x');
      expect(replayed.argv.join(' ')).to.equal(mountLine(target));
      expect(replayed.record).to.deep.equal(host.records.get(target));
    });

    it('reports stats of its mount, from any volfile server, and NOT_FOUND for the whole volume or another directory there', async () => {
      await service.nodePublishVolume(directoryPublish());
      expect((await stats()).volume_condition.abnormal).to.equal(false);
      mountedThere('10.0.0.2:default_shared/pvc-x');
      expect((await stats()).usage).to.have.length(2);
      for (const source of ['10.0.0.1:/default_shared', '10.0.0.1:/default_shared/pvc-y', '10.0.0.1:/other/pvc-x']) {
        mountedThere(source);
        expect(await grpcCode(stats()), source).to.equal(status.NOT_FOUND);
      }
    });

    it('unpublishes its mount; leaves the whole volume or another directory mounted there alone', async () => {
      await service.nodePublishVolume(directoryPublish());
      for (const source of ['10.0.0.1:/default_shared', '10.0.0.1:/default_shared/pvc-y']) {
        mountedThere(source);
        const refused = await unpublish('default/pvc-x').catch((error: CsiError) => error);
        expect(refused, source).to.be.instanceOf(CsiError).and.to.have.property('code', status.FAILED_PRECONDITION);
        expect((refused as CsiError).message).to.contain(`holds a glusterfs mount of ${source}, not of default_shared/pvc-x`);
      }
      expect(host.calls.filter((c) => c.startsWith('umount'))).to.deep.equal([]);
      mountedThere('10.0.0.1:/default_shared/pvc-x');
      await unpublish('default/pvc-x');
      expect(host.calls.at(-1)).to.equal(`umount ${target}`);
      expect(host.mounts).to.deep.equal([]);
      expect(host.records.size).to.equal(0);
      expect(existsSync(target)).to.equal(false);
    });

    it('a record without a directory (an earlier release\'s) is not taken for a mount of a directory', async () => {
      await service.nodePublishVolume(publishRequest(target));
      mountedThere('10.0.0.1:/default_gv1/pvc-x');
      expect(await grpcCode(service.nodeGetVolumeStats({ volume_id: 'default/gv1', volume_path: target }))).to.equal(status.NOT_FOUND);
      expect(await grpcCode(unpublish('default/gv1'))).to.equal(status.FAILED_PRECONDITION);
      mountedThere('10.0.0.1:/default_gv1');
      await unpublish('default/gv1');
      expect(host.mounts).to.deep.equal([]);
    });

    it('publish is idempotent for its directory, and ALREADY_EXISTS over the whole volume or another directory', async () => {
      mkdirSync(target);
      host.add(target, 'fuse.glusterfs', '10.0.0.2:/default_shared/pvc-x');
      await service.nodePublishVolume(directoryPublish());
      expect(host.calls).to.deep.equal([]);
      for (const source of ['10.0.0.1:/default_shared', '10.0.0.1:/default_shared/pvc-y']) {
        mountedThere(source);
        expect(await grpcCode(service.nodePublishVolume(directoryPublish())), source).to.equal(status.ALREADY_EXISTS);
      }
      expect(host.calls).to.deep.equal([]);
    });

    it('start-up recovery remounts a broken directory mount, and never over another directory', async () => {
      await service.nodePublishVolume(directoryPublish());
      host.health.set(target, { state: 'broken', reason: 'ENOTCONN' });
      host.calls = [];
      expect((await recoverPublishedMounts(host, silentLogger, { kubeletDir: layout.kubeletDir })).repaired).to.deep.equal([target]);
      expect(host.calls).to.deep.equal([`umount ${target}`, mountLine(target)]);
      // The record, valid on its own, says pvc-y; the broken mount there is of pvc-x.
      host.records.set(target, recordOfRequest(parseRequest(publishRequestSchema, directoryPublish('pvc-y'))));
      host.health.set(target, { state: 'broken', reason: 'ENOTCONN' });
      host.calls = [];
      expect((await recoverPublishedMounts(host, silentLogger, { kubeletDir: layout.kubeletDir })).invalid).to.deep.equal([target]);
      expect(host.calls).to.deep.equal([]);
    });
  });
});

describe('CSI Node service: TLS volumes', () => {
  const DIR = '/var/lib/gluster-operator/tls/gluster/prod';
  const SECRETS = { 'ca.crt': 'CA-PEM-material', 'tls.crt': 'CERT-PEM-material', 'tls.key': 'KEY-PEM-material' };
  let layout: ReturnType<typeof kubeletLayout>;
  let host: FakeHost;
  let service: NodeService;
  let target: string;
  let logged: string[];
  const tlsPublish = (secrets: Record<string, string> = SECRETS, tlsDir = DIR) =>
    publishRequest(target, {
      secrets,
      volume_context: { mountSource: '10.0.0.1:default_gv1', backupVolfileServers: '10.0.0.2', glusterVolumeName: 'default_gv1', tlsDir },
    });

  beforeEach(() => {
    layout = kubeletLayout();
    target = layout.targetFor('tls-pod');
    host = new FakeHost();
    logged = [];
    // Every log line as it would be written, to look for key material.
    const capture = new winston.transports.Stream({ stream: new (class extends Writable {
      override _write(chunk: Buffer, _encoding: string, done: () => void) {
        logged.push(chunk.toString());
        done();
      }
    })() });
    const capturing = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [capture] });
    service = new NodeService({ nodeId: 'node-a', kubeletDir: layout.kubeletDir, host, logger: capturing });
  });
  afterEach(() => layout.cleanup());

  it('writes the cluster\'s files into tlsDir before mounting', async () => {
    await service.nodePublishVolume(tlsPublish());
    expect(host.calls).to.deep.equal([`tls ${DIR}`, `mount -t glusterfs -o backup-volfile-servers=10.0.0.2 10.0.0.1:/default_gv1 ${target}`]);
    expect(host.tlsFiles.get(DIR)).to.deep.equal(SECRETS);
  });

  it('records tlsDir but never the secrets, and logs no key material', async () => {
    await service.nodePublishVolume(tlsPublish());
    const record = host.records.get(target)!;
    expect(record.volumeContext).to.deep.equal({ mountSource: '10.0.0.1:/default_gv1', backupVolfileServers: '10.0.0.2', glusterVolumeName: 'default_gv1', tlsDir: DIR });
    // The record as the plugin stores it on disk.
    const store = new PublishStore(join(layout.kubeletDir, 'published'));
    await store.save(record);
    const onDisk = readdirSync(store.dir).map((name) => readFileSync(join(store.dir, name), 'utf8')).join('\n');
    expect(logged.join('\n')).to.contain('TLS files in place');
    for (const shown of [JSON.stringify(record), onDisk, logged.join('\n')]) {
      for (const value of Object.values(SECRETS)) expect(shown).to.not.contain(value);
    }
  });

  it('refuses missing keys with INVALID_ARGUMENT before touching the host, naming them and nodePublishSecretRef', async () => {
    const { 'tls.crt': _crt, ...noCertificate } = SECRETS;
    for (const secrets of [{}, noCertificate, { ...SECRETS, 'tls.key': '' }]) {
      const failure = await service.nodePublishVolume(tlsPublish(secrets)).then(() => expect.fail('published'), (error: CsiError) => error);
      expect(failure.code).to.equal(status.INVALID_ARGUMENT);
      expect(failure.message).to.match(/^secrets: .*(tls\.crt|tls\.key|ca\.crt).* missing or empty/).and.contain('nodePublishSecretRef');
    }
    expect(host.calls).to.deep.equal([]);
    expect(existsSync(target)).to.equal(false);
  });

  it('refuses a tlsDir outside TLS_ROOT with INVALID_ARGUMENT before touching the host', async () => {
    for (const dir of ['/etc', '/var/lib/gluster-operator/tls/../x', '/var/lib/gluster-operator/tls/a/b/c']) {
      const failure = await service.nodePublishVolume(tlsPublish(SECRETS, dir)).then(() => expect.fail('published'), (error: CsiError) => error);
      expect(failure.code, dir).to.equal(status.INVALID_ARGUMENT);
      expect(failure.message, dir).to.contain('volume_context.tlsDir');
    }
    expect(host.calls).to.deep.equal([]);
  });

  it('ignores secrets without tlsDir: no files written', async () => {
    await service.nodePublishVolume(publishRequest(target, { secrets: SECRETS }));
    expect(host.calls).to.deep.equal([`mount -t glusterfs -o backup-volfile-servers=10.0.0.2 10.0.0.1:/default_gv1 ${target}`]);
    expect(host.tlsFiles.size).to.equal(0);
  });

  it('answers INTERNAL and does not mount when the files cannot be written; FAILED_PRECONDITION on a host without TLS support', async () => {
    host.failTlsWrite = true;
    const failure = await service.nodePublishVolume(tlsPublish()).then(() => expect.fail('published'), (error: CsiError) => error);
    expect(failure.code).to.equal(status.INTERNAL);
    expect(failure.message).to.contain(`writing the TLS files into ${DIR}: ENOSPC`);
    expect(host.calls).to.deep.equal([`tls ${DIR}`]);
    expect(host.records.size).to.equal(0);

    const bare: NodeHost = Object.assign(new FakeHost(), { writeTlsFiles: undefined });
    const without = new NodeService({ nodeId: 'node-a', kubeletDir: layout.kubeletDir, host: bare, logger });
    expect(await grpcCode(without.nodePublishVolume(tlsPublish()))).to.equal(status.FAILED_PRECONDITION);
  });

  it('unpublish leaves the files: other volumes of the cluster share them', async () => {
    await service.nodePublishVolume(tlsPublish());
    host.calls = [];
    await service.nodeUnpublishVolume({ volume_id: 'default/gv1', target_path: target });
    expect(host.calls).to.deep.equal([`umount ${target}`]);
    expect(host.tlsFiles.get(DIR)).to.deep.equal(SECRETS);
  });

  it('start-up recovery remounts a broken TLS mount from its record, without secrets (the files are on the host)', async () => {
    await service.nodePublishVolume(tlsPublish());
    host.health.set(target, { state: 'broken', reason: 'ENOTCONN' });
    host.calls = [];
    const report = await recoverPublishedMounts(host, silentLogger, { kubeletDir: layout.kubeletDir });
    expect(report.repaired).to.deep.equal([target]);
    expect(host.calls).to.deep.equal([`umount ${target}`, `mount -t glusterfs -o backup-volfile-servers=10.0.0.2 10.0.0.1:/default_gv1 ${target}`]);
    // A record edited to point tlsDir elsewhere is refused like a request would be.
    host.records.set(target, { ...host.records.get(target)!, volumeContext: { ...host.records.get(target)!.volumeContext, tlsDir: '/etc' } });
    host.health.set(target, { state: 'broken', reason: 'ENOTCONN' });
    host.calls = [];
    expect((await recoverPublishedMounts(host, silentLogger, { kubeletDir: layout.kubeletDir })).invalid).to.deep.equal([target]);
    expect(host.calls).to.deep.equal([]);
  });
});

describe('CSI start-up mount check', () => {
  let layout: ReturnType<typeof kubeletLayout>;
  beforeEach(() => (layout = kubeletLayout()));
  afterEach(() => layout.cleanup());

  const recordFor = (target: string, overrides: Record<string, unknown> = {}): PublishRecord =>
    recordOfRequest(parseRequest(publishRequestSchema, publishRequest(target, overrides)));

  it('keeps healthy mounts, remounts broken ones with an argv rebuilt from the record, forgets unmounted ones', async () => {
    const host = new FakeHost();
    const [ok, broken, gone] = ['ok', 'broken', 'gone'].map((pod) => layout.targetFor(pod)) as [string, string, string];
    for (const t of [ok, broken, gone]) host.records.set(t, recordFor(t));
    host.add(ok, 'fuse.glusterfs', '10.0.0.1:/default_gv1');
    host.add(broken, 'fuse.glusterfs', '10.0.0.1:/default_gv1');
    host.health.set(broken, { state: 'broken', reason: 'ENOTCONN' });
    const report = await recoverPublishedMounts(host, silentLogger, { kubeletDir: layout.kubeletDir });
    expect(report).to.deep.equal({ healthy: [ok], repaired: [broken], failed: [], forgotten: [gone], invalid: [] });
    expect(host.calls).to.deep.equal([`umount ${broken}`, `mount -t glusterfs -o backup-volfile-servers=10.0.0.2 10.0.0.1:/default_gv1 ${broken}`]);
    expect([...host.records.keys()].sort()).to.deep.equal([broken, ok].sort());
  });

  it('never mounts from a record a fresh request could not make: hostile options, paths or volume ids are skipped', async () => {
    const host = new FakeHost();
    const target = layout.targetFor('tampered');
    const valid = recordFor(target);
    const tampered: PublishRecord[] = [
      { ...valid, mountFlags: ['log-file=/etc/cron.d/evil'] },
      { ...valid, targetPath: '/etc', volumeId: valid.volumeId },
      { ...valid, volumeId: 'default/another' },
      // Valid on its own, but the broken mount there is of another volume: not the plugin's to replace.
      { ...valid, volumeId: 'default/gv2', volumeContext: { mountSource: '10.0.0.1:default_gv2', glusterVolumeName: 'default_gv2' } },
    ];
    for (const record of tampered) {
      host.records.clear();
      host.mounts = [];
      host.calls = [];
      host.records.set(record.targetPath, record);
      host.add(record.targetPath, 'fuse.glusterfs', '10.0.0.1:/default_gv1');
      host.health.set(record.targetPath, { state: 'broken', reason: 'ENOTCONN' });
      const report = await recoverPublishedMounts(host, silentLogger, { kubeletDir: layout.kubeletDir });
      expect(report.invalid, JSON.stringify(record)).to.deep.equal([record.targetPath]);
      expect(host.calls, JSON.stringify(record)).to.deep.equal([]);
    }
  });
});
