import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import ssh2 from 'ssh2';
import type { OptionValues } from '../../src/cli/command.ts';
import { podRefOf, type CheckTarget, type OpenLive } from '../../src/cli/heketi-check.ts';
import { heketiImportCommandWith } from '../../src/cli/heketi-import.ts';
import type { CommandOutput } from '../../src/cli/output.ts';
import { HostKeyMismatchError, TransportError } from '../../src/gluster/errors.ts';
import { parsePoolListXml } from '../../src/gluster/parsers/peer-status.ts';
import { parseVolumeInfoXml, type GlusterVolumeInfo } from '../../src/gluster/parsers/volume-info.ts';
import { parseHeketiDb, type HeketiDb } from '../../src/heketi/db-schema.ts';
import { compareWithLive, type LiveCluster } from '../../src/heketi/live-check.ts';
import { knownHostKey } from '../../src/heketi/live-known-hosts.ts';
import { FakeTransport, failed, fixture, has, ok } from './gluster-fake-transport.ts';

/**
 * heketi import --check: the fixture database (test/fixtures/heketi/db-export.json) against live XML written to
 * match it in glusterd 10.3's shapes (live-volume-info.xml, live-pool-list.xml: run on node 1, 172.16.10.101).
 * Each test breaks one thing on one side and expects exactly the line that names it.
 */

const VOLUME_INFO = fixture('heketi/live-volume-info.xml');
const POOL_LIST = fixture('heketi/live-pool-list.xml');
const DB_TEXT = fixture('heketi/db-export.json');

const db = (): HeketiDb => parseHeketiDb(DB_TEXT);
const live = (): LiveCluster & { volumes: GlusterVolumeInfo[] } => ({ volumes: parseVolumeInfoXml(VOLUME_INFO), peers: parsePoolListXml(POOL_LIST), localAddresses: [] });

/** The fixtures' ids, found by what a reader recognises: volume names, manage hostnames, peer addresses. */
const volumeId = (name: string) => Object.entries(db().volumeentries).find(([id, v]) => (v.Info.name || `vol_${id}`) === name)![0];
const [REP3, ARB, DISP] = ['vol_5e1f2a3b4c5d6e7f8091a2b3c4d5e6f7', 'vol_6f2a3b4c5d6e7f8091a2b3c4d5e6f708', 'app-data'].map(volumeId) as [string, string, string];
const [NODE2, NODE3] = ['kube-node2', 'kube-node3'].map((host) => Object.entries(db().nodeentries).find(([, n]) => n.Info.hostnames.manage[0] === host)![0]) as [string, string];
const [UUID2, UUID3] = ['172.16.10.102', '172.16.10.103'].map((host) => live().peers.find((p) => p.hostname === host)!.uuid) as [string, string];
const brickPath = (device: string, brick: string) => `/var/lib/heketi/mounts/vg_${device}/brick_${brick}/brick`;
const B11 = `172.16.10.102:${brickPath('d2a0b1c2d3e4f5061728394a5b6c7d8e', 'b1100000000000000000000000000000')}`;
const volume = (cluster: LiveCluster, name: string) => cluster.volumes.find((v) => v.name === name)!;
const lines = (heketi: HeketiDb, cluster: LiveCluster) => compareWithLive(heketi, cluster).differences.map((d) => `${d.entry}: ${d.message}`);

describe('heketi import --check: the database against the live cluster (pure)', () => {
  it('the fixture database matches the live XML written for it: no difference, no note', () => {
    expect(compareWithLive(db(), live())).to.deep.equal({ differences: [], notes: [], summary: { volumes: 3, bricks: 12, peers: 3 } });
  });

  it('a heketi volume Gluster does not have', () => {
    const cluster = live();
    cluster.volumes = cluster.volumes.filter((v) => v.name !== 'app-data');
    expect(lines(db(), cluster)).to.deep.equal([
      `volume ${DISP} (app-data): not in Gluster: volume info lists no volume app-data; its GlusterVolume would adopt nothing, so restore the volume or delete it in heketi`,
    ]);
  });

  it('a Gluster volume heketi does not have is a note, not a difference: it stays unmanaged', () => {
    const cluster = live();
    cluster.volumes.push({ ...volume(cluster, 'app-data'), name: 'scratch', id: '11111111-2222-4333-8444-555555555555', bricks: [] });
    const check = compareWithLive(db(), cluster);
    expect(check.differences).to.deep.equal([]);
    expect(check.notes).to.deep.equal([`Gluster volume scratch (11111111-2222-4333-8444-555555555555) is not in heketi's database: it stays unmanaged (the import adopts heketi's volumes only)`]);
  });

  it('a layout that differs: disperse counts', () => {
    const cluster = live();
    volume(cluster, 'app-data').redundancyCount = 1;
    expect(lines(db(), cluster)).to.deep.equal([`volume ${DISP} (app-data): layout differs: heketi records disperse 4+2, 1 set, Gluster has disperse 5+1, 1 set (Disperse)`]);
  });

  it('a layout that differs: the arbiter heketi recorded is not an arbiter volume in Gluster', () => {
    const cluster = live();
    const arbiter = volume(cluster, `vol_${ARB}`);
    arbiter.arbiterCount = 0;
    arbiter.bricks = arbiter.bricks.map((b) => ({ ...b, isArbiter: false }));
    expect(lines(db(), cluster)).to.deep.equal([
      `volume ${ARB} (vol_${ARB}): layout differs: heketi records replicate 3 arbiter, 1 set, Gluster has replicate 3, 1 set (Replicate)`,
      `brick b2200000000000000000000000000000: 172.16.10.103:${brickPath('d3a0b1c2d3e4f5061728394a5b6c7d8e', 'b2200000000000000000000000000000')} is an arbiter brick in heketi (SubType 2) but a data brick in Gluster volume vol_${ARB}`,
    ]);
  });

  it("brick roles: Gluster's arbiter is another brick than heketi's", () => {
    const cluster = live();
    const arbiter = volume(cluster, `vol_${ARB}`);
    arbiter.bricks = arbiter.bricks.map((b, i) => ({ ...b, isArbiter: i === 0 }));
    expect(lines(db(), cluster).map((line) => line.replace(/:\/var\S+/, ''))).to.deep.equal([
      `brick b2000000000000000000000000000000: 172.16.10.101 is a data brick in heketi (SubType 1) but an arbiter brick in Gluster volume vol_${ARB}`,
      `brick b2200000000000000000000000000000: 172.16.10.103 is an arbiter brick in heketi (SubType 2) but a data brick in Gluster volume vol_${ARB}`,
    ]);
  });

  it('brick lists that differ: a brick moved outside heketi is one missing and one heketi does not record', () => {
    const cluster = live();
    const rep3 = volume(cluster, `vol_${REP3}`);
    rep3.bricks = rep3.bricks.map((b) => (b.name === B11 ? { ...b, name: '172.16.10.102:/bricks/moved', path: '/bricks/moved' } : b));
    expect(lines(db(), cluster)).to.deep.equal([
      `brick b1100000000000000000000000000000: ${B11} on node ${NODE2} (kube-node2) is not a brick of Gluster volume vol_${REP3}`,
      `volume ${REP3} (vol_${REP3}): Gluster volume vol_${REP3} has brick 172.16.10.102:/bricks/moved, which heketi does not record`,
    ]);
  });

  it('the set count: Gluster has a second replica set heketi never recorded', () => {
    const cluster = live();
    const rep3 = volume(cluster, `vol_${REP3}`);
    const added = rep3.bricks.map((b) => ({ ...b, name: `${b.host}:/bricks/grown`, path: '/bricks/grown' }));
    rep3.bricks = [...rep3.bricks, ...added];
    rep3.brickCount = 6;
    const found = lines(db(), cluster);
    expect(found[0]).to.equal(`volume ${REP3} (vol_${REP3}): layout differs: heketi records replicate 3, 1 set, Gluster has replicate 3, 2 sets (Replicate)`);
    expect(found.slice(1)).to.have.length(3).and.to.satisfy((rest: string[]) => rest.every((line) => line.includes(':/bricks/grown, which heketi does not record')));
  });

  it('a brick whose host is not an address of any peer (its node is in the pool under another address)', () => {
    const heketi = db();
    heketi.nodeentries[NODE3]!.Info.hostnames.storage = ['172.16.10.203', '172.16.10.103'];
    const found = lines(heketi, live());
    const b12 = `172.16.10.203:${brickPath('d3a0b1c2d3e4f5061728394a5b6c7d8e', 'b1200000000000000000000000000000')}`;
    expect(found).to.include(`brick b1200000000000000000000000000000: ${b12} is on 172.16.10.203, which is not an address of any peer of the Gluster pool`);
    expect(found).to.include(`brick b1200000000000000000000000000000: ${b12} on node ${NODE3} (kube-node3) is not a brick of Gluster volume vol_${REP3}`);
    expect(found.filter((line) => line.startsWith('node '))).to.deep.equal([]);
  });

  it('a heketi node none of whose hostnames is a peer, said once for the node (not again for each brick)', () => {
    const cluster = live();
    cluster.peers = cluster.peers.filter((p) => p.uuid !== UUID3);
    expect(lines(db(), cluster)).to.deep.equal([
      `node ${NODE3} (kube-node3): not in the Gluster pool: neither storage hostname 172.16.10.103 nor manage hostname kube-node3 is a peer (the pool knows 172.16.10.102, 172.16.10.101); probe it or remove the node in heketi, then export again`,
    ]);
  });

  it('the node a pool list runs on is "localhost": known by its bricks, or by the --via address when it has none', () => {
    const cluster = live();
    cluster.volumes = [];
    const without = compareWithLive(db(), cluster);
    expect(without.differences.filter((d) => d.entry.startsWith('node '))).to.have.length(1);
    expect(without.differences[0]!.entry).to.equal('node 1b2c3d4e5f60718293a4b5c6d7e8f901 (kube-node1)');
    expect(without.notes).to.include('the node the check ran on (peer localhost (a0006ade-9711-4fa7-a69a-d55ef4889b32)) has no address pool list or its bricks show, so no heketi node can be matched to it');
    const withAddress = compareWithLive(db(), { ...cluster, localAddresses: ['172.16.10.101'] });
    expect(withAddress.differences.filter((d) => d.entry.startsWith('node '))).to.deep.equal([]);
  });

  it('a Disconnected peer, named by its heketi node', () => {
    const cluster = live();
    cluster.peers = cluster.peers.map((p) => (p.uuid === UUID2 ? { ...p, connected: false } : p));
    expect(lines(db(), cluster)).to.deep.equal([
      `node ${NODE2} (kube-node2): Gluster peer 172.16.10.102 (${UUID2}) is Disconnected: start glusterd on it or mend the network, and check again`,
    ]);
  });

  it('a peer not in the "Peer in Cluster" state', () => {
    const cluster = live();
    cluster.peers = cluster.peers.map((p) => (p.uuid === UUID3 ? { ...p, state: 'Peer Rejected' } : p));
    expect(lines(db(), cluster)).to.deep.equal([`node ${NODE3} (kube-node3): Gluster peer 172.16.10.103 (${UUID3}) is in state "Peer Rejected", not "Peer in Cluster"`]);
  });

  it('a peer heketi does not know is a note: no GlusterNode is imported for it', () => {
    const cluster = live();
    cluster.peers = [...cluster.peers, { uuid: '99999999-2222-4333-8444-555555555555', hostname: '172.16.10.104', hostnames: ['172.16.10.104'], connected: true, state: 'Peer in Cluster', isLocal: false }];
    const check = compareWithLive(db(), cluster);
    expect(check.differences).to.deep.equal([]);
    expect(check.notes).to.deep.equal([`Gluster peer 172.16.10.104 (99999999-2222-4333-8444-555555555555) is not in heketi's database: no GlusterNode is imported for it`]);
    expect(check.summary.peers).to.equal(4);
  });

  it('a volume that is not Started is a warning note, not a difference', () => {
    const cluster = live();
    volume(cluster, 'app-data').status = 'Stopped';
    const check = compareWithLive(db(), cluster);
    expect(check.differences).to.deep.equal([]);
    expect(check.notes).to.deep.equal([
      `volume ${DISP} (app-data): Gluster volume app-data is Stopped, not Started; it is adopted all the same, but nothing mounts it until gluster volume start app-data`,
    ]);
  });

  it("options heketi recorded that Gluster has with another value or not at all (Gluster's other options are not compared)", () => {
    const cluster = live();
    const rep3 = volume(cluster, `vol_${REP3}`);
    rep3.options = { ...rep3.options, 'performance.cache-size': '128MB', 'features.shard': 'on' };
    delete rep3.options['server.tcp-user-timeout'];
    expect(lines(db(), cluster)).to.deep.equal([
      `volume ${REP3} (vol_${REP3}): option performance.cache-size is "64MB" in heketi, "128MB" in Gluster`,
      `volume ${REP3} (vol_${REP3}): option server.tcp-user-timeout is "42" in heketi, not set in Gluster`,
    ]);
  });

  it('compares only the heketi cluster this pool is, and says which it left out', () => {
    const heketi = db();
    const other = 'c0ffee00000000000000000000000000';
    heketi.clusterentries[other] = { Info: { id: other, nodes: ['n9'], volumes: ['v9'], blockvolumes: [] } };
    heketi.nodeentries.n9 = { State: 'online', Info: { id: 'n9', cluster: other, zone: 1, hostnames: { manage: ['far-node'], storage: ['10.9.9.9'] } }, Devices: [] };
    heketi.volumeentries.v9 = { ...heketi.volumeentries[REP3]!, Info: { ...heketi.volumeentries[REP3]!.Info, id: 'v9', name: 'far-volume', cluster: other }, Bricks: [] };
    const check = compareWithLive(heketi, live());
    expect(check.differences).to.deep.equal([]);
    expect(check.notes).to.deep.equal([`cluster ${other}: not compared, none of its nodes is a peer of this pool; check it --via one of its nodes`]);
    expect(check.summary).to.deep.equal({ volumes: 3, bricks: 12, peers: 3 });
  });
});

describe('heketi import --check: known_hosts', () => {
  // Written by OpenSSH (ssh-keygen -H) for 10.0.0.11 and [gluster-2.example]:2222; ssh-keygen -lf gives the fingerprint.
  const HASHED = [
    '|1|rH575ZH05HhHyP3x2GLooiMLvm0=|fyyfPQZC6WJsfvKpXL3dRW1PaZ0= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDL+ZZFJLoUBXDpMlDUsJk1/XIhrGn5af+K2zQ2EPbJk',
    '|1|1EGw0PuUOzXnScbeBT1pYAt5y7I=|HfmrEa9FO6xjG7j02jH79F2vppo= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDL+ZZFJLoUBXDpMlDUsJk1/XIhrGn5af+K2zQ2EPbJk',
  ].join('\n');
  const FINGERPRINT = 'SHA256:ajMW5Cm46qJ5/TGYiJr8Hjc9jV7giVcH8T0BoAYDJVU';
  const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }).public;
  const ed = ssh2.utils.generateKeyPairSync('ed25519').public;

  it("finds hashed names, on port 22 bare and on another port as [host]:port, with OpenSSH's fingerprint", () => {
    expect(knownHostKey(HASHED, '10.0.0.11', 22)).to.deep.equal({ fingerprint: FINGERPRINT });
    expect(knownHostKey(HASHED, 'gluster-2.example', 2222)).to.deep.equal({ fingerprint: FINGERPRINT });
    expect(knownHostKey(HASHED, 'gluster-2.example', 22)).to.have.property('problem').that.contains('has no key for gluster-2.example');
    expect(knownHostKey(HASHED, '10.0.0.11', 2200)).to.have.property('problem').that.contains('ssh-keyscan -p 2200 10.0.0.11');
  });

  it('prefers the ed25519 key SshTransport asks for first, and honours patterns, negation, @revoked and comments', () => {
    const fp = (line: string) => (knownHostKey(line, 'gluster-1', 22) as { fingerprint?: string }).fingerprint;
    const edFingerprint = fp(`gluster-1 ${ed}`)!;
    expect(fp(`# comment\ngluster-1,10.0.0.1 ${rsa}\n*-1 ${ed}`)).to.equal(edFingerprint);
    expect(fp(`gluster-?,!gluster-1 ${ed}`)).to.equal(undefined);
    expect(fp(`gluster-1 ${ed}\n@revoked * ${ed}`)).to.equal(undefined);
    expect(fp(`@cert-authority * ${ed}`)).to.equal(undefined);
    expect(knownHostKey(`gluster-1 sk-ssh-ed25519@openssh.com ${ed.split(' ')[1]}`, 'gluster-1', 22)).to.have.property('problem').that.contains('only with keys it cannot use (sk-ssh-ed25519@openssh.com');
  });
});

describe('heketi import --check: the pod to exec in', () => {
  const target = { kind: 'pod', namespace: 'glusterfs', pod: 'glusterfs-x', container: undefined } as const;
  const pod = (containers: string[], extra: object = {}) => ({ metadata: { name: 'glusterfs-x' }, spec: { containers: containers.map((name) => ({ name })) }, status: { phase: 'Running' }, ...extra });

  it('the only container, else --container, checked against the pod; a pod not Running is refused', () => {
    expect(podRefOf(pod(['glusterfs']), target)).to.deep.equal({ namespace: 'glusterfs', name: 'glusterfs-x', container: 'glusterfs' });
    expect(() => podRefOf(pod(['glusterfs', 'sidecar']), target)).to.throw('has containers glusterfs, sidecar: say which runs glusterd with --container');
    expect(podRefOf(pod(['glusterfs', 'sidecar']), { ...target, container: 'glusterfs' }).container).to.equal('glusterfs');
    expect(() => podRefOf(pod(['glusterfs']), { ...target, container: 'gluster' })).to.throw('has no container gluster (it has glusterfs)');
    expect(() => podRefOf(pod(['glusterfs'], { status: { phase: 'Pending' } }), target)).to.throw('is Pending, not Running');
  });
});

/** The command as kubectl-gluster runs it (argv parsed against its options), in this process. */
async function kubectlGluster(args: string[], openLive: OpenLive | undefined, files: Record<string, string> = {}): Promise<CommandOutput> {
  const command = heketiImportCommandWith(openLive);
  const { values } = parseArgs({ args, options: command.options, strict: true, allowPositionals: false });
  return command.run(values as OptionValues, { readText: (path) => files[path] ?? (path === 'db.json' ? DB_TEXT : '') });
}

const gluster = () => new FakeTransport().reply(has('volume', 'info'), ok(VOLUME_INFO)).reply(has('pool', 'list'), ok(POOL_LIST));

describe('kubectl gluster heketi import --check (in process, fake transport)', () => {
  it('through a pod: two read-only gluster queries, one summary line, exit code 0', async () => {
    const transport = gluster();
    const targets: CheckTarget[] = [];
    const run = await kubectlGluster(['--db', 'db.json', '--check', '--via', 'pod:glusterfs/glusterfs-abcde'], async (target) => {
      targets.push(target);
      return { transport, node: { name: 'pod', manageAddress: 'glusterfs-abcde' }, localAddresses: [] };
    });
    expect(run).to.deep.equal({ stdout: 'database matches the live cluster: 3 volumes, 12 bricks, 3 peers\n', stderr: '', code: 0 });
    expect(targets).to.deep.equal([{ kind: 'pod', namespace: 'glusterfs', pod: 'glusterfs-abcde', container: undefined }]);
    expect(transport.argvs()).to.deep.equal([
      ['gluster', '--mode=script', '--xml', 'volume', 'info'],
      ['gluster', '--mode=script', '--xml', 'pool', 'list'],
    ]);
  });

  it('differences: one line each, the notes, the count; exit code 1; no YAML', async () => {
    const transport = new FakeTransport()
      .reply(has('volume', 'info'), ok(VOLUME_INFO.replace('<value>64MB</value>', '<value>128MB</value>').replace('<statusStr>Started</statusStr>', '<statusStr>Stopped</statusStr>')))
      .reply(has('pool', 'list'), ok(POOL_LIST));
    const targets: CheckTarget[] = [];
    const run = await kubectlGluster(
      ['--db', 'db.json', '--check', '--via', 'ssh:172.16.10.101', '--ssh-key', 'id', '--known-hosts', 'kh', '--ssh-port', '2222', '--ssh-user', 'heketi'],
      async (target) => (targets.push(target), { transport, node: { name: 'n1', manageAddress: '172.16.10.101' }, localAddresses: ['172.16.10.101'] }),
    );
    expect(run.code).to.equal(1);
    expect(run.stdout.split('\n')).to.deep.equal([
      `volume ${REP3} (vol_${REP3}): option performance.cache-size is "64MB" in heketi, "128MB" in Gluster`,
      `note: volume ${DISP} (app-data): Gluster volume app-data is Stopped, not Started; it is adopted all the same, but nothing mounts it until gluster volume start app-data`,
      '1 difference between the database and the live cluster (compared 3 volumes, 12 bricks, 3 peers); resolve each in Gluster or in heketi and export the database again before applying the import',
      '',
    ]);
    expect(targets).to.deep.equal([{ kind: 'ssh', host: '172.16.10.101', user: 'heketi', port: 2222, keyFile: 'id', knownHostsFile: 'kh' }]);
  });

  it('a database the import itself would refuse is said in a note (the comparison still runs)', async () => {
    const pending = JSON.parse(DB_TEXT);
    pending.pendingoperations = { f1: { Id: 'f1', Type: 1, Actions: [], Status: '' } };
    const via: OpenLive = async () => ({ transport: gluster(), node: { name: 'pod', manageAddress: 'p' }, localAddresses: [] });
    const run = await kubectlGluster(['--db', 'pending.json', '--check', '--via', 'pod:glusterfs/p'], via, { 'pending.json': JSON.stringify(pending) });
    expect(run.stdout).to.equal(
      'note: the import itself refuses this database (1 problem); run it without --check to list them\ndatabase matches the live cluster: 3 volumes, 12 bricks, 3 peers\n',
    );
    expect(run.code).to.equal(0);
  });

  it('glusterd not answering, a node out of reach, a changed host key: exit code 1 saying what to fix', async () => {
    const ssh = ['--db', 'db.json', '--check', '--via', 'ssh:gluster-1', '--ssh-key', 'id', '--known-hosts', 'kh'];
    const via = (transport: FakeTransport): OpenLive => async () => ({ transport, node: { name: 'gluster-1', manageAddress: 'gluster-1' }, localAddresses: [] });
    const down = await kubectlGluster(ssh, via(new FakeTransport().reply(() => true, failed(1, '', 'Connection failed. Please check if gluster daemon is operational.\n'))));
    expect(down.code).to.equal(1);
    expect(down.stderr).to.match(/^error: gluster failed in root@gluster-1:22: .*Connection failed.*; run the check --via a node or pod where glusterd runs; nothing was compared\n$/);
    const throwing = (error: Error) => via(new FakeTransport().reply(() => true, () => Promise.reject(error)));
    const refused = await kubectlGluster(ssh, throwing(new TransportError({ node: 'gluster-1', argv: ['gluster'], message: 'cannot connect to root@gluster-1:22: connect ECONNREFUSED' })));
    expect(refused.stderr).to.contain("cannot reach root@gluster-1:22 over SSH (gluster-1: gluster: cannot connect to root@gluster-1:22: connect ECONNREFUSED); check the host, --ssh-port and that sshd runs there");
    const changed = await kubectlGluster(ssh, throwing(new HostKeyMismatchError({ node: 'gluster-1', argv: ['gluster'], expected: 'SHA256:old', actual: 'SHA256:new' })));
    expect(changed.stderr).to.contain('gluster-1 offered SSH host key SHA256:new, not the one --known-hosts kh lists for it');
    expect(refused.code + changed.code).to.equal(2);
  });

  it('usage errors are exit code 2, before any file is read or node reached', async () => {
    const never: OpenLive = () => Promise.reject(new Error('must not be reached'));
    const usage = async (...args: string[]) => {
      const run = await kubectlGluster(['--db', 'db.json', ...args], never);
      expect(run.code, run.stderr).to.equal(2);
      return run.stderr.split('\n')[0];
    };
    expect(await usage('--check')).to.equal('error: --check needs --via pod:NAMESPACE/POD or --via ssh:HOST (where gluster runs)');
    expect(await usage('--via', 'ssh:h')).to.equal('error: --via goes with --check');
    expect(await usage('--check', '--via', 'kube:x')).to.equal('error: --via must be pod:NAMESPACE/POD or ssh:HOST, not kube:x');
    expect(await usage('--check', '--via', 'pod:glusterfs')).to.equal('error: --via must be pod:NAMESPACE/POD or ssh:HOST, not pod:glusterfs');
    expect(await usage('--check', '--via', 'pod:Gluster/x')).to.match(/^error: namespace Gluster: must be a lowercase RFC 1123 name/);
    expect(await usage('--check', '--via', 'pod:g/x', '--ssh-key', 'k')).to.equal('error: --ssh-key goes with --via ssh:HOST, not with a pod');
    expect(await usage('--check', '--via', 'ssh:h', '--container', 'c')).to.equal('error: --container goes with --via pod:NAMESPACE/POD, not with ssh');
    expect(await usage('--check', '--via', 'ssh:root@h')).to.equal('error: --via ssh:root@h: give the host alone, the user goes in --ssh-user');
    expect(await usage('--check', '--via', 'ssh:h', '--known-hosts', 'kh')).to.match(/^error: --via ssh:HOST needs --ssh-key FILE/);
    expect(await usage('--check', '--via', 'ssh:h', '--ssh-key', 'k')).to.match(/^error: --via ssh:HOST needs --known-hosts FILE: the host key is checked, never trusted on first use/);
    expect(await usage('--check', '--via', 'ssh:h', '--ssh-key', 'k', '--known-hosts', 'kh', '--ssh-port', '0')).to.equal('error: --ssh-port 0: must be a port number, 1 to 65535');
  });
});

describe('kubectl gluster heketi import --check --via ssh (in process, a real SSH server on 127.0.0.1)', function () {
  this.timeout(20_000);
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519');
  const userKey = ssh2.utils.generateKeyPairSync('ed25519');
  const otherKey = ssh2.utils.generateKeyPairSync('ed25519');
  const userPublic = (ssh2.utils.parseKey(userKey.public) as ssh2.ParsedKey).getPublicSSH();
  const commands: string[] = [];
  let server: ssh2.Server;
  let port = 0;

  before(async () => {
    server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
      client.on('authentication', (ctx) => {
        if (ctx.method === 'publickey' && ctx.username === 'root' && ctx.key.data.equals(userPublic)) ctx.accept();
        else ctx.reject(['publickey']);
      });
      client.on('error', () => undefined);
      client.on('ready', () => {
        client.on('session', (accept) => {
          accept().on('exec', (acceptExec, _reject, info) => {
            commands.push(info.command);
            const stream = acceptExec();
            stream.write(info.command.includes('volume info') ? VOLUME_INFO : info.command.includes('pool list') ? POOL_LIST : '');
            stream.exit(0);
            stream.end();
          });
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const check = (files: Record<string, string>, portOverride = port) =>
    kubectlGluster(['--db', 'db.json', '--check', '--via', 'ssh:127.0.0.1', '--ssh-port', String(portOverride), '--ssh-key', 'id', '--known-hosts', 'kh'], undefined, files);

  it('reaches the server with the key, accepts only the host key known_hosts lists, and compares', async () => {
    commands.length = 0;
    const run = await check({ id: userKey.private, kh: `[127.0.0.1]:${port} ${hostKey.public}\n` });
    expect(run, run.stderr).to.deep.equal({ stdout: 'database matches the live cluster: 3 volumes, 12 bricks, 3 peers\n', stderr: '', code: 0 });
    expect(commands).to.have.length(2);
    expect(commands[0]).to.match(/^timeout -s KILL \d+s gluster --mode=script --xml volume info$/);
  });

  it('a host key other than the listed one, a host the file does not list, a key the server refuses, a closed port: exit code 1', async () => {
    commands.length = 0;
    const mismatch = await check({ id: userKey.private, kh: `[127.0.0.1]:${port} ${otherKey.public}\n` });
    expect([mismatch.code, mismatch.stderr]).to.satisfy(([code, text]: [number, string]) => code === 1 && /^error: 127\.0\.0\.1 offered SSH host key SHA256:\S+, not the one --known-hosts kh lists for it; if the server was reinstalled/.test(text));
    const unknown = await check({ id: userKey.private, kh: `127.0.0.1 ${hostKey.public}\n` });
    expect(unknown.stderr).to.equal(
      `error: --known-hosts kh has no key for [127.0.0.1]:${port}; add it after checking its fingerprint out of band (ssh-keyscan -p ${port} 127.0.0.1 | ssh-keygen -lf -, then append the line ssh-keyscan -p ${port} 127.0.0.1 prints); nothing was compared\n`,
    );
    const refusedKey = await check({ id: otherKey.private, kh: `[127.0.0.1]:${port} ${hostKey.public}\n` });
    expect(refusedKey.stderr).to.contain('root@127.0.0.1:' + port + ' refused the key in --ssh-key id; add its public key to ~root/.ssh/authorized_keys there');
    const badKey = await check({ id: 'not a key', kh: `[127.0.0.1]:${port} ${hostKey.public}\n` });
    expect(badKey.stderr).to.contain('cannot use --ssh-key id (');
    expect(commands).to.deep.equal([]);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = await check({ id: userKey.private, kh: `[127.0.0.1]:${closedPort} ${hostKey.public}\n` }, closedPort);
    expect(unreachable.stderr).to.match(new RegExp(`^error: cannot reach root@127\\.0\\.0\\.1:${closedPort} over SSH \\(.*ECONNREFUSED.*\\); check the host, --ssh-port and that sshd runs there`));
    for (const run of [mismatch, unknown, refusedKey, badKey, unreachable]) expect(run.code).to.equal(1);
  });
});

describe('kubectl gluster heketi import --check --via pod (in process, an apiserver stand-in on 127.0.0.1)', function () {
  this.timeout(20_000);
  const requests: string[] = [];
  let apiserver: HttpServer;
  let kubeConfig: KubeConfig;

  before(async () => {
    apiserver = createHttpServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      const running = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'glusterfs-abcde', namespace: 'glusterfs' }, spec: { containers: [{ name: 'glusterfs' }] }, status: { phase: 'Running' } };
      if (request.url === '/api/v1/namespaces/glusterfs/pods/glusterfs-abcde') response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(running));
      else if (request.url?.includes('/exec?')) response.writeHead(403, { 'content-type': 'application/json' }).end('{"kind":"Status","status":"Failure","reason":"Forbidden","code":403}');
      else response.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","status":"Failure","reason":"NotFound","code":404}');
    });
    await new Promise<void>((resolve) => apiserver.listen(0, '127.0.0.1', resolve));
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(apiserver.address() as { port: number }).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });
  after(() => new Promise<void>((resolve) => apiserver.close(() => resolve())));

  const check = (via: string) => {
    const command = heketiImportCommandWith();
    const { values } = parseArgs({ args: ['--db', 'db.json', '--check', '--via', via], options: command.options, strict: true });
    return command.run(values as OptionValues, { readText: () => DB_TEXT, loadKubeConfig: () => kubeConfig });
  };

  it('a pod that does not exist, and one the kubeconfig may not exec in: exit code 1 saying what to check', async () => {
    const missing = await check('pod:glusterfs/glusterfs-gone');
    expect(missing.stderr).to.equal(`error: pod glusterfs/glusterfs-gone not found; heketi's glusterd pods are listed by kubectl get pods -n glusterfs -l glusterfs=pod; nothing was compared\n`);
    const forbidden = await check('pod:glusterfs/glusterfs-abcde');
    expect(forbidden.stderr).to.match(/^error: pod glusterfs\/glusterfs-abcde: gluster --mode=script --xml volume info: cannot exec in pod glusterfs\/glusterfs-abcde \(container glusterfs\): .*; check the pod and --container, and that your kubeconfig may create pods\/exec in glusterfs; nothing was compared\n$/);
    expect([missing.code, forbidden.code]).to.deep.equal([1, 1]);
    expect(requests.filter((r) => r.includes('/exec?'))).to.have.length(1);
    expect(requests.find((r) => r.includes('/exec?'))).to.contain('container=glusterfs');
  });
});
