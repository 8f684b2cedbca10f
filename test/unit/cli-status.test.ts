import { KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import {
  GROUP_VERSION,
  glusterClusterSchema,
  glusterNodeSchema,
  glusterVolumeSchema,
  type Condition,
  type GlusterCluster,
  type GlusterNode,
  type GlusterVolume,
} from '../../src/api/index.ts';
import type { Command, OptionValues } from '../../src/cli/command.ts';
import { statusCommand } from '../../src/cli/status.ts';
import { backupReportOf, healthOf, statusReport, statusReportSchema, statusText, structured, type BackupReport, type StatusWorld } from '../../src/cli/status-view.ts';
import { LABEL_BACKUP, LABEL_ROLE, META_KEY } from '../../src/topology/backup/secret-objects.ts';

/**
 * kubectl gluster status: the screen built from objects parsed through the API schemas (problems first, cut to
 * the width, -o json that parses back), and the command run in process against an apiserver stand-in.
 */

const NOW = Date.parse('2026-12-01T12:00:00Z');
const clock = { now: () => NOW };

export const condition = (type: string, status: Condition['status'], reason: string, message = ''): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-12-01T11:00:00Z',
});
export const ready = (reason = 'VolumeStarted'): Condition[] => [condition('Ready', 'True', reason), condition('Degraded', 'False', reason)];

const cluster = (name: string, conditions: Condition[] | undefined, namespace = 'apps'): GlusterCluster =>
  glusterClusterSchema.parse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterCluster',
    metadata: { name, namespace },
    spec: { access: { mode: 'InCluster' } },
    ...(conditions ? { status: { conditions } } : {}),
  });
const node = (name: string, conditions: Condition[] | undefined, namespace = 'apps'): GlusterNode =>
  glusterNodeSchema.parse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterNode',
    metadata: { name, namespace },
    spec: { cluster: 'gluster', manageAddress: name, storageAddress: `${name}.storage` },
    ...(conditions ? { status: { conditions } } : {}),
  });
export const volume = (name: string, conditions: Condition[] | undefined, namespace = 'apps', status: Record<string, unknown> = {}): GlusterVolume =>
  glusterVolumeSchema.parse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterVolume',
    metadata: { name, namespace },
    spec: { cluster: 'gluster', size: '10Gi' },
    status: { ...(conditions ? { conditions } : {}), ...status },
  });

/** A backup head Secret whose meta.json says generation `generation`, written at `writtenAt`. */
function head(name: string, meta: unknown, role = 'head'): V1Secret {
  const text = typeof meta === 'string' ? meta : JSON.stringify(meta);
  return { metadata: { name, labels: { [LABEL_BACKUP]: 'gluster-operator-topology', [LABEL_ROLE]: role } }, data: { [META_KEY]: Buffer.from(text).toString('base64') } };
}
const sum = 'a'.repeat(64);
const meta = (generation: number, writtenAt: string) => ({
  format: 1,
  encoding: 'json+gzip',
  schemaVersion: 1,
  generation,
  checksum: sum,
  compressedBytes: 2048,
  uncompressedBytes: 8192,
  chunks: [{ checksum: sum, bytes: 2048 }],
  writtenAt,
  writer: 'gluster-operator-0',
});
const noBackup: BackupReport = { state: 'read', namespace: 'gluster-operator', heads: [], quarantined: 0 };

const world = (parts: Partial<StatusWorld>): StatusWorld => ({ namespace: 'apps', clusters: [], nodes: [], volumes: [], unreadable: [], backup: noBackup, ...parts });

describe('kubectl gluster status: what is wrong, from the conditions (pure)', () => {
  it('Degraded True wins over Ready True; Ready False and Unknown are Not Ready with their reason; no condition is No status', () => {
    expect(healthOf([condition('Ready', 'True', 'VolumeStarted'), condition('Degraded', 'True', 'BrickOffline', 'brick down')])).to.deep.equal({ health: 'Degraded', reason: 'BrickOffline', message: 'brick down' });
    expect(healthOf(ready())).to.deep.include({ health: 'Ready' });
    expect(healthOf([condition('Ready', 'Unknown', 'Probing', 'asking glusterd')])).to.deep.equal({ health: 'NotReady', reason: 'Probing', message: 'asking glusterd' });
    expect(healthOf([condition('Degraded', 'False', 'Fine')]).health).to.equal('NoStatus');
    expect(healthOf(undefined).health).to.equal('NoStatus');
  });

  it('problems come first, in kind order (clusters, nodes, volumes), then a count per kind and the backup', () => {
    const report = statusReport(
      world({
        clusters: [cluster('gluster', ready('ClusterReady'))],
        nodes: [node('gl1', ready('NodeReady')), node('gl2', [condition('Ready', 'False', 'Unreachable', 'ssh gl2: connection refused')])],
        volumes: [
          volume('web', ready()),
          volume('db', [condition('Ready', 'True', 'VolumeStarted'), condition('Degraded', 'True', 'BricksOffline', '1 of 3 bricks offline:\n gl2:/bricks/db')]),
          volume('logs', ready()),
          volume('new', undefined),
        ],
        backup: backupReportOf('gluster-operator', [head('gluster-operator-topology', meta(42, '2026-12-01T11:57:00.000Z'))], NOW),
      }),
    );
    expect(report.healthy).to.equal(false);
    expect(statusText(report)).to.equal(
      [
        '3 problems in namespace apps:',
        'KIND           NAMESPACE  NAME  STATE      REASON         MESSAGE',
        'GlusterNode    apps       gl2   Not Ready  Unreachable    ssh gl2: connection refused',
        'GlusterVolume  apps       db    Degraded   BricksOffline  1 of 3 bricks offline: gl2:/bricks/db',
        'GlusterVolume  apps       new   No status  NoStatus       no status yet: is the operator serving this namespace?',
        '',
        '1 GlusterCluster: 1 Ready',
        '2 GlusterNodes: 1 Ready, 1 Not Ready',
        '4 GlusterVolumes: 2 Ready, 1 Degraded, 1 No status',
        '',
        'Topology backup gluster-operator/gluster-operator-topology: generation 42 (2Ki), written 3m ago by gluster-operator-0',
        '',
      ].join('\n'),
    );
  });

  it('nothing wrong: says so, and the report is healthy; an empty namespace says where else to look', () => {
    const fine = statusReport(world({ clusters: [cluster('gluster', ready('ClusterReady'))], volumes: [volume('web', ready())] }));
    expect(fine.healthy).to.equal(true);
    expect(statusText(fine).split('\n').slice(0, 5)).to.deep.equal(['No problems in namespace apps.', '', '1 GlusterCluster: 1 Ready', '0 GlusterNodes', '1 GlusterVolume: 1 Ready']);
    expect(statusText(statusReport(world({}))).split('\n')[0]).to.equal('No GlusterCluster, GlusterNode or GlusterVolume in namespace apps (-A looks in every namespace).');
  });

  it('every line fits the width: a long message is cut with …, and is whole at a wider terminal', () => {
    const long = `brick ${'gl1:/var/lib/gluster-operator/bricks/apps/db/brick '.repeat(6)}is offline`;
    const report = statusReport(world({ volumes: [volume('db', [condition('Ready', 'False', 'BricksOffline', long)])] }));
    const narrow = statusText(report, 80).split('\n');
    for (const line of narrow) expect([...line].length, line).to.be.at.most(80);
    const row = narrow.find((line) => line.startsWith('GlusterVolume'))!;
    expect(row.endsWith('…')).to.equal(true);
    expect(row).to.contain('BricksOffline  brick gl1:/var/lib');
    const wide = statusText(report, 1000).split('\n').find((line) => line.startsWith('GlusterVolume'))!;
    expect(wide.endsWith(`${long.replace(/\s+/g, ' ').trim()}`)).to.equal(true);
  });

  it('-o json and -o yaml carry the whole report (messages not cut) and parse back through the report schema', () => {
    const long = 'x'.repeat(500);
    const report = statusReport(
      world({ volumes: [volume('db', [condition('Ready', 'False', 'Creating', long)])], backup: backupReportOf('gluster-operator', [head('gluster-operator-topology', meta(3, '2026-12-01T10:00:00.000Z'))], NOW) }),
    );
    const fromJson = statusReportSchema.parse(JSON.parse(structured(report, 'json')));
    expect(fromJson).to.deep.equal(report);
    expect(fromJson.problems[0]!.message).to.equal(long);
    expect(statusReportSchema.parse(parseYaml(structured(report, 'yaml')))).to.deep.equal(report);
  });

  it('the backup: generation, size and age from each head; an unreadable head is a problem; quarantined copies are counted', () => {
    const backup = backupReportOf(
      'gluster-operator',
      [
        head('gluster-operator-topology', meta(7, '2026-11-28T12:00:00.000Z')),
        head('other-topology', '{not json'),
        head('gluster-operator-topology-corrupt-20261130t000000z-head', '{}', 'corrupt'),
        head('gluster-operator-topology-1', '{}', 'chunk'),
      ],
      NOW,
    );
    if (backup.state !== 'read') expect.fail(`read, not ${backup.state}`);
    expect(backup.heads[0]).to.deep.equal({ name: 'gluster-operator-topology', generation: 7, compressedBytes: 2048, writtenAt: '2026-11-28T12:00:00.000Z', ageSeconds: 3 * 86400, writer: 'gluster-operator-0' });
    expect(backup.heads[1]).to.have.keys(['name', 'problem']);
    expect(backup.heads).to.have.length(2);
    expect(backup.quarantined).to.equal(1);
    const report = statusReport(world({ backup }));
    expect(report.healthy).to.equal(false);
    expect(report.problems).to.have.length(1);
    expect(report.problems[0]).to.deep.include({ kind: 'Secret', namespace: 'gluster-operator', name: 'other-topology', health: 'Unreadable', reason: 'BackupUnreadable' });
    expect(report.problems[0]!.message).to.match(/^topology backup is corrupt \(meta-invalid\): meta\.json is not JSON: .*: the operator cannot restore from it/);
    const text = statusText(report).split('\n');
    expect(text).to.include('Topology backup gluster-operator/gluster-operator-topology: generation 7 (2Ki), written 3d ago by gluster-operator-0');
    expect(text).to.include('  1 quarantined Secret of an unreadable backup kept in gluster-operator for inspection');
  });
});

/** Answers GETs from collections of objects: `<collection>` lists them, `<collection>/<name>` reads one, else 404. */
export interface StandIn {
  config: KubeConfig;
  /** Every request, `GET /path?query`. */
  requests: string[];
  url: string;
  close(): Promise<void>;
}

export async function standInApiserver(collections: Record<string, unknown[]>, forbidden: string[] = []): Promise<StandIn> {
  const requests: string[] = [];
  const status = (code: number, reason: string, message: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const path = new URL(request.url ?? '/', 'http://stand-in').pathname;
    const json = (code: number, body: string) => response.writeHead(code, { 'content-type': 'application/json' }).end(body);
    if (forbidden.includes(path)) return json(403, status(403, 'Forbidden', `${path} is forbidden: User "tester" cannot list it`));
    if (collections[path]) return json(200, JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: {}, items: collections[path] }));
    const [collection, name] = [path.slice(0, path.lastIndexOf('/')), path.slice(path.lastIndexOf('/') + 1)];
    const found = collections[collection]?.find((item) => (item as { metadata: { name: string } }).metadata.name === name);
    return found ? json(200, JSON.stringify(found)) : json(404, status(404, 'NotFound', `${path} not found`));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'stand-in', server: url, skipTLSVerify: true }],
    users: [{ name: 'tester', token: 't' }],
    contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'tester', namespace: 'apps' }],
    currentContext: 'stand-in',
  });
  return { config, requests, url, close: () => new Promise<void>((done) => server.close(() => done())) };
}

/** A command run as kubectl-gluster.ts runs it: its options parsed by node:util parseArgs, then run with the stand-in's kubeconfig. */
export function runCommand(command: Command, argv: string[], standIn: StandIn, columns?: number) {
  const { values, positionals } = parseArgs({ args: argv, options: command.options, allowPositionals: true, strict: true });
  return command.run(values as OptionValues, { readText: () => '', loadKubeConfig: () => standIn.config, clock, ...(columns ? { columns } : {}) }, positionals);
}

export const CUSTOM = `/apis/${GROUP_VERSION}`;
const BACKUP_SECRETS = '/api/v1/namespaces/gluster-operator/secrets';

describe('kubectl gluster status (in process, an apiserver stand-in on 127.0.0.1)', function () {
  this.timeout(20_000);
  let standIn: StandIn | undefined;
  afterEach(async () => standIn?.close());

  const serve = async (collections: Record<string, unknown[]>, forbidden: string[] = []) => (standIn = await standInApiserver(collections, forbidden));
  const healthy = {
    [`${CUSTOM}/namespaces/apps/glusterclusters`]: [cluster('gluster', ready('ClusterReady'))],
    [`${CUSTOM}/namespaces/apps/glusternodes`]: [node('gl1', ready('NodeReady'))],
    [`${CUSTOM}/namespaces/apps/glustervolumes`]: [volume('web', ready())],
    [BACKUP_SECRETS]: [head('gluster-operator-topology', meta(5, '2026-12-01T11:59:00.000Z'))],
  };

  it('all Ready: exit 0, the context namespace by default, and only the backup Secrets asked for', async () => {
    const run = await runCommand(statusCommand, [], await serve(healthy));
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.split('\n').slice(0, 5)).to.deep.equal(['No problems in namespace apps.', '', '1 GlusterCluster: 1 Ready', '1 GlusterNode: 1 Ready', '1 GlusterVolume: 1 Ready']);
    expect(run.stdout).to.contain('generation 5 (2Ki), written 60s ago');
    const secrets = standIn!.requests.find((r) => r.includes('/secrets'))!;
    expect(decodeURIComponent(secrets)).to.equal(`GET ${BACKUP_SECRETS}?labelSelector=app.kubernetes.io/part-of=gluster-operator,${LABEL_BACKUP}`);
  });

  it('a Degraded volume: exit 1 and it is listed; -o json says the same and parses back', async () => {
    const degraded = { ...healthy, [`${CUSTOM}/namespaces/apps/glustervolumes`]: [volume('web', ready()), volume('db', [condition('Ready', 'True', 'VolumeStarted'), condition('Degraded', 'True', 'BricksOffline', '1 of 3 bricks offline')])] };
    const run = await runCommand(statusCommand, ['-n', 'apps'], await serve(degraded));
    expect(run.code).to.equal(1);
    expect(run.stdout.split('\n').slice(0, 3)).to.deep.equal([
      '1 problem in namespace apps:',
      'KIND           NAMESPACE  NAME  STATE     REASON         MESSAGE',
      'GlusterVolume  apps       db    Degraded  BricksOffline  1 of 3 bricks offline',
    ]);
    const json = await runCommand(statusCommand, ['-o', 'json'], standIn!);
    expect(json.code).to.equal(1);
    const report = statusReportSchema.parse(JSON.parse(json.stdout));
    expect(report.problems.map((p) => `${p.kind} ${p.name} ${p.health}`)).to.deep.equal(['GlusterVolume db Degraded']);
    expect(report.counts.find((c) => c.kind === 'GlusterVolume')).to.deep.include({ total: 2, Ready: 1, Degraded: 1 });
  });

  it('Secrets forbidden: the backup is skipped with a note, and that alone is not a failure', async () => {
    const run = await runCommand(statusCommand, [], await serve(healthy, [BACKUP_SECRETS]), 300);
    expect(run.code, run.stdout).to.equal(0);
    expect(run.stdout).to.match(/^Topology backup: not shown: your kubeconfig may not list Secrets in gluster-operator \(.*forbidden.*\)$/m);
  });

  it('an object that does not parse is a problem of its own, and the others are still shown', async () => {
    const bad = { apiVersion: GROUP_VERSION, kind: 'GlusterVolume', metadata: { name: 'odd', namespace: 'apps' }, spec: { cluster: 'gluster' } };
    const run = await runCommand(statusCommand, [], await serve({ ...healthy, [`${CUSTOM}/namespaces/apps/glustervolumes`]: [volume('web', ready()), bad] }));
    expect(run.code).to.equal(1);
    expect(run.stdout).to.match(/^GlusterVolume +apps +odd +Unreadable +InvalidObject +does not match the GlusterVolume schema at spec\.size: /m);
    expect(run.stdout).to.contain('2 GlusterVolumes: 1 Ready, 1 Unreadable');
  });

  it('-A reads every namespace (cluster-wide lists); the CRDs missing is an error that says what to check', async () => {
    const all = await runCommand(statusCommand, ['-A'], await serve({ [`${CUSTOM}/glusterclusters`]: [], [`${CUSTOM}/glusternodes`]: [], [`${CUSTOM}/glustervolumes`]: [volume('web', ready(), 'team-b')], [BACKUP_SECRETS]: [] }));
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout.split('\n')[0]).to.equal('No problems in any namespace.');
    expect(all.stdout).to.contain('Topology backup: none in gluster-operator');
    await standIn!.close();
    standIn = undefined;
    const missing = await runCommand(statusCommand, ['-n', 'apps'], await serve({}));
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^error: cannot read the GlusterClusters, GlusterNodes and GlusterVolumes in apps: .*not found\nis the operator installed\? /);
  });

  it('usage errors: -o other than json or yaml, -n with -A (exit 2, before any request)', async () => {
    const server = await serve(healthy);
    expect((await runCommand(statusCommand, ['-o', 'wide'], server)).code).to.equal(2);
    expect((await runCommand(statusCommand, ['-n', 'apps', '-A'], server)).stderr).to.match(/^error: -n and -A do not go together/);
    expect(server.requests).to.deep.equal([]);
  });
});

/** The CLI as users run it (Node 24): the one-word command registered, its options after it, KUBECONFIG at the stand-in. */
describe('kubectl-gluster status and volume describe (child process)', function () {
  this.timeout(30_000);
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const cli = (args: string[], env: Record<string, string> = {}) =>
    promisify(execFile)(join(root, 'node_modules/.bin/node'), [join(root, 'src/cli/kubectl-gluster.ts'), ...args], { cwd: root, env: { ...process.env, ...env } }).then(
      (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
      (failed: { code: number; stdout: string; stderr: string }) => ({ code: failed.code, stdout: failed.stdout, stderr: failed.stderr }),
    );

  it('the usage lists both; each has its --help; extra words are usage errors', async () => {
    const usage = await cli([]);
    expect(usage.code).to.equal(2);
    expect(usage.stdout).to.match(/^ {2}status \[-n NS \| -A\]/m);
    expect(usage.stdout).to.match(/^ {2}volume describe NAME \| pvc:NS\/NAME$/m);
    const [status, describe] = await Promise.all([cli(['status', '--help']), cli(['volume', 'describe', '-h'])]);
    expect([status.code, describe.code]).to.deep.equal([0, 0]);
    expect(status.stdout).to.match(/^Usage: kubectl gluster status /);
    expect(describe.stdout).to.match(/^Usage: kubectl gluster volume describe /);
    const [extra, twoNames, unknown] = await Promise.all([cli(['status', 'now']), cli(['volume', 'describe', 'a', 'b']), cli(['volume'])]);
    expect([extra.code, twoNames.code, unknown.code]).to.deep.equal([2, 2, 2]);
    expect(twoNames.stderr).to.match(/^error: unexpected argument: b\n/);
    expect(unknown.stderr).to.match(/^error: unknown command: volume\n/);
  });

  it('status -n apps against the stand-in: exit 0 and the volume counted Ready', async () => {
    const server = await standInApiserver({
      [`${CUSTOM}/namespaces/apps/glusterclusters`]: [cluster('gluster', ready('ClusterReady'))],
      [`${CUSTOM}/namespaces/apps/glusternodes`]: [],
      [`${CUSTOM}/namespaces/apps/glustervolumes`]: [volume('web', ready())],
      [BACKUP_SECRETS]: [],
    });
    const dir = mkdtempSync(join(tmpdir(), 'cli-status-'));
    try {
      writeFileSync(join(dir, 'kubeconfig'), server.config.exportConfig());
      const run = await cli(['status', '-n', 'apps'], { KUBECONFIG: join(dir, 'kubeconfig') });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.contain('1 GlusterVolume: 1 Ready');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await server.close();
    }
  });
});
