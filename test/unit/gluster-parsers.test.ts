import { expect } from 'chai';
import { ParseError } from '../../src/gluster/errors.ts';
import { parseCliOkXml, parseTaskIdXml, parseVolumeRefXml } from '../../src/gluster/parsers/cli-result.ts';
import { parseHealInfoXml, totalPendingHeals } from '../../src/gluster/parsers/heal-info.ts';
import { parseLvsJson, parsePvsJson, parseVgsJson } from '../../src/gluster/parsers/lvm.ts';
import { parseFindmntJson, parseLosetupJson, parseStat } from '../../src/gluster/parsers/mounts.ts';
import { parsePeerStatusXml, parsePoolListXml } from '../../src/gluster/parsers/peer-status.ts';
import { parseRebalanceStatusXml, parseRemoveBrickStatusXml, rebalanceOutcome } from '../../src/gluster/parsers/rebalance-status.ts';
import { brickMultiplexSettings, parseVolumeGetXml } from '../../src/gluster/parsers/volume-get.ts';
import { parseVolumeInfoXml } from '../../src/gluster/parsers/volume-info.ts';
import { parseVolumeStatusXml } from '../../src/gluster/parsers/volume-status.ts';
import { parseCliEnvelope } from '../../src/gluster/parsers/xml.ts';
import { fixture } from './gluster-fake-transport.ts';

// Every fixture is real output of glusterd 10.3 / LVM2 2.03 captured on the test bed.
describe('gluster parsers on real glusterd 10 output', () => {
  describe('parseVolumeInfoXml', () => {
    it('reads a replica 3 arbiter 1 volume: counts, bricks with host/path and the arbiter flag, options', () => {
      const [volume, ...rest] = parseVolumeInfoXml(fixture('gluster/volume-info-arb.xml'));
      expect(rest).to.be.empty;
      expect(volume).to.deep.include({
        name: 't3a-fx-arb',
        id: '98d9c768-8515-4454-883f-36bfb6d2ae49',
        type: 'Replicate',
        durability: 'replicate',
        status: 'Started',
        brickCount: 3,
        distCount: 1,
        replicaCount: 3,
        arbiterCount: 1,
        disperseCount: 0,
        redundancyCount: 0,
      });
      expect(volume!.bricks.map((b) => [b.host, b.path, b.isArbiter])).to.deep.equal([
        ['10.77.0.11', '/bricks/t3a-fx-arb-b1', false],
        ['10.77.0.12', '/bricks/t3a-fx-arb-b2', false],
        ['10.77.0.13', '/bricks/t3a-fx-arb-b3', true],
      ]);
      expect(volume!.bricks[0]!.hostUuid).to.equal('800379be-f72e-4e49-bee4-fb7b15d6cbd2');
      expect(volume!.options).to.deep.include({ 'cluster.granular-entry-heal': 'on', 'nfs.disable': 'on', 'transport.address-family': 'inet' });
      expect(Object.keys(volume!.options)).to.have.length(5);
    });

    it('reads distribute, replicate 3 and disperse 2+1', () => {
      const [dist] = parseVolumeInfoXml(fixture('gluster/volume-info-dist.xml'));
      expect(dist).to.deep.include({ type: 'Distribute', durability: 'distribute', brickCount: 3, distCount: 3, replicaCount: 1 });
      const [rep3] = parseVolumeInfoXml(fixture('gluster/volume-info-rep3.xml'));
      expect(rep3).to.deep.include({ type: 'Replicate', durability: 'replicate', replicaCount: 3, arbiterCount: 0 });
      expect(rep3!.bricks.every((b) => !b.isArbiter)).to.equal(true);
      const [disp] = parseVolumeInfoXml(fixture('gluster/volume-info-disp.xml'));
      expect(disp).to.deep.include({ type: 'Disperse', durability: 'disperse', disperseCount: 3, redundancyCount: 1, brickCount: 3 });
    });

    it('reads all volumes of a cluster and a stopped volume', () => {
      const all = parseVolumeInfoXml(fixture('gluster/volume-info-all.xml'));
      expect(all.map((v) => v.name)).to.include.members(['t3a-fx-arb', 't3a-fx-disp', 't3a-fx-rep3']);
      const [stopped] = parseVolumeInfoXml(fixture('gluster/volume-info-dist-stopped.xml'));
      expect(stopped!.status).to.equal('Stopped');
    });

    it('throws ParseError with the raw text for an error document, truncated or mangled XML', () => {
      const notFound = fixture('gluster/error-volume-not-exist.xml');
      expect(() => parseVolumeInfoXml(notFound)).to.throw(ParseError).with.property('raw', notFound);
      const xml = fixture('gluster/volume-info-rep3.xml');
      expect(() => parseVolumeInfoXml(xml.slice(0, xml.length / 2))).to.throw(ParseError);
      expect(() => parseVolumeInfoXml(xml.replace('<brickCount>3</brickCount>', '<brickCount>4</brickCount>'))).to.throw(ParseError, /brickCount 4 but 3/);
      expect(() => parseVolumeInfoXml(xml.replace('<replicaCount>3</replicaCount>', '<replicaCount>N/A</replicaCount>'))).to.throw(ParseError);
      expect(() => parseVolumeInfoXml('')).to.throw(ParseError);
    });
  });

  it('parses peer status and pool list', () => {
    const peers = parsePeerStatusXml(fixture('gluster/peer-status.xml'));
    expect(peers.map((p) => [p.hostname, p.connected, p.state])).to.deep.equal([
      ['10.77.0.12', true, 'Peer in Cluster'],
      ['10.77.0.13', true, 'Peer in Cluster'],
    ]);
    const pool = parsePoolListXml(fixture('gluster/pool-list.xml'));
    expect(pool).to.have.length(3);
    expect(pool.filter((p) => p.isLocal).map((p) => p.uuid)).to.deep.equal(['800379be-f72e-4e49-bee4-fb7b15d6cbd2']);
  });

  it('parses volume status: bricks online with port and pid, daemons apart, offline brick with null port/pid', () => {
    const [status] = parseVolumeStatusXml(fixture('gluster/volume-status-rep3.xml'));
    expect(status!.bricks).to.have.length(3);
    expect(status!.bricks[0]).to.deep.equal({ host: '10.77.0.11', path: '/bricks/t3a-fx-rep3-b1', peerId: '800379be-f72e-4e49-bee4-fb7b15d6cbd2', online: true, port: 56271, pid: 22490 });
    expect(status!.daemons.map((d) => d.name)).to.deep.equal(['Self-heal Daemon', 'Self-heal Daemon', 'Self-heal Daemon']);
    const [down] = parseVolumeStatusXml(fixture('gluster/volume-status-rep3-brick-down.xml'));
    expect(down!.bricks[2]).to.deep.include({ path: '/bricks/t3a-fx-rep3-b3new', online: false, port: null, pid: null });
    const [detail] = parseVolumeStatusXml(fixture('gluster/volume-status-detail-disp.xml'));
    expect(detail!.bricks[0]).to.include({ device: '/dev/vda', fsName: 'ext4' });
    expect(detail!.bricks[0]!.sizeTotal).to.be.greaterThan(0);
    const [withTask] = parseVolumeStatusXml(fixture('gluster/volume-status-dist-rebalance-task.xml'));
    expect(withTask!.tasks).to.deep.equal([{ type: 'Rebalance', id: '5289b7d7-017a-47d7-9920-daf6e98319ac', status: 3, statusStr: 'completed' }]);
    expect(() => parseVolumeStatusXml(fixture('gluster/error-volume-not-started.xml'))).to.throw(ParseError);
    // `volume status all` on a pool with no started volume (captured on the test bed).
    expect(parseVolumeStatusXml(fixture('gluster/volume-status-none.xml'))).to.deep.equal([]);
  });

  it('parses heal info: pending entries per brick, unknown (null) for a disconnected brick', () => {
    const healthy = parseHealInfoXml(fixture('gluster/heal-info-arb.xml'));
    expect(totalPendingHeals(healthy)).to.equal(0);
    expect(parseHealInfoXml(fixture('gluster/heal-info-disp.xml'))).to.have.length(3);
    const pending = parseHealInfoXml(fixture('gluster/heal-info-rep3-pending.xml'));
    expect(pending[0]).to.deep.include({ host: '10.77.0.11', connected: true, pendingEntries: 6 });
    expect(pending[0]!.files.map((f) => f.path)).to.include.members(['/', '/h1', '/h5']);
    expect(pending[2]).to.deep.include({ connected: false, status: 'Transport endpoint is not connected', pendingEntries: null, files: [] });
    expect(totalPendingHeals(pending)).to.equal(null);
    expect(() => parseHealInfoXml(fixture('gluster/heal-info-dist-error.xml'))).to.throw(ParseError);
  });

  it('parses rebalance and remove-brick status with a state per node and in aggregate', () => {
    const rebalance = parseRebalanceStatusXml(fixture('gluster/rebalance-status-dist.xml'));
    expect(rebalance.taskId).to.equal('5289b7d7-017a-47d7-9920-daf6e98319ac');
    expect(rebalance.nodes.map((n) => [n.nodeName, n.state, n.files])).to.deep.equal([
      ['10.77.0.12', 'completed', 3],
      ['10.77.0.13', 'completed', 12],
      ['localhost', 'completed', 10],
    ]);
    expect(rebalance.aggregate).to.include({ files: 25, failures: 0, state: 'completed', runtimeSeconds: 1 });
    const removal = parseRemoveBrickStatusXml(fixture('gluster/remove-brick-status-dist.xml'));
    expect(removal.aggregate.state).to.equal('completed');
    const failedXml = fixture('gluster/rebalance-status-dist.xml').replaceAll('<statusStr>completed</statusStr>', '<statusStr>failed</statusStr>');
    expect(parseRebalanceStatusXml(failedXml).aggregate.state).to.equal('failed');
    expect(() => parseRebalanceStatusXml(fixture('gluster/rebalance-status-dist.xml').replace('<statusStr>completed</statusStr>', '<statusStr>weird</statusStr>'))).to.throw(ParseError);
    expect(rebalanceOutcome(rebalance)).to.equal('completed');
  });

  // Captured from glusterd 10.3 in a private three-node reproduction (10.79.0.0/24): replica 3 grown to 2 x 3,
  // then `rebalance start` and `rebalance status` polled every 0.2 s from the first node.
  it('reads a replicate rebalance still running: one node done, the aggregate in progress', () => {
    const running = parseRebalanceStatusXml(fixture('gluster/rebalance-status-rep3-in-progress.xml'));
    expect(running.nodes.map((n) => [n.nodeName, n.state])).to.deep.equal([
      ['10.79.0.12', 'in-progress'],
      ['10.79.0.13', 'in-progress'],
      ['localhost', 'completed'],
    ]);
    expect(running.aggregate.state).to.equal('in-progress');
    expect(rebalanceOutcome(running)).to.equal('in-progress');
  });

  it('sees a failed node behind an aggregate that still says in progress (new bricks not answering)', () => {
    const status = parseRebalanceStatusXml(fixture('gluster/rebalance-status-rep3-node-failed.xml'));
    expect(status.aggregate).to.include({ state: 'in-progress', failures: 1 });
    expect(status.nodes.map((n) => [n.nodeName, n.state, n.failures])).to.deep.equal([
      ['10.79.0.12', 'in-progress', 0],
      ['10.79.0.13', 'in-progress', 0],
      ['localhost', 'failed', 1],
    ]);
    expect(rebalanceOutcome(status)).to.equal('failed');
  });

  it('reads a rebalance that failed everywhere at once (a whole new replica set down)', () => {
    const status = parseRebalanceStatusXml(fixture('gluster/rebalance-status-rep3-failed.xml'));
    expect(status.aggregate).to.include({ state: 'failed', files: 0, lookups: 0, failures: 3 });
    expect(status.nodes.every((n) => n.state === 'failed')).to.equal(true);
    expect(rebalanceOutcome(status)).to.equal('failed');
  });

  it('rebalance status while a node\'s rebalance daemon does not answer yet is an error, not a state', () => {
    const xml = fixture('gluster/rebalance-status-error-brick-op-failed.xml');
    expect(parseCliEnvelope(xml)).to.include({ opRet: -1, opErrno: 30800 });
    expect(parseCliEnvelope(xml).opErrstr).to.match(/^Brick ops failed on 10\.79\.0\.13\. Glusterd Syncop Mgmt brick op 'Rebalance' failed/);
    expect(() => parseRebalanceStatusXml(xml)).to.throw(ParseError);
  });

  it('derives one outcome from the aggregate and every node', () => {
    const base = parseRebalanceStatusXml(fixture('gluster/rebalance-status-dist.xml'));
    const withStates = (aggregate: string, ...nodes: string[]) =>
      rebalanceOutcome({ ...base, aggregate: { ...base.aggregate, state: aggregate as never }, nodes: base.nodes.map((n, i) => ({ ...n, state: (nodes[i] ?? 'completed') as never })) });
    expect(withStates('completed', 'completed', 'not-started')).to.equal('in-progress');
    expect(withStates('in-progress', 'stopped', 'in-progress')).to.equal('stopped');
    expect(withStates('not-started', 'not-started', 'not-started', 'not-started')).to.equal('not-started');
    expect(withStates('completed')).to.equal('completed');
  });

  it('parses mutation results: created volume id, task ids, messages', () => {
    expect(parseVolumeRefXml('volCreate', fixture('gluster/volume-create.xml'))).to.deep.equal({ name: 't3a-fx-dist2', id: '1cb9b506-e15f-486f-bac6-72ec06eeebbf' });
    expect(parseVolumeRefXml('volStop', fixture('gluster/volume-stop.xml')).name).to.equal('t3a-fx-dist');
    expect(parseVolumeRefXml('volDelete', fixture('gluster/volume-delete.xml')).name).to.equal('t3a-fx-dist');
    expect(parseTaskIdXml('volRebalance', fixture('gluster/rebalance-start-dist.xml'))).to.equal('5289b7d7-017a-47d7-9920-daf6e98319ac');
    expect(parseTaskIdXml('volRemoveBrick', fixture('gluster/remove-brick-start-dist.xml'))).to.equal('25f406c8-5d0e-4771-bd91-279a2efdae04');
    expect(parseCliOkXml(fixture('gluster/add-brick-dist.xml')).message).to.equal('Add Brick successful');
    expect(parseCliOkXml(fixture('gluster/remove-brick-commit-dist.xml')).message).to.equal('Remove Brick commit successful');
    expect(parseCliOkXml(fixture('gluster/replace-brick-rep3.xml')).message).to.match(/replace-brick commit force operation successful/);
    expect(parseCliOkXml(fixture('gluster/peer-probe-existing.xml'))).to.deep.equal({ opErrno: 2, message: 'Host 10.77.0.12 port 24007 already in peer list' });
    expect(() => parseCliOkXml(fixture('gluster/error-volume-exists.xml'))).to.throw(ParseError);
  });
});

describe('LVM and mount parsers on real output', () => {
  it('parses pvs/vgs JSON reports in bytes', () => {
    expect(parsePvsJson(fixture('lvm/pvs.json'))).to.deep.equal([
      { name: '/dev/loop0', vgName: 'vg_t3a_fixture', uuid: 'NBXN0n-Zas7-3vSh-kHUR-a4aB-Ijdn-xtUrKu', sizeBytes: 4156555264, freeBytes: 4156555264 },
    ]);
    expect(parsePvsJson(fixture('lvm/pvs-empty.json'))).to.deep.equal([]);
    expect(parseVgsJson(fixture('lvm/vgs.json'))[0]).to.deep.include({ name: 'vg_t3a_fixture', extentSizeBytes: 4194304, extentCount: 991, freeExtentCount: 991, pvCount: 1, lvCount: 0 });
  });

  it('parses lvs JSON: empty VG, and a thin pool + thin LV row with empty fields as null', () => {
    expect(parseLvsJson(fixture('lvm/lvs-empty-vg.json'))).to.deep.equal([]);
    // The test bed has no device-mapper, so a populated report uses the format of the captured one.
    const populated = JSON.stringify({
      report: [{ lv: [
        { lv_name: 'tp_b1', vg_name: 'vg_x', lv_uuid: 'u1', lv_attr: 'twi-aotz--', lv_size: '1073741824', pool_lv: '', data_percent: '0.52', metadata_percent: '10.45', lv_metadata_size: '8388608', thin_count: '1', lv_dm_path: '/dev/mapper/vg_x-tp_b1' },
        { lv_name: 'brick_b1', vg_name: 'vg_x', lv_uuid: 'u2', lv_attr: 'Vwi-aotz--', lv_size: '1073741824', pool_lv: 'tp_b1', data_percent: '0.52', metadata_percent: '', lv_metadata_size: '', thin_count: '', lv_dm_path: '/dev/mapper/vg_x-brick_b1' },
      ] }],
    });
    const [pool, thin] = parseLvsJson(populated);
    expect(pool).to.deep.include({ isThinPool: true, isThinVolume: false, thinCount: 1, metadataSizeBytes: 8388608, poolLv: null });
    expect(thin).to.deep.include({ isThinPool: false, isThinVolume: true, poolLv: 'tp_b1', metadataPercent: null, thinCount: null });
    expect(() => parseLvsJson(populated.replace('"1073741824"', '"1G"'))).to.throw(ParseError);
    expect(() => parseLvsJson('  Failed to find logical volume')).to.throw(ParseError);
  });

  it('parses findmnt, losetup and stat output', () => {
    expect(parseFindmntJson(fixture('gluster/findmnt-bricks.json'))).to.deep.equal([
      { source: '/dev/vda[/work/main/.testbed/nodes/gl1/bricks]', target: '/bricks', fstype: 'ext4', options: 'rw,relatime,discard,resv_strict,resuid=65534,resgid=65534' },
    ]);
    expect(parseFindmntJson('')).to.deep.equal([]);
    expect(parseLosetupJson(fixture('gluster/losetup-list.json')).map((l) => l.name)).to.deep.equal(['/dev/loop1', '/dev/loop2', '/dev/loop0']);
    expect(parseStat(fixture('gluster/stat-directory.txt'))).to.deep.equal({ type: 'directory', uid: 0, gid: 0, mode: '755', sizeBytes: 4096 });
    expect(() => parseStat('stat: cannot statx')).to.throw(ParseError);
  });
});

// Not captured on the test bed: the shape glusterd's CLI writes for `volume get --xml` (<volGetopts>, <count>, one
// <Opt> with <Option> and <Value> per option), with an unset option's value followed by " (DEFAULT)".
describe('parseVolumeGetXml and brickMultiplexSettings (gluster volume get all …)', () => {
  const volGetopts = (options: Array<[string, string]>, count = options.length) =>
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput>\n  <opRet>0</opRet>\n  <opErrno>0</opErrno>\n  <opErrstr/>\n  <volGetopts>\n' +
    `    <count>${count}</count>\n` +
    options.map(([key, value]) => `    <Opt>\n      <Option>${key}</Option>\n      <Value>${value}</Value>\n    </Opt>\n`).join('') +
    '  </volGetopts>\n</cliOutput>\n';
  const pristine = volGetopts([
    ['cluster.server-quorum-ratio', '51 (DEFAULT)'],
    ['cluster.enable-shared-storage', 'disable (DEFAULT)'],
    ['cluster.op-version', '100000'],
    ['cluster.max-op-version', '100000'],
    ['cluster.brick-multiplex', 'disable (DEFAULT)'],
    ['cluster.max-bricks-per-process', '250 (DEFAULT)'],
    ['glusterd.vol_count_per_thread', '100 (DEFAULT)'],
    ['cluster.localtime-logging', 'disable (DEFAULT)'],
    ['cluster.daemon-log-level', 'INFO (DEFAULT)'],
    ['cluster.brick-graceful-cleanup', 'disable (DEFAULT)'],
  ]);

  it('reads every pool-wide option of `volume get all all`, dropping " (DEFAULT)" and saying so', () => {
    const options = parseVolumeGetXml(pristine);
    expect(Object.keys(options)).to.have.length(10);
    expect(options['cluster.brick-multiplex']).to.deep.equal({ value: 'disable', isDefault: true });
    expect(options['cluster.op-version']).to.deep.equal({ value: '100000', isDefault: false });
    expect(brickMultiplexSettings(options)).to.deep.equal({ enabled: false, maxBricksPerProcess: 250 });
  });

  it('reads multiplexing set with on/off as with enable/disable (and the other words glusterd takes)', () => {
    const settings = (value: string, max = '250 (DEFAULT)') =>
      brickMultiplexSettings(parseVolumeGetXml(volGetopts([['cluster.brick-multiplex', value], ['cluster.max-bricks-per-process', max]])));
    expect(settings('on', '100')).to.deep.equal({ enabled: true, maxBricksPerProcess: 100 });
    expect(settings('off')).to.deep.equal({ enabled: false, maxBricksPerProcess: 250 });
    expect(settings('enable')).to.deep.equal({ enabled: true, maxBricksPerProcess: 250 });
    expect(settings('disable')).to.deep.equal({ enabled: false, maxBricksPerProcess: 250 });
    for (const word of ['true', '1', 'yes', 'ON']) expect(settings(word).enabled, word).to.equal(true);
    for (const word of ['false', '0', 'no']) expect(settings(word).enabled, word).to.equal(false);
    expect(settings('on', '0').maxBricksPerProcess, '0 is "no limit"').to.equal(0);
    expect(() => settings('sometimes')).to.throw(ParseError, /not a boolean/);
    expect(() => settings('on', 'many')).to.throw(ParseError, /not a count/);
  });

  it('reads a single key (`volume get all cluster.brick-multiplex`): no max then', () => {
    expect(brickMultiplexSettings(parseVolumeGetXml(volGetopts([['cluster.brick-multiplex', 'on']])))).to.deep.equal({ enabled: true, maxBricksPerProcess: undefined });
  });

  it('refuses a document without the option, with a wrong count, or an error document', () => {
    expect(() => brickMultiplexSettings(parseVolumeGetXml(volGetopts([['cluster.op-version', '100000']])))).to.throw(ParseError, /no cluster.brick-multiplex/);
    expect(() => parseVolumeGetXml(volGetopts([['cluster.brick-multiplex', 'on']], 2))).to.throw(ParseError, /count 2 but 1/);
    expect(() => parseVolumeGetXml(fixture('gluster/error-invalid-args.xml'))).to.throw(ParseError);
    expect(() => parseVolumeGetXml('Option  Value\n------  -----\ncluster.brick-multiplex  disable')).to.throw(ParseError);
  });
});
