import type { V1Secret } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { GROUP_VERSION, glusterNodeSchema, glusterVolumeSchema, type GlusterNode, type GlusterVolume } from '../../src/api/index.ts';
import { backupSummary, backupVerifyCommandWith, backupVerifyReportSchema, compareBackup, verifyReport, verifyText } from '../../src/cli/backup-verify.ts';
import type { OpenLive } from '../../src/cli/heketi-check.ts';
import { parseVolumeInfoXml } from '../../src/gluster/parsers/volume-info.ts';
import { encodeBackup } from '../../src/topology/backup/codec.ts';
import { DEFAULT_BACKUP_NAME, headSecretBody, LABEL_BACKUP, LABEL_ROLE } from '../../src/topology/backup/secret-objects.ts';
import { parseDatabase, type TopologyDatabase } from '../../src/topology/model.ts';
import { condition, runCommand, standInApiserver, type StandIn } from './cli-status.test.ts';
import { FakeTransport, fixture, has, ok } from './gluster-fake-transport.ts';

/**
 * kubectl gluster backup verify: the backup read and checked as the operator reads it (chunks, checksums,
 * decode, generation, age), compared with the GlusterNodes and GlusterVolumes and the live volume info (the
 * captured replica 3 volume of test/fixtures), every difference naming its entry; the command in process.
 */

const NOW = Date.parse('2026-12-01T12:00:00Z');
const CUSTOM = `/apis/${GROUP_VERSION}`;
const SECRETS = '/api/v1/namespaces/gluster-operator/secrets';
const HOSTS = ['10.77.0.11', '10.77.0.12', '10.77.0.13'];
const brickName = (i: number) => `${HOSTS[i]}:/bricks/t3a-fx-rep3-b${i + 1}`;

/** The database of the captured volume: three nodes in storage/, one replica 3 volume with adopted brick paths. */
const database = (generation = 7): TopologyDatabase =>
  parseDatabase({
    schemaVersion: 1,
    generation,
    clusters: [{ name: 'storage/gluster', zoneChecking: 'None', minBrickSize: 1, maxBrickSize: 1 << 30, brickBackend: 'Directory', directoryRoot: '/bricks' }],
    nodes: HOSTS.map((host, i) => ({ name: `storage/gl${i + 1}`, cluster: 'storage/gluster', zone: '1', manage: `gl${i + 1}`, storage: host, state: 'Online' })),
    devices: HOSTS.map((_, i) => ({ id: `d${i + 1}`, node: `storage/gl${i + 1}`, name: '/dev/sdb', size: 1 << 30, state: 'Online', vg: `vg_d${i + 1}` })),
    volumes: [
      {
        name: 'storage/data',
        cluster: 'storage/gluster',
        gluster: 't3a-fx-rep3',
        durability: { type: 'Replicate', replica: 3, arbiter: false },
        size: 1 << 20,
        sets: 1,
        snapshotFactor: 1,
        bricks: HOSTS.map((_, i) => ({ id: `0000000${i + 1}`, device: `d${i + 1}`, size: 1 << 20, set: 0, path: `/bricks/t3a-fx-rep3-b${i + 1}` })),
      },
    ],
  });

const gnode = (i: number, spec: Record<string, unknown> = {}): GlusterNode =>
  glusterNodeSchema.parse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterNode',
    metadata: { name: `gl${i + 1}`, namespace: 'storage' },
    spec: { cluster: 'gluster', manageAddress: `gl${i + 1}`, storageAddress: HOSTS[i], ...spec },
  });
const gvolume = (name: string, bricks: string[] | undefined): GlusterVolume =>
  glusterVolumeSchema.parse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterVolume',
    metadata: { name, namespace: 'storage' },
    spec: { cluster: 'gluster', size: '1Mi' },
    status: { conditions: [condition('Ready', 'True', 'VolumeStarted')], glusterVolumeName: 't3a-fx-rep3', ...(bricks ? { bricks: bricks.map((path, i) => ({ node: `gl${i + 1}`, path, set: 0 })) } : {}) },
  });
const matching = () => ({ nodes: [gnode(0), gnode(1), gnode(2)], volumes: [gvolume('data', [0, 1, 2].map(brickName))] });

/** The head Secret the operator writes, as secret-objects.ts builds it. */
function head(db: TopologyDatabase, writtenAt = '2026-12-01T11:57:00.000Z'): V1Secret {
  return headSecretBody({
    name: DEFAULT_BACKUP_NAME,
    namespace: 'gluster-operator',
    labels: { [LABEL_BACKUP]: DEFAULT_BACKUP_NAME, [LABEL_ROLE]: 'head' },
    encoded: encodeBackup(db),
    chunkNames: undefined,
    resourceVersion: '42',
    writtenAt: new Date(writtenAt),
    writer: 'gluster-operator-0',
  });
}

describe('kubectl gluster backup verify: the comparison (pure)', () => {
  it('a backup that matches the objects and the live cluster: no difference', () => {
    const live = parseVolumeInfoXml(fixture('gluster/volume-info-rep3.xml'));
    const comparison = compareBackup({ db: database(), ...matching(), live });
    expect(comparison).to.deep.equal({ differences: [], notes: [], compared: { nodes: 3, volumes: 1, bricks: 3, liveVolumes: 1 } });
  });

  it('every difference names its entry: a node missing or moved, a volume missing on either side, bricks that differ from the status or from Gluster', () => {
    const live = parseVolumeInfoXml(fixture('gluster/volume-info-rep3.xml').replaceAll('t3a-fx-rep3-b3', 't3a-fx-rep3-b3new'));
    const objects = {
      nodes: [gnode(0), gnode(1, { storageAddress: '10.77.0.99' }), gnode(3, { storageAddress: '10.77.0.14' })],
      volumes: [gvolume('data', [brickName(0), brickName(1), '10.77.0.14:/bricks/elsewhere']), gvolume('new', undefined), gvolume('extra', [brickName(0)])],
    };
    const { differences, notes } = compareBackup({ db: database(), ...objects, live });
    expect(differences).to.deep.equal([
      { entry: 'node storage/gl2', message: 'storage address 10.77.0.12 in the backup, 10.77.0.99 in GlusterNode storage/gl2' },
      { entry: 'node storage/gl3', message: 'in the backup, but there is no such GlusterNode' },
      { entry: 'GlusterNode storage/gl4', message: 'not in the backup' },
      { entry: 'volume storage/data', message: `bricks differ (not in the GlusterVolume's status: ${brickName(2)}; only in the GlusterVolume's status: 10.77.0.14:/bricks/elsewhere)` },
      { entry: 'GlusterVolume storage/extra', message: 'not in the backup, though its status lists 1 bricks' },
      { entry: 'volume storage/data', message: `bricks differ (not in Gluster: ${brickName(2)}; only in Gluster: 10.77.0.13:/bricks/t3a-fx-rep3-b3new)` },
    ]);
    expect(notes).to.deep.equal(['GlusterVolume storage/new is not placed yet (no bricks in its status), so not in the backup either']);
  });

  it('-n: only that namespace of the backup; a volume Gluster has and the backup not is a note', () => {
    const live = parseVolumeInfoXml(fixture('gluster/volume-info-all.xml'));
    const other = compareBackup({ db: database(), namespace: 'elsewhere', nodes: [], volumes: [] });
    expect(other).to.deep.equal({ differences: [], notes: [], compared: { nodes: 0, volumes: 0, bricks: 0 } });
    const { notes } = compareBackup({ db: database(), ...matching(), live });
    expect(notes.filter((n) => n.includes('is live but in no GlusterVolume of the backup')).length).to.be.greaterThan(0);
  });

  it('the backup summary: generation, chunks, age and writer; missing and corrupt are differences of their own', () => {
    const db = database();
    const ok = backupSummary('gluster-operator', DEFAULT_BACKUP_NAME, { state: 'ok', db, meta: { ...encodeBackup(db).meta, writtenAt: '2026-12-01T11:57:00.000Z', writer: 'op-0' }, resourceVersion: '1' }, NOW);
    expect(ok).to.deep.include({ state: 'ok', generation: 7, chunks: 1, ageSeconds: 180, writer: 'op-0' });
    const text = verifyText(verifyReport(ok, compareBackup({ db, ...matching() })));
    expect(text).to.equal(`Topology backup gluster-operator/${DEFAULT_BACKUP_NAME}: generation 7, 1 chunk, checksums verified, written 3m ago by op-0\nbackup matches: 3 nodes, 1 volume, 3 bricks\n`);
    const missing = verifyReport(backupSummary('gluster-operator', DEFAULT_BACKUP_NAME, { state: 'missing' }, NOW), undefined);
    expect(missing.matches).to.equal(false);
    expect(missing.differences[0]!.entry).to.equal(`backup gluster-operator/${DEFAULT_BACKUP_NAME}`);
  });
});

describe('kubectl gluster backup verify (in process, an apiserver stand-in, a fake transport for --via)', function () {
  this.timeout(20_000);
  let standIn: StandIn | undefined;
  afterEach(async () => standIn?.close());
  const serve = async (secrets: V1Secret[], objects = matching()) =>
    (standIn = await standInApiserver({ [SECRETS]: secrets, [`${CUSTOM}/glusternodes`]: objects.nodes, [`${CUSTOM}/glustervolumes`]: objects.volumes }));

  it('a whole backup that matches the objects and Gluster: exit 0; -o yaml parses back; only GETs are made', async () => {
    const transport = new FakeTransport().reply(has('volume', 'info'), ok(fixture('gluster/volume-info-rep3.xml')));
    const openLive: OpenLive = async () => ({ transport, node: { name: '10.77.0.11', manageAddress: '10.77.0.11' }, localAddresses: ['10.77.0.11'] });
    const server = await serve([head(database())]);
    const run = await runCommand(backupVerifyCommandWith(openLive), ['--via', 'pod:gluster/glusterd-0'], server);
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    expect(run.stdout).to.equal(
      `Topology backup gluster-operator/${DEFAULT_BACKUP_NAME}: generation 7, 1 chunk, checksums verified, written 3m ago by gluster-operator-0\n` +
        'backup matches: 3 nodes, 1 volume, 3 bricks, 1 live volume\n',
    );
    expect(server.requests.every((r) => r.startsWith('GET '))).to.equal(true);
    const yaml = await runCommand(backupVerifyCommandWith(openLive), ['-o', 'yaml'], server);
    expect(backupVerifyReportSchema.parse(parseYaml(yaml.stdout))).to.deep.include({ matches: true });
  });

  it('a chunk that does not match its checksum: exit 1, the backup named, nothing compared', async () => {
    const corrupt = head(database());
    const chunk = Buffer.from(corrupt.data!['chunk-0']!, 'base64');
    chunk[chunk.length - 1] = chunk[chunk.length - 1]! ^ 0xff;
    corrupt.data!['chunk-0'] = chunk.toString('base64');
    const run = await runCommand(backupVerifyCommandWith(), [], await serve([corrupt]));
    expect(run.code).to.equal(1);
    expect(run.stdout).to.match(new RegExp(`^backup gluster-operator/${DEFAULT_BACKUP_NAME}: topology backup is corrupt \\(chunk-checksum\\)`));
    expect(run.stdout).to.contain('1 difference (compared 0 nodes, 0 volumes, 0 bricks)');
  });

  it('no backup: exit 1 saying where it looked; usage errors are exit 2', async () => {
    const server = await serve([]);
    const run = await runCommand(backupVerifyCommandWith(), ['--operator-namespace', 'gluster-operator'], server);
    expect(run.code).to.equal(1);
    expect(run.stdout).to.contain(`no Secret gluster-operator/${DEFAULT_BACKUP_NAME}`);
    expect((await runCommand(backupVerifyCommandWith(), ['-o', 'wide'], server)).code).to.equal(2);
    expect((await runCommand(backupVerifyCommandWith(), ['--known-hosts', 'f'], server)).code).to.equal(2);
    expect((await runCommand(backupVerifyCommandWith(), ['--via', 'ftp:x'], server)).code).to.equal(2);
  });
});
