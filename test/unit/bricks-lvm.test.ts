import { expect } from 'chai';
import { LvmBrickBackend, thinPoolSizing, type BrickRecord } from '../../src/bricks/index.ts';
import { NodeCommandError } from '../../src/gluster/errors.ts';
import { ClusterExecutor, GlusterCommandError } from '../../src/gluster/executor.ts';
import { MutationQueue } from '../../src/gluster/mutation-queue.ts';
import { FakeTransport, failed, fixture, has, node1, ok } from './gluster-fake-transport.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const EXTENT = 4 * MiB;

/** An lvs report in the captured format (the test bed cannot create LVs: no device-mapper). */
function lvsReport(rows: { name: string; attr: string; size: number; pool?: string; thinCount?: number; metadataSize?: number }[]): string {
  const lv = rows.map((r) => ({
    lv_name: r.name, vg_name: 'vg_dev1', lv_uuid: `uuid-${r.name}`, lv_attr: r.attr, lv_size: String(r.size), pool_lv: r.pool ?? '',
    data_percent: '0.00', metadata_percent: r.attr.startsWith('t') ? '10.00' : '', lv_metadata_size: r.metadataSize ? String(r.metadataSize) : '',
    thin_count: r.thinCount === undefined ? '' : String(r.thinCount), lv_dm_path: `/dev/mapper/vg_dev1-${r.name}`,
  }));
  return JSON.stringify({ report: [{ lv }] });
}
const vgsDev1 = fixture('lvm/vgs.json').replaceAll('vg_t3a_fixture', 'vg_dev1');
const pvsDev1 = fixture('lvm/pvs.json').replaceAll('vg_t3a_fixture', 'vg_dev1');
const blank = '{\n   "signatures": [\n\n   ]\n}\n';
const xfsSignature = JSON.stringify({ signatures: [{ device: 'vg_dev1-brick_b1', offset: '0x0', type: 'xfs', uuid: 'x', label: null }] });

const loopIdentity = 'kname:/dev/loop0:4294967296';
/** readlink -f and lsblk of a disk: what every prepareDevice asks first. */
function withDisk(transport: FakeTransport, resolved = '/dev/loop0', lsblk = fixture('lvm/lsblk-loop.json')): FakeTransport {
  return transport.reply(has('readlink'), ok(`${resolved}\n`)).reply(has('lsblk'), ok(lsblk));
}
const destructive = (transport: FakeTransport) => transport.argvs().filter((a) => ['wipefs', 'pvcreate', 'vgcreate'].includes(a[0]!) && !a.includes('--json'));

/** A node on which a brick is created from scratch: empty VG, no file system, not mounted. */
export function newBrickTransport(): FakeTransport {
  return new FakeTransport()
    .reply(has('vgs'), ok(vgsDev1))
    .reply(has('lvs'), ok(fixture('lvm/lvs-empty-vg.json')))
    .reply(has('lvcreate'), ok(''))
    .reply(has('wipefs', '--json'), ok(''))
    .reply(has('mkfs.xfs'), ok(''))
    .reply(has('mkdir'), ok(''))
    .reply(has('findmnt'), failed(1, ''))
    .reply(has('mount'), ok(''))
    .reply(has('install'), ok(''));
}

export function backend(transport: FakeTransport) {
  const executor = new ClusterExecutor({ transport, queue: new MutationQueue(), clusterKey: 'c' });
  return new LvmBrickBackend(executor, { mountRoot: '/var/lib/heketi/mounts' });
}

describe('bricks: heketi thin pool sizing', () => {
  it('thin pool = size × snapshot factor, metadata = 0.5% clamped to 16 GiB, both extent aligned', () => {
    expect(thinPoolSizing(GiB, 1, EXTENT)).to.deep.equal({ thinPoolSizeBytes: GiB, poolMetadataSizeBytes: 8 * MiB, totalBytes: GiB + 8 * MiB });
    // 100 GiB × 1.5 = 150 GiB; 0.5% = 768 MiB exactly.
    expect(thinPoolSizing(100 * GiB, 1.5, EXTENT)).to.include({ thinPoolSizeBytes: 150 * GiB, poolMetadataSizeBytes: 768 * MiB });
    // 4 TiB × 2 = 8 TiB; 0.5% = 40.96 GiB, clamped to 16 GiB.
    expect(thinPoolSizing(4 * 1024 * GiB, 2, EXTENT).poolMetadataSizeBytes).to.equal(16 * GiB);
    // 201 KiB-extent oddities round up to whole extents.
    expect(thinPoolSizing(GiB + 1024, 1, EXTENT).thinPoolSizeBytes).to.equal(GiB + EXTENT);
    expect(() => thinPoolSizing(GiB, 0.5, EXTENT)).to.throw(/snapshot factor/);
  });
});

describe('bricks: LVM backend, exact command sequences against captured outputs', () => {
  it('prepareDevice on a blank device: observe, pvcreate, vgcreate (no wipefs --all without destroyData)', async () => {
    let pvCreated = false;
    const transport = withDisk(new FakeTransport())
      .reply(has('pvs'), () => ok(pvCreated ? fixture('lvm/pvs.json').replaceAll('vg_t3a_fixture', '') : fixture('lvm/pvs-empty.json')))
      .reply(has('wipefs', '--json'), ok(blank))
      .reply(has('pvcreate'), () => ((pvCreated = true), ok(fixture('lvm/pvcreate.stdout.txt'))))
      .reply(has('vgs'), ok(fixture('lvm/pvs-empty.json').replace('"pv"', '"vg"')), 1)
      .reply(has('vgcreate'), ok(fixture('lvm/vgcreate.stdout.txt')))
      .reply(has('vgs'), ok(vgsDev1));
    const prepared = await backend(transport).prepareDevice(node1, { path: '/dev/loop0', id: 'dev1' });
    expect(prepared).to.deep.equal({ location: 'vg_dev1', sizeBytes: 4156555264, freeBytes: 4156555264, extentSizeBytes: EXTENT, identity: loopIdentity });
    expect(transport.argvs().map((a) => a[0])).to.deep.equal(['readlink', 'lsblk', 'pvs', 'wipefs', 'pvcreate', 'vgs', 'vgcreate', 'vgs']);
    expect(transport.argvs().slice(0, 2)).to.deep.equal([['readlink', '-f', '/dev/loop0'], ['lsblk', '--json', '--bytes', '--nodeps', '-o', 'NAME,WWN,SERIAL,KNAME,SIZE', '/dev/loop0']]);
    expect(transport.argvs()[4]).to.deep.equal(['pvcreate', '--metadatasize=128M', '--dataalignment=256K', '/dev/loop0']);
    expect(transport.argvs()[6]).to.deep.equal(['vgcreate', '--autobackup=n', '--physicalextentsize=4M', 'vg_dev1', '/dev/loop0']);
  });

  it('prepareDevice is idempotent: PV and VG present → observation only', async () => {
    const transport = withDisk(new FakeTransport()).reply(has('pvs'), ok(pvsDev1)).reply(has('vgs'), ok(vgsDev1));
    await backend(transport).prepareDevice(node1, { path: '/dev/loop0', id: 'dev1' });
    expect(transport.argvs().map((a) => a[0])).to.deep.equal(['readlink', 'lsblk', 'pvs', 'vgs']);
  });

  it('prepareDevice refuses a device with signatures unless destroyData, and then wipes with --all', async () => {
    const dirty = JSON.stringify({ signatures: [{ device: 'loop0', offset: '0x438', type: 'ext4', uuid: 'u', label: null }] });
    const refuse = withDisk(new FakeTransport()).reply(has('pvs'), ok(fixture('lvm/pvs-empty.json'))).reply(has('wipefs', '--json'), ok(dirty));
    const error = await backend(refuse).prepareDevice(node1, { path: '/dev/loop0', id: 'dev1' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(NodeCommandError).with.property('errorClass', 'permanent');
    expect(refuse.argvs().some((a) => a.includes('--all'))).to.equal(false);

    const wipe = withDisk(new FakeTransport())
      .reply(has('pvs'), ok(fixture('lvm/pvs-empty.json')))
      .reply(has('wipefs', '--json'), ok(dirty))
      .reply(has('wipefs', '--all'), ok(''))
      .reply(has('pvcreate'), ok(''))
      .reply(has('vgs'), ok(vgsDev1));
    const records: unknown[] = [];
    await backend(wipe).prepareDevice(node1, { path: '/dev/loop0', id: 'dev1', destroyData: true, record: async (update) => void records.push({ update, calls: wipe.argvs().length }) });
    expect(wipe.argvs()).to.deep.include(['wipefs', '--all', '/dev/loop0']);
    // wipedIdentity is handed over right after wipefs --all (call 5), before pvcreate runs.
    const wipeAt = wipe.argvs().findIndex((a) => a.includes('--all')) + 1;
    expect(records).to.deep.include({ update: { identity: loopIdentity, wipedIdentity: loopIdentity }, calls: wipeAt });
  });

  const dirty = JSON.stringify({ signatures: [{ device: 'sdb', offset: '0x438', type: 'ext4', uuid: 'u', label: null }] });
  const disk = fixture('lvm/lsblk-disk.json');

  it('destroyData wipes an identity once: a second pass finding data again is refused AlreadyWiped, no wipefs --all nor pvcreate', async () => {
    const transport = withDisk(new FakeTransport(), '/dev/sdb', disk).reply(has('pvs'), ok(fixture('lvm/pvs-empty.json'))).reply(has('wipefs', '--json'), ok(dirty));
    const recorded = { identity: 'wwn:0x5000c500a1b2c3d4', wipedIdentity: 'wwn:0x5000c500a1b2c3d4' };
    const error = await backend(transport).prepareDevice(node1, { path: '/dev/sdb', id: 'dev1', destroyData: true, recorded }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(NodeCommandError).with.property('message').that.contains('AlreadyWiped');
    expect(destructive(transport)).to.deep.equal([]);
  });

  it('a path now naming another disk (reordered /dev/sdX) is refused IdentityChanged before wipefs is even asked', async () => {
    const transport = withDisk(new FakeTransport(), '/dev/sdb', disk).reply(has('pvs'), ok(fixture('lvm/pvs-empty.json')));
    const error = await backend(transport)
      .prepareDevice(node1, { path: '/dev/sdb', id: 'dev1', destroyData: true, recorded: { identity: 'wwn:0x5000c500ffffffff' } })
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(NodeCommandError).with.property('message').that.contains('IdentityChanged').and.contains('wwn:0x5000c500ffffffff').and.contains('wwn:0x5000c500a1b2c3d4');
    expect(transport.argvs().map((a) => a[0])).to.deep.equal(['readlink', 'lsblk', 'pvs']);
    expect(destructive(transport)).to.deep.equal([]);
  });

  it('a /dev/disk/by-id path resolving to the operator PV (pvs lists it as /dev/loop0) is its own: Ready, nothing created', async () => {
    const byId = '/dev/disk/by-id/virtio-gluster-dev1';
    const transport = withDisk(new FakeTransport()).reply(has('pvs'), ok(pvsDev1)).reply(has('vgs'), ok(vgsDev1));
    const prepared = await backend(transport).prepareDevice(node1, { path: byId, id: 'dev1', destroyData: true });
    expect(prepared).to.include({ location: 'vg_dev1', identity: `by-id:${byId}` });
    expect(transport.argvs().map((a) => a[0])).to.deep.equal(['readlink', 'lsblk', 'pvs', 'vgs']);
    expect(transport.argvs()[0]).to.deep.equal(['readlink', '-f', byId]);
  });

  it('createBrick: thin pool, thin LV, mkfs.xfs, mount, brick dir with group and mode 2775 — in that order', async () => {
    const transport = newBrickTransport();
    const record = await backend(transport).createBrick(node1, { id: 'b1', sizeBytes: GiB, location: 'vg_dev1', gid: 2001, snapshotFactor: 1 });
    const mountPoint = '/var/lib/heketi/mounts/vg_dev1/brick_b1';
    expect(transport.argvs()).to.deep.equal([
      ['vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,vg_uuid,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,pv_count,lv_count', 'vg_dev1'],
      ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'lv_name,vg_name,lv_uuid,lv_attr,lv_size,pool_lv,data_percent,metadata_percent,lv_metadata_size,thin_count,lv_dm_path', 'vg_dev1'],
      ['lvcreate', '--autobackup=n', '--yes', '--poolmetadatasize', '8192k', '--chunksize', '256K', '--size', '1048576k', '--thin', 'vg_dev1/tp_b1'],
      ['lvcreate', '--autobackup=n', '--yes', '--thin', '--virtualsize', '1048576k', '--name', 'brick_b1', 'vg_dev1/tp_b1'],
      ['wipefs', '--json', '/dev/vg_dev1/brick_b1'],
      ['mkfs.xfs', '-i', 'size=512', '-n', 'size=8192', '/dev/vg_dev1/brick_b1'],
      ['mkdir', '-p', mountPoint],
      ['findmnt', '--json', '-o', 'SOURCE,TARGET,FSTYPE,OPTIONS', '--mountpoint', mountPoint],
      ['mount', '-t', 'xfs', '-o', 'rw,inode64,noatime,nouuid', '/dev/vg_dev1/brick_b1', mountPoint],
      ['install', '-d', '-m', '2775', '-g', '2001', `${mountPoint}/brick`],
    ]);
    expect(record).to.deep.include({ path: `${mountPoint}/brick`, backend: 'LVM', gid: 2001 });
    expect(record.mount).to.deep.equal({ source: '/dev/vg_dev1/brick_b1', target: mountPoint, fstype: 'xfs', options: 'rw,inode64,noatime,nouuid' });
    expect(record.lvm).to.deep.equal({ vg: 'vg_dev1', thinPool: 'tp_b1', lv: 'brick_b1', thinPoolSizeBytes: GiB, poolMetadataSizeBytes: 8 * MiB });
  });

  it('createBrick resumes a half-done create: LVs exist, XFS present, mounted → observations and idempotent mkdir -p only', async () => {
    const mountPoint = '/var/lib/heketi/mounts/vg_dev1/brick_b1';
    const transport = new FakeTransport()
      .reply(has('vgs'), ok(vgsDev1))
      .reply(has('lvs'), ok(lvsReport([{ name: 'tp_b1', attr: 'twi-aotz--', size: GiB, thinCount: 1, metadataSize: 8 * MiB }, { name: 'brick_b1', attr: 'Vwi-aotz--', size: GiB, pool: 'tp_b1' }])))
      .reply(has('wipefs', '--json'), ok(xfsSignature))
      .reply(has('mkdir'), ok(''))
      .reply(has('findmnt'), ok(JSON.stringify({ filesystems: [{ source: '/dev/mapper/vg_dev1-brick_b1', target: mountPoint, fstype: 'xfs', options: 'rw,noatime,nouuid' }] })))
    await backend(transport).createBrick(node1, { id: 'b1', sizeBytes: GiB, location: 'vg_dev1' });
    expect(transport.argvs().map((a) => a[0])).to.deep.equal(['vgs', 'lvs', 'wipefs', 'mkdir', 'findmnt', 'mkdir']);
  });

  it('surfaces the real "no device-mapper" lvcreate failure as a permanent error with stderr', async () => {
    const transport = new FakeTransport()
      .reply(has('vgs'), ok(vgsDev1))
      .reply(has('lvs'), ok(fixture('lvm/lvs-empty-vg.json')))
      .reply(has('lvcreate'), failed(3, fixture('lvm/lvcreate-thinpool.stderr.txt')));
    const error = (await backend(transport).createBrick(node1, { id: 'b1', sizeBytes: GiB, location: 'vg_dev1' }).catch((e: unknown) => e)) as GlusterCommandError;
    expect(error).to.be.instanceOf(GlusterCommandError);
    expect(error).to.include({ errorClass: 'permanent', reason: 'device-mapper-missing', exitCode: 3 });
    expect(error.stderr).to.contain('thin-pool: Required device-mapper target(s) not detected');
  });

  const record: BrickRecord = {
    id: 'b1', backend: 'LVM', path: '/var/lib/heketi/mounts/vg_dev1/brick_b1/brick', sizeBytes: GiB, location: 'vg_dev1', gid: null,
    mount: { source: '/dev/vg_dev1/brick_b1', target: '/var/lib/heketi/mounts/vg_dev1/brick_b1', fstype: 'xfs', options: 'rw,inode64,noatime,nouuid' },
    lvm: { vg: 'vg_dev1', thinPool: 'tp_b1', lv: 'brick_b1', thinPoolSizeBytes: GiB, poolMetadataSizeBytes: 8 * MiB },
  };

  it('deleteBrick: umount, lvremove LV, lvremove the now empty pool, rmdir', async () => {
    const mountPoint = record.mount!.target;
    const transport = new FakeTransport()
      .reply(has('findmnt'), ok(JSON.stringify({ filesystems: [{ source: '/dev/mapper/vg_dev1-brick_b1', target: mountPoint, fstype: 'xfs', options: 'rw' }] })))
      .reply(has('umount'), ok(''))
      .reply(has('lvs'), ok(lvsReport([{ name: 'tp_b1', attr: 'twi-aotz--', size: GiB, thinCount: 1 }, { name: 'brick_b1', attr: 'Vwi-aotz--', size: GiB, pool: 'tp_b1' }])), 1)
      .reply(has('lvs'), ok(lvsReport([{ name: 'tp_b1', attr: 'twi-aotz--', size: GiB, thinCount: 0 }])))
      .reply(has('lvremove'), ok(''))
      .reply(has('stat'), ok('directory|0|0|755|6\n'))
      .reply(has('rmdir'), ok(''));
    await backend(transport).deleteBrick(node1, record);
    expect(transport.argvs().filter((a) => !['lvs', 'findmnt', 'stat'].includes(a[0]!))).to.deep.equal([
      ['umount', mountPoint],
      ['lvremove', '--autobackup=n', '--force', 'vg_dev1/brick_b1'],
      ['lvremove', '--autobackup=n', '--force', 'vg_dev1/tp_b1'],
      ['rmdir', mountPoint],
    ]);
  });

  it('deleteBrick of a brick already gone completes without errors (no orphan surgery)', async () => {
    const transport = new FakeTransport()
      .reply(has('findmnt'), failed(1, ''))
      .reply(has('lvs'), ok(fixture('lvm/lvs-empty-vg.json')))
      .reply(has('stat'), failed(1, ''));
    await backend(transport).deleteBrick(node1, record);
    expect(transport.argvs().map((a) => a[0])).to.deep.equal(['findmnt', 'lvs', 'stat']);
  });

  it('growBrick: extend pool metadata, pool, thin LV, then xfs_growfs', async () => {
    const transport = new FakeTransport()
      .reply(has('vgs'), ok(vgsDev1))
      .reply(has('lvs'), ok(lvsReport([{ name: 'tp_b1', attr: 'twi-aotz--', size: GiB, thinCount: 1, metadataSize: 8 * MiB }, { name: 'brick_b1', attr: 'Vwi-aotz--', size: GiB, pool: 'tp_b1' }])))
      .reply(has('lvextend'), ok(''))
      .reply(has('mkdir'), ok(''))
      .reply(has('findmnt'), ok(JSON.stringify({ filesystems: [{ source: '/dev/mapper/vg_dev1-brick_b1', target: record.mount!.target, fstype: 'xfs', options: 'rw' }] })))
      .reply(has('xfs_growfs'), ok(''));
    const grown = await backend(transport).growBrick(node1, record, 4 * GiB);
    expect(transport.argvs().filter((a) => ['lvextend', 'xfs_growfs'].includes(a[0]!))).to.deep.equal([
      ['lvextend', '--autobackup=n', '--poolmetadatasize', '24576k', 'vg_dev1/tp_b1'],
      ['lvextend', '--autobackup=n', '--size', '4194304k', 'vg_dev1/tp_b1'],
      ['lvextend', '--autobackup=n', '--size', '4194304k', 'vg_dev1/brick_b1'],
      ['xfs_growfs', record.mount!.target],
    ]);
    expect(grown.sizeBytes).to.equal(4 * GiB);
    expect(grown.lvm!.poolMetadataSizeBytes).to.equal(24 * MiB);
  });
});

describe('bricks: LVM createBrick grows a brick whose LV is smaller than asked (the in-place growth, resumable)', () => {
  const mountPoint = '/var/lib/heketi/mounts/vg_dev1/brick_b1';
  const mounted = JSON.stringify({ filesystems: [{ source: '/dev/mapper/vg_dev1-brick_b1', target: mountPoint, fstype: 'xfs', options: 'rw,noatime,nouuid' }] });
  /** An existing, mounted, formatted brick whose pool and thin LV lvs reports as given. */
  function existingBrick(pool: { size: number; metadataSize: number }, thinSize: number): FakeTransport {
    return new FakeTransport()
      .reply(has('vgs'), ok(vgsDev1))
      .reply(has('lvs'), ok(lvsReport([{ name: 'tp_b1', attr: 'twi-aotz--', size: pool.size, thinCount: 1, metadataSize: pool.metadataSize }, { name: 'brick_b1', attr: 'Vwi-aotz--', size: thinSize, pool: 'tp_b1' }])))
      .reply(has('lvextend'), ok(''))
      .reply(has('wipefs', '--json'), ok(xfsSignature))
      .reply(has('mkdir'), ok(''))
      .reply(has('findmnt'), ok(mounted))
      .reply(has('xfs_growfs'), ok(''));
  }
  const changes = (transport: FakeTransport) => transport.argvs().filter((a) => !['vgs', 'lvs', 'wipefs', 'mkdir', 'findmnt'].includes(a[0]!));

  it('LV smaller than the request: pool metadata, pool, thin LV extended in that order, then (once mounted) xfs_growfs; the record tells the new pool', async () => {
    const transport = existingBrick({ size: GiB, metadataSize: 8 * MiB }, GiB);
    const record = await backend(transport).createBrick(node1, { id: 'b1', sizeBytes: 4 * GiB, location: 'vg_dev1', snapshotFactor: 1 });
    expect(changes(transport)).to.deep.equal([
      ['lvextend', '--autobackup=n', '--poolmetadatasize', '24576k', 'vg_dev1/tp_b1'],
      ['lvextend', '--autobackup=n', '--size', '4194304k', 'vg_dev1/tp_b1'],
      ['lvextend', '--autobackup=n', '--size', '4194304k', 'vg_dev1/brick_b1'],
      ['xfs_growfs', mountPoint],
    ]);
    // xfs_growfs after findmnt said the brick is mounted (it grows a mounted file system only).
    const order = transport.argvs().map((a) => a[0]);
    expect(order.lastIndexOf('findmnt')).to.be.below(order.indexOf('xfs_growfs'));
    expect(record.sizeBytes).to.equal(4 * GiB);
    expect(record.lvm).to.deep.equal({ vg: 'vg_dev1', thinPool: 'tp_b1', lv: 'brick_b1', thinPoolSizeBytes: 4 * GiB, poolMetadataSizeBytes: 24 * MiB });
  });

  it('the snapshot factor sizes the grown pool: 2 GiB at factor 1.5 is a 3 GiB pool', async () => {
    const transport = existingBrick({ size: 1536 * MiB, metadataSize: 8 * MiB }, GiB);
    await backend(transport).createBrick(node1, { id: 'b1', sizeBytes: 2 * GiB, location: 'vg_dev1', snapshotFactor: 1.5 });
    expect(changes(transport)).to.deep.equal([
      ['lvextend', '--autobackup=n', '--poolmetadatasize', '16384k', 'vg_dev1/tp_b1'],
      ['lvextend', '--autobackup=n', '--size', '3145728k', 'vg_dev1/tp_b1'],
      ['lvextend', '--autobackup=n', '--size', '2097152k', 'vg_dev1/brick_b1'],
      ['xfs_growfs', mountPoint],
    ]);
  });

  it('a growth interrupted after the pool was extended: the next ensure extends the thin LV only, then xfs_growfs', async () => {
    const transport = existingBrick({ size: 4 * GiB, metadataSize: 24 * MiB }, GiB);
    await backend(transport).createBrick(node1, { id: 'b1', sizeBytes: 4 * GiB, location: 'vg_dev1', snapshotFactor: 1 });
    expect(changes(transport)).to.deep.equal([
      ['lvextend', '--autobackup=n', '--size', '4194304k', 'vg_dev1/brick_b1'],
      ['xfs_growfs', mountPoint],
    ]);
  });

  it('LV at the requested size: no lvextend, no xfs_growfs (the ensure every pass runs changes nothing)', async () => {
    const transport = existingBrick({ size: 4 * GiB, metadataSize: 24 * MiB }, 4 * GiB);
    const record = await backend(transport).createBrick(node1, { id: 'b1', sizeBytes: 4 * GiB, location: 'vg_dev1', snapshotFactor: 1 });
    expect(transport.argvs().map((a) => a[0])).to.deep.equal(['vgs', 'lvs', 'wipefs', 'mkdir', 'findmnt', 'mkdir']);
    expect(record.lvm).to.include({ thinPoolSizeBytes: 4 * GiB, poolMetadataSizeBytes: 24 * MiB });
  });

  it('never shrinks: an LV larger than the request, or a pool larger than the rule, is left as it is', async () => {
    const transport = existingBrick({ size: 8 * GiB, metadataSize: 64 * MiB }, 8 * GiB);
    const record = await backend(transport).createBrick(node1, { id: 'b1', sizeBytes: 4 * GiB, location: 'vg_dev1', snapshotFactor: 1 });
    expect(changes(transport)).to.deep.equal([]);
    // The record says what the pool is, not the smaller size the rule would give now.
    expect(record.lvm).to.include({ thinPoolSizeBytes: 8 * GiB, poolMetadataSizeBytes: 64 * MiB });
  });

  it('a pool whose thin LV is still to be made, smaller than the (grown) request: the pool grows before the LV is created', async () => {
    const transport = new FakeTransport()
      .reply(has('vgs'), ok(vgsDev1))
      .reply(has('lvs'), ok(lvsReport([{ name: 'tp_b1', attr: 'twi-aotz--', size: GiB, thinCount: 0, metadataSize: 8 * MiB }])))
      .reply(has('lvextend'), ok(''))
      .reply(has('lvcreate'), ok(''))
      .reply(has('wipefs', '--json'), ok(''))
      .reply(has('mkfs.xfs'), ok(''))
      .reply(has('mkdir'), ok(''))
      .reply(has('findmnt'), failed(1, ''))
      .reply(has('mount'), ok(''));
    await backend(transport).createBrick(node1, { id: 'b1', sizeBytes: 2 * GiB, location: 'vg_dev1', snapshotFactor: 1 });
    expect(transport.argvs().filter((a) => ['lvextend', 'lvcreate', 'xfs_growfs'].includes(a[0]!))).to.deep.equal([
      ['lvextend', '--autobackup=n', '--poolmetadatasize', '12288k', 'vg_dev1/tp_b1'],
      ['lvextend', '--autobackup=n', '--size', '2097152k', 'vg_dev1/tp_b1'],
      ['lvcreate', '--autobackup=n', '--yes', '--thin', '--virtualsize', '2097152k', '--name', 'brick_b1', 'vg_dev1/tp_b1'],
    ]);
  });

  it('growBrick of a record derived from the database (no pool sizes in it) takes the default snapshot factor', async () => {
    const transport = existingBrick({ size: GiB, metadataSize: 8 * MiB }, GiB);
    const fromDb: BrickRecord = {
      id: 'b1', backend: 'LVM', path: `${mountPoint}/brick`, sizeBytes: GiB, location: 'vg_dev1', gid: null,
      mount: { source: '/dev/vg_dev1/brick_b1', target: mountPoint, fstype: 'xfs', options: 'rw,inode64,noatime,nouuid' },
      lvm: { vg: 'vg_dev1', thinPool: 'tp_b1', lv: 'brick_b1', thinPoolSizeBytes: 0, poolMetadataSizeBytes: 0 },
    };
    const grown = await backend(transport).growBrick(node1, fromDb, 2 * GiB);
    expect(grown.lvm).to.include({ thinPoolSizeBytes: 2 * GiB });
  });
});
