import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { summariseReport } from '../support/conformance.ts';
import { CI_SUBSET, markdownTable, tabulate } from '../conformance/selection.ts';
import { REPO_ROOT } from '../support/paths.ts';

/**
 * Reading ginkgo's JSON report of e2e.test: the fixture is a real report of `npm run test:conformance`
 * (interrupted after 6 specs), cut down to a few specs of each kind.
 */
const fixture = () => JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'conformance', 'report-interrupted.json'), 'utf8'));

describe('conformance report', () => {
  it('counts passed, failed and suite-skipped specs; the focus filter is not a skip', () => {
    const result = summariseReport(fixture());
    expect(result.selected).to.equal(290);
    expect(result.passed.map((spec) => spec.name)).to.have.length(2);
    expect(result.passed[0]!.name).to.match(/^External Storage \[Driver: gluster\.gluster-operator\.dev\] \[Testpattern: Dynamic PV \(default fs\)\] subPath /);
    // Two are skipped by the suite with its reason; two more were only filtered out by the focus.
    expect(result.skipped.map((spec) => spec.message)).to.deep.equal([
      "Driver gluster.gluster-operator.dev doesn't support Block -- skipping",
      'Driver "gluster.gluster-operator.dev" does not support volume type "PreprovisionedPV" - skipping',
    ]);
    expect(result.suiteSucceeded).to.equal(false);
  });

  it('an interrupted spec is a failure, and what never started is counted, not passed', () => {
    const result = summariseReport(fixture());
    expect(result.failed).to.have.length(1);
    expect(result.failed[0]!.message).to.equal('Interrupted by User');
    expect(result.notRun).to.equal(290 - 2 - 1 - 2);
  });

  it('a report that is not ginkgo JSON is refused, not read as 0 failures', () => {
    expect(() => summariseReport({ SpecReports: [] })).to.throw();
    expect(() => summariseReport([{ SuiteSucceeded: true }])).to.throw();
  });

  it('tabulates by test pattern and suite, with each skip reason counted', () => {
    const rows = tabulate(summariseReport(fixture()));
    const multiVolume = rows.find((row) => row.pattern === 'Dynamic PV (filesystem volmode)' && row.suite === 'multiVolume');
    expect(multiVolume).to.include({ passed: 0, failed: 1, skipped: 0 });
    const block = rows.find((row) => row.pattern === 'Dynamic PV (block volmode)');
    expect(block?.skipped).to.equal(1);
    expect([...block!.reasons]).to.deep.equal([["Driver gluster.gluster-operator.dev doesn't support Block -- skipping", 1]]);
    const table = markdownTable(rows).split('\n');
    expect(table[0]).to.equal('| Test pattern | Suite | Passed | Failed | Skipped (why) |');
    expect(table).to.include('| Dynamic PV (default fs) | subPath | 2 | 0 | 0 |');
  });

  it("the CI subset's focus selects exactly its specs' full names", () => {
    const focus = new RegExp(CI_SUBSET.focus);
    const name = (pattern: string, test: string) => `External Storage [Driver: gluster.gluster-operator.dev] [Testpattern: ${pattern}] ${test}`;
    expect(focus.test(name('Dynamic PV (default fs)', 'volumes should store data'))).to.equal(true);
    expect(focus.test(name('Dynamic PV (ext4)', 'volumes should store data'))).to.equal(false);
    expect(focus.test(name('Dynamic PV (default fs)', 'volumes should store data and more'))).to.equal(false);
    expect(CI_SUBSET.specs).to.equal(4);
  });
});
