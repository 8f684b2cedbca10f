import { expect } from 'chai';
import type { Condition } from '../../src/api/common.ts';
import type { EventRecorder } from '../../src/controller/events.ts';
import { ParseError } from '../../src/gluster/errors.ts';
import { ClusterExecutor } from '../../src/gluster/executor.ts';
import { MutationQueue } from '../../src/gluster/mutation-queue.ts';
import { parseHealSummaryXml } from '../../src/gluster/parsers/heal-summary.ts';
import { parseRebalanceStatusXml } from '../../src/gluster/parsers/rebalance-status.ts';
import { parseVolumeInfoXml, type GlusterVolumeInfo } from '../../src/gluster/parsers/volume-info.ts';
import type { ClusterAccess } from '../../src/operator/cluster-access.ts';
import { REQUEUE, type ReconcileContext } from '../../src/operator/context.ts';
import { readBrickOnline, readHealSummary, readRebalance, restartBricks } from '../../src/operator/reconcilers/volume-actions.ts';
import {
  HEAL_REFRESH_MS,
  healFigures,
  healthEvents,
  healthPhase,
  healthRequeueMs,
  quorumRule,
  volumeHealth,
  type HealObservation,
  type HealthInput,
} from '../../src/operator/reconcilers/volume-health.ts';
import { rebalanceProgress } from '../../src/operator/reconcilers/volume-report.ts';
import { FakeTransport, failed, fixture, has, node1, ok } from './gluster-fake-transport.ts';

const AT = '2026-12-01T12:00:00.000Z';
const B1 = '10.77.0.11:/bricks/t3a-fx-rep3-b1';
const B2 = '10.77.0.12:/bricks/t3a-fx-rep3-b2';
const B3 = '10.77.0.13:/bricks/t3a-fx-rep3-b3';
const B3NEW = '10.77.0.13:/bricks/t3a-fx-rep3-b3new';
const COUNTS = ['totalNumberOfEntries', 'numberOfEntriesInHealPending', 'numberOfEntriesInSplitBrain', 'numberOfEntriesPossiblyHealing'];

/**
 * `heal info summary --xml` documents. Not captured from the test bed yet (test/e2e/volume-health.test.ts reads
 * the real one through this parser): each is a captured `heal info` fixture whose bricks lose their <file> list
 * and get, in place of <numberOfEntries>, the four counts glfsheal's glfsh_print_xml_heal_op_summary writes
 * there, in its order. `null` keeps a brick as captured when it was not connected: "-" for every count.
 */
function summaryOf(healInfoFixture: string, counts: Array<readonly [number, number, number, number] | null>): string {
  let i = 0;
  return fixture(healInfoFixture).replace(/<brick [^>]*>[\s\S]*?<\/brick>/g, (brick) => {
    const values = counts[i++] ?? ['-', '-', '-', '-'];
    const elements = COUNTS.map((tag, j) => `<${tag}>${values[j]}</${tag}>`).join('\n        ');
    return brick.replace(/\s*<file [^>]*>[^<]*<\/file>/g, '').replace(/<numberOfEntries>[^<]*<\/numberOfEntries>/, elements);
  });
}

const volumeInfo = (name: string): GlusterVolumeInfo => parseVolumeInfoXml(fixture(`gluster/${name}`))[0]!;
const rep3 = () => volumeInfo('volume-info-rep3.xml');
/** The replica 3 volume after its third brick was replaced by b3new (the brick the brick-down and pending fixtures show). */
const rep3New = (): GlusterVolumeInfo => {
  const info = rep3();
  return { ...info, bricks: info.bricks.map((brick) => (brick.name === B3 ? { ...brick, name: B3NEW, path: '/bricks/t3a-fx-rep3-b3new' } : brick)) };
};

function access(transport: FakeTransport): ClusterAccess {
  return { executor: new ClusterExecutor({ transport, queue: new MutationQueue(), clusterKey: 'c' }), transport } as unknown as ClusterAccess;
}

async function onlineFrom(statusFixture: string): Promise<Map<string, boolean>> {
  return readBrickOnline(access(new FakeTransport().reply(has('volume', 'status'), ok(fixture(`gluster/${statusFixture}`)))), node1, 'v');
}

const read = (xml: string): HealObservation => ({ kind: 'read', bricks: parseHealSummaryXml(xml), at: AT });
const healthy = { state: 'ready', reason: 'VolumeStarted', message: 'Gluster volume v is started' } as const;

function input(overrides: Partial<HealthInput>): HealthInput {
  return {
    info: rep3(),
    online: new Map([B1, B2, B3].map((brick) => [brick, true])),
    heal: undefined,
    previousHeal: undefined,
    brickNodes: new Map([
      [B1, 'gl1'],
      [B2, 'gl2'],
      [B3, 'gl3'],
      [B3NEW, 'gl3'],
    ]),
    readyNodes: new Set(['gl1', 'gl2', 'gl3']),
    ...overrides,
  };
}

describe('parseHealSummaryXml (heal info summary)', () => {
  it('reads the four counts per brick, and unknown (null) for a brick glfsheal could not reach', () => {
    const bricks = parseHealSummaryXml(summaryOf('gluster/heal-info-rep3-pending.xml', [[7, 5, 1, 1], [6, 6, 0, 0], null]));
    expect(bricks[0]).to.deep.include({ name: B1, host: '10.77.0.11', connected: true, total: 7, healPending: 5, splitBrain: 1, possiblyHealing: 1 });
    expect(bricks[2]).to.deep.include({ name: B3NEW, connected: false, status: 'Transport endpoint is not connected', total: null, healPending: null, splitBrain: null });
  });

  it('a partial crawl (a total in the status text, no counts) is unknown, not 0; an error document is a ParseError', () => {
    const partial = summaryOf('gluster/heal-info-rep3.xml', [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]).replace(
      /<status>Connected<\/status>\s*<totalNumberOfEntries>0<\/totalNumberOfEntries>\s*<numberOfEntriesInHealPending>0<\/numberOfEntriesInHealPending>\s*<numberOfEntriesInSplitBrain>0<\/numberOfEntriesInSplitBrain>\s*<numberOfEntriesPossiblyHealing>0<\/numberOfEntriesPossiblyHealing>/,
      '<status>Failed to process entries completely. (Transport endpoint is not connected)totalNumberOfEntries12</status>',
    );
    expect(parseHealSummaryXml(partial)[0]).to.deep.include({ connected: false, total: null, healPending: null });
    expect(() => parseHealSummaryXml(fixture('gluster/heal-info-dist-error.xml'))).to.throw(ParseError);
  });
});

describe('volume health: bricks, heal and conditions from captured output', () => {
  it('a healthy replica 3 volume: 3 bricks online, quorum auto met, nothing to heal, Healing False, Ready', async () => {
    const health = volumeHealth(input({ online: await onlineFrom('volume-status-rep3.xml'), heal: read(summaryOf('gluster/heal-info-rep3.xml', [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])) }));
    expect(health.fields).to.deep.equal({ bricksOnline: 3, quorum: { type: 'auto', met: true }, heal: { pendingEntries: 0, splitBrainEntries: 0, checkedAt: AT } });
    expect(health.conditions).to.deep.equal([{ type: 'Healing', status: 'False', reason: 'NoHealPending', message: 'no entries pending self-heal' }]);
    expect(health.problems).to.deep.equal([]);
    expect(healthPhase(health, healthy)).to.equal(healthy);
    expect(healthRequeueMs(health)).to.equal(REQUEUE.steady);
  });

  it('a brick down: Degraded BricksOffline naming it and its node; quorum still met; Healing True counting each entry once per set', async () => {
    const heal = read(summaryOf('gluster/heal-info-rep3-pending.xml', [[6, 6, 0, 0], [6, 5, 0, 1], null]));
    const health = volumeHealth(input({ info: rep3New(), online: await onlineFrom('volume-status-rep3-brick-down.xml'), heal }));
    expect(health.fields).to.deep.include({ bricksOnline: 2, quorum: { type: 'auto', met: true }, heal: { pendingEntries: 6, splitBrainEntries: 0, checkedAt: AT } });
    expect(health.problems.map((problem) => problem.reason)).to.deep.equal(['BricksOffline']);
    expect(health.problems[0]!.message).to.equal(`1 of 3 bricks offline: ${B3NEW} (GlusterNode gl3)`);
    expect(health.conditions[0]).to.include({ type: 'Healing', status: 'True', reason: 'HealPending' });
    expect(health.conditions[0]!.message).to.equal(`6 entries pending self-heal; not known for ${B3NEW} (Transport endpoint is not connected)`);
    expect(healthPhase(health, healthy)).to.deep.equal({ state: 'degraded', reason: 'BricksOffline', message: health.problems[0]!.message });
    expect(health.brickOnline.get(B3NEW)).to.equal(false);
    expect(healthRequeueMs(health)).to.equal(REQUEUE.waiting);
  });

  it('two of three bricks down: QuorumLost comes first, naming the set and what auto needs', () => {
    const health = volumeHealth(input({ online: new Map([[B1, true], [B2, false], [B3, false]]) }));
    expect(health.problems.map((problem) => problem.reason)).to.deep.equal(['QuorumLost', 'BricksOffline']);
    expect(health.problems[0]!.message).to.equal('quorum lost, writes to the files of these sets fail: set 0 has 1 of 3 bricks online and quorum auto needs 2');
    expect(health.fields.quorum).to.deep.equal({ type: 'auto', met: false });
    expect(healthPhase(health, healthy)).to.include({ state: 'degraded', reason: 'QuorumLost' });
  });

  it('split-brain entries: Degraded SplitBrain with the count and the commands that resolve it, all bricks online', () => {
    const health = volumeHealth(input({ heal: read(summaryOf('gluster/heal-info-rep3.xml', [[2, 0, 2, 0], [2, 0, 2, 0], [0, 0, 0, 0]])) }));
    expect(health.fields.heal).to.include({ pendingEntries: 0, splitBrainEntries: 2 });
    expect(health.problems).to.have.length(1);
    expect(health.problems[0]!.reason).to.equal('SplitBrain');
    expect(health.problems[0]!.message).to.contain('2 entries in split-brain').and.contain('gluster volume heal t3a-fx-rep3 info split-brain').and.contain('split-brain latest-mtime FILE');
    expect(health.conditions[0]).to.include({ status: 'False', reason: 'NoHealPending' });
    expect(healthRequeueMs(health)).to.equal(HEAL_REFRESH_MS);
  });

  it('a brick volume status does not list (its glusterd unreachable) is offline; an empty answer claims nothing', () => {
    const absent = volumeHealth(input({ online: new Map([[B1, true], [B2, true]]) }));
    expect(absent.fields.bricksOnline).to.equal(2);
    expect(absent.problems[0]!.message).to.contain(`${B3} (not listed by gluster volume status`);
    const unknown = volumeHealth(input({ online: new Map() }));
    expect(unknown.fields).to.deep.equal({ bricksOnline: null, quorum: null });
    expect(unknown.problems).to.deep.equal([]);
    expect(healthRequeueMs(unknown)).to.equal(HEAL_REFRESH_MS);
  });

  it('a brick on a node that is not Ready, and a restart that failed, say so', () => {
    const down = new Map([[B1, true], [B2, true], [B3, false]]);
    expect(volumeHealth(input({ online: down, readyNodes: new Set(['gl1', 'gl2']) })).problems[0]!.message).to.contain(`${B3} (GlusterNode gl3 is not Ready; its bricks are started once it is)`);
    const failure = 'Commit failed on 10.77.0.13. Please check log file for details.';
    expect(volumeHealth(input({ online: down, restartFailure: failure })).problems[0]!.message).to.equal(
      `1 of 3 bricks offline: ${B3} (GlusterNode gl3); starting them failed (gluster volume start t3a-fx-rep3 force): ${failure}`,
    );
  });

  it('heal not read this pass: the figures and the Healing condition stay as written, split-brain from them still counts', () => {
    const previousHeal = { pendingEntries: 4, splitBrainEntries: 1, checkedAt: AT };
    const kept = volumeHealth(input({ previousHeal }));
    expect(kept.fields).to.not.have.property('heal');
    expect(kept.conditions).to.deep.equal([]);
    expect(kept.problems.map((problem) => problem.reason)).to.deep.equal(['SplitBrain']);
    expect(kept.settling).to.equal(true);
  });

  it('heal info that fails is Healing Unknown, keeping the last figures; bricks that could not answer make it Unknown too', () => {
    const previousHeal = { pendingEntries: 0, splitBrainEntries: 0, checkedAt: AT };
    const failing = volumeHealth(input({ heal: { kind: 'failed', message: 'timed out after 120000 ms' }, previousHeal }));
    expect(failing.fields).to.not.have.property('heal');
    expect(failing.conditions).to.deep.equal([
      { type: 'Healing', status: 'Unknown', reason: 'HealInfoUnavailable', message: `heal info could not be read: timed out after 120000 ms (status.heal holds the figures of ${AT})` },
    ]);
    const partial = volumeHealth(input({ info: rep3New(), heal: read(summaryOf('gluster/heal-info-rep3-pending.xml', [[0, 0, 0, 0], [0, 0, 0, 0], null])) }));
    expect(partial.conditions[0]).to.include({ status: 'Unknown', reason: 'HealInfoIncomplete' });
  });

  it('a distribute volume has no heal fields, no Healing condition and no quorum; a brick down is still BricksOffline', () => {
    const info = volumeInfo('volume-info-dist.xml');
    const bricks = info.bricks.map((brick) => brick.name);
    const health = volumeHealth(input({ info, online: new Map(bricks.map((brick, i) => [brick, i > 0])), heal: { kind: 'failed', message: 'not asked' } }));
    expect(health.fields).to.deep.equal({ bricksOnline: 2, quorum: null, heal: null });
    expect(health.conditions).to.deep.equal([]);
    expect(health.problems.map((problem) => problem.reason)).to.deep.equal(['BricksOffline']);
  });

  it('Gluster saying there is nothing to heal (not replicate/disperse, not started) removes the heal fields', () => {
    const health = volumeHealth(input({ heal: { kind: 'notApplicable' }, previousHeal: { pendingEntries: 0, splitBrainEntries: 3, checkedAt: AT } }));
    expect(health.fields.heal).to.equal(null);
    expect(health.conditions).to.deep.equal([]);
    expect(health.problems).to.deep.equal([]);
  });

  it('pending entries are the most any brick of a set lists, summed over sets; possibly healing counts as pending', () => {
    const info = rep3();
    const six = { ...info, distCount: 2, brickCount: 6, bricks: [...info.bricks, ...info.bricks.map((brick) => ({ ...brick, name: `${brick.name}-2`, path: `${brick.path}-2` }))] };
    const brick = (name: string, healPending: number, splitBrain = 0, possiblyHealing = 0) => ({ name, host: '', path: '', connected: true, status: 'Connected', total: 0, healPending, splitBrain, possiblyHealing });
    const figures = healFigures(six, [brick(B1, 3), brick(B2, 1, 0, 4), brick(B3, 0), brick(`${B1}-2`, 2, 1), brick(`${B2}-2`, 2, 1), brick(`${B3}-2`, 0)]);
    expect(figures).to.deep.equal({ pendingEntries: 7, splitBrainEntries: 1, unknown: [] });
  });
});

describe('volume health: quorum per durability', () => {
  const withOptions = (info: GlusterVolumeInfo, options: Record<string, string>) => ({ ...info, options: { ...info.options, ...options } });
  const met = (info: GlusterVolumeInfo, up: boolean[]) => volumeHealth(input({ info, online: new Map(info.bricks.map((brick, i) => [brick.name, up[i]!])) })).fields.quorum;
  const replica2 = (): GlusterVolumeInfo => {
    const info = rep3();
    return { ...info, replicaCount: 2, brickCount: 2, bricks: info.bricks.slice(0, 2) };
  };

  it('replica 3: auto by default, met with 2 of 3, lost with 1', () => {
    expect(quorumRule(rep3())?.type).to.equal('auto');
    expect(met(rep3(), [false, true, true])).to.deep.equal({ type: 'auto', met: true });
    expect(met(rep3(), [false, false, true])).to.deep.equal({ type: 'auto', met: false });
  });

  it('arbiter: the arbiter counts, 2 of 3', () => {
    const arbiter = volumeInfo('volume-info-arb.xml');
    expect(met(arbiter, [true, false, true])).to.deep.equal({ type: 'auto', met: true });
    expect(met(arbiter, [false, false, true])).to.deep.equal({ type: 'auto', met: false });
  });

  it('replica 2: none by default (one brick will do); auto needs the first brick when only half is up; fixed needs quorum-count', () => {
    expect(met(replica2(), [false, true])).to.deep.equal({ type: 'none', met: true });
    expect(met(replica2(), [false, false])).to.deep.equal({ type: 'none', met: false });
    const auto = withOptions(replica2(), { 'cluster.quorum-type': 'auto' });
    expect(met(auto, [true, false])).to.deep.equal({ type: 'auto', met: true });
    expect(met(auto, [false, true])).to.deep.equal({ type: 'auto', met: false });
    const fixed = withOptions(rep3(), { 'cluster.quorum-type': 'fixed', 'cluster.quorum-count': '3' });
    expect(met(fixed, [true, true, false])).to.deep.equal({ type: 'fixed', met: false });
    expect(met(fixed, [true, true, true])).to.deep.equal({ type: 'fixed', met: true });
  });

  it('disperse 2+1: the data bricks of a set, or disperse.quorum-count when set', () => {
    const disperse = volumeInfo('volume-info-disp.xml');
    expect(met(disperse, [true, false, true])).to.deep.equal({ type: 'auto', met: true });
    expect(met(disperse, [true, false, false])).to.deep.equal({ type: 'auto', met: false });
    const fixed = withOptions(disperse, { 'disperse.quorum-count': '3' });
    expect(met(fixed, [true, false, true])).to.deep.equal({ type: 'fixed', met: false });
  });

  it('distribute: no quorum', () => {
    expect(quorumRule(volumeInfo('volume-info-dist.xml'))).to.equal(undefined);
  });
});

describe('volume health: Events once per change', () => {
  const condition = (status: 'True' | 'False', reason: string): Condition[] => [{ type: 'Degraded', status, reason, message: '', lastTransitionTime: AT }];
  const down = volumeHealth(input({ online: new Map([[B1, true], [B2, true], [B3, false]]) }));
  const phase = healthPhase(down, healthy);

  it('a Warning when Degraded turns True or changes reason, none while it stays', () => {
    expect(healthEvents(condition('False', 'VolumeStarted'), down, phase)).to.deep.equal([{ type: 'Warning', reason: 'BricksOffline', message: phase.message }]);
    expect(healthEvents(undefined, down, phase)).to.have.length(1);
    expect(healthEvents(condition('True', 'BricksOffline'), down, phase)).to.deep.equal([]);
    expect(healthEvents(condition('True', 'SplitBrain'), down, phase)).to.deep.include({ type: 'Warning', reason: 'BricksOffline', message: phase.message });
    // Degraded for another reason (a failed pass) is not this problem: it is said.
    expect(healthEvents(condition('True', 'AccessNotConfigured'), down, phase)).to.have.length(1);
  });

  it('a Normal VolumeHealthy when a health problem clears; nothing after other reasons', () => {
    const fine = volumeHealth(input({}));
    expect(healthEvents(condition('True', 'BricksOffline'), fine, healthy)).to.deep.equal([{ type: 'Normal', reason: 'VolumeHealthy', message: `no longer BricksOffline: ${healthy.message}` }]);
    expect(healthEvents(condition('True', 'VolumeMissing'), fine, healthy)).to.deep.equal([]);
    expect(healthEvents(condition('False', 'VolumeStarted'), fine, healthy)).to.deep.equal([]);
  });
});

describe('volume health: what the reconciler runs', () => {
  it('one heal info summary for the whole volume', async () => {
    const transport = new FakeTransport().reply(has('volume', 'heal'), ok(summaryOf('gluster/heal-info-rep3.xml', [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])));
    const observed = await readHealSummary(access(transport), node1, 't3a-fx-rep3', AT);
    expect(observed).to.include({ kind: 'read', at: AT });
    expect(transport.argvs()).to.deep.equal([['gluster', '--mode=script', '--xml', 'volume', 'heal', 't3a-fx-rep3', 'info', 'summary']]);
  });

  it('glfsheal refusing a distribute volume, or a stopped volume, is nothing to heal, not an error; other failures are reported', async () => {
    const answer = async (result: ReturnType<typeof ok>) => readHealSummary(access(new FakeTransport().reply(has('volume', 'heal'), result)), node1, 'v', AT);
    expect(await answer(ok(fixture('gluster/heal-info-dist-error.xml')))).to.deep.equal({ kind: 'notApplicable' });
    expect(await answer(ok(fixture('gluster/error-volume-not-started.xml')))).to.deep.equal({ kind: 'notApplicable' });
    const busy = await answer(ok(fixture('gluster/error-another-transaction.xml')));
    expect(busy.kind).to.equal('failed');
    expect((busy as { message: string }).message).to.contain('Another transaction');
    expect((await answer(ok('<cliOutput><opRet>0</opRet><opErrno>0</opErrno><opErrstr/></cliOutput>'))).kind).to.equal('failed');
  });

  it('a restart glusterd refuses, or that leaves the brick down, is returned (reported with the brick); BricksRestarted only for a brick back', async () => {
    const events: string[] = [];
    const recorder: EventRecorder = { normal: async (_o, reason) => void events.push(reason), warning: async (_o, reason) => void events.push(reason) };
    const ctx = { events: recorder } as unknown as ReconcileContext;
    const volume = { metadata: { name: 'v', namespace: 'ns' } } as Parameters<typeof restartBricks>[1];
    const down = ok(fixture('gluster/volume-status-rep3-brick-down.xml'));
    const refusal = failed(1, 'volume start: v: failed: Commit failed on 10.77.0.13. Please check log file for details.');
    const refused = await restartBricks(ctx, volume, access(new FakeTransport().reply(has('volume', 'start'), refusal).reply(has('volume', 'status'), down)), node1, 'v', [B3NEW]);
    expect(refused.failure).to.contain('Commit failed on 10.77.0.13');
    expect(refused.online.get(B3NEW)).to.equal(false);
    const started = ok(fixture('gluster/volume-start-force.xml'));
    const stillDown = await restartBricks(ctx, volume, access(new FakeTransport().reply(has('volume', 'start'), started).reply(has('volume', 'status'), down)), node1, 'v', [B3NEW]);
    expect(stillDown.failure).to.equal(`it left ${B3NEW} down (the brick's log on its node says why)`);
    expect(events).to.deep.equal([]);
    const up = ok(fixture('gluster/volume-status-rep3.xml'));
    const back = await restartBricks(ctx, volume, access(new FakeTransport().reply(has('volume', 'start'), started).reply(has('volume', 'status'), up)), node1, 'v', [B3]);
    expect(back).to.not.have.property('failure');
    expect(events).to.deep.equal(['BricksRestarted']);
  });

  it('rebalance progress: the whole task’s state and its counters, in the condition message too', async () => {
    const xml = fixture('gluster/rebalance-status-rep3-in-progress.xml');
    expect(rebalanceProgress(parseRebalanceStatusXml(xml), AT)).to.deep.equal({ state: 'in-progress', filesScanned: 66, filesRebalanced: 5, failures: 0, checkedAt: AT });
    const { condition, progress } = await readRebalance(access(new FakeTransport().reply(has('volume', 'rebalance'), ok(xml))), node1, 'v', AT);
    expect(condition).to.deep.equal({ type: 'Rebalanced', status: 'Unknown', reason: 'RebalanceInProgress', message: 'rebalance in progress: 66 file(s) scanned, 5 moved' });
    expect(progress).to.include({ state: 'in-progress', filesScanned: 66 });
    const none = await readRebalance(access(new FakeTransport().reply(has('volume', 'rebalance'), ok(fixture('gluster/error-volume-not-started.xml')))), node1, 'v', AT);
    expect(none).to.deep.equal({ condition: { type: 'Rebalanced', status: 'True', reason: 'NoRebalanceNeeded', message: 'no rebalance has run on this volume' } });
  });
});
