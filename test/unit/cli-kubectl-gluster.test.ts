import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { glusterClusterSchema, glusterNodeSchema, glusterVolumeSchema, type GlusterCluster, type GlusterNode } from '../../src/api/index.ts';

/** The CLI run as users run it: a child process of Node 24 (the repo's node_modules/.bin/node). */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const node = join(root, 'node_modules/.bin/node');
const cli = join(root, 'src/cli/kubectl-gluster.ts');
const fixture = (name: string) => join(root, 'test/fixtures/heketi', name);

function kubectlGluster(args: string[], input?: string) {
  const result = spawnSync(node, [cli, ...args], { encoding: 'utf8', cwd: root, input });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function objects(yaml: string): (GlusterCluster | GlusterNode)[] {
  return parseAllDocuments(yaml).map((doc) => {
    const value = doc.toJS() as { kind: string };
    return value.kind === 'GlusterCluster' ? glusterClusterSchema.parse(value) : glusterNodeSchema.parse(value);
  });
}

describe('kubectl-gluster topology import (child process)', function () {
  this.timeout(20_000);

  it('converts the 3-node heketi fixture into a GlusterCluster and three GlusterNodes that pass the API schemas', () => {
    const run = kubectlGluster(['topology', 'import', '--json', fixture('topology-3-nodes.json')]);
    expect(run.code, run.stderr).to.equal(0);
    const [cluster, ...nodes] = objects(run.stdout) as [GlusterCluster, ...GlusterNode[]];
    expect(cluster.kind).to.equal('GlusterCluster');
    expect(cluster.apiVersion).to.equal('storage.gluster-operator.dev/v1alpha1');
    expect(cluster.metadata.name).to.equal('gluster');
    expect(cluster.spec.access).to.deep.include({ mode: 'External' });
    expect(cluster.spec.access.external?.sshSecretRef.name).to.equal('gluster-ssh');
    expect(nodes.map((n) => [n.metadata.name, n.spec.cluster, n.spec.manageAddress, n.spec.storageAddress, n.spec.zone])).to.deep.equal([
      ['kube-node1', 'gluster', 'kube-node1', '172.16.10.101', '1'],
      ['kube-node2', 'gluster', 'kube-node2', '172.16.10.102', '1'],
      ['kube-node3', 'gluster', 'kube-node3', '172.16.10.103', '1'],
    ]);
    for (const n of nodes) expect(n.spec.devices).to.deep.equal([{ name: '/dev/sdb', destroyData: false }]);
    expect(run.stderr).to.contain('imported 1 GlusterCluster and 3 GlusterNodes');
  });

  it('takes cluster name, namespace, access mode and SSH secret from flags, and reads standard input', () => {
    const text = readFileSync(fixture('topology-3-nodes.json'), 'utf8');
    const run = kubectlGluster(['topology', 'import', '--json', '-', '--cluster', 'prod', '--namespace', 'storage', '--mode', 'InCluster'], text);
    expect(run.code, run.stderr).to.equal(0);
    const all = objects(run.stdout);
    for (const o of all) expect(o.metadata.namespace).to.equal('storage');
    const cluster = all[0] as GlusterCluster;
    expect(cluster.metadata.name).to.equal('prod');
    expect(cluster.spec.access.mode).to.equal('InCluster');
    expect(cluster.spec.access.external).to.equal(undefined);
    expect((all[1] as GlusterNode).spec.cluster).to.equal('prod');

    const ssh = kubectlGluster(['topology', 'import', '--json', fixture('topology-3-nodes.json'), '--ssh-secret', 'heketi-ssh']);
    expect((objects(ssh.stdout)[0] as GlusterCluster).spec.access.external?.sshSecretRef.name).to.equal('heketi-ssh');
  });

  it('handles several clusters, both device forms, destroydata, tags, string and number zones, and name clashes', () => {
    const run = kubectlGluster(['topology', 'import', '--json', fixture('topology-two-clusters.json'), '--cluster', 'gfs']);
    expect(run.code, run.stderr).to.equal(0);
    const all = objects(run.stdout);
    const clusters = all.filter((o): o is GlusterCluster => o.kind === 'GlusterCluster');
    const nodes = all.filter((o): o is GlusterNode => o.kind === 'GlusterNode');
    expect(clusters.map((c) => c.metadata.name)).to.deep.equal(['gfs', 'gfs-2']);
    expect(nodes.map((n) => [n.metadata.name, n.spec.cluster, n.spec.zone])).to.deep.equal([
      ['storage-a.example.com', 'gfs', '1'],
      ['storage-b.example.com', 'gfs', '2'],
      ['storage-c.example.com', 'gfs', 'eu-west-1c'],
      ['fd00-1', 'gfs-2', '1'],
      ['fd00-1-2', 'gfs-2', '2'],
      ['10.9.0.3', 'gfs-2', '1'],
    ]);
    const a = nodes[0]!;
    expect(a.spec.manageAddress).to.equal('Storage-A.example.com');
    expect(a.spec.tags).to.deep.equal({ rack: 'r1' });
    expect(a.spec.devices).to.deep.equal([
      { name: '/dev/sdb', destroyData: false },
      { name: '/dev/sdc', destroyData: true, tags: { class: 'ssd' } },
      { name: '/dev/sdd', destroyData: false },
    ]);
    expect(nodes[1]!.spec.storageAddress).to.equal('192.168.1.12');
    expect(nodes[3]!.spec.manageAddress).to.equal('fd00::1');
    expect(run.stderr).to.contain('cluster 1, node 1 (Storage-A.example.com): using the first of 2 manage hostnames');
    expect(run.stderr).to.contain('cluster 1, node 2 (storage-b.example.com): using the first of 2 storage addresses');
  });

  const broken: [file: string, message: RegExp][] = [
    ['invalid-hostname.json', /cluster 1, node 2 \(kube_node2\): node\.hostnames\.manage\[0\]: must be a DNS name or an IP address/],
    ['duplicate-device.json', /cluster 1, node 3 \(kube-node3\): devices\[2\]: device \/dev\/sdb is listed twice/],
    ['missing-storage.json', /cluster 1, node 1 \(kube-node1\): node\.hostnames\.storage: is missing \(expected a list of addresses\)/],
    ['bad-device-path.json', /cluster 1, node 2 \(kube-node2\): devices\[0\]: /],
    ['duplicate-node.json', /cluster 1, node 3 \(KUBE-NODE1\): node\.hostnames\.manage\[0\]: KUBE-NODE1 is also the manage hostname of cluster 1, node 1 \(kube-node1\)/],
    ['malformed.json', /not valid JSON: /],
  ];
  for (const [file, message] of broken) {
    it(`refuses ${file}: names the node and field, prints no YAML, exits non-zero`, () => {
      const run = kubectlGluster(['topology', 'import', '--json', fixture(file)]);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(/^error: the topology file is not valid, nothing was printed:/);
      expect(run.stderr).to.match(message);
    });
  }

  it('prints help, and refuses bad usage with exit code 2', () => {
    const help = kubectlGluster(['topology', 'import', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('kubectl gluster topology import --json FILE');
    expect(help.stdout).to.contain('--ssh-secret NAME');
    expect(kubectlGluster(['--help']).stdout).to.contain('Commands:');
    expect(kubectlGluster([]).code).to.equal(2);
    const missing = kubectlGluster(['topology', 'import']);
    expect([missing.code, missing.stderr]).to.satisfy(([c, e]: [number, string]) => c === 2 && e.includes('--json FILE is required'));
    expect(kubectlGluster(['topology', 'import', '--json', 'x', '--mode', 'Local']).stderr).to.contain('--mode must be InCluster or External');
    expect(kubectlGluster(['topology', 'import', '--bogus']).code).to.equal(2);
    expect(kubectlGluster(['volume', 'list']).stderr).to.contain('unknown command: volume list');
    const absent = kubectlGluster(['topology', 'import', '--json', fixture('absent.json')]);
    expect(absent.code).to.equal(1);
    expect(absent.stderr).to.contain('cannot read');
  });
});

describe('kubectl-gluster heketi import (child process)', function () {
  this.timeout(20_000);

  it('converts the heketi database export into objects that pass the API schemas, and reads standard input', () => {
    const run = kubectlGluster(['heketi', 'import', '--db', fixture('db-export.json'), '--cluster', 'prod', '--namespace', 'storage']);
    expect(run.code, run.stderr).to.equal(0);
    const docs = parseAllDocuments(run.stdout).map((doc) => doc.toJS() as { kind: string });
    const volumes = docs.filter((d) => d.kind === 'GlusterVolume').map((d) => glusterVolumeSchema.parse(d));
    const others = docs.filter((d) => d.kind !== 'GlusterVolume').map((d) => (d.kind === 'GlusterCluster' ? glusterClusterSchema : glusterNodeSchema).parse(d));
    expect(others.map((o) => [o.kind, o.metadata.name])).to.deep.equal([
      ['GlusterCluster', 'prod'],
      ['GlusterNode', 'kube-node1'],
      ['GlusterNode', 'kube-node2'],
      ['GlusterNode', 'kube-node3'],
    ]);
    expect(volumes.map((v) => [v.spec.glusterVolumeName, v.spec.adoptExisting, v.spec.reclaimPolicy, v.metadata.namespace])).to.deep.equal([
      ['app-data', true, 'Retain', 'storage'],
      ['vol_5e1f2a3b4c5d6e7f8091a2b3c4d5e6f7', true, 'Retain', 'storage'],
      ['vol_6f2a3b4c5d6e7f8091a2b3c4d5e6f708', true, 'Retain', 'storage'],
    ]);
    expect(run.stderr).to.contain('imported 1 GlusterCluster, 3 GlusterNodes and 3 GlusterVolumes');

    const piped = kubectlGluster(['heketi', 'import', '--db', '-'], readFileSync(fixture('db-export.json'), 'utf8'));
    expect(piped.code, piped.stderr).to.equal(0);
    expect(piped.stdout).to.contain('name: heketi-a3f1c07e');
  });

  it('refuses a database with a pending operation: no YAML, exit code 1, the entry named', () => {
    const db = JSON.parse(readFileSync(fixture('db-export.json'), 'utf8'));
    db.pendingoperations = { f0000000000000000000000000000001: { Id: 'f0000000000000000000000000000001', Type: 2, Actions: [], Status: '' } };
    const run = kubectlGluster(['heketi', 'import', '--db', '-'], JSON.stringify(db));
    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.contain('pending operation f0000000000000000000000000000001 (delete-volume)');
  });

  it('prints help, and refuses bad usage with exit code 2', () => {
    const help = kubectlGluster(['heketi', 'import', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('kubectl gluster heketi import --db FILE');
    expect(kubectlGluster(['--help']).stdout).to.contain('heketi import --db FILE');
    const missing = kubectlGluster(['heketi', 'import']);
    expect([missing.code, missing.stderr]).to.satisfy(([c, e]: [number, string]) => c === 2 && e.includes('--db FILE is required'));
    expect(kubectlGluster(['heketi', 'import', '--json', 'x']).code).to.equal(2);
    expect(kubectlGluster(['topology', 'import', '--db', 'x']).code).to.equal(2);
    expect(kubectlGluster(['heketi', 'import', '--db', 'x', '--brick-backend', 'Directory']).stderr).to.contain('--brick-backend Directory needs --directory-root PATH');
  });

  it('--check: its options in the help, usage errors exit 2, a host the known_hosts file does not list exits 1 before connecting', () => {
    const help = kubectlGluster(['heketi', 'import', '--help']).stdout;
    for (const flag of ['--check', '--via pod:NS/POD', '--via ssh:HOST', '--container NAME', '--ssh-key FILE', '--known-hosts FILE', '--ssh-user USER', '--ssh-port PORT']) expect(help).to.contain(flag);
    expect(help).to.contain('kubectl gluster migrate pvs');
    expect(help).not.to.contain('Not built yet');
    const noVia = kubectlGluster(['heketi', 'import', '--db', fixture('db-export.json'), '--check']);
    expect([noVia.code, noVia.stdout, noVia.stderr.split('\n')[0]]).to.deep.equal([2, '', 'error: --check needs --via pod:NAMESPACE/POD or --via ssh:HOST (where gluster runs)']);
    expect(kubectlGluster(['heketi', 'import', '--db', fixture('db-export.json'), '--via', 'ssh:h']).code).to.equal(2);
    const noKnownHosts = kubectlGluster(['heketi', 'import', '--db', fixture('db-export.json'), '--check', '--via', 'ssh:10.0.0.11', '--ssh-key', fixture('db-export.json')]);
    expect([noKnownHosts.code, noKnownHosts.stderr]).to.satisfy(([c, e]: [number, string]) => c === 2 && e.includes('needs --known-hosts FILE'));
    // The database file stands in for the key and the known_hosts file: no line of it names the host.
    const unknown = kubectlGluster(['heketi', 'import', '--db', fixture('db-export.json'), '--check', '--via', 'ssh:10.0.0.11', '--ssh-key', fixture('db-export.json'), '--known-hosts', fixture('db-export.json')]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stdout).to.equal('');
    expect(unknown.stderr).to.match(/^error: --known-hosts \S+db-export\.json has no key for 10\.0\.0\.11; add it after checking its fingerprint out of band \(ssh-keyscan 10\.0\.0\.11 \| ssh-keygen -lf -/);
  });
});
