/**
 * `npm run test:conformance` (issue 13): the whole External Storage selection of Kubernetes' own e2e.test
 * (every spec of our driver but the Disruptive ones: first the others several at once, then the Serial ones
 * one at a time) against the operator installed as users install
 * it, on the test bed's real kubelet nodes. Uses a running test bed, or brings one up and down again.
 * Prints each spec as it ends, then the counts, a Markdown table by test pattern (the README's), every failure,
 * and one JSON object as the last line. Exit 1 when a spec failed.
 * Knobs: CONFORMANCE_FOCUS / CONFORMANCE_SKIP (ginkgo regular expressions, default the whole selection),
 * CONFORMANCE_PROCS (specs at once, each in its own e2e.test process; 3), CONFORMANCE_TIMEOUT_MIN (240), CONFORMANCE_DIR (where the report and e2e.log go; default a new temporary
 * directory, kept).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRIVER_NAME } from '../../src/api/index.ts';
import {
  EXTERNAL_STORAGE_FOCUS,
  EXTERNAL_STORAGE_SERIAL_FOCUS,
  EXTERNAL_STORAGE_SERIAL_SKIP,
  EXTERNAL_STORAGE_SKIP,
  combineResults,
  describeFailures,
  e2eTestBinary,
  runExternalStorage,
  type ExternalStorageResult,
} from '../support/conformance.ts';
import { createInClusterGluster, installShippedOperator, removeShippedWorkloads } from '../support/in-cluster.ts';
import { kubeNodesEnv } from '../support/kube-nodes.ts';
import { installSharedManifests, removeSharedManifests } from '../support/kube.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { clusterEnv, loadTestbedEnvFile } from '../support/testbed-env.ts';
import { markdownTable, tabulate } from './selection.ts';

const TOOL = 'test:conformance';
const say = (line: string) => console.error(`${TOOL}: ${line}`);
const testbed = join(REPO_ROOT, 'hack', 'testbed');

/** The pinned version e2e.test is built at (hack/control-plane/versions.env). */
function kubeVersion(): string {
  const versions = readFileSync(join(REPO_ROOT, 'hack', 'control-plane', 'versions.env'), 'utf8');
  return /^KUBE_VERSION=(\S+)$/m.exec(versions)?.[1] ?? 'unknown';
}

function testbedIsUp(): boolean {
  if (!existsSync(join(REPO_ROOT, '.testbed', 'env'))) return false;
  loadTestbedEnvFile(TOOL);
  const probe = spawnSync(join(process.env.TESTBED_BIN_DIR ?? '', 'kubectl'), ['get', '--raw', '/readyz'], { encoding: 'utf8', timeout: 15_000 });
  return probe.status === 0;
}

async function main(): Promise<number> {
  const started = Date.now();
  const ownTestbed = !testbedIsUp();
  if (ownTestbed) {
    say('no test bed is up: bringing one up (hack/testbed up), and down again at the end');
    execFileSync(testbed, ['up'], { stdio: 'inherit' });
    loadTestbedEnvFile(TOOL);
  }
  let crdsInstalledHere = false;
  let gluster: Awaited<ReturnType<typeof createInClusterGluster>> | undefined;
  try {
    const binary = e2eTestBinary();
    const env = clusterEnv();
    crdsInstalledHere = await installSharedManifests();
    say('installing the shipped operator and an InCluster GlusterCluster on the kubelet nodes');
    await installShippedOperator();
    gluster = await createInClusterGluster({ nodes: kubeNodesEnv().nodes, prefix: 'conformance' });
    const workDir = process.env.CONFORMANCE_DIR ?? mkdtempSync(join(tmpdir(), 'conformance-'));
    const custom = process.env.CONFORMANCE_FOCUS !== undefined || process.env.CONFORMANCE_SKIP !== undefined;
    const procs = Number(process.env.CONFORMANCE_PROCS ?? 3);
    // The whole selection is two runs: the specs that may share the cluster, several at once; then the Serial
    // ones (they assume the cluster to themselves: preemption, volume limits, stress), one at a time.
    const phases = custom
      ? [{ name: 'selected', focus: process.env.CONFORMANCE_FOCUS ?? EXTERNAL_STORAGE_FOCUS, skip: process.env.CONFORMANCE_SKIP ?? EXTERNAL_STORAGE_SKIP, procs }]
      : [
          { name: 'parallel', focus: EXTERNAL_STORAGE_FOCUS, skip: EXTERNAL_STORAGE_SKIP, procs },
          { name: 'serial', focus: EXTERNAL_STORAGE_SERIAL_FOCUS, skip: EXTERNAL_STORAGE_SERIAL_SKIP, procs: 1 },
        ];
    const results: ExternalStorageResult[] = [];
    for (const phase of phases) {
      const dir = join(workDir, phase.name);
      say(`${phase.name}: e2e.test focus '${phase.focus}', skip '${phase.skip}', ${phase.procs} at once (output: ${join(dir, 'e2e.log')})`);
      results.push(
        await runExternalStorage({
          binary,
          storageClass: gluster.storageClass,
          focus: phase.focus,
          skip: phase.skip,
          workDir: dir,
          kubeconfig: env.KUBECONFIG,
          kubectlPath: join(env.TESTBED_BIN_DIR, 'kubectl'),
          timeoutMinutes: Number(process.env.CONFORMANCE_TIMEOUT_MIN ?? 240),
          procs: phase.procs,
          onLine: (line) => {
            // ginkgo's end-of-spec lines in its default (succinct) output.
            if (/^\s*\[(FAILED|FAIL|PANICKED|TIMEDOUT)\]/.test(line) || /^Ran \d+ of \d+ Specs/.test(line)) say(line.trim());
          },
        }),
      );
    }
    const result = combineResults(results);
    const rows = tabulate(result);
    console.log(`\nKubernetes external storage suite (e2e.test ${kubeVersion()}), driver ${DRIVER_NAME}:`);
    console.log(
      `${result.passed.length} passed, ${result.failed.length} failed, ${result.skipped.length} skipped by the suite, ${result.notRun} not run, of ${result.selected} selected, in ${result.seconds} s\n`,
    );
    console.log(markdownTable(rows));
    if (result.failed.length > 0) console.log(`\nFailed:\n${describeFailures(result)}\n(log: ${result.logFile})`);
    console.log(
      JSON.stringify({
        selected: result.selected,
        passed: result.passed.length,
        failed: result.failed.length,
        skipped: result.skipped.length,
        not_run: result.notRun,
        suite_seconds: result.seconds,
        total_seconds: Math.round((Date.now() - started) / 1000),
        failed_specs: result.failed.map((spec) => spec.name),
        reports: results.map((each) => each.reportFile),
      }),
    );
    return result.failed.length === 0 && result.notRun === 0 && result.suiteSucceeded ? 0 : 1;
  } finally {
    await gluster?.tearDown();
    await removeShippedWorkloads();
    if (crdsInstalledHere && !ownTestbed) await removeSharedManifests({ allowFailure: true });
    if (ownTestbed) execFileSync(testbed, ['down'], { stdio: 'inherit' });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
