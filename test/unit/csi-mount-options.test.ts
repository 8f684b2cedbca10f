import { expect } from 'chai';
import { glusterMountArgv, glusterMountOptions, sameGlusterSource, type GlusterMountSpec } from '../../src/csi/mount-options.ts';

const spec = (overrides: Partial<GlusterMountSpec> = {}): GlusterMountSpec => ({
  source: { host: '10.77.0.11', volume: 'default_pvc-123' },
  backupVolfileServers: ['10.77.0.12', '10.77.0.13'],
  mountFlags: [],
  readOnly: false,
  ...overrides,
});

describe('CSI mount command', () => {
  it('builds an argv: -t glusterfs, one -o list, host:/volume, target', () => {
    expect(glusterMountArgv(spec({ mountFlags: ['log-level=WARNING'] }), '/var/lib/kubelet/pods/p/volumes/x/mount')).to.deep.equal([
      'mount',
      '-t',
      'glusterfs',
      '-o',
      'backup-volfile-servers=10.77.0.12:10.77.0.13,log-level=WARNING',
      '10.77.0.11:/default_pvc-123',
      '/var/lib/kubelet/pods/p/volumes/x/mount',
    ]);
  });

  it('omits -o when there are no options', () => {
    expect(glusterMountArgv(spec({ backupVolfileServers: [] }), '/t')).to.deep.equal(['mount', '-t', 'glusterfs', '10.77.0.11:/default_pvc-123', '/t']);
  });

  it('adds ro for read-only publishes and drops a contradicting rw', () => {
    expect(glusterMountOptions(spec({ readOnly: true, mountFlags: ['rw', 'acl'] }))).to.deep.equal([
      'backup-volfile-servers=10.77.0.12:10.77.0.13',
      'acl',
      'ro',
    ]);
    expect(glusterMountOptions(spec({ readOnly: true, mountFlags: ['ro'] })).filter((o) => o === 'ro')).to.have.length(1);
  });

  it('lets the PV mountOptions override the backup servers, and keeps the first of duplicate keys', () => {
    expect(glusterMountOptions(spec({ mountFlags: ['backup-volfile-servers=a:b', 'log-level=INFO', 'log-level=DEBUG'] }))).to.deep.equal([
      'backup-volfile-servers=a:b',
      'log-level=INFO',
    ]);
  });

  it('does not list the primary server as its own backup', () => {
    expect(glusterMountOptions(spec({ backupVolfileServers: ['10.77.0.11', '10.77.0.12'] }))).to.deep.equal(['backup-volfile-servers=10.77.0.12']);
  });

  it('recognizes the same volume mounted from any of its volfile servers, with or without the slash', () => {
    expect(sameGlusterSource('10.77.0.11:/default_pvc-123', spec())).to.equal(true);
    expect(sameGlusterSource('10.77.0.13:default_pvc-123', spec())).to.equal(true);
    expect(sameGlusterSource('10.77.0.99:/default_pvc-123', spec())).to.equal(false);
    expect(sameGlusterSource('10.77.0.11:/other', spec())).to.equal(false);
    expect(sameGlusterSource('tmpfs', spec())).to.equal(false);
  });
});
