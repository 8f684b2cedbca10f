import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EXTERNAL_STORAGE_SKIP,
  describeFailures,
  e2eTestBinary,
  runExternalStorage,
  type ExternalStorageResult,
} from '../support/conformance.ts';
import { CI_SUBSET } from '../conformance/selection.ts';
import { createInClusterGluster, installShippedOperator, removeShippedWorkloads, type InClusterGluster } from '../support/in-cluster.ts';
import { kubeNodesEnv } from '../support/kube-nodes.ts';
import { clusterEnv } from '../support/testbed-env.ts';

/**
 * The CI subset of Kubernetes' own external storage suite (issue 13): the provisioning, volumes and
 * multi-volume patterns of e2e.test, run against the operator installed as users install it (shipped
 * manifests, images built here) on the test bed's real kubelet nodes. The whole selection is
 * `npm run test:conformance`.
 */
describe('conformance: the CI subset of Kubernetes external storage suite', function () {
  this.timeout(1_800_000);
  const env = clusterEnv();
  const { nodes } = kubeNodesEnv();
  let gluster: InClusterGluster | undefined;
  let binary: string;
  let workDir: string | undefined;
  let keepWorkDir = true;

  before(async function () {
    this.timeout(1_800_000);
    // hack/run-tests builds it before the suites; a developer's first run pays the build here.
    binary = e2eTestBinary();
    await installShippedOperator();
    gluster = await createInClusterGluster({ nodes, prefix: 'conformance' });
  });

  after(async function () {
    this.timeout(900_000);
    await gluster?.tearDown();
    await removeShippedWorkloads();
    // The report and e2e.log stay when the subset failed (or under OPERATOR_TEST_LOG_DIR); the message names them.
    if (workDir && !keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('runs every spec of the subset, and none fails', async () => {
    const logDir = process.env.OPERATOR_TEST_LOG_DIR;
    workDir = logDir ? join(logDir, 'conformance') : mkdtempSync(join(tmpdir(), 'conformance-'));
    const result: ExternalStorageResult = await runExternalStorage({
      binary,
      storageClass: gluster!.storageClass,
      focus: CI_SUBSET.focus,
      skip: EXTERNAL_STORAGE_SKIP,
      workDir,
      kubeconfig: env.KUBECONFIG,
      kubectlPath: join(env.TESTBED_BIN_DIR, 'kubectl'),
      timeoutMinutes: 25,
    });
    const summary = `${result.passed.length} passed, ${result.failed.length} failed, ${result.skipped.length} skipped of ${result.selected} selected in ${result.seconds} s`;
    console.log(`      conformance subset: ${summary}`);
    expect(result.failed, `${summary}\n${describeFailures(result)}\nlog: ${result.logFile}`).to.deep.equal([]);
    // Each spec of the subset is one our driver declares: a skip here means the driver definition or the
    // focus changed, not a pass.
    expect(result.skipped.map((spec) => `${spec.name}: ${spec.message}`), summary).to.deep.equal([]);
    expect(result.passed.length, summary).to.equal(CI_SUBSET.specs);
    expect(result.selected, summary).to.equal(CI_SUBSET.specs);
    keepWorkDir = Boolean(logDir);
  });
});
