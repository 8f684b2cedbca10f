import { expect } from 'chai';
import { formatSource, glusterMountArgv, glusterMountOptions, parseGlusterSource, sameGlusterSource, type GlusterMountSpec } from '../../src/csi/mount-options.ts';

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

  it('mounts a directory-mode PV as host:/volume/directory, the options as for the whole volume', () => {
    expect(glusterMountArgv(spec({ source: { host: '10.77.0.11', volume: 'vol' }, subdirectory: 'pvc-x' }), '/t')).to.deep.equal([
      'mount',
      '-t',
      'glusterfs',
      '-o',
      'backup-volfile-servers=10.77.0.12:10.77.0.13',
      '10.77.0.11:/vol/pvc-x',
      '/t',
    ]);
    expect(formatSource({ host: 'h', volume: 'vol' })).to.equal('h:/vol');
    expect(formatSource({ host: 'h', volume: 'vol' }, 'pvc-x')).to.equal('h:/vol/pvc-x');
  });

  it('reads the directory from a mount\'s source, and a source without one as before', () => {
    expect(parseGlusterSource('10.77.0.11:/q1/d1')).to.deep.equal({ host: '10.77.0.11', volume: 'q1', subdirectory: 'd1' });
    expect(parseGlusterSource('10.77.0.11:q1/d1')).to.deep.equal({ host: '10.77.0.11', volume: 'q1', subdirectory: 'd1' });
    for (const source of ['10.77.0.11:/q1', '10.77.0.11:q1', '10.77.0.11://q1']) {
      expect(parseGlusterSource(source), source).to.deep.equal({ host: '10.77.0.11', volume: 'q1' });
    }
    expect(parseGlusterSource('10.77.0.11:')).to.deep.equal({ host: '10.77.0.11', volume: '' });
    expect(parseGlusterSource('tmpfs')).to.equal(undefined);
  });

  it('tells a volume, a directory of it and another directory apart', () => {
    const whole = spec();
    const directory = spec({ subdirectory: 'pvc-x' });
    expect(sameGlusterSource('10.77.0.11:/default_pvc-123/pvc-x', directory)).to.equal(true);
    expect(sameGlusterSource('10.77.0.13:default_pvc-123/pvc-x', directory)).to.equal(true);
    expect(sameGlusterSource('10.77.0.11:/default_pvc-123', directory)).to.equal(false);
    expect(sameGlusterSource('10.77.0.11:/default_pvc-123/pvc-x', whole)).to.equal(false);
    expect(sameGlusterSource('10.77.0.11:/default_pvc-123/pvc-y', directory)).to.equal(false);
    expect(sameGlusterSource('10.77.0.11:/default_pvc-123/pvc-x/deeper', directory)).to.equal(false);
    expect(sameGlusterSource('10.77.0.11:/other/pvc-x', directory)).to.equal(false);
    expect(sameGlusterSource('10.77.0.99:/default_pvc-123/pvc-x', directory)).to.equal(false);
  });
});
