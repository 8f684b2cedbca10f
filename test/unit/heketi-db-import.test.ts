import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import {
  glusterClusterSchema,
  glusterNodeSchema,
  glusterVolumeSchema,
  type GlusterCluster,
  type GlusterNode,
  type GlusterVolume,
} from '../../src/api/index.ts';
import { heketiImport } from '../../src/cli/heketi-import.ts';
import {
  HEKETI_BRICKS_ANNOTATION,
  HEKETI_CLUSTER_ID_ANNOTATION,
  HEKETI_DEVICE_IDS_ANNOTATION,
  HEKETI_NODE_ID_ANNOTATION,
  HEKETI_VOLUME_ID_ANNOTATION,
} from '../../src/heketi/annotations.ts';
import { importHeketiDb, kibQuantity, type DbImportOptions } from '../../src/heketi/db-convert.ts';
import { HeketiImportError } from '../../src/heketi/problems.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtureText = readFileSync(join(root, 'test/fixtures/heketi/db-export.json'), 'utf8');

/* The fixture's ids (test/fixtures/heketi/db-export.json, in heketi's export format). */
const CLUSTER = 'a3f1c07e5b9d4e2f8a6b1c3d5e7f9012';
const NODE1 = '1b2c3d4e5f60718293a4b5c6d7e8f901';
const NODE3 = '3d4e5f60718293a4b5c6d7e8f90a1b23';
const N1_SDB = 'd1a0b1c2d3e4f5061728394a5b6c7d8e';
const N1_SDC = 'd1b0c1d2e3f4051627384950a6b7c8d9';
const REPLICA3 = '5e1f2a3b4c5d6e7f8091a2b3c4d5e6f7';
const ARBITER = '6f2a3b4c5d6e7f8091a2b3c4d5e6f708';
const DISPERSE = '7a3b4c5d6e7f8091a2b3c4d5e6f70819';
const ARBITER_BRICK = 'b2200000000000000000000000000000';
const REPLICA3_BRICK = 'b1000000000000000000000000000000';

const options: DbImportOptions = { mode: 'External', sshSecret: 'gluster-ssh', brickBackend: 'LVM' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = any;
const fixture = (): Db => JSON.parse(fixtureText);

function imported(db: Db = fixture(), extra: Partial<DbImportOptions> = {}) {
  return importHeketiDb(JSON.stringify(db), { ...options, ...extra });
}

function problems(db: Db, extra: Partial<DbImportOptions> = {}): string[] {
  try {
    imported(db, extra);
  } catch (error) {
    if (error instanceof HeketiImportError) return error.problems;
    throw error;
  }
  throw new Error('expected the import to be refused');
}

/** The CLI command in-process: refused means no YAML, exit code 1, and the problem on stderr. */
function expectRefused(db: Db, message: RegExp): void {
  const output = heketiImport({ text: JSON.stringify(db), ...options });
  expect(output.code).to.equal(1);
  expect(output.stdout).to.equal('');
  expect(output.stderr).to.match(/^error: the heketi database is not valid, nothing was printed:/);
  expect(output.stderr).to.match(message);
}

describe('kubectl gluster heketi import (heketi db export)', () => {
  it('prints a GlusterCluster, GlusterNodes and GlusterVolumes that all pass the API schemas', () => {
    const output = heketiImport({ text: fixtureText, ...options, clusterName: 'prod', namespace: 'gluster' });
    expect(output.code, output.stderr).to.equal(0);
    expect(output.stderr).to.contain('imported 1 GlusterCluster, 3 GlusterNodes and 3 GlusterVolumes');
    const docs = parseAllDocuments(output.stdout).map((doc) => doc.toJS() as { kind: string });
    expect(docs.map((d) => d.kind)).to.deep.equal(['GlusterCluster', 'GlusterNode', 'GlusterNode', 'GlusterNode', 'GlusterVolume', 'GlusterVolume', 'GlusterVolume']);
    const schemas = { GlusterCluster: glusterClusterSchema, GlusterNode: glusterNodeSchema, GlusterVolume: glusterVolumeSchema } as const;
    for (const doc of docs) {
      const parsed = schemas[doc.kind as keyof typeof schemas].safeParse(doc);
      expect(parsed.success, `${doc.kind}: ${parsed.error?.message}`).to.equal(true);
      expect((doc as unknown as GlusterVolume).metadata.namespace).to.equal('gluster');
    }
  });

  it('keeps heketi\'s cluster id, names the cluster from --cluster or heketi-<id prefix>, and reaches nodes as asked', () => {
    const [named] = imported(fixture(), { clusterName: 'prod' }).clusters as [GlusterCluster];
    expect(named.metadata.name).to.equal('prod');
    expect(named.metadata.annotations).to.deep.equal({ [HEKETI_CLUSTER_ID_ANNOTATION]: CLUSTER });
    expect(named.spec.brickBackend).to.equal('LVM');
    expect(named.spec.access.external?.sshSecretRef.name).to.equal('gluster-ssh');
    const result = imported(fixture(), { mode: 'InCluster' });
    expect(result.clusters[0]!.metadata.name).to.equal('heketi-a3f1c07e');
    expect(result.clusters[0]!.spec.access).to.deep.include({ mode: 'InCluster' });
    expect(result.nodes.every((n) => n.spec.cluster === 'heketi-a3f1c07e')).to.equal(true);
    expect(result.volumes.every((v) => v.spec.cluster === 'heketi-a3f1c07e')).to.equal(true);
  });

  it('converts nodes: addresses, zone, tags, devices by name with destroyData false, heketi ids in annotations', () => {
    const nodes = imported().nodes as GlusterNode[];
    expect(nodes.map((n) => [n.metadata.name, n.spec.manageAddress, n.spec.storageAddress, n.spec.zone, n.spec.state])).to.deep.equal([
      ['kube-node1', 'kube-node1', '172.16.10.101', '1', 'Online'],
      ['kube-node2', 'kube-node2', '172.16.10.102', '2', 'Online'],
      ['kube-node3', 'kube-node3', '172.16.10.103', '3', 'Online'],
    ]);
    const node1 = nodes[0]!;
    expect(node1.spec.tags).to.deep.equal({ rack: 'r1' });
    expect(node1.spec.devices).to.deep.equal([
      { name: '/dev/sdb', destroyData: false },
      { name: '/dev/sdc', destroyData: false, tags: { class: 'ssd' } },
    ]);
    expect(node1.metadata.annotations?.[HEKETI_NODE_ID_ANNOTATION]).to.equal(NODE1);
    expect(JSON.parse(node1.metadata.annotations![HEKETI_DEVICE_IDS_ANNOTATION]!)).to.deep.equal({ '/dev/sdb': N1_SDB, '/dev/sdc': N1_SDC });
  });

  it('adopts every volume in place: heketi\'s name, durability, size, gid, options, snapshot factor, Retain', () => {
    const volumes = imported().volumes;
    const byId = (id: string) => volumes.find((v) => v.metadata.annotations?.[HEKETI_VOLUME_ID_ANNOTATION] === id)!;
    for (const v of volumes) {
      expect(v.spec.adoptExisting).to.equal(true);
      expect(v.spec.reclaimPolicy).to.equal('Retain');
    }
    const replica = byId(REPLICA3);
    expect(replica.metadata.name).to.equal(`vol-${REPLICA3}`);
    expect(replica.spec).to.deep.include({ glusterVolumeName: `vol_${REPLICA3}`, size: '10Gi', gid: 2001 });
    expect(replica.spec.durability).to.deep.equal({ type: 'Replicate', replicate: { replica: 3, arbiter: false } });
    // heketi's empty pre/post-request option strings are dropped; "key value" becomes key: value.
    expect(replica.spec.options).to.deep.equal({ 'performance.cache-size': '64MB', 'server.tcp-user-timeout': '42' });
    expect(replica.spec).not.to.have.property('snapshotFactor');

    const arbiter = byId(ARBITER);
    expect(arbiter.spec.durability).to.deep.equal({ type: 'Replicate', replicate: { replica: 3, arbiter: true } });
    expect(arbiter.spec.snapshotFactor).to.equal(1.5);
    expect(arbiter.spec).not.to.have.property('gid');
    const bricks = JSON.parse(arbiter.metadata.annotations![HEKETI_BRICKS_ANNOTATION]!) as { id: string; arbiter?: boolean }[];
    expect(bricks.filter((b) => b.arbiter).map((b) => b.id)).to.deep.equal([ARBITER_BRICK]);

    const disperse = byId(DISPERSE);
    expect(disperse.metadata.name).to.equal('app-data');
    expect(disperse.spec).to.deep.include({ glusterVolumeName: 'app-data', size: '8Gi' });
    expect(disperse.spec.durability).to.deep.equal({ type: 'Disperse', disperse: { data: 4, redundancy: 2 } });
    expect(disperse.spec).not.to.have.property('options');
  });

  it('records each brick as heketi placed it: node, host:path, device, volume group, thin pool, LV and size', () => {
    const replica = imported().volumes.find((v) => v.spec.glusterVolumeName === `vol_${REPLICA3}`)!;
    const [first] = JSON.parse(replica.metadata.annotations![HEKETI_BRICKS_ANNOTATION]!) as unknown[];
    expect(first).to.deep.equal({
      id: REPLICA3_BRICK,
      node: 'kube-node1',
      brick: `172.16.10.101:/var/lib/heketi/mounts/vg_${N1_SDB}/brick_${REPLICA3_BRICK}/brick`,
      device: '/dev/sdb',
      vg: `vg_${N1_SDB}`,
      thinPool: `tp_${REPLICA3_BRICK}`,
      lv: `brick_${REPLICA3_BRICK}`,
      size: '10Gi',
    });
    expect(kibQuantity(10 * 1024 * 1024)).to.equal('10Gi');
    expect(kibQuantity(327680)).to.equal('320Mi');
    expect(kibQuantity(1000)).to.equal('1000Ki');
  });

  it('refuses a pending operation, and every entry that is part of one, naming their ids', () => {
    const db = fixture();
    db.pendingoperations = {
      'f0000000000000000000000000000001': { Id: 'f0000000000000000000000000000001', Timestamp: 1700000000, Type: 1, Actions: [{ Change: 2, Id: REPLICA3, Delta: null }], Status: 'stale' },
    };
    db.volumeentries[REPLICA3].Pending.Id = 'f0000000000000000000000000000001';
    db.brickentries[REPLICA3_BRICK].Pending.Id = 'f0000000000000000000000000000001';
    const found = problems(db);
    expect(found).to.include.members([
      `pending operation f0000000000000000000000000000001 (create-volume, stale, on ${REPLICA3}): heketi did not finish it; finish or clean it up in heketi (heketi-cli server operations cleanup), then export again`,
    ]);
    expect(found.some((p) => p.startsWith(`volume ${REPLICA3} (vol_${REPLICA3}): part of pending operation f0000000000000000000000000000001`))).to.equal(true);
    expect(found.some((p) => p.startsWith(`brick ${REPLICA3_BRICK}: part of pending operation`))).to.equal(true);
    expectRefused(db, new RegExp(`pending operation f0000000000000000000000000000001`));
  });

  it('refuses block volumes and block-hosting volumes, naming them', () => {
    const db = fixture();
    db.blockvolumeentries = { bb000000000000000000000000000001: { Info: { id: 'bb000000000000000000000000000001', name: 'blk1', blockhostingvolume: DISPERSE }, Pending: { Id: '' } } };
    db.volumeentries[DISPERSE].Info.block = true;
    expect(problems(db)).to.deep.equal([
      `volume ${DISPERSE} (app-data): hosts gluster-block volumes (Info.block), which this operator does not serve`,
      'block volume bb000000000000000000000000000001 (blk1): gluster-block volumes cannot be imported; move their data off and delete them in heketi first',
    ]);
    expectRefused(db, /block volume bb000000000000000000000000000001 \(blk1\)/);
  });

  it('refuses references that do not hold: a brick on a missing device, a device on a missing node, a volume listing a missing brick', () => {
    const db = fixture();
    db.brickentries[REPLICA3_BRICK].Info.device = 'ffff0000000000000000000000000000';
    const found = problems(db);
    expect(found).to.include(`brick ${REPLICA3_BRICK}: device ffff0000000000000000000000000000 is not in deviceentries`);
    expect(found).to.include(`device ${N1_SDB} (/dev/sdb): lists brick ${REPLICA3_BRICK}, which says it is on device ffff0000000000000000000000000000`);
    expectRefused(db, new RegExp(`brick ${REPLICA3_BRICK}: device ffff0+ is not in deviceentries`));

    const orphans = fixture();
    orphans.deviceentries[N1_SDC].NodeId = 'eeee0000000000000000000000000000';
    orphans.volumeentries[DISPERSE].Bricks.push('cccc0000000000000000000000000000');
    delete orphans.nodeentries[NODE3];
    const more = problems(orphans);
    expect(more).to.include(`device ${N1_SDC} (/dev/sdc): node eeee0000000000000000000000000000 is not in nodeentries`);
    expect(more).to.include(`volume ${DISPERSE} (app-data): brick cccc0000000000000000000000000000 is not in brickentries`);
    expect(more).to.include(`cluster ${CLUSTER}: node ${NODE3} is not in nodeentries`);
  });

  it('refuses a brick count that does not fit the durability, and an arbiter layout that is not one per set', () => {
    const db = fixture();
    db.volumeentries[DISPERSE].Info.durability.disperse = { data: 4, redundancy: 1 };
    db.volumeentries[REPLICA3].Info.durability.replicate.replica = 2;
    expect(problems(db)).to.deep.equal([
      `volume ${DISPERSE} (app-data): 6 bricks do not fit disperse 4+1 (a multiple of 5)`,
      `volume ${REPLICA3} (vol_${REPLICA3}): 3 bricks do not fit replicate 2 (a multiple of 2)`,
    ]);
    expectRefused(db, new RegExp(`volume ${DISPERSE} \\(app-data\\): 6 bricks do not fit disperse 4\\+1`));

    const arbiters = fixture();
    arbiters.brickentries['b2000000000000000000000000000000'].SubType = 2;
    expect(problems(arbiters)).to.deep.equal([`volume ${ARBITER} (vol_${ARBITER}): 2 arbiter bricks (SubType 2) for 1 replica sets; expected one per set`]);
  });

  it('names the entry and field of a shape problem, and says when the file is not a database export', () => {
    const db = fixture();
    db.volumeentries[REPLICA3].Info.size = '10';
    db.nodeentries[NODE1].Info.hostnames.manage = ['kube node1'];
    expect(problems(db)).to.deep.equal([
      `node ${NODE1}: Info.hostnames.manage[0]: must be a DNS name or an IP address`,
      `volume ${REPLICA3}: Info.size: Invalid input: expected number, received string`,
    ]);
    const topology = readFileSync(join(root, 'test/fixtures/heketi/topology-3-nodes.json'), 'utf8');
    const output = heketiImport({ text: topology, ...options });
    expect(output.code).to.equal(1);
    expect(output.stderr).to.contain('clusterentries: is missing: not a heketi database export');
    expect(heketiImport({ text: '{', ...options }).stderr).to.match(/not valid JSON: /);
  });

  it('refuses --cluster NAME when there are several clusters, and a volume name Gluster would refuse', () => {
    const db = fixture();
    const second = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0';
    db.clusterentries[second] = { Info: { id: second, nodes: [], volumes: [], block: true, file: true, blockvolumes: [] } };
    expect(imported(db).clusters.map((c) => c.metadata.name)).to.deep.equal(['heketi-a3f1c07e', 'heketi-b0b0b0b0']);
    expect(problems(db, { clusterName: 'prod' })).to.deep.equal([
      '--cluster prod names one GlusterCluster, but the database has 2 clusters; leave it out to name them heketi-<first 8 of the id>',
    ]);
    const named = fixture();
    named.volumeentries[DISPERSE].Info.name = 'all';
    expect(problems(named)[0]).to.match(new RegExp(`^volume ${DISPERSE} \\(all\\): Info.name all must not be a word Gluster reserves`));
  });

  it('reads older databases: arbiter from heketi\'s option, replica 1 as None, failed nodes and devices, no optional buckets', () => {
    const db = fixture();
    delete db.pendingoperations;
    delete db.blockvolumeentries;
    delete db.dbattributeentries;
    db.brickentries[ARBITER_BRICK].SubType = 0;
    db.volumeentries[REPLICA3].GlusterVolumeOptions = null;
    db.volumeentries[REPLICA3].Info.durability.replicate.replica = 1;
    db.nodeentries[NODE3].State = 'failed';
    db.deviceentries[N1_SDC].State = 'failed';
    db.deviceentries[N1_SDC].Bricks = [];
    // The arbiter and disperse volumes had bricks on the removed device; drop them from those volumes' view too.
    for (const brick of ['b2000000000000000000000000000000', 'b3300000000000000000000000000000']) {
      const volume = db.brickentries[brick].Info.volume;
      db.volumeentries[volume].Bricks = db.volumeentries[volume].Bricks.filter((id: string) => id !== brick);
      delete db.brickentries[brick];
    }
    db.volumeentries[DISPERSE].Info.durability = { type: 'none', replicate: {}, disperse: {} };
    db.volumeentries[ARBITER].Info.durability.replicate.replica = 2;
    expect(problems(db)).to.deep.equal([`volume ${ARBITER} (vol_${ARBITER}): an arbiter volume must be replica 3, this one is replica 2`]);
    db.volumeentries[ARBITER].GlusterVolumeOptions = ['', 'user.heketi.arbiter false', 'performance.readdir-ahead', ''];
    const result = imported(db);
    const volume = (id: string) => result.volumes.find((v) => v.metadata.annotations?.[HEKETI_VOLUME_ID_ANNOTATION] === id)!;
    expect(volume(REPLICA3).spec.durability).to.deep.equal({ type: 'None' });
    expect(volume(REPLICA3).spec).not.to.have.property('options');
    expect(volume(ARBITER).spec.durability).to.deep.equal({ type: 'Replicate', replicate: { replica: 2, arbiter: false } });
    // heketi's own option still decides the arbiter, but a GlusterVolume may not carry user.* options.
    expect(volume(ARBITER).spec).not.to.have.property('options');
    expect(volume(DISPERSE).spec.durability).to.deep.equal({ type: 'None' });
    expect(result.nodes.find((n) => n.metadata.name === 'kube-node3')!.spec.state).to.equal('Offline');
    expect(result.nodes[0]!.spec.devices.map((d) => d.name)).to.deep.equal(['/dev/sdb']);
    expect(result.warnings).to.deep.equal([
      `device ${N1_SDC} (/dev/sdc): removed in heketi (state failed) and empty; left out`,
      `node ${NODE3} (kube-node3): removed in heketi (state failed); imported Offline, delete the GlusterNode if the server is gone`,
      `volume ${REPLICA3} (vol_${REPLICA3}): replica 1 is plain distribute in Gluster; imported as durability None`,
      `volume ${ARBITER} (vol_${ARBITER}): option "performance.readdir-ahead" has no value; left out`,
      `volume ${ARBITER} (vol_${ARBITER}): option user.heketi.arbiter is not allowed: user.* options are reserved: the operator's owner mark ` +
        "(user.gluster-operator.owner) and heketi's records live there; left out of the GlusterVolume, and left as it is on the Gluster volume",
    ]);
  });

  it('leaves out of the GlusterVolume, with a warning naming each, the options the volume option policy refuses; keeps the rest', () => {
    const db = fixture();
    db.volumeentries[REPLICA3].GlusterVolumeOptions = ['performance.cache-size 64MB', 'features.shard on', 'auth.allow 10.0.0.*', 'network.ping-timeout 0', 'user.heketi.average-file-size 64'];
    const result = imported(db);
    const replica = result.volumes.find((v) => v.metadata.annotations?.[HEKETI_VOLUME_ID_ANNOTATION] === REPLICA3)!;
    expect(replica.spec.options).to.deep.equal({ 'performance.cache-size': '64MB' });
    const label = `volume ${REPLICA3} (vol_${REPLICA3})`;
    const dropped = result.warnings.filter((warning) => warning.startsWith(`${label}: option `));
    expect(dropped.map((warning) => warning.slice(`${label}: option `.length).split(/ is not allowed| "/)[0])).to.deep.equal(['features.shard', 'auth.allow', 'network.ping-timeout', 'user.heketi.average-file-size']);
    for (const warning of dropped) expect(warning).to.match(/; left out of the GlusterVolume, and left as it is on the Gluster volume$/);
  });
});
