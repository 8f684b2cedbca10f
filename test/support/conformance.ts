import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import { REPO_ROOT } from './paths.ts';

/**
 * Kubernetes' external storage suite (`e2e.test`, k8s.io/kubernetes test/e2e/storage/external) run against our
 * driver: the binary built by hack/build-e2e-test at the test bed's Kubernetes version, the driver definition of
 * test/conformance/driver.yaml with the StorageClass of the run's GlusterCluster, the test images of
 * test/conformance/repo-list.yaml (built by hack/build-images, imported on every node), and ginkgo's JSON report
 * read back into counts. Used by the CI subset (test/e2e/conformance.test.ts) and the whole selection
 * (`npm run test:conformance`, test/conformance/run.ts).
 */

/** Every spec of our driver in the external suite: the ones a run selects by focus start with this. */
export const EXTERNAL_STORAGE_FOCUS = 'External.Storage';
/**
 * Disruptive specs restart kubelets and reboot nodes over SSH (the test bed's nodes have no sshd for e2e.test);
 * Serial ones need the whole cluster to themselves, so they run in a second pass of their own.
 */
export const EXTERNAL_STORAGE_SKIP = 'Disruptive|Serial';
export const EXTERNAL_STORAGE_SERIAL_FOCUS = String.raw`External.Storage.*\[Serial\]`;
/**
 * Cannot run on this machine: "should provision storage with any volume data source" deploys Kubernetes'
 * hello-populator, whose image is built from github.com/kubernetes-csi/lib-volume-populator, which the Go module
 * proxy does not serve here (403), so nothing can populate its claim. What it needs of us, leaving a claim
 * whose dataSourceRef names a populator to that populator, is unit-tested (provisioner-decisions.test.ts).
 */
export const EXTERNAL_STORAGE_SERIAL_SKIP = 'Disruptive|should provision storage with any volume data source';

/** Builds e2e.test once per Kubernetes version (about 11 minutes), later only finds it; returns its path. */
export function e2eTestBinary(): string {
  const out = execFileSync(join(REPO_ROOT, 'hack', 'build-e2e-test'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const path = out.trim().split('\n').pop();
  if (!path) throw new Error('hack/build-e2e-test printed no path');
  return path;
}

/** test/conformance/driver.yaml with the run's StorageClass: the suite copies that class for each test. */
export function writeDriverDefinition(dir: string, storageClass: string): string {
  const definition = k8s.loadYaml<Record<string, unknown>>(readFileSync(join(REPO_ROOT, 'test', 'conformance', 'driver.yaml'), 'utf8'));
  const file = join(dir, 'driver.yaml');
  writeFileSync(file, k8s.dumpYaml({ ...definition, StorageClass: { FromExistingClassName: storageClass } }));
  return file;
}

// ginkgo v2's JSON report (types.Report), the parts read here.
const specReportSchema = z.object({
  ContainerHierarchyTexts: z.array(z.string()).nullish(),
  LeafNodeText: z.string().nullish(),
  LeafNodeType: z.string(),
  State: z.string(),
  RunTime: z.number().nullish(),
  Failure: z.object({ Message: z.string().nullish() }).nullish(),
});
const reportSchema = z.array(
  z.object({
    SuiteSucceeded: z.boolean(),
    PreRunStats: z.object({ TotalSpecs: z.number(), SpecsThatWillRun: z.number() }),
    SpecReports: z.array(specReportSchema).nullish(),
  }),
);
type SpecReport = z.infer<typeof specReportSchema>;

export interface SpecOutcome {
  name: string;
  seconds: number;
  /** Why it failed, or why the suite skipped it (its own Skipf message). */
  message?: string;
}

export interface ExternalStorageResult {
  /** Specs the focus and skip selected (ginkgo's "will run" count before the run). */
  selected: number;
  passed: SpecOutcome[];
  failed: SpecOutcome[];
  /** Selected, but skipped by the suite at run time: a capability our driver does not declare. */
  skipped: SpecOutcome[];
  /** Selected, but never started: the run was interrupted or timed out first. 0 in a complete run. */
  notRun: number;
  suiteSucceeded: boolean;
  seconds: number;
  logFile: string;
  reportFile: string;
}

const specName = (spec: SpecReport) => [...(spec.ContainerHierarchyTexts ?? []), spec.LeafNodeText ?? ''].filter(Boolean).join(' ');
const outcome = (spec: SpecReport): SpecOutcome => ({
  name: specName(spec),
  seconds: Math.round((spec.RunTime ?? 0) / 1e8) / 10,
  ...(spec.Failure?.Message ? { message: spec.Failure.Message.trim() } : {}),
});

/** Counts from ginkgo's JSON report: every node that failed counts (a failed BeforeSuite fails the run too). */
export function summariseReport(json: unknown): Omit<ExternalStorageResult, 'seconds' | 'logFile' | 'reportFile'> {
  const reports = reportSchema.parse(json);
  const specs = reports.flatMap((report) => report.SpecReports ?? []);
  const its = specs.filter((spec) => spec.LeafNodeType === 'It');
  const selected = reports.reduce((sum, report) => sum + report.PreRunStats.SpecsThatWillRun, 0);
  const endedBadly = (spec: SpecReport) => !['passed', 'skipped', 'pending'].includes(spec.State);
  const passed = its.filter((spec) => spec.State === 'passed').map(outcome);
  const failed = specs.filter(endedBadly).map(outcome);
  // Specs the focus did not select are reported as skipped too, without a message; the suite's own skips say why.
  const skipped = its.filter((spec) => spec.State === 'skipped' && spec.Failure?.Message).map(outcome);
  const failedSpecs = its.filter(endedBadly).length;
  return {
    selected,
    passed,
    failed,
    skipped,
    notRun: selected - passed.length - failedSpecs - skipped.length,
    suiteSucceeded: reports.every((report) => report.SuiteSucceeded),
  };
}

export interface ExternalStorageRun {
  binary: string;
  storageClass: string;
  /** ginkgo regular expressions over the full spec text. */
  focus: string;
  skip: string;
  /** Where the driver definition, the report and the log go. */
  workDir: string;
  kubeconfig: string;
  kubectlPath: string;
  /** ginkgo's own suite timeout; the run is killed a minute after it. */
  timeoutMinutes: number;
  /**
   * Specs at once, each in its own e2e.test process, run by the ginkgo command hack/build-e2e-test puts next to
   * e2e.test (1: e2e.test alone). Most of a spec's time is spent waiting for pods and mounts.
   */
  procs?: number;
  /** Each line the suite prints, e.g. for progress; the whole output is in the log file anyway. */
  onLine?: (line: string) => void;
}

export async function runExternalStorage(run: ExternalStorageRun): Promise<ExternalStorageResult> {
  mkdirSync(run.workDir, { recursive: true });
  const driverFile = writeDriverDefinition(run.workDir, run.storageClass);
  const reportFile = join(run.workDir, 'report.json');
  const logFile = join(run.workDir, 'e2e.log');
  // e2e.test's own flags; ginkgo's go to the ginkgo command when it runs the specs in several processes.
  const e2eArgs = [
    `--kubeconfig=${run.kubeconfig}`,
    // No cloud: nodes, volumes and everything else come from the cluster itself.
    '--provider=skeleton',
    `--kubectl-path=${run.kubectlPath}`,
    `--storage.testdriver=${driverFile}`,
    `--report-dir=${run.workDir}`,
  ];
  const ginkgoArgs = [`focus=${run.focus}`, `skip=${run.skip}`, `json-report=${reportFile}`, `timeout=${run.timeoutMinutes}m`, 'no-color'];
  const procs = run.procs ?? 1;
  const [command, args] =
    procs > 1
      ? [join(dirname(run.binary), 'ginkgo'), [...ginkgoArgs.map((flag) => `--${flag}`), `--procs=${procs}`, run.binary, '--', ...e2eArgs]]
      : [run.binary, [...e2eArgs, ...ginkgoArgs.map((flag) => `--ginkgo.${flag}`)]];
  const started = Date.now();
  const log = createWriteStream(logFile);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: run.workDir,
      // The test images under our own names (hack/build-images imports them on every node).
      env: { ...process.env, KUBE_TEST_REPO_LIST: join(REPO_ROOT, 'test', 'conformance', 'repo-list.yaml') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), (run.timeoutMinutes + 1) * 60_000);
    let pending = '';
    const take = (chunk: Buffer) => {
      log.write(chunk);
      if (!run.onLine) return;
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) run.onLine(line);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(killer);
      resolve(exitCode);
    });
  });
  await new Promise((resolve) => log.end(resolve));
  let report: unknown;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch (error) {
    throw new Error(`e2e.test exited ${code} and wrote no readable report ${reportFile} (${(error as Error).message}); its output is in ${logFile}`);
  }
  return { ...summariseReport(report), seconds: Math.round((Date.now() - started) / 1000), logFile, reportFile };
}

/** Several runs (phases) as one: their specs together, their times added. */
export function combineResults(results: readonly ExternalStorageResult[]): ExternalStorageResult {
  if (results.length === 0) throw new Error('no results to combine');
  return {
    selected: results.reduce((sum, r) => sum + r.selected, 0),
    passed: results.flatMap((r) => r.passed),
    failed: results.flatMap((r) => r.failed),
    skipped: results.flatMap((r) => r.skipped),
    notRun: results.reduce((sum, r) => sum + r.notRun, 0),
    suiteSucceeded: results.every((r) => r.suiteSucceeded),
    seconds: results.reduce((sum, r) => sum + r.seconds, 0),
    logFile: results.map((r) => r.logFile).join(', '),
    reportFile: results.map((r) => r.reportFile).join(', '),
  };
}

/** One line per failed spec with the first lines of why: what a failing run prints. */
export function describeFailures(result: ExternalStorageResult): string {
  return result.failed.map((spec) => `  ✗ ${spec.name}\n      ${(spec.message ?? '').split('\n').slice(0, 6).join('\n      ')}`).join('\n');
}
