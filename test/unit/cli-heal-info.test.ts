import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { healInfoCommandWith, healReport, healReportSchema, healText } from '../../src/cli/heal-info.ts';
import type { OpenLive } from '../../src/cli/heketi-check.ts';
import { describedVolumeSchema, type DescribedVolume } from '../../src/cli/volume-view.ts';
import { parseHealSummaryXml } from '../../src/gluster/parsers/heal-summary.ts';
import { parseVolumeInfoXml } from '../../src/gluster/parsers/volume-info.ts';
import { condition, CUSTOM, runCommand, standInApiserver, volume, type StandIn } from './cli-status.test.ts';
import { FakeTransport, fixture, has, ok } from './gluster-fake-transport.ts';

/**
 * kubectl gluster heal-info: the report from a GlusterVolume's status (volume totals, bricks online, the
 * Healing and Degraded conditions) or, with --via, from Gluster's heal info summary per brick; what to do;
 * the exit code; and the command in process against the apiserver stand-in of cli-status.test.ts.
 */

const NOW = Date.parse('2026-12-01T12:00:00Z');
const B1 = '10.77.0.11:/bricks/t3a-fx-rep3-b1';
const B2 = '10.77.0.12:/bricks/t3a-fx-rep3-b2';
const B3 = '10.77.0.13:/bricks/t3a-fx-rep3-b3';

const statusOf = (heal: Record<string, unknown> | undefined, conditions = [condition('Ready', 'True', 'VolumeStarted'), condition('Degraded', 'False', 'VolumeStarted')]) => ({
  glusterVolumeName: 't3a-fx-rep3',
  bricks: [
    { node: 'gl1', path: B1, set: 0, online: true },
    { node: 'gl2', path: B2, set: 0, online: true },
    { node: 'gl3', path: B3, set: 0, online: false },
  ],
  ...(heal ? { heal } : {}),
  conditions,
});
const data = (heal?: Record<string, unknown>, conditions?: ReturnType<typeof condition>[]): DescribedVolume => {
  const base = volume('data', undefined, 'apps', statusOf(heal, conditions));
  return describedVolumeSchema.parse({ ...base, status: statusOf(heal, conditions) });
};

/** `heal info summary --xml` with the four counts per brick, null for a brick glfsheal could not reach. */
function summaryXml(counts: Array<[string, readonly [number, number, number, number] | null]>): string {
  const bricks = counts.map(([name, c]) =>
    c === null
      ? `<brick hostUuid="-"><name>${name}</name><status>Transport endpoint is not connected</status><totalNumberOfEntries>-</totalNumberOfEntries><numberOfEntriesInHealPending>-</numberOfEntriesInHealPending><numberOfEntriesInSplitBrain>-</numberOfEntriesInSplitBrain><numberOfEntriesPossiblyHealing>-</numberOfEntriesPossiblyHealing></brick>`
      : `<brick hostUuid="u"><name>${name}</name><status>Connected</status><totalNumberOfEntries>${c[0]}</totalNumberOfEntries><numberOfEntriesInHealPending>${c[1]}</numberOfEntriesInHealPending><numberOfEntriesInSplitBrain>${c[2]}</numberOfEntriesInSplitBrain><numberOfEntriesPossiblyHealing>${c[3]}</numberOfEntriesPossiblyHealing></brick>`,
  );
  return `<?xml version="1.0"?><cliOutput><healInfo><bricks>${bricks.join('')}</bricks></healInfo><opRet>0</opRet><opErrno>0</opErrno><opErrstr/></cliOutput>`;
}

describe('kubectl gluster heal-info: the report (pure)', () => {
  it('from status: totals, when checked, bricks online; split-brain says how to resolve it; exit-worthy', () => {
    const report = healReport(data({ pendingEntries: 12, splitBrainEntries: 2, checkedAt: '2026-12-01T11:58:00Z' }));
    expect(report).to.deep.include({ source: 'status', state: 'splitBrain', healthy: false, pendingEntries: 12, splitBrainEntries: 2 });
    expect(report.bricks).to.deep.equal([
      { name: B1, node: 'gl1', set: 0, online: true },
      { name: B2, node: 'gl2', set: 0, online: true },
      { name: B3, node: 'gl3', set: 0, online: false },
    ]);
    expect(report.advice[0]).to.contain('gluster volume heal t3a-fx-rep3 info split-brain').and.contain('gluster volume heal t3a-fx-rep3 split-brain latest-mtime FILE');
    expect(report.advice.join('\n')).to.contain(`1 brick offline (${B3})`).and.contain('--via');
    const text = healText(report, NOW).split('\n');
    expect(text.slice(0, 7)).to.deep.equal([
      'GlusterVolume apps/data (Gluster volume t3a-fx-rep3, Replicate 3)',
      'Heal: 12 entries pending, 2 in split-brain (as the operator recorded it, checked 2m ago)',
      '',
      'Bricks:',
      '  SET  BRICK                              NODE  ONLINE  PENDING  SPLIT-BRAIN',
      `  0    ${B1}  gl1   yes     -        -`,
      `  0    ${B2}  gl2   yes     -        -`,
    ]);
    expect(text).to.include('What to do:');
  });

  it('from status: nothing pending is healthy; no figures yet is unknown (not a made-up 0); distribute has nothing to heal', () => {
    expect(healReport(data({ pendingEntries: 0, splitBrainEntries: 0, checkedAt: '2026-12-01T11:59:00Z' }))).to.deep.include({ state: 'healthy', healthy: true });
    const unknown = healReport(data());
    expect(unknown).to.deep.include({ state: 'unknown', healthy: false });
    expect(healText(unknown, NOW)).to.contain('Heal: not reported in status yet');
    const incomplete = healReport(data({ pendingEntries: 0, splitBrainEntries: 0, checkedAt: '2026-12-01T11:59:00Z' }, [condition('Healing', 'Unknown', 'HealInfoIncomplete', 'not known for b3')]));
    expect(incomplete).to.deep.include({ state: 'unknown', healthy: false });
    expect(incomplete.conditions).to.deep.equal([{ type: 'Healing', status: 'Unknown', reason: 'HealInfoIncomplete', message: 'not known for b3' }]);
    const distribute = describedVolumeSchema.parse({ ...data(), spec: { ...data().spec, durability: { type: 'None' } } });
    expect(healReport(distribute)).to.deep.include({ state: 'notApplicable', healthy: true });
  });

  it('live: per brick counts (possibly healing counted as pending), a set counts its most, an unreachable brick is unknown', () => {
    const [info] = parseVolumeInfoXml(fixture('gluster/volume-info-rep3.xml'));
    const bricks = parseHealSummaryXml(summaryXml([[B1, [7, 5, 0, 1]], [B2, [6, 6, 0, 0]], [B3, null]]));
    const report = healReport(data({ pendingEntries: 0, splitBrainEntries: 0, checkedAt: '2026-12-01T11:00:00Z' }), { info: info!, bricks, at: '2026-12-01T12:00:00.000Z' });
    expect(report).to.deep.include({ source: 'live', state: 'pending', pendingEntries: 6, splitBrainEntries: 0, checkedAt: '2026-12-01T12:00:00.000Z' });
    expect(report.bricks[0]).to.deep.equal({ name: B1, node: 'gl1', set: 0, online: true, status: 'Connected', pendingEntries: 6, splitBrainEntries: 0 });
    expect(report.bricks[2]).to.deep.include({ name: B3, online: false, pendingEntries: null, splitBrainEntries: null });
    expect(healText(report, NOW)).to.match(/10\.77\.0\.13:\/bricks\/t3a-fx-rep3-b3 +gl3 +NO +\? +\?/);
    expect(report.advice.join('\n')).to.contain('could not say').and.contain('gluster volume heal t3a-fx-rep3 starts an index heal');
    expect(healReportSchema.parse(JSON.parse(JSON.stringify(report)))).to.deep.equal(report);
  });
});

describe('kubectl gluster heal-info (in process, an apiserver stand-in, a fake transport for --via)', function () {
  this.timeout(20_000);
  let standIn: StandIn | undefined;
  afterEach(async () => standIn?.close());
  const serve = async (volumes: unknown[]) => (standIn = await standInApiserver({ [`${CUSTOM}/namespaces/apps/glustervolumes`]: volumes }));

  it('by name from status: exit 1 while entries are pending, 0 once none are; -o yaml parses back', async () => {
    const pending = await runCommand(healInfoCommandWith(), ['data'], await serve([data({ pendingEntries: 3, splitBrainEntries: 0, checkedAt: '2026-12-01T11:59:00Z' })]));
    expect(pending.code, pending.stderr).to.equal(1);
    expect(pending.stdout).to.contain('Heal: 3 entries pending, 0 in split-brain');
    await standIn!.close();
    const clean = await runCommand(healInfoCommandWith(), ['data', '-o', 'yaml'], await serve([data({ pendingEntries: 0, splitBrainEntries: 0, checkedAt: '2026-12-01T11:59:00Z' })]));
    expect(clean.code, clean.stderr).to.equal(0);
    expect(healReportSchema.parse(parseYaml(clean.stdout))).to.deep.include({ state: 'healthy', name: 'data' });
  });

  it('--via: volume info and heal info summary, read-only, on the node given; a split-brain is exit 1', async () => {
    const transport = new FakeTransport()
      .reply(has('volume', 'info'), ok(fixture('gluster/volume-info-rep3.xml')))
      .reply(has('volume', 'heal'), ok(summaryXml([[B1, [1, 0, 1, 0]], [B2, [1, 0, 1, 0]], [B3, [0, 0, 0, 0]]])));
    const openLive: OpenLive = async () => ({ transport, node: { name: 'pod gluster/glusterd-0', manageAddress: 'glusterd-0' }, localAddresses: [] });
    const run = await runCommand(healInfoCommandWith(openLive), ['data', '--via', 'pod:gluster/glusterd-0'], await serve([data({ pendingEntries: 0, splitBrainEntries: 0, checkedAt: '2026-12-01T11:00:00Z' })]));
    expect(run.code, run.stderr).to.equal(1);
    expect(transport.argvs().map((argv) => argv.filter((a) => a !== '--xml' && a !== '--mode=script').slice(-5))).to.deep.equal([
      ['gluster', 'volume', 'info', 't3a-fx-rep3'],
      ['volume', 'heal', 't3a-fx-rep3', 'info', 'summary'],
    ]);
    expect(run.stdout).to.contain('Heal: 0 entries pending, 1 in split-brain (live, checked 0s ago)');
  });

  it('usage errors are exit 2 before any request; an unknown name is exit 1 with close names', async () => {
    const server = await serve([data()]);
    expect((await runCommand(healInfoCommandWith(), [], server)).code).to.equal(2);
    expect((await runCommand(healInfoCommandWith(), ['data', '-o', 'wide'], server)).code).to.equal(2);
    expect((await runCommand(healInfoCommandWith(), ['data', '--ssh-key', 'k'], server)).stderr).to.contain('--ssh-key goes with --via');
    expect(server.requests).to.deep.equal([]);
    const missing = await runCommand(healInfoCommandWith(), ['dat'], server);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('did you mean data?');
  });
});
