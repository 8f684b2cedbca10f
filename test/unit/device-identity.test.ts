import { expect } from 'chai';
import { parseLsblkJson } from '../../src/gluster/parsers/lsblk.ts';
import { ParseError } from '../../src/gluster/errors.ts';
import { carriedRecord, decideDevice, deviceIdentity, statusesAfterWipe, type DeviceWorld } from '../../src/bricks/device-decisions.ts';
import { fixture } from './gluster-fake-transport.ts';

describe('devices: lsblk identity parser', () => {
  it('reads WWN, serial, kernel name and size of a disk', () => {
    expect(parseLsblkJson(fixture('lvm/lsblk-disk.json'))).to.deep.equal({ name: 'sdb', kname: 'sdb', wwn: '0x5000c500a1b2c3d4', serial: 'ZA1B2C3D', sizeBytes: 4000787030016 });
  });
  it('a loop device has null WWN and serial; sizes printed as strings (older util-linux) are accepted', () => {
    expect(parseLsblkJson(fixture('lvm/lsblk-loop.json'))).to.include({ wwn: null, serial: null, sizeBytes: 4294967296 });
    expect(parseLsblkJson('{"blockdevices":[{"name":"sdb","wwn":"","serial":"S1","kname":"sdb","size":"1024"}]}')).to.include({ wwn: null, serial: 'S1', sizeBytes: 1024 });
  });
  it('refuses anything but exactly one device', () => {
    expect(() => parseLsblkJson('{"blockdevices":[]}')).to.throw(ParseError);
    expect(() => parseLsblkJson('lsblk: /dev/sdz: not a block device')).to.throw(ParseError);
  });
});

describe('devices: identity', () => {
  const loop = parseLsblkJson(fixture('lvm/lsblk-loop.json'));
  it('WWN first, then serial, then the by-id link, then kernel name and size', () => {
    expect(deviceIdentity('/dev/sdb', '/dev/sdb', parseLsblkJson(fixture('lvm/lsblk-disk.json')))).to.equal('wwn:0x5000c500a1b2c3d4');
    expect(deviceIdentity('/dev/sdb', '/dev/sdb', { ...loop, serial: 'S1' })).to.equal('serial:S1');
    expect(deviceIdentity('/dev/disk/by-id/virtio-abc', '/dev/vdb', loop)).to.equal('by-id:/dev/disk/by-id/virtio-abc');
    expect(deviceIdentity('/dev/loop0', '/dev/loop0', loop)).to.equal('kname:/dev/loop0:4294967296');
  });
});

describe('devices: wipe decision', () => {
  const base: DeviceWorld = { specPath: '/dev/sdb', identity: 'wwn:A', recorded: {}, destroyData: true, ownVg: 'vg_d1' };
  const dirty = { ...base, signatures: ['ext4'] };

  it('observes signatures before deciding on a device that is no PV; blank → create', () => {
    expect(decideDevice(base)).to.deep.equal({ kind: 'observeSignatures' });
    expect(decideDevice({ ...base, signatures: [] })).to.deep.equal({ kind: 'create' });
  });
  it('destroyData wipes a device with data once; the next pass with data is refused AlreadyWiped', () => {
    expect(decideDevice(dirty)).to.deep.equal({ kind: 'wipe' });
    const again = decideDevice({ ...dirty, recorded: { identity: 'wwn:A', wipedIdentity: 'wwn:A' } });
    expect(again).to.include({ kind: 'refuse', reason: 'AlreadyWiped' });
    expect((again as { message: string }).message).to.contain('wiped identity wwn:A once').and.contain('remove the device from the spec and add it back');
  });
  it('after a wipe, the blank device and the operator PV are still used', () => {
    const wiped = { identity: 'wwn:A', wipedIdentity: 'wwn:A' };
    expect(decideDevice({ ...base, recorded: wiped, signatures: [] })).to.deep.equal({ kind: 'create' });
    expect(decideDevice({ ...base, recorded: wiped, pv: { vgName: 'vg_d1' } })).to.deep.equal({ kind: 'use' });
  });
  it('without destroyData a device with data is refused NotBlank', () => {
    expect(decideDevice({ ...dirty, destroyData: false })).to.include({ kind: 'refuse', reason: 'NotBlank' });
  });
  it('a path now naming another disk is refused IdentityChanged, naming both, even with destroyData and even if blank', () => {
    const step = decideDevice({ ...dirty, identity: 'wwn:B', recorded: { identity: 'wwn:A' } });
    expect(step).to.include({ kind: 'refuse', reason: 'IdentityChanged' });
    expect((step as { message: string }).message).to.contain('wwn:A').and.contain('wwn:B');
    expect(decideDevice({ ...base, identity: 'wwn:B', recorded: { identity: 'wwn:A' }, signatures: [] })).to.include({ reason: 'IdentityChanged' });
  });
  it('a by-id path whose disk holds the operator PV is its own (use); another VG is refused', () => {
    expect(decideDevice({ ...base, specPath: '/dev/disk/by-id/wwn-0xA', pv: { vgName: 'vg_d1' } })).to.deep.equal({ kind: 'use' });
    expect(decideDevice({ ...base, pv: { vgName: 'vg_other' } })).to.include({ kind: 'refuse', reason: 'ForeignVolumeGroup' });
  });
});

describe('devices: the record carried from pass to pass', () => {
  type Entry = { name: string; state: string; identity?: string; wipedIdentity?: string; message?: string };
  const statuses: Entry[] = [
    { name: '/dev/sdb', state: 'Refused', identity: 'wwn:A', wipedIdentity: 'wwn:A', message: 'x' },
    { name: '/dev/sdc', state: 'Ready', identity: 'wwn:C' },
  ];
  it('a refused entry keeps its identity and wipedIdentity; a new entry starts empty', () => {
    expect(carriedRecord(statuses, '/dev/sdb')).to.deep.equal({ identity: 'wwn:A', wipedIdentity: 'wwn:A' });
    expect(carriedRecord(statuses, '/dev/sdd')).to.deep.equal({});
    expect(carriedRecord(undefined, '/dev/sdb')).to.deep.equal({});
  });
  it('the write right after a wipe keeps every other entry and adds this one', () => {
    const next = statusesAfterWipe(statuses, '/dev/sdd', { identity: 'wwn:D', wipedIdentity: 'wwn:D' }, { name: '/dev/sdd', state: 'Pending' });
    expect(next).to.have.length(3);
    expect(next).to.deep.include({ name: '/dev/sdd', state: 'Pending', identity: 'wwn:D', wipedIdentity: 'wwn:D' });
    expect(next).to.deep.include(statuses[0]);
  });
});
