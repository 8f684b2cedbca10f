import { OWNER_OPTION } from '../../src/gluster/owner-mark.ts';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GROUP_VERSION,
  MAX_BRICK_SIZE,
  glusterClusterSchema,
  glusterNodeSchema,
  glusterVolumeSchema,
  type GlusterCluster,
  type GlusterNode,
  type GlusterVolume,
} from '../../src/api/index.ts';
import { parseLvsJson, parsePvsJson, parseVgsJson } from '../../src/gluster/parsers/lvm.ts';
import { parseVolumeInfoXml, type GlusterVolumeInfo } from '../../src/gluster/parsers/volume-info.ts';
import {
  SCHEMA_VERSION,
  addCluster,
  addDevice,
  addNode,
  addVolume,
  brickGlusterName,
  brickLvName,
  brickThinPoolName,
  emptyDatabase,
  findDevice,
  topologyDatabaseSchema,
  type TopologyDatabase,
  topologyName,
} from '../../src/topology/model.ts';
import { adoptedBrickId, rebuildTopology, type NodeObservation } from '../../src/topology/rebuild/rebuild.ts';
import { backupLag, decideStartup, topologyCondition } from '../../src/topology/rebuild/startup.ts';
import { GiB, TiB } from '../../src/topology/sizing.ts';
import { REPO_ROOT } from '../support/paths.ts';

const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'gluster', name), 'utf8');
const NS = 'gluster';

function clusterCr(name: string, spec: Record<string, unknown>): GlusterCluster {
  return glusterClusterSchema.parse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterCluster',
    metadata: { name, namespace: NS },
    spec: { access: { mode: 'External', external: { sshSecretRef: { name: 'ssh' } } }, ...spec },
  });
}
function nodeCr(name: string, cluster: string, address: string, devices: string[], zone = '1'): GlusterNode {
  return glusterNodeSchema.parse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterNode',
    metadata: { name, namespace: NS },
    spec: { cluster, manageAddress: address, storageAddress: address, zone, devices: devices.map((d) => ({ name: d })) },
  });
}
function volumeCr(name: string, cluster: string, spec: Record<string, unknown>, status?: Record<string, unknown>): GlusterVolume {
  return glusterVolumeSchema.parse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterVolume',
    metadata: { name, namespace: NS },
    spec: { cluster, size: '1Gi', ...spec },
    ...(status ? { status } : {}),
  });
}

/** The test bed's three nodes, as the real capture in test/fixtures/gluster/volume-info-all.xml shows them. */
const testbedNodes = [nodeCr('n1', 'bed', '10.77.0.11', ['/dev/loop0'], '1'), nodeCr('n2', 'bed', '10.77.0.12', ['/dev/loop1'], '2'), nodeCr('n3', 'bed', '10.77.0.13', ['/dev/loop2'], '3')];
const bed = clusterCr('bed', { brickBackend: 'Directory', directoryRoot: '/bricks' });
/** Database names are `<namespace>/<name>`. */
const q = (name: string) => topologyName(NS, name);
/** Volumes as the operator leaves them: each marked with its GlusterVolume (src/gluster/owner-mark.ts). */
const marked = (infos: GlusterVolumeInfo[], owners: Record<string, string>): GlusterVolumeInfo[] =>
  infos.map((info) => (owners[info.name] ? { ...info, options: { ...info.options, [OWNER_OPTION]: owners[info.name]! } } : info));
const realVolumes = marked(parseVolumeInfoXml(fixture('volume-info-all.xml')), { 't3a-fx-rep3': q('rep3'), 't3a-fx-arb': q('arb'), 't3a-fx-disp': q('disp') });
const seen = (volumeInfo: GlusterVolumeInfo[], nodes = testbedNodes): NodeObservation[] => nodes.map((n) => ({ node: q(n.metadata.name), volumeInfo }));

describe('rebuildTopology from real gluster volume info (Directory bricks on the test bed)', () => {
  const crs = [
    volumeCr('rep3', 'bed', { glusterVolumeName: 't3a-fx-rep3', size: '1Gi' }),
    volumeCr('arb', 'bed', { glusterVolumeName: 't3a-fx-arb', durability: { type: 'Replicate', replicate: { replica: 3, arbiter: true } } }),
    volumeCr('disp', 'bed', { glusterVolumeName: 't3a-fx-disp', size: '2Gi', durability: { type: 'Disperse', disperse: { data: 2, redundancy: 1 } } }),
  ];
  const result = rebuildTopology({ clusters: [bed], nodes: testbedNodes, volumes: crs, observations: seen(realVolumes), generation: 12 });

  it('takes exactly the volumes a GlusterVolume names, and reports the rest as unmanaged', () => {
    expect(result.db.volumes.map((v) => v.gluster)).to.deep.equal(['t3a-fx-rep3', 't3a-fx-arb', 't3a-fx-disp']);
    const unmanaged = result.findings.find((f) => f.code === 'UnmanagedVolumes');
    expect(unmanaged?.message).to.contain('t3a-fx-dist');
    expect(result.unreachableClusters).to.deep.equal([]);
    expect(result.db.generation).to.equal(12);
    expect(() => topologyDatabaseSchema.parse(result.db)).not.to.throw();
  });

  it('records durability, sets, arbiter and the Gluster UUID as Gluster reports them', () => {
    const [rep3, arb, disp] = result.db.volumes;
    expect(rep3).to.deep.include({ durability: { type: 'Replicate', replica: 3, arbiter: false }, sets: 1, glusterId: '55a472fa-87c9-4fad-9dd7-61b65df1716e', size: GiB });
    expect(arb!.durability).to.deep.equal({ type: 'Replicate', replica: 3, arbiter: true });
    expect(arb!.bricks.map((b) => b.arbiter ?? false)).to.deep.equal([false, false, true]);
    expect(disp!.durability).to.deep.equal({ type: 'Disperse', data: 2, redundancy: 1 });
    expect(disp!.bricks.map((b) => b.size)).to.deep.equal([GiB, GiB, GiB]); // 2Gi over 2 data bricks
  });

  it('puts each brick on the right node and device, keeping Gluster brick names exact', () => {
    for (const volume of result.db.volumes) {
      const live = realVolumes.find((v) => v.name === volume.gluster)!;
      expect(volume.bricks.map((b) => brickGlusterName(result.db, b))).to.deep.equal(live.bricks.map((b) => b.name));
    }
    const rep3 = result.db.volumes[0]!;
    expect(rep3.bricks.map((b) => findDevice(result.db, b.device)!.name)).to.deep.equal(['/dev/loop0', '/dev/loop1', '/dev/loop2']);
    expect(rep3.bricks[0]!.id).to.equal(adoptedBrickId(q('rep3'), '10.77.0.11:/bricks/t3a-fx-rep3-b1'));
  });

  it('is deterministic: rebuilding twice gives the same database', () => {
    const again = rebuildTopology({ clusters: [bed], nodes: testbedNodes, volumes: crs, observations: seen(realVolumes), generation: 12 });
    expect(again.db).to.deep.equal(result.db);
  });

  it('leaves out a volume with a brick on a host no GlusterNode has, with an error finding', () => {
    const partial = rebuildTopology({ clusters: [bed], nodes: testbedNodes.slice(0, 2), volumes: crs, observations: seen(realVolumes, testbedNodes.slice(0, 2)), generation: 1 });
    expect(partial.db.volumes).to.deep.equal([]);
    expect(partial.findings.filter((f) => f.code === 'BrickOnUnknownNode')).to.have.length(3);
  });

  it('gives a volume only to the object its owner mark names; an unmarked one only to the object that reported it', () => {
    const stolen = marked(realVolumes, { 't3a-fx-rep3': q('someone-else') });
    const other = rebuildTopology({ clusters: [bed], nodes: testbedNodes, volumes: crs, observations: seen(stolen), generation: 1 });
    expect(other.db.volumes.map((v) => v.gluster)).to.deep.equal(['t3a-fx-arb', 't3a-fx-disp']);
    expect(other.findings.find((f) => f.code === 'VolumeOwnedByAnother')?.message).to.contain(q('someone-else'));
    const unmarked = parseVolumeInfoXml(fixture('volume-info-all.xml'));
    const rep3Id = unmarked.find((v) => v.name === 't3a-fx-rep3')!.id;
    const reported = [volumeCr('rep3', 'bed', { glusterVolumeName: 't3a-fx-rep3' }, { glusterVolumeId: rep3Id }), ...crs.slice(1)];
    const legacy = rebuildTopology({ clusters: [bed], nodes: testbedNodes, volumes: reported, observations: seen(unmarked), generation: 1 });
    expect(legacy.db.volumes.map((v) => v.gluster)).to.deep.equal(['t3a-fx-rep3']);
    expect(legacy.findings.filter((f) => f.code === 'VolumeNotOwned')).to.have.length(2);
  });

  it('reports a cluster whose nodes do not answer as unreachable', () => {
    const blind = rebuildTopology({ clusters: [bed], nodes: testbedNodes, volumes: crs, observations: [], generation: 1 });
    expect(blind.unreachableClusters).to.deep.equal([q('bed')]);
    expect(blind.db.volumes).to.deep.equal([]);
    expect(blind.db.nodes).to.have.length(3); // nodes and devices still come from the custom resources
  });
});

describe('rebuildTopology with the LVM brick backend: the rebuilt database equals the original', () => {
  const prod = clusterCr('prod', { brickBackend: 'LVM' });
  const nodes = [nodeCr('s1', 'prod', '192.168.10.11', ['/dev/sdb', '/dev/sdc'], 'a'), nodeCr('s2', 'prod', '192.168.10.12', ['/dev/sdb'], 'b'), nodeCr('s3', 'prod', '192.168.10.13', ['/dev/sdb'], 'c')];
  const volumeCrs = [
    volumeCr('data', 'prod', { size: '20Gi', options: { 'performance.cache-size': '64MB' }, gid: 2001 }, { glusterVolumeId: '11111111-2222-4333-8444-555555555555' }),
    volumeCr('logs', 'prod', { size: '2Gi', durability: { type: 'Replicate', replicate: { replica: 3, arbiter: true } } }),
  ];

  /** The database the operator had before losing its backup, built with the model's own update functions. */
  function original(): TopologyDatabase {
    let db = emptyDatabase();
    db = addCluster(db, { name: q('prod'), zoneChecking: 'None', minBrickSize: GiB, maxBrickSize: 4 * TiB, brickBackend: 'LVM' });
    for (const cr of nodes) {
      db = addNode(db, { name: q(cr.metadata.name), cluster: q('prod'), zone: cr.spec.zone, manage: cr.spec.manageAddress, storage: cr.spec.storageAddress, state: 'Online' });
      for (const device of cr.spec.devices) db = addDevice(db, { node: q(cr.metadata.name), name: device.name, size: 500 * GiB, state: 'Online' });
    }
    const dev = (node: string, name = '/dev/sdb') => db.devices.find((d) => d.node === q(node) && d.name === name)!.id;
    db = addVolume(db, {
      name: q('data'), cluster: q('prod'), gluster: 'gluster_data', glusterId: '11111111-2222-4333-8444-555555555555',
      durability: { type: 'Replicate', replica: 3, arbiter: false }, size: 20 * GiB, sets: 2, snapshotFactor: 1, gid: 2001,
      options: { 'performance.cache-size': '64MB' },
      bricks: [
        { id: 'aa000001', device: dev('s1', '/dev/sdc'), size: 10 * GiB, set: 0 },
        { id: 'aa000002', device: dev('s2'), size: 10 * GiB, set: 0 },
        { id: 'aa000003', device: dev('s3'), size: 10 * GiB, set: 0 },
        { id: 'aa000004', device: dev('s1'), size: 10 * GiB, set: 1 },
        { id: 'aa000005', device: dev('s2'), size: 10 * GiB, set: 1 },
        { id: 'aa000006', device: dev('s3'), size: 10 * GiB, set: 1 },
      ],
    });
    db = addVolume(db, {
      name: q('logs'), cluster: q('prod'), gluster: 'gluster_logs', glusterId: '99999999-2222-4333-8444-555555555555',
      durability: { type: 'Replicate', replica: 3, arbiter: true }, size: 2 * GiB, sets: 1, snapshotFactor: 1,
      bricks: [
        { id: 'bb000001', device: dev('s1'), size: 2 * GiB, set: 0 },
        { id: 'bb000002', device: dev('s2'), size: 2 * GiB, set: 0 },
        { id: 'bb000003', device: dev('s3'), size: 300 * 2 ** 20, set: 0, arbiter: true },
      ],
    });
    return db;
  }

  /** What the nodes would report for that database: gluster volume info, pvs, vgs, lvs (through the real parsers). */
  function observe(db: TopologyDatabase): NodeObservation[] {
    const volumeInfo: GlusterVolumeInfo[] = db.volumes.map((v) => ({
      name: v.gluster, id: v.glusterId!, type: 'Replicate', durability: 'replicate', status: 'Started',
      brickCount: v.bricks.length, distCount: v.sets, replicaCount: 3, arbiterCount: v.durability.type === 'Replicate' && v.durability.arbiter ? 1 : 0,
      disperseCount: 0, redundancyCount: 0, snapshotCount: 0, options: { [OWNER_OPTION]: v.name },
      bricks: v.bricks.map((b) => {
        const name = brickGlusterName(db, b);
        const [host, path] = [name.slice(0, name.indexOf(':')), name.slice(name.indexOf(':') + 1)];
        return { name, host, path, hostUuid: '00000000-0000-4000-8000-000000000000', isArbiter: b.arbiter === true };
      }),
    }));
    return db.nodes.map((node) => {
      const devices = db.devices.filter((d) => d.node === node.name);
      const report = (key: string, rows: object[]) => JSON.stringify({ report: [{ [key]: rows }] });
      const lvRows = db.volumes.flatMap((v) =>
        v.bricks
          .filter((b) => devices.some((d) => d.id === b.device))
          .map((b) => ({
            lv_name: brickLvName(b), vg_name: findDevice(db, b.device)!.vg, lv_uuid: `u-${b.id}`, lv_attr: 'Vwi-aotz--', lv_size: String(b.size),
            pool_lv: brickThinPoolName(b), data_percent: '1.00', metadata_percent: '', lv_metadata_size: '', thin_count: '', lv_dm_path: '',
          })),
      );
      return {
        node: node.name,
        volumeInfo,
        pvs: parsePvsJson(report('pv', devices.map((d) => ({ pv_name: d.name, vg_name: d.vg, pv_uuid: `p-${d.id}`, pv_size: String(d.size + 4 * 2 ** 20), pv_free: '0' })))),
        vgs: parseVgsJson(report('vg', devices.map((d) => ({ vg_name: d.vg, vg_uuid: `v-${d.id}`, vg_size: String(d.size), vg_free: '0', vg_extent_size: '4194304', vg_extent_count: '1', vg_free_count: '0', pv_count: '1', lv_count: '1' })))),
        lvs: parseLvsJson(report('lv', lvRows)),
      };
    });
  }

  it('rebuilds devices, bricks, sizes and sets exactly from LVM and gluster volume info', () => {
    const db = original();
    // The custom resources carry Gluster names; "data" and "logs" default to <namespace>_<name>.
    const result = rebuildTopology({ clusters: [prod], nodes, volumes: volumeCrs, observations: observe(db), generation: db.generation + 1 });
    expect(result.findings.filter((f) => f.severity !== 'info')).to.deep.equal([]);
    expect({ ...result.db, generation: 0 }).to.deep.equal({ ...db, generation: 0 });
  });

  it('decideStartup: a verified backup that matches the cluster is restored', () => {
    const db = original();
    const decision = decideStartup({ clusters: [prod], nodes, volumes: volumeCrs, observations: observe(db), backup: { state: 'ok', db } });
    expect(decision.action).to.equal('restore');
    expect(decision.action === 'restore' && decision.db).to.equal(db);
  });

  it('decideStartup: a backup behind the cluster (a volume it does not know, a newer generation elsewhere) is rebuilt past its generation', () => {
    const db = original();
    const stale = { ...db, volumes: db.volumes.slice(0, 1), generation: 4 };
    const lag = backupLag(stale, { clusters: [prod], nodes, volumes: volumeCrs, observations: observe(db) });
    expect(lag).to.have.length(1);
    expect(lag[0]).to.match(/gluster_logs/);
    const decision = decideStartup({ clusters: [prod], nodes, volumes: volumeCrs, observations: observe(db), backup: { state: 'ok', db: stale } });
    expect(decision.action).to.equal('rebuild');
    if (decision.action !== 'rebuild') return;
    expect(decision.db.generation).to.equal(5);
    expect(decision.db.volumes.map((v) => v.name)).to.deep.equal([q('data'), q('logs')]);
    const recorded = decideStartup({
      clusters: [prod], nodes, volumes: volumeCrs, observations: observe(db), backup: { state: 'ok', db },
      recordedGenerations: [{ source: 'GlusterCluster gluster/prod', generation: db.generation + 10 }],
    });
    expect(recorded.action).to.equal('rebuild');
    expect(recorded.action === 'rebuild' && recorded.db.generation).to.equal(db.generation + 11);
  });

  it('decideStartup: a moved brick (replace-brick after the backup) makes the backup behind', () => {
    const db = original();
    const live = observe(db);
    const moved = structuredClone(db);
    moved.volumes[1]!.bricks[0]!.path = '/elsewhere/brick';
    expect(backupLag(moved, { clusters: [prod], nodes, volumes: volumeCrs, observations: live })).to.have.length(1);
  });

  it('decideStartup: a corrupt backup with unreachable nodes is refused, never started empty', () => {
    const decision = decideStartup({ clusters: [prod], nodes, volumes: volumeCrs, observations: [], backup: { state: 'corrupt', reason: 'checksum', generation: 9 } });
    expect(decision.action).to.equal('refuse');
    expect(decision.message).to.match(/refusing to start/);
    const condition = topologyCondition(decision as { reason: 'RebuildBlocked'; message: string }, new Date(0));
    expect(condition).to.include({ type: 'TopologyRestored', status: 'False', reason: 'RebuildBlocked' });
  });

  it('decideStartup: a corrupt backup is rebuilt past the generation its head claimed', () => {
    const db = original();
    const decision = decideStartup({ clusters: [prod], nodes, volumes: volumeCrs, observations: observe(db), backup: { state: 'corrupt', reason: 'checksum', generation: 40 } });
    expect(decision.action === 'rebuild' && decision.db.generation).to.equal(41);
    expect(decision.action === 'rebuild' && { ...decision.db, generation: 0 }).to.deep.equal({ ...db, generation: 0 });
  });

  it('decideStartup: a fresh install (no backup, no volumes) starts even before the nodes answer', () => {
    const decision = decideStartup({ clusters: [prod], nodes, volumes: [], observations: [], backup: { state: 'missing' } });
    expect(decision.action).to.equal('rebuild');
    expect(decision.action === 'rebuild' && decision.db.schemaVersion).to.equal(SCHEMA_VERSION);
    // ... but not when GlusterVolumes say volumes exist.
    expect(decideStartup({ clusters: [prod], nodes, volumes: volumeCrs, observations: [], backup: { state: 'missing' } }).action).to.equal('refuse');
  });
});

describe('rebuildTopology: objects out of the API\'s bounds (stored before the CRD refused them) stop nothing', () => {
  // A GlusterCluster with maxBrickSize 1Ei, one whose database name is too long, a volume of size 1Ei and one
  // named `all`, next to good objects: start-up used to throw on the first of them, for every cluster.
  const bad = clusterCr('bad', { maxBrickSize: '1Ei', brickBackend: 'Directory', directoryRoot: '/bricks' });
  const unrecordable = clusterCr('c'.repeat(253), {});
  const badNode = nodeCr('b1', 'bad', '10.77.0.99', ['/dev/loop9']);
  const crs = [
    volumeCr('rep3', 'bed', { glusterVolumeName: 't3a-fx-rep3', size: '1Ei' }, { capacity: '1Gi' }),
    volumeCr('arb', 'bed', { glusterVolumeName: 'all', durability: { type: 'Replicate', replicate: { replica: 3, arbiter: true } } }),
    volumeCr('disp', 'bed', { glusterVolumeName: 't3a-fx-disp', size: '2Gi', durability: { type: 'Disperse', disperse: { data: 2, redundancy: 1 } } }),
  ];
  const inputs = {
    clusters: [bad, unrecordable, bed],
    nodes: [...testbedNodes, badNode],
    volumes: crs,
    observations: [...seen(realVolumes), { node: q('b1'), volumeInfo: [] }],
  };
  const result = rebuildTopology({ ...inputs, generation: 3 });
  const codes = (code: string) => result.findings.filter((f) => f.code === code);

  it('records the cluster with maxBrickSize 1Ei within the bounds, with a warning naming the field, and the good one as its spec says', () => {
    expect(result.db.clusters.map((c) => c.name)).to.deep.equal([q('bad'), q('bed')]);
    expect(result.db.clusters[0]).to.deep.include({ maxBrickSize: MAX_BRICK_SIZE.bytes, minBrickSize: GiB });
    expect(result.db.clusters[1]).to.deep.include({ maxBrickSize: 4 * TiB, minBrickSize: GiB });
    expect(codes('ClusterSpecOutOfRange')).to.have.length(1);
    expect(codes('ClusterSpecOutOfRange')[0]).to.deep.include({ severity: 'warning', cluster: q('bad') });
    expect(codes('ClusterSpecOutOfRange')[0]!.message).to.match(/GlusterCluster gluster\/bad: spec\.maxBrickSize 1Ei is above 64Ti/);
    expect(result.db.nodes.map((n) => n.name)).to.include(q('b1'));
  });

  it('leaves out a cluster the database cannot record, with an error finding, and its nodes; the others go on', () => {
    expect(codes('InvalidCluster')).to.have.length(1);
    expect(codes('InvalidCluster')[0]!.message).to.match(/cannot be recorded \(name: .*253/);
  });

  it('rebuilds the volume of size 1Ei from its bricks, sized from status.capacity, with a warning; the others exactly', () => {
    const [rep3, disp] = result.db.volumes;
    expect(result.db.volumes.map((v) => v.gluster)).to.deep.equal(['t3a-fx-rep3', 't3a-fx-disp']);
    expect(rep3!.size).to.equal(GiB);
    expect(rep3!.bricks).to.have.length(3);
    expect(codes('VolumeSizeOutOfRange')).to.have.length(1);
    expect(codes('VolumeSizeOutOfRange')[0]!.message).to.match(/gluster\/rep3: spec\.size: size 1Ei is more than 1Pi; recorded as 1Gi \(status\.capacity\)/);
    const reference = rebuildTopology({ clusters: [bed], nodes: testbedNodes, volumes: [crs[2]!], observations: seen(realVolumes), generation: 3 });
    expect(disp).to.deep.equal(reference.db.volumes[0]);
  });

  it('takes no Gluster volume for a GlusterVolume named `all`, with an error finding that says what names are allowed', () => {
    expect(codes('InvalidGlusterVolumeName')).to.have.length(1);
    expect(codes('InvalidGlusterVolumeName')[0]!.message).to.match(/gluster\/arb: spec\.glusterVolumeName "all" .*allowed: 1 to 64 letters/);
    expect(codes('UnmanagedVolumes')[0]!.message).to.contain('t3a-fx-arb');
  });

  it('decideStartup rebuilds instead of throwing; a backup of that rebuild is restored', () => {
    const decision = decideStartup({ ...inputs, backup: { state: 'missing' } });
    expect(decision.action).to.equal('rebuild');
    expect(decision.message).to.match(/rebuilt topology generation 1 from the cluster \(2 volumes, 4 nodes/);
    const restored = decideStartup({ ...inputs, backup: { state: 'ok', db: result.db } });
    expect(restored.action).to.equal('restore'); // backupLag passes over the volume named `all` as well
  });
});
