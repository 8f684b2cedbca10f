import { expect } from 'chai';
import { GROUP_VERSION, glusterClusterSchema, glusterNodeSchema, type GlusterCluster, type GlusterNode } from '../../src/api/index.ts';
import { exportTopology, importOptionsOf, topologyExportCommand } from '../../src/cli/topology-export.ts';
import { convertHeketiTopology } from '../../src/heketi/convert.ts';
import { parseHeketiTopology } from '../../src/heketi/topology-file.ts';
import { CUSTOM, runCommand, standInApiserver, type StandIn } from './cli-status.test.ts';

/**
 * kubectl gluster topology export: GlusterClusters and GlusterNodes as heketi's topology.json, which
 * topology import reads back into the same specs (the round trip), what the file cannot carry said per
 * object, and the command in process against the apiserver stand-in of cli-status.test.ts.
 */

const gcluster = (name: string, spec: Record<string, unknown>): GlusterCluster =>
  glusterClusterSchema.parse({ apiVersion: GROUP_VERSION, kind: 'GlusterCluster', metadata: { name, namespace: 'storage' }, spec });
const gnode = (name: string, cluster: string, spec: Record<string, unknown> = {}): GlusterNode =>
  glusterNodeSchema.parse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterNode',
    metadata: { name, namespace: 'storage' },
    spec: { cluster, manageAddress: name, storageAddress: `10.0.0.${name.at(-1)}`, ...spec },
  });

const external = gcluster('gluster', { access: { mode: 'External', external: { sshSecretRef: { name: 'heketi-key' } } }, brickBackend: 'LoopFile', directoryRoot: '/srv/bricks' });
const nodes = [
  gnode('node-2', 'gluster', { zone: 'eu-west-1b', devices: [{ name: '/dev/sdb' }] }),
  gnode('node-1', 'gluster', { zone: '1', tags: { rack: 'r1' }, devices: [{ name: '/dev/sdb', tags: { ssd: 'true' } }, { name: '/dev/sdc', destroyData: true }] }),
  gnode('node-3', 'other'),
];

/** What a GlusterCluster or GlusterNode is, for the round trip: its name, namespace and spec. */
const shape = (o: GlusterCluster | GlusterNode) => ({ name: o.metadata.name, namespace: o.metadata.namespace, spec: o.spec });

describe('kubectl gluster topology export (pure)', () => {
  it('heketi topology.json: nodes of the cluster in name order, manage and storage hostnames, numeric zones as numbers, tags, devices', () => {
    const { topology, importFlags, warnings } = exportTopology([external], nodes);
    expect(topology).to.deep.equal({
      clusters: [
        {
          nodes: [
            {
              node: { hostnames: { manage: ['node-1'], storage: ['10.0.0.1'] }, zone: 1, tags: { rack: 'r1' } },
              devices: [{ name: '/dev/sdb', destroydata: false, tags: { ssd: 'true' } }, { name: '/dev/sdc', destroydata: true }],
            },
            { node: { hostnames: { manage: ['node-2'], storage: ['10.0.0.2'] }, zone: 'eu-west-1b' }, devices: [{ name: '/dev/sdb', destroydata: false }] },
          ],
        },
      ],
    });
    expect(importFlags).to.deep.equal(['--cluster', 'gluster', '--namespace', 'storage', '--mode', 'External', '--ssh-secret', 'heketi-key', '--brick-backend', 'LoopFile', '--directory-root', '/srv/bricks']);
    expect(warnings).to.deep.equal([]);
  });

  it('round trip: export, then topology import with the flags it gives, brings back the same GlusterCluster and GlusterNode specs', () => {
    for (const cluster of [external, gcluster('pool', { access: { mode: 'InCluster' } })]) {
      const members = nodes.filter((n) => n.spec.cluster === 'gluster').map((n) => ({ ...n, spec: { ...n.spec, cluster: cluster.metadata.name } }));
      const { topology } = exportTopology([cluster], members);
      const text = JSON.stringify(topology);
      const imported = convertHeketiTopology(parseHeketiTopology(text), { ...importOptionsOf(cluster), clusterName: cluster.metadata.name });
      expect(imported.clusters.map(shape)).to.deep.equal([shape(cluster)]);
      expect(imported.nodes.map(shape)).to.deep.equal(members.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).map(shape));
    }
  });

  it('what topology.json cannot carry is said per object: state, host key, forceRemoval, a name the import would not give, cluster settings', () => {
    const tuned = gcluster('gluster', { access: { mode: 'InCluster' }, zoneChecking: 'Strict' });
    const odd = gnode('custom-name', 'gluster', { manageAddress: 'gl9.example', state: 'Failed', forceRemoval: true });
    const { warnings } = exportTopology([tuned, gcluster('second', { access: { mode: 'InCluster' } })], [odd]);
    expect(warnings).to.deep.equal([
      'GlusterCluster gluster: spec.zoneChecking not in topology.json (keep kubectl get gcluster gluster -o yaml for it)',
      'GlusterCluster second: an import of this file names it gluster-2 (clusters after the first are NAME-2, NAME-3, ...)',
      'GlusterNode custom-name: spec.state Failed is not in topology.json (an import makes it Online)',
      'GlusterNode custom-name: spec.forceRemoval is not in topology.json',
      'GlusterNode custom-name: an import names it gl9.example (after its manage address gl9.example)',
    ]);
  });
});

describe('kubectl gluster topology export (in process, an apiserver stand-in)', function () {
  this.timeout(20_000);
  let standIn: StandIn | undefined;
  afterEach(async () => standIn?.close());
  const serve = async () =>
    (standIn = await standInApiserver({
      [`${CUSTOM}/namespaces/storage/glusterclusters`]: [external, gcluster('other', { access: { mode: 'InCluster' } })],
      [`${CUSTOM}/namespaces/storage/glusternodes`]: [...nodes, gnode('node-4', 'gone')],
    }));

  it('--cluster NAME: its nodes only, JSON that topology import parses; the import flags and an orphan node on stderr', async () => {
    const run = await runCommand(topologyExportCommand, ['-n', 'storage', '--cluster', 'gluster'], await serve());
    expect(run.code, run.stderr).to.equal(0);
    const topology = parseHeketiTopology(run.stdout);
    expect(topology.clusters).to.have.length(1);
    expect(topology.clusters[0]!.nodes.map((n) => n.node.hostnames.manage[0])).to.deep.equal(['node-1', 'node-2']);
    expect(run.stderr).to.contain('warning: GlusterNode node-4: its GlusterCluster gone does not exist; left out');
    expect(run.stderr).to.contain('note: the same objects again: kubectl gluster topology import --json FILE --cluster gluster --namespace storage --mode External');
  });

  it('no such cluster: exit 1, and how to find them', async () => {
    const run = await runCommand(topologyExportCommand, ['-n', 'storage', '--cluster', 'nope'], await serve());
    expect(run.code).to.equal(1);
    expect(run.stderr).to.equal('error: no GlusterCluster nope in namespace storage; kubectl get gcluster -A lists them (then -n NAMESPACE)\n');
  });
});
