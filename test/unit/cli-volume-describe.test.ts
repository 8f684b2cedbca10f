import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { DRIVER_NAME, glusterVolumeSchema } from '../../src/api/index.ts';
import { structured } from '../../src/cli/status-view.ts';
import { volumeDescribeCommand } from '../../src/cli/volume-describe.ts';
import {
  closeMatches,
  describedVolumeSchema,
  parseTarget,
  persistentVolumesOf,
  podsUsing,
  sourceOfPersistentVolume,
  volumeDescriptionSchema,
  volumeText,
  type DescribedVolume,
  type VolumeDescription,
} from '../../src/cli/volume-view.ts';
import { claimSchema, persistentVolumeSchema, podSchema } from '../../src/migration/objects.ts';
import { condition, CUSTOM, ready, runCommand, standInApiserver, volume, type StandIn } from './cli-status.test.ts';

/**
 * kubectl gluster volume describe: which GlusterVolume a name or a claim means (a CSI PV's volumeHandle, an
 * in-tree PV's Gluster volume name), who uses it, the description, and the command in process against an
 * apiserver stand-in (the one cli-status.test.ts stands up).
 */

const NOW = Date.parse('2026-12-01T12:00:00Z');

const bricks = [
  { node: 'gl1', path: 'gl1.storage:/bricks/apps_data/brick', set: 0, size: '10Gi', online: true },
  { node: 'gl2', path: 'gl2.storage:/bricks/apps_data/brick', set: 0, size: '10Gi', online: false },
  { node: 'gl3', path: 'gl3.storage:/bricks/apps_data/brick', set: 0, size: '10Gi' },
];
const dataStatus = {
  glusterVolumeName: 'apps_data',
  glusterVolumeId: '7c1e9a52-3f0b-4d8e-9a61-2b5c4d3e2f10',
  capacity: '10Gi',
  durability: 'replicate 3, 1 set',
  mountSource: 'gl1.storage:apps_data',
  backupVolfileServers: ['gl2.storage', 'gl3.storage'],
  bricks,
  clients: 2,
};
/** apps/data, Degraded with a brick down, and the heal backlog the status carries once item 2 lands. */
const data = (heal?: Record<string, number | string>): DescribedVolume =>
  describedVolumeSchema.parse({
    ...volume('data', [condition('Ready', 'True', 'VolumeStarted'), condition('Degraded', 'True', 'BricksOffline', '1 of 3 bricks offline')], 'apps', dataStatus),
    ...(heal ? { status: { ...volume('data', undefined, 'apps', dataStatus).status, conditions: ready(), heal } } : {}),
  });

const csiPv = (name: string, handle: string, claim?: [string, string], driver = DRIVER_NAME) =>
  persistentVolumeSchema.parse({
    metadata: { name },
    spec: { csi: { driver, volumeHandle: handle }, persistentVolumeReclaimPolicy: 'Delete', ...(claim ? { claimRef: { namespace: claim[0], name: claim[1] } } : {}) },
    status: { phase: claim ? 'Bound' : 'Available' },
  });
const inTreePv = (name: string, path: string, claim: [string, string]) =>
  persistentVolumeSchema.parse({
    metadata: { name },
    spec: { glusterfs: { endpoints: 'glusterfs-cluster', path }, persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: claim[0], name: claim[1] } },
    status: { phase: 'Bound' },
  });
const claim = (namespace: string, name: string, volumeName?: string) =>
  claimSchema.parse({
    metadata: { namespace, name, uid: `uid-${name}` },
    spec: { ...(volumeName ? { volumeName } : {}), resources: { requests: { storage: '10Gi' } } },
    status: { phase: volumeName ? 'Bound' : 'Pending' },
  });
const pod = (namespace: string, name: string, phase: string, claimName?: string) =>
  podSchema.parse({
    metadata: { namespace, name },
    spec: { volumes: [{ name: 'scratch' }, ...(claimName ? [{ name: 'data', persistentVolumeClaim: { claimName } }] : [])] },
    status: { phase },
  });

describe('kubectl gluster volume describe: what a name or a claim means, and who uses it (pure)', () => {
  it('NAME and pvc:NS/NAME, pvc:NAME in the -n namespace; a malformed pvc: is said', () => {
    expect(parseTarget('data', 'apps')).to.deep.equal({ kind: 'volume', namespace: 'apps', name: 'data' });
    expect(parseTarget('pvc:team/web', 'apps')).to.deep.equal({ kind: 'claim', namespace: 'team', name: 'web' });
    expect(parseTarget('pvc:web', 'apps')).to.deep.equal({ kind: 'claim', namespace: 'apps', name: 'web' });
    for (const bad of ['pvc:', 'pvc:a/b/c', 'pvc:team/', 'pvc:/web']) expect(parseTarget(bad, 'apps'), bad).to.have.property('problem').that.contains(bad);
  });

  it('a CSI PV of this driver names its GlusterVolume by volumeHandle; an in-tree PV by Gluster volume name; others are refused', () => {
    expect(sourceOfPersistentVolume(csiPv('pvc-1', 'apps/data'))).to.deep.equal({ kind: 'csi', namespace: 'apps', name: 'data' });
    expect(sourceOfPersistentVolume(inTreePv('old', 'vol_5e1f', ['legacy', 'c']))).to.deep.equal({ kind: 'inTree', glusterVolumeName: 'vol_5e1f' });
    expect(sourceOfPersistentVolume(csiPv('ebs', 'vol-0abc', undefined, 'ebs.csi.aws.com'))).to.deep.equal({
      problem: `PersistentVolume ebs is not a Gluster volume of this operator (CSI driver ebs.csi.aws.com, not ${DRIVER_NAME} or spec.glusterfs)`,
    });
    expect(sourceOfPersistentVolume(csiPv('odd', 'no-slash'))).to.have.property('problem').that.contains('"no-slash"');
  });

  it('close matches: a few edits away or containing the name, closest first; nothing for an unrelated name', () => {
    expect(closeMatches('dat', ['data', 'web', 'database', 'logs'])).to.deep.equal(['data', 'database']);
    expect(closeMatches('web-1', ['web-0', 'web-10', 'db-1'])).to.deep.equal(['web-0', 'web-10', 'db-1']);
    expect(closeMatches('postgres', ['web', 'logs'])).to.deep.equal([]);
  });

  it('the PVs naming the volume (CSI by handle, in-tree by Gluster name), and the pods using their claims that have not finished', () => {
    const pvs = [csiPv('pvc-1', 'apps/data', ['apps', 'data-claim']), csiPv('pvc-2', 'apps/other', ['apps', 'other']), inTreePv('legacy', 'apps_data', ['legacy', 'old']), csiPv('pvc-3', 'team/data')];
    expect(persistentVolumesOf(data(), pvs)).to.deep.equal([
      { name: 'legacy', source: 'inTree', phase: 'Bound', claim: 'legacy/old', reclaimPolicy: 'Retain' },
      { name: 'pvc-1', source: 'csi', phase: 'Bound', claim: 'apps/data-claim', reclaimPolicy: 'Delete' },
    ]);
    const claims = [claim('apps', 'data-claim', 'pvc-1')];
    const pods = [pod('apps', 'web-0', 'Running', 'data-claim'), pod('apps', 'job-1', 'Succeeded', 'data-claim'), pod('apps', 'crash', 'Failed', 'data-claim'), pod('team', 'web-0', 'Running', 'data-claim'), pod('apps', 'idle', 'Running'), pod('apps', 'new', 'Pending', 'data-claim')];
    expect(podsUsing(claims, pods)).to.deep.equal([
      { namespace: 'apps', name: 'new', phase: 'Pending', claim: 'data-claim' },
      { namespace: 'apps', name: 'web-0', phase: 'Running', claim: 'data-claim' },
    ]);
  });
});

const description = (volumeObject: DescribedVolume): VolumeDescription => ({
  volume: volumeObject,
  persistentVolumes: [{ name: 'pvc-1', source: 'csi', phase: 'Bound', claim: 'apps/data-claim', reclaimPolicy: 'Delete' }],
  claims: [{ namespace: 'apps', name: 'data-claim', phase: 'Bound', requested: '10Gi', persistentVolume: 'pvc-1' }],
  pods: [{ namespace: 'apps', name: 'web-0', phase: 'Running', claim: 'data-claim' }],
  notes: [],
});

describe('kubectl gluster volume describe: the description (pure)', () => {
  it('conditions, layout, sizes, mount source, bricks with online state, heal, and the PV, claim and pod', () => {
    expect(volumeText(description(data({ pendingEntries: 12, splitBrainEntries: 0, checkedAt: '2026-12-01T11:58:00Z' })), NOW)).to.equal(
      [
        'GlusterVolume apps/data (cluster gluster)',
        'Gluster volume:  apps_data (id 7c1e9a52-3f0b-4d8e-9a61-2b5c4d3e2f10)',
        'Durability:      Replicate 3 (Gluster: replicate 3, 1 set)',
        'Size:            10Gi requested, 10Gi capacity',
        'Mount source:    gl1.storage:apps_data',
        'Backup servers:  gl2.storage, gl3.storage',
        'Clients:         2 connected',
        'Heal:            12 entries pending, 0 in split-brain (checked 2m ago)',
        'Reclaim policy:  Retain',
        '',
        'Conditions:',
        '  TYPE      STATUS  REASON         AGE  MESSAGE',
        '  Ready     True    VolumeStarted  60m',
        '  Degraded  False   VolumeStarted  60m',
        'Bricks (3, 1 online):',
        '  SET  BRICK                                NODE  ONLINE  SIZE',
        '  0    gl1.storage:/bricks/apps_data/brick  gl1   yes     10Gi',
        '  0    gl2.storage:/bricks/apps_data/brick  gl2   NO      10Gi',
        '  0    gl3.storage:/bricks/apps_data/brick  gl3   ?       10Gi',
        'PersistentVolumes:',
        '  NAME   SOURCE  PHASE  CLAIM            RECLAIM',
        '  pvc-1  CSI     Bound  apps/data-claim  Delete',
        'Claims:',
        '  NAMESPACE  NAME        PHASE  REQUESTED  VOLUME',
        '  apps       data-claim  Bound  10Gi       pvc-1',
        'Pods using it:',
        '  NAMESPACE  NAME   PHASE    CLAIM',
        '  apps       web-0  Running  data-claim',
        '',
      ].join('\n'),
    );
  });

  it('heal not in status (an older operator) is said, not shown as 0; split-brain says how to list it; lines fit the width', () => {
    const text = volumeText(description(data()), NOW, 60).split('\n');
    expect(text).to.include('Heal:            not reported in status (an operator that p…');
    for (const line of text) expect([...line].length, line).to.be.at.most(60);
    expect(text).to.include('  Degraded  True    BricksOffline  60m  1 of 3 bricks offli…');
    const split = volumeText(description(data({ pendingEntries: 2, splitBrainEntries: 2, checkedAt: 'not a time' })), NOW, 200);
    expect(split).to.contain('Heal:            2 entries pending, 2 in split-brain (gluster volume heal apps_data info split-brain lists them)\n');
  });

  it('-o json and -o yaml parse back through the description schema, heal kept; the volume also parses as a GlusterVolume', () => {
    const heal = { pendingEntries: 3, splitBrainEntries: 1, checkedAt: '2026-12-01T11:59:00Z' };
    const whole = description(data(heal));
    const fromJson = volumeDescriptionSchema.parse(JSON.parse(structured(whole, 'json')));
    expect(fromJson).to.deep.equal(whole);
    expect(fromJson.volume.status?.heal).to.deep.equal(heal);
    expect(volumeDescriptionSchema.parse(parseYaml(structured(whole, 'yaml')))).to.deep.equal(whole);
    expect(glusterVolumeSchema.parse(fromJson.volume).status?.bricks).to.deep.equal(bricks);
  });
});

const PV = '/api/v1/persistentvolumes';
const claims = (namespace: string) => `/api/v1/namespaces/${namespace}/persistentvolumeclaims`;
const pods = (namespace: string) => `/api/v1/namespaces/${namespace}/pods`;

describe('kubectl gluster volume describe (in process, an apiserver stand-in on 127.0.0.1)', function () {
  this.timeout(20_000);
  let standIn: StandIn | undefined;
  afterEach(async () => standIn?.close());

  const world = (): Record<string, unknown[]> => ({
    [`${CUSTOM}/namespaces/apps/glustervolumes`]: [data(), volume('database', ready(), 'apps', { glusterVolumeName: 'apps_database' })],
    [`${CUSTOM}/namespaces/legacy/glustervolumes`]: [],
    [`${CUSTOM}/glustervolumes`]: [data(), volume('database', ready(), 'apps', { glusterVolumeName: 'apps_database' })],
    [PV]: [csiPv('pvc-1', 'apps/data', ['apps', 'data-claim']), inTreePv('legacy-pv', 'apps_data', ['legacy', 'old-claim']), csiPv('pvc-9', 'apps/database')],
    [claims('apps')]: [claim('apps', 'data-claim', 'pvc-1'), claim('apps', 'waiting')],
    [claims('legacy')]: [claim('legacy', 'old-claim', 'legacy-pv')],
    [pods('apps')]: [pod('apps', 'web-0', 'Running', 'data-claim'), pod('apps', 'migrate-1', 'Succeeded', 'data-claim')],
    [pods('legacy')]: [pod('legacy', 'old-app', 'Pending', 'old-claim')],
  });
  const serve = async (forbidden: string[] = []) => (standIn = await standInApiserver(world(), forbidden));
  const describeVolume = async (argv: string[], forbidden: string[] = []) => runCommand(volumeDescribeCommand, argv, await serve(forbidden), 200);

  it('pvc:NS/NAME bound to a CSI PV: the volume its handle names, with the PV, the claim and the pod using it (not the finished one)', async () => {
    const run = await describeVolume(['pvc:apps/data-claim', '-o', 'json']);
    expect(run.code, run.stderr).to.equal(0);
    const shown = volumeDescriptionSchema.parse(JSON.parse(run.stdout));
    expect(`${shown.volume.metadata.namespace}/${shown.volume.metadata.name}`).to.equal('apps/data');
    expect(shown.persistentVolumes.map((pv) => `${pv.name} ${pv.source} ${pv.claim}`)).to.deep.equal(['legacy-pv inTree legacy/old-claim', 'pvc-1 csi apps/data-claim']);
    expect(shown.claims.map((c) => `${c.namespace}/${c.name}`)).to.deep.equal(['apps/data-claim', 'legacy/old-claim']);
    expect(shown.pods.map((p) => `${p.namespace}/${p.name} ${p.phase}`)).to.deep.equal(['apps/web-0 Running', 'legacy/old-app Pending']);
    expect(shown.notes).to.deep.equal([]);
  });

  it('pvc:NS/NAME bound to an in-tree PV: the GlusterVolume whose Gluster volume it names, looked for in every namespace', async () => {
    const run = await describeVolume(['pvc:legacy/old-claim']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.split('\n')[0]).to.equal('GlusterVolume apps/data (cluster gluster)');
    expect(run.stdout).to.match(/^ {2}legacy-pv +in-tree +Bound +legacy\/old-claim +Retain$/m);
    expect(standIn!.requests).to.include(`GET ${CUSTOM}/glustervolumes`);
  });

  it('in-tree, when every namespace may not be listed: the claim\'s namespace alone, and the miss says to import heketi\'s volumes', async () => {
    const run = await describeVolume(['pvc:legacy/old-claim'], [`${CUSTOM}/glustervolumes`]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.equal(
      "error: claim legacy/old-claim is bound to in-tree PersistentVolume legacy-pv (Gluster volume apps_data), which no GlusterVolume holds; import heketi's volumes first (kubectl gluster heketi import)\n",
    );
    expect(standIn!.requests).to.include(`GET ${CUSTOM}/namespaces/legacy/glustervolumes`);
  });

  it('by name, or by its Gluster volume name; PVs forbidden is a note, not a failure', async () => {
    const byName = await describeVolume(['data', '-n', 'apps'], [PV]);
    expect(byName.code, byName.stderr).to.equal(0);
    expect(byName.stdout).to.contain('PersistentVolumes: none');
    expect(byName.stdout).to.match(/^Note: PersistentVolumes not shown: .*forbidden/m);
    await standIn!.close();
    const byGlusterName = await describeVolume(['apps_database']);
    expect(byGlusterName.code, byGlusterName.stderr).to.equal(0);
    expect(byGlusterName.stdout.split('\n')[0]).to.equal('GlusterVolume apps/database (cluster gluster)');
    expect(byGlusterName.stdout).to.match(/^ {2}pvc-9 +CSI +Available/m);
  });

  it('an unknown name or claim: exit 1 with the close names of the same namespace; an unbound claim says where to look', async () => {
    const volumeMiss = await describeVolume(['dat']);
    expect([volumeMiss.code, volumeMiss.stdout]).to.deep.equal([1, '']);
    expect(volumeMiss.stderr).to.equal('error: GlusterVolume "dat" not found in namespace apps; did you mean data, database?\nkubectl get glustervolumes -n apps lists them; a claim is pvc:NAMESPACE/NAME\n');
    await standIn!.close();
    const claimMiss = await describeVolume(['pvc:apps/data-clam']);
    expect(claimMiss.stderr).to.equal('error: PersistentVolumeClaim "data-clam" not found in namespace apps; did you mean data-claim?\nkubectl get pvc -n apps lists them\n');
    await standIn!.close();
    const unbound = await describeVolume(['pvc:waiting']);
    expect(unbound.code).to.equal(1);
    expect(unbound.stderr).to.equal('error: claim apps/waiting is not bound to a PersistentVolume yet (Pending); kubectl describe pvc -n apps waiting says why\n');
  });

  it('usage: no name, or a malformed pvc:, is exit 2 before any request', async () => {
    const server = await serve();
    expect((await runCommand(volumeDescribeCommand, [], server)).code).to.equal(2);
    expect((await runCommand(volumeDescribeCommand, ['pvc:a/b/c'], server)).stderr).to.match(/^error: pvc:a\/b\/c is not pvc:NAMESPACE\/NAME/);
    expect(server.requests).to.deep.equal([]);
  });
});
