import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import { GROUP_VERSION, glusterNodeSchema, type GlusterNode } from '../../src/api/index.ts';
import type { CommandIo, OptionValues } from '../../src/cli/command.ts';
import { confirmed, drainProgress, nodeDrainCommandWith, parseDuration, POLL_MS } from '../../src/cli/node-drain.ts';
import { condition } from './cli-status.test.ts';

/**
 * kubectl gluster node drain: durations, the confirmation, where an evacuation stands, and the command in
 * process against a stand-in apiserver that takes the merge patch and then plays the operator's status
 * updates one per poll. The sleeps move a fake clock: no test waits for real time.
 */

const CUSTOM = `/apis/${GROUP_VERSION}`;
const NODE_PATH = `${CUSTOM}/namespaces/apps/glusternodes/gl2`;

const gnode = (state: 'Online' | 'Failed', generation: number, status?: Record<string, unknown>): GlusterNode =>
  glusterNodeSchema.parse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterNode',
    metadata: { name: 'gl2', namespace: 'apps', generation },
    spec: { cluster: 'gluster', manageAddress: 'gl2', storageAddress: 'gl2.storage', state },
    ...(status ? { status } : {}),
  });
const observed = (generation: number, reason: string, message = '') => [{ ...condition('Ready', 'True', reason, message), observedGeneration: generation }];
const evacuating = (generation: number, evacuation: Record<string, unknown>, reason = 'Evacuating') => ({ observedGeneration: generation, conditions: observed(generation, reason), bricks: evacuation.remainingBricks, evacuation });

describe('kubectl gluster node drain: durations, confirmation and progress (pure)', () => {
  it('durations as kubectl takes them, plain seconds too; nonsense and zero are refused', () => {
    expect(parseDuration('90s')).to.equal(90_000);
    expect(parseDuration('1h30m')).to.equal(5_400_000);
    expect(parseDuration('500ms')).to.equal(500);
    expect(parseDuration('45')).to.equal(45_000);
    for (const bad of ['', '0', '0s', '10 m', '5d', 'soon', '-1m']) expect(parseDuration(bad), bad).to.equal(undefined);
  });

  it('only yes or y confirms', () => {
    for (const yes of ['yes', 'y', ' YES\n']) expect(confirmed(yes), yes).to.equal(true);
    for (const no of [undefined, '', 'no', 'yes please', 'n']) expect(confirmed(no), String(no)).to.equal(false);
  });

  it('a status older than the patch does not count; bricks left, healing and blocked volumes are said; finished is NodeFailed with nothing left', () => {
    expect(drainProgress(gnode('Failed', 3, { observedGeneration: 2, conditions: observed(2, 'NodeReady'), bricks: 0 }), 3)).to.deep.include({ finished: false });
    expect(drainProgress(gnode('Failed', 3, { observedGeneration: 2, conditions: observed(2, 'NodeReady'), bricks: 0 }), 3).line).to.contain('waiting for the operator');
    const moving = drainProgress(gnode('Failed', 3, evacuating(3, { remainingBricks: 2, healingVolumes: ['apps/data'], message: 'replacing 2 bricks' })), 3);
    expect(moving).to.deep.equal({ finished: false, line: '2 bricks left; healing: apps/data; replacing 2 bricks' });
    const blocked = gnode('Failed', 3, { ...evacuating(3, { remainingBricks: 1, blockedVolumes: ['apps/db'] }, 'EvacuationBlocked'), conditions: observed(3, 'EvacuationBlocked', 'apps/db: no node in another zone') });
    expect(drainProgress(blocked, 3).line).to.equal('1 brick left; BLOCKED: apps/db (EvacuationBlocked: apps/db: no node in another zone)');
    expect(drainProgress(gnode('Failed', 3, evacuating(3, { remainingBricks: 0, message: 'all bricks moved' }, 'NodeFailed')), 3)).to.deep.equal({ finished: true, line: '0 bricks left; all bricks moved' });
  });
});

interface DrainStandIn {
  config: KubeConfig;
  requests: string[];
  patches: unknown[];
  /** The node the stand-in serves now; the fake sleep moves it along. */
  node: GlusterNode | undefined;
  close(): Promise<void>;
}

/** GET and merge-PATCH of one GlusterNode, a list of them, and 404 for anything else. */
async function drainStandIn(node: GlusterNode | undefined): Promise<DrainStandIn> {
  const state: DrainStandIn = { config: new KubeConfig(), requests: [], patches: [], node, close: async () => undefined };
  const server: Server = createServer((request, response) => {
    state.requests.push(`${request.method} ${request.url}`);
    const path = new URL(request.url ?? '/', 'http://stand-in').pathname;
    const json = (code: number, body: unknown) => response.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const notFound = () => json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: `${path} not found` });
    if (path === `${CUSTOM}/namespaces/apps/glusternodes`) return json(200, { kind: 'List', items: [state.node ?? gnode('Online', 1)].map((n) => ({ ...n, metadata: { ...n.metadata, name: 'gl1' } })) });
    if (path !== NODE_PATH || !state.node) return notFound();
    if (request.method === 'PATCH') {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        state.patches.push({ contentType: request.headers['content-type'], body: JSON.parse(body) });
        const current = state.node!;
        state.node = { ...current, metadata: { ...current.metadata, generation: (current.metadata.generation ?? 0) + 1 }, spec: { ...current.spec, state: 'Failed' } };
        json(200, state.node);
      });
      return undefined;
    }
    return json(200, state.node);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  state.config.loadFromOptions({
    clusters: [{ name: 'stand-in', server: url, skipTLSVerify: true }],
    users: [{ name: 'tester', token: 't' }],
    contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'tester', namespace: 'apps' }],
    currentContext: 'stand-in',
  });
  state.close = () => new Promise<void>((done) => server.close(() => done()));
  return state;
}

/** Runs the command with a clock that only the sleeps move; each sleep also plays the next status, if any. */
async function drain(argv: string[], standIn: DrainStandIn, options: { statuses?: Array<Record<string, unknown>>; answer?: string | undefined; ask?: boolean } = {}) {
  let now = Date.parse('2026-12-01T12:00:00Z');
  const slept: number[] = [];
  const statuses = [...(options.statuses ?? [])];
  const sleep = async (ms: number) => {
    slept.push(ms);
    now += ms;
    const next = statuses.shift();
    if (next && standIn.node) standIn.node = { ...standIn.node, status: next as GlusterNode['status'] };
  };
  const progress: string[] = [];
  const prompts: string[] = [];
  const io: CommandIo = {
    readText: () => '',
    loadKubeConfig: () => standIn.config,
    clock: { now: () => now },
    progress: (line) => progress.push(line),
    ...(options.ask === false ? {} : { readLine: async (prompt: string) => (prompts.push(prompt), options.answer) }),
  };
  const command = nodeDrainCommandWith(sleep);
  const { values, positionals } = parseArgs({ args: argv, options: command.options, allowPositionals: true, strict: true });
  const output = await command.run(values as OptionValues, io, positionals);
  return { ...output, progress, prompts, slept };
}

describe('kubectl gluster node drain (in process, a stand-in apiserver, a fake clock)', function () {
  this.timeout(20_000);
  let standIn: DrainStandIn | undefined;
  afterEach(async () => standIn?.close());

  it('asks, merge-patches spec.state alone, and follows the evacuation to the end: exit 0', async () => {
    standIn = await drainStandIn(gnode('Online', 1, { observedGeneration: 1, conditions: observed(1, 'NodeReady'), bricks: 3 }));
    const run = await drain(['gl2'], standIn, {
      answer: 'yes',
      statuses: [
        evacuating(2, { remainingBricks: 3, message: 'replacing 3 bricks' }),
        evacuating(2, { remainingBricks: 1, healingVolumes: ['apps/data'], message: 'self-heal filling 2 new bricks' }),
        evacuating(2, { remainingBricks: 0, message: 'all bricks moved' }, 'NodeFailed'),
      ],
    });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.prompts[0]).to.match(/^Drain GlusterNode apps\/gl2 \(gl2\.storage, 3 bricks\)\? .*Type yes to go on: $/);
    expect(standIn.patches).to.deep.equal([{ contentType: 'application/merge-patch+json', body: { spec: { state: 'Failed' } } }]);
    expect(run.progress).to.deep.equal([
      'gl2: spec.state set to Failed; the operator now moves its bricks away',
      'gl2: waiting for the operator to act on spec.state Failed (is it running? kubectl -n gluster-operator get pods)',
      'gl2: 3 bricks left; replacing 3 bricks',
      'gl2: 1 brick left; healing: apps/data; self-heal filling 2 new bricks',
      'gl2: 0 bricks left; all bricks moved',
    ]);
    expect(run.stdout).to.equal('GlusterNode apps/gl2 drained: no bricks left on it; no new bricks are placed there (spec.state Failed)\n');
    expect(run.slept).to.deep.equal([POLL_MS, POLL_MS, POLL_MS]);
  });

  it('not confirmed, or nobody to ask without --yes: nothing patched, exit 1', async () => {
    standIn = await drainStandIn(gnode('Online', 1));
    const no = await drain(['gl2'], standIn, { answer: 'no' });
    expect(no.code).to.equal(1);
    expect(no.stderr).to.contain('not drained: the answer was "no", not yes');
    const nobody = await drain(['gl2'], standIn, { ask: false });
    expect(nobody.code).to.equal(1);
    expect(nobody.stderr).to.contain('run again with --yes');
    expect(standIn.patches).to.deep.equal([]);
  });

  it('--yes --no-wait: patched without asking, not followed', async () => {
    standIn = await drainStandIn(gnode('Online', 1));
    const run = await drain(['gl2', '--yes', '--no-wait'], standIn, { answer: 'no' });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.prompts).to.deep.equal([]);
    expect(standIn.patches).to.have.length(1);
    expect(run.slept).to.deep.equal([]);
  });

  it('the timeout: exit 1 with what it last saw, and that the evacuation goes on', async () => {
    standIn = await drainStandIn(gnode('Online', 1));
    const stuck = evacuating(2, { remainingBricks: 1, blockedVolumes: ['apps/db'] }, 'EvacuationBlocked');
    const run = await drain(['gl2', '--yes', '--timeout', '12s'], standIn, { statuses: [stuck, stuck, stuck, stuck] });
    expect(run.code).to.equal(1);
    expect(run.slept).to.deep.equal([5_000, 5_000, 2_000]);
    expect(run.stderr).to.contain('not drained within 12s; last seen: 1 brick left; BLOCKED: apps/db');
    expect(run.stderr).to.contain('The evacuation continues in the background');
  });

  it('already Failed: not patched again, said, and followed; an unknown node: exit 1 with close names', async () => {
    standIn = await drainStandIn(gnode('Failed', 4, evacuating(4, { remainingBricks: 0, message: 'all bricks moved' }, 'NodeFailed')));
    const run = await drain(['gl2'], standIn);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.progress[0]).to.contain('is already Failed (being drained or drained): not patched; following its evacuation');
    expect(standIn.patches).to.deep.equal([]);
    const missing = await drain(['gl3'], standIn, { answer: 'yes' });
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('GlusterNode "gl3" not found in namespace apps; did you mean gl1?');
  });

  it('usage: no node or a bad --timeout is exit 2 before any request', async () => {
    standIn = await drainStandIn(gnode('Online', 1));
    expect((await drain([], standIn)).code).to.equal(2);
    expect((await drain(['gl2', '--timeout', 'soon'], standIn)).code).to.equal(2);
    expect(standIn.requests).to.deep.equal([]);
  });
});
