import type { ExternalStorageResult, SpecOutcome } from '../support/conformance.ts';

/**
 * Which specs of Kubernetes' external storage suite a run selects, and how its outcome is tabulated for the
 * README. Every spec of our driver is named "External Storage [Driver: <name>] [Testpattern: <pattern>]
 * <suite> <test>".
 */

/**
 * The subset `.ci/run` runs (test/e2e/conformance.test.ts): one pattern each of provisioning, volumes and
 * multi-volume on dynamically provisioned volumes, a few minutes in all. `specs` is how many it selects;
 * the suite fails when that changes, so a new skip or a renamed spec cannot pass silently.
 */
const CI_SPECS = [
  '[Testpattern: Dynamic PV (default fs)] provisioning should provision storage with mount options',
  '[Testpattern: Dynamic PV (default fs)] volumes should store data',
  '[Testpattern: Dynamic PV (default fs)] volumes should allow exec of files on the volume',
  '[Testpattern: Dynamic PV (filesystem volmode)] multiVolume [Slow] should concurrently access the single volume from pods on different node',
];
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const CI_SUBSET = {
  focus: `External.Storage.*(${CI_SPECS.map(escapeRegExp).join('|')})$`,
  specs: CI_SPECS.length,
};

export interface PatternRow {
  pattern: string;
  suite: string;
  passed: number;
  failed: number;
  skipped: number;
  /** The suite's own skip messages, each with how many specs it skipped. */
  reasons: Map<string, number>;
}

const NAME = /\[Testpattern: ([^\]]+)\]\s+(\S+)/;

/** Rows of (test pattern, suite) in first-seen order, counting each spec where it ended. */
export function tabulate(result: Pick<ExternalStorageResult, 'passed' | 'failed' | 'skipped'>): PatternRow[] {
  const rows = new Map<string, PatternRow>();
  const add = (spec: SpecOutcome, outcome: 'passed' | 'failed' | 'skipped') => {
    const match = NAME.exec(spec.name);
    const pattern = match?.[1] ?? '(suite)';
    const suite = match?.[2] ?? spec.name;
    const key = `${pattern}\0${suite}`;
    const row = rows.get(key) ?? { pattern, suite, passed: 0, failed: 0, skipped: 0, reasons: new Map<string, number>() };
    row[outcome] += 1;
    if (outcome === 'skipped') {
      const reason = (spec.message ?? '').split('\n')[0]!.replace(/\s+/g, ' ').trim();
      row.reasons.set(reason, (row.reasons.get(reason) ?? 0) + 1);
    }
    rows.set(key, row);
  };
  for (const spec of result.passed) add(spec, 'passed');
  for (const spec of result.failed) add(spec, 'failed');
  for (const spec of result.skipped) add(spec, 'skipped');
  return [...rows.values()];
}

/** The README's table: one Markdown row per pattern and suite. */
export function markdownTable(rows: PatternRow[]): string {
  const lines = ['| Test pattern | Suite | Passed | Failed | Skipped (why) |', '|---|---|---|---|---|'];
  for (const row of rows) {
    const why = [...row.reasons].map(([reason, n]) => `${n}: ${reason.replace(/\|/g, '\\|')}`).join('; ');
    lines.push(`| ${row.pattern} | ${row.suite} | ${row.passed} | ${row.failed} | ${row.skipped}${why ? ` (${why})` : ''} |`);
  }
  return lines.join('\n');
}
