import { expect } from 'chai';
import * as fsCmd from '../../src/gluster/commands/fs.ts';
import * as g from '../../src/gluster/commands/gluster.ts';
import * as lvm from '../../src/gluster/commands/lvm.ts';

const GLUSTER = ['gluster', '--mode=script', '--xml'];
const b = (n: number) => `10.77.0.1${n}:/bricks/b${n}`;

describe('gluster argv builders', () => {
  it('peer probe / detach / status / pool list', () => {
    expect(g.peerProbe('10.77.0.12').argv).to.deep.equal([...GLUSTER, 'peer', 'probe', '10.77.0.12']);
    expect(g.peerDetach('10.77.0.12').argv).to.deep.equal([...GLUSTER, 'peer', 'detach', '10.77.0.12']);
    expect(g.peerDetach('10.77.0.12', { force: true }).argv.at(-1)).to.equal('force');
    expect(g.peerStatus().argv).to.deep.equal([...GLUSTER, 'peer', 'status']);
    expect(g.poolList().argv).to.deep.equal([...GLUSTER, 'pool', 'list']);
    expect(g.peerProbe('x').mutatesCluster).to.equal(true);
    expect(g.poolList().mutatesCluster).to.equal(false);
  });

  it('volume create for each layout, bricks set by set', () => {
    expect(g.volumeCreate({ name: 'v', layout: { kind: 'distribute' }, bricks: [b(1), b(2)] }).argv).to.deep.equal([...GLUSTER, 'volume', 'create', 'v', 'transport', 'tcp', b(1), b(2)]);
    expect(g.volumeCreate({ name: 'v', layout: { kind: 'replicate', replica: 3 }, bricks: [b(1), b(2), b(3)], force: true }).argv).to.deep.equal([
      ...GLUSTER, 'volume', 'create', 'v', 'replica', '3', 'transport', 'tcp', b(1), b(2), b(3), 'force',
    ]);
    expect(g.volumeCreate({ name: 'v', layout: { kind: 'replicate', replica: 3, arbiter: true }, bricks: [b(1), b(2), b(3)] }).argv).to.deep.equal([
      ...GLUSTER, 'volume', 'create', 'v', 'replica', '3', 'arbiter', '1', 'transport', 'tcp', b(1), b(2), b(3),
    ]);
    expect(g.volumeCreate({ name: 'v', layout: { kind: 'disperse', data: 2, redundancy: 1 }, bricks: [b(1), b(2), b(3)] }).argv).to.deep.equal([
      ...GLUSTER, 'volume', 'create', 'v', 'disperse', '3', 'redundancy', '1', 'transport', 'tcp', b(1), b(2), b(3),
    ]);
    const six = [1, 2, 3, 4, 5, 6].map((i) => `h${i}:/b/${i}`);
    expect(g.volumeCreate({ name: 'v', layout: { kind: 'replicate', replica: 3 }, bricks: six }).argv.slice(-6)).to.deep.equal(six);
  });

  it('rejects incomplete sets, bad layouts, names and bricks before anything runs', () => {
    expect(() => g.volumeCreate({ name: 'v', layout: { kind: 'replicate', replica: 3 }, bricks: [b(1), b(2)] })).to.throw(/whole sets of 3/);
    expect(() => g.volumeCreate({ name: 'v', layout: { kind: 'replicate', replica: 2, arbiter: true }, bricks: [b(1), b(2)] })).to.throw(/arbiter needs replica 3/);
    expect(() => g.volumeCreate({ name: 'v', layout: { kind: 'disperse', data: 1, redundancy: 1 }, bricks: [b(1), b(2)] })).to.throw(/disperse/);
    expect(() => g.volumeCreate({ name: '-rf', layout: { kind: 'distribute' }, bricks: [b(1)] })).to.throw(/invalid volume name/);
    expect(() => g.volumeCreate({ name: 'v', layout: { kind: 'distribute' }, bricks: ['host-without-path'] })).to.throw(/invalid brick/);
    expect(() => g.volumeCreate({ name: 'v', layout: { kind: 'distribute' }, bricks: [b(1), b(1)] })).to.throw(/twice/);
    expect(() => g.volumeSet('v', 'performance.cache-size', '--evil')).to.throw();
  });

  it('start, stop, delete, set, info, status, heal info', () => {
    expect(g.volumeStart('v').argv).to.deep.equal([...GLUSTER, 'volume', 'start', 'v']);
    expect(g.volumeStart('v', { force: true }).argv).to.deep.equal([...GLUSTER, 'volume', 'start', 'v', 'force']);
    expect(g.volumeStop('v').argv).to.deep.equal([...GLUSTER, 'volume', 'stop', 'v']);
    expect(g.volumeDelete('v').argv).to.deep.equal([...GLUSTER, 'volume', 'delete', 'v']);
    expect(g.volumeSet('v', 'performance.cache-size', '64MB').argv).to.deep.equal([...GLUSTER, 'volume', 'set', 'v', 'performance.cache-size', '64MB']);
    expect(g.volumeSetOptions('v', [['user.gluster-operator.owner', 'ns/v'], ['performance.cache-size', '64MB']]).argv).to.deep.equal([
      ...GLUSTER, 'volume', 'set', 'v', 'user.gluster-operator.owner', 'ns/v', 'performance.cache-size', '64MB',
    ]);
    expect(() => g.volumeSetOptions('v', [['ok', 'x'], ['bad key', 'y']])).to.throw(/invalid volume option/);
    expect(() => g.volumeSetOptions('v', [])).to.throw(/at least one/);
    expect(g.volumeResetOption('v', 'performance.cache-size').argv).to.deep.equal([...GLUSTER, 'volume', 'reset', 'v', 'performance.cache-size']);
    expect(g.volumeResetOption('v', 'performance.cache-size').mutatesCluster).to.equal(true);
    // Never every option at once, nothing that reads as a CLI word or an option of the command.
    for (const key of ['all', 'force', '-x.y', 'bad key.x', '']) expect(() => g.volumeResetOption('v', key), key).to.throw(/invalid volume option/);
    // What glusterd 10's CLI prints for a reset in XML mode (cli-rpc-ops.c gf_cli_reset_volume_cbk, through cli_xml_output_str).
    const reset = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput><opRet>0</opRet><opErrno>0</opErrno><opErrstr/><cliOp>volReset</cliOp><output>reset volume successful</output></cliOutput>';
    expect(g.volumeResetOption('v', 'performance.cache-size').parse(reset, 0)).to.deep.equal({ opErrno: 0, message: 'reset volume successful' });
    expect(g.volumeInfo().argv).to.deep.equal([...GLUSTER, 'volume', 'info']);
    expect(g.volumeInfo('v').argv).to.deep.equal([...GLUSTER, 'volume', 'info', 'v']);
    expect(g.volumeStatus().argv).to.deep.equal([...GLUSTER, 'volume', 'status', 'all']);
    expect(g.volumeStatus('v', { detail: true }).argv).to.deep.equal([...GLUSTER, 'volume', 'status', 'v', 'detail']);
    expect(g.volumeHealInfo('v').argv).to.deep.equal([...GLUSTER, 'volume', 'heal', 'v', 'info']);
  });

  it('add-brick, remove-brick start/status/commit, replace-brick commit force, rebalance', () => {
    expect(g.volumeAddBrick('v', { kind: 'replicate', replica: 3, arbiter: true }, [b(4), b(5), b(6)]).argv).to.deep.equal([
      ...GLUSTER, 'volume', 'add-brick', 'v', 'replica', '3', 'arbiter', '1', b(4), b(5), b(6),
    ]);
    expect(g.volumeAddBrick('v', { kind: 'disperse', data: 2, redundancy: 1 }, [b(4), b(5), b(6)]).argv).to.deep.equal([...GLUSTER, 'volume', 'add-brick', 'v', b(4), b(5), b(6)]);
    expect(() => g.volumeAddBrick('v', { kind: 'disperse', data: 2, redundancy: 1 }, [b(4)])).to.throw(/whole sets/);
    expect(g.volumeRemoveBrickStart('v', [b(4)]).argv).to.deep.equal([...GLUSTER, 'volume', 'remove-brick', 'v', b(4), 'start']);
    expect(g.volumeRemoveBrickStatus('v', [b(4)]).argv).to.deep.equal([...GLUSTER, 'volume', 'remove-brick', 'v', b(4), 'status']);
    expect(g.volumeRemoveBrickCommit('v', [b(4)]).argv).to.deep.equal([...GLUSTER, 'volume', 'remove-brick', 'v', b(4), 'commit']);
    expect(g.volumeReplaceBrick('v', b(3), b(4)).argv).to.deep.equal([...GLUSTER, 'volume', 'replace-brick', 'v', b(3), b(4), 'commit', 'force']);
    expect(g.volumeRebalanceStart('v').argv).to.deep.equal([...GLUSTER, 'volume', 'rebalance', 'v', 'start']);
    expect(g.volumeRebalanceStatus('v').argv).to.deep.equal([...GLUSTER, 'volume', 'rebalance', 'v', 'status']);
    expect(g.volumeRebalanceStatus('v').mutatesCluster).to.equal(false);
  });

  it('heal full and crawl statistics: text commands (they have no --xml form), judged by exit code', () => {
    const full = g.volumeHealFull('v');
    expect(full.argv).to.deep.equal(['gluster', '--mode=script', 'volume', 'heal', 'v', 'full']);
    expect(full).to.include({ outcome: 'exit-code', mutatesCluster: true });
    const statistics = g.volumeHealStatistics('v');
    expect(statistics.argv).to.deep.equal(['gluster', '--mode=script', 'volume', 'heal', 'v', 'statistics']);
    expect(statistics.okExitCodes).to.deep.equal([0, 1]);
    // Exit 1 (a disperse volume, or daemons restarting): no statistics, not an error, and glusterd's reason
    // (stderr, as the CLI printed it on the test bed when a peer's self-heal daemon had not attached the volume).
    const stderr = 'Gathering crawl statistics on volume v has been unsuccessful:\nStaging failed on 10.77.0.13. Error: Self-heal daemon is not running. Check self-heal daemon log file.\n';
    expect(statistics.parse('', 1, stderr)).to.deep.equal({ unavailable: 'Staging failed on 10.77.0.13. Error: Self-heal daemon is not running. Check self-heal daemon log file.' });
    expect(statistics.parse('', 1, '')).to.deep.equal({ unavailable: 'no reason given' });
    expect(() => g.volumeHealFull('v; rm -rf /')).to.throw();
  });
});

describe('LVM and filesystem argv builders', () => {
  it('reports are JSON in bytes with explicit fields', () => {
    expect(lvm.pvs().argv).to.deep.equal(['pvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'pv_name,vg_name,pv_uuid,pv_size,pv_free']);
    expect(lvm.vgs('vg1').argv.slice(0, 6)).to.deep.equal(['vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix']);
    expect(lvm.lvs('vg1').argv.at(-1)).to.equal('vg1');
  });

  it('device set-up, thin pool, thin LV, extend, remove', () => {
    expect(lvm.pvcreate('/dev/sdb').argv).to.deep.equal(['pvcreate', '--metadatasize=128M', '--dataalignment=256K', '/dev/sdb']);
    expect(lvm.vgcreate('vg_1', ['/dev/sdb']).argv).to.deep.equal(['vgcreate', '--autobackup=n', '--physicalextentsize=4M', 'vg_1', '/dev/sdb']);
    expect(lvm.lvcreateThinPool({ vg: 'vg_1', pool: 'tp_1', sizeBytes: 2 ** 30, metadataSizeBytes: 8 * 2 ** 20 }).argv).to.deep.equal([
      'lvcreate', '--autobackup=n', '--yes', '--poolmetadatasize', '8192k', '--chunksize', '256K', '--size', '1048576k', '--thin', 'vg_1/tp_1',
    ]);
    expect(lvm.lvcreateThinVolume({ vg: 'vg_1', pool: 'tp_1', lv: 'brick_1', virtualSizeBytes: 2 ** 30 }).argv).to.deep.equal([
      'lvcreate', '--autobackup=n', '--yes', '--thin', '--virtualsize', '1048576k', '--name', 'brick_1', 'vg_1/tp_1',
    ]);
    expect(lvm.lvextend('vg_1', 'brick_1', 2 ** 31).argv).to.deep.equal(['lvextend', '--autobackup=n', '--size', '2097152k', 'vg_1/brick_1']);
    expect(lvm.lvremove('vg_1', 'brick_1').argv).to.deep.equal(['lvremove', '--autobackup=n', '--force', 'vg_1/brick_1']);
    expect(() => lvm.lvextend('vg_1', 'brick_1', 1000)).to.throw(/KiB/);
    expect(() => lvm.pvcreate('/dev/../etc/passwd')).to.throw();
    expect(() => lvm.vgcreate('-vg', ['/dev/sdb'])).to.throw();
  });

  it('wipefs only with --all, mkfs.xfs, mount, umount, xfs_growfs', () => {
    expect(fsCmd.wipefs('/dev/sdb', { all: true }).argv).to.deep.equal(['wipefs', '--all', '/dev/sdb']);
    expect(() => fsCmd.wipefs('/dev/sdb', { all: false })).to.throw();
    expect(fsCmd.mkfsXfs('/dev/vg/lv').argv).to.deep.equal(['mkfs.xfs', '-i', 'size=512', '-n', 'size=8192', '/dev/vg/lv']);
    expect(fsCmd.mount('/dev/vg/lv', '/var/lib/heketi/mounts/b1').argv).to.deep.equal(['mount', '-t', 'xfs', '-o', 'rw,inode64,noatime,nouuid', '/dev/vg/lv', '/var/lib/heketi/mounts/b1']);
    expect(fsCmd.umount('/m').argv).to.deep.equal(['umount', '/m']);
    expect(fsCmd.xfsGrowfs('/m').argv).to.deep.equal(['xfs_growfs', '/m']);
    expect(() => fsCmd.rmRf('/bricks')).to.throw(/top-level/);
    expect(() => fsCmd.rmRf('/bricks/../etc')).to.throw();
  });
});

describe('gluster commands: directories of a shared volume', () => {
  const input = { volume: 'storage_fast-shared-1', mountPoint: '/run/gluster-operator/directories/storage.pvc-1', directory: 'pvc-1', attribute: 'user.gluster-operator.owner', mark: 'storage/pvc-1@uid', gid: 2001 };

  it('one command: a constant script, everything it acts on as positional parameters', () => {
    const { ensureMarkedDirectory, removeMarkedDirectory } = fsCmd;
    const ensure = ensureMarkedDirectory(input);
    expect(ensure.argv.slice(0, 2)).to.deep.equal(['sh', '-c']);
    expect(ensure.argv.slice(3)).to.deep.equal(['sh', 'ensure', input.volume, input.mountPoint, 'pvc-1', input.attribute, input.mark, '2001']);
    expect(ensure.argv[2]).to.not.contain('pvc-1').and.not.contain('storage_');
    expect(removeMarkedDirectory(input).argv.slice(3, 5)).to.deep.equal(['sh', 'remove']);
    expect(removeMarkedDirectory(input).argv[2]).to.equal(ensure.argv[2]);
  });

  it('refuses a directory that is not one object name, and other bad inputs, before anything runs', () => {
    const { ensureMarkedDirectory, removeMarkedDirectory } = fsCmd;
    for (const directory of ['..', '.', 'a/b', '', 'PVC', '-x', `${'a'.repeat(254)}`]) {
      expect(() => removeMarkedDirectory({ ...input, directory }), directory).to.throw(/invalid directory/);
    }
    expect(() => ensureMarkedDirectory({ ...input, volume: '-all' })).to.throw(/invalid volume/);
    expect(() => ensureMarkedDirectory({ ...input, mountPoint: '/run/../etc' })).to.throw(/invalid absolute path/);
    expect(() => ensureMarkedDirectory({ ...input, attribute: 'trusted.glusterfs.x' })).to.throw(/invalid attribute/);
    expect(() => ensureMarkedDirectory({ ...input, mark: 'a b' })).to.throw(/invalid owner mark/);
    expect(() => ensureMarkedDirectory({ ...input, gid: -1 })).to.throw(/invalid gid/);
  });

  it('reads the script’s last line: made, absent, removed, or found with the mark (none when empty)', () => {
    const { ensureMarkedDirectory } = fsCmd;
    const parse = (stdout: string) => ensureMarkedDirectory(input).parse(stdout, 0);
    expect(parse('made\n')).to.deep.equal({ kind: 'made' });
    expect(parse('absent\n')).to.deep.equal({ kind: 'absent' });
    expect(parse('removed\n')).to.deep.equal({ kind: 'removed' });
    expect(parse('found storage/pvc-1@uid\n')).to.deep.equal({ kind: 'found', mark: 'storage/pvc-1@uid' });
    expect(parse('found \n')).to.deep.equal({ kind: 'found', mark: undefined });
    expect(() => parse('mount: permission denied\n')).to.throw();
  });
});
