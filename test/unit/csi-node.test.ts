import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import winston from 'winston';
import { CsiError } from '../../src/csi/errors.ts';
import type { MountHealth } from '../../src/csi/mounter.ts';
import type { MountEntry } from '../../src/csi/mountinfo.ts';
import { NodeService, type NodeHost } from '../../src/csi/node.ts';
import { recoverPublishedMounts } from '../../src/csi/recovery.ts';
import type { PublishRecord } from '../../src/csi/state.ts';

const logger = winston.createLogger({ silent: true });

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
  async saveRecord(record: PublishRecord) {
    this.records.set(record.targetPath, record);
  }
  async removeRecord(targetPath: string) {
    this.records.delete(targetPath);
  }
  async listRecords() {
    return [...this.records.values()];
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

describe('CSI Node service', () => {
  let dir: string;
  let host: FakeHost;
  let service: NodeService;
  let target: string;
  const publish = (overrides: Record<string, unknown> = {}) => ({
    volume_id: 'default/gv1',
    target_path: target,
    volume_capability: { mount: { fs_type: '', mount_flags: [] }, access_type: 'mount', access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } },
    readonly: false,
    volume_context: { mountSource: '10.0.0.1:default_gv1', backupVolfileServers: '10.0.0.2', glusterVolumeName: 'default_gv1' },
    ...overrides,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'csi-node-unit-'));
    target = join(dir, 'pod', 'volumes', 'pv', 'mount');
    mkdirSync(join(dir, 'pod', 'volumes', 'pv'), { recursive: true });
    host = new FakeHost();
    service = new NodeService({ nodeId: 'node-a', host, logger });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports node id and capabilities without staging', () => {
    expect(service.nodeGetInfo()).to.deep.equal({ node_id: 'node-a' });
    const types = service.nodeGetCapabilities().capabilities.map((c) => c.rpc.type);
    expect(types).to.include('GET_VOLUME_STATS').and.not.include('STAGE_UNSTAGE_VOLUME');
  });

  it('creates the target, mounts, and records the publish', async () => {
    await service.nodePublishVolume(publish());
    expect(existsSync(target)).to.equal(true);
    expect(host.calls).to.deep.equal([`mount -t glusterfs -o backup-volfile-servers=10.0.0.2 10.0.0.1:/default_gv1 ${target}`]);
    expect(host.records.get(target)).to.deep.include({ volumeId: 'default/gv1', readOnly: false });
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
    mkdirSync(target);
    host.add(target, 'fuse.glusterfs', '10.0.0.1:/default_gv1');
    host.failPlainUnmount = true;
    expect(await grpcCode(service.nodeUnpublishVolume({ volume_id: 'default/gv1', target_path: target }))).to.equal(status.INTERNAL);
    expect(host.calls).to.deep.equal([`umount ${target}`]);
    expect(existsSync(target)).to.equal(true);
  });

  it('unpublishes: unmounts every stacked mount, removes the dir and the record; a second call is OK', async () => {
    await service.nodePublishVolume(publish());
    host.add(target, 'fuse.glusterfs', '10.0.0.1:/default_gv1');
    await service.nodeUnpublishVolume({ volume_id: 'default/gv1', target_path: target });
    expect(host.mounts).to.deep.equal([]);
    expect(existsSync(target)).to.equal(false);
    expect(host.records.size).to.equal(0);
    await service.nodeUnpublishVolume({ volume_id: 'default/gv1', target_path: target });
  });

  it('refuses to delete a target that still holds files after unmounting', async () => {
    mkdirSync(target);
    writeFileSync(join(target, 'data'), 'x');
    expect(await grpcCode(service.nodeUnpublishVolume({ volume_id: 'default/gv1', target_path: target }))).to.equal(status.INTERNAL);
    expect(existsSync(join(target, 'data'))).to.equal(true);
  });

  it('serializes concurrent publishes of one target into one mount', async () => {
    await Promise.all([service.nodePublishVolume(publish()), service.nodePublishVolume(publish()), service.nodePublishVolume(publish())]);
    expect(host.calls.filter((c) => c.startsWith('mount'))).to.have.length(1);
  });

  it('reports bytes and inodes, an abnormal condition for a broken mount, NOT_FOUND otherwise', async () => {
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
    expect(await grpcCode(service.nodeGetVolumeStats({ volume_id: 'default/gv1', volume_path: join(dir, 'missing') }))).to.equal(status.NOT_FOUND);
    mkdirSync(join(dir, 'plain'));
    expect(await grpcCode(service.nodeGetVolumeStats({ volume_id: 'default/gv1', volume_path: join(dir, 'plain') }))).to.equal(status.NOT_FOUND);
  });

  it('maps invalid requests to INVALID_ARGUMENT before touching the host', async () => {
    expect(await grpcCode(service.nodePublishVolume(publish({ volume_context: {} })))).to.equal(status.INVALID_ARGUMENT);
    expect(await grpcCode(service.nodeUnpublishVolume({ volume_id: 'x', target_path: '' }))).to.equal(status.INVALID_ARGUMENT);
    expect(host.calls).to.deep.equal([]);
  });
});

describe('CSI start-up mount check', () => {
  it('keeps healthy mounts, remounts broken ones with the recorded argv, forgets unmounted ones', async () => {
    const host = new FakeHost();
    const argv = (t: string) => ['mount', '-t', 'glusterfs', '10.0.0.1:/v', t];
    for (const t of ['/ok', '/broken', '/gone']) host.records.set(t, { volumeId: 'ns/v', targetPath: t, mountArgv: argv(t), readOnly: false });
    host.add('/ok', 'fuse.glusterfs', '10.0.0.1:/v');
    host.add('/broken', 'fuse.glusterfs', '10.0.0.1:/v');
    host.health.set('/broken', { state: 'broken', reason: 'ENOTCONN' });
    const report = await recoverPublishedMounts(host, logger);
    expect(report).to.deep.equal({ healthy: ['/ok'], repaired: ['/broken'], failed: [], forgotten: ['/gone'] });
    expect(host.calls).to.deep.equal(['umount /broken', argv('/broken').join(' ')]);
    expect([...host.records.keys()].sort()).to.deep.equal(['/broken', '/ok']);
  });
});
