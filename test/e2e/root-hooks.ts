import { kubectl } from '../support/kube.ts';

/**
 * Installs what every suite needs before the e2e suites: the CRDs and the operator's namespace, ServiceAccount
 * and RBAC, exactly as shipped, and removes them after, also when a suite failed. The operator Deployment and
 * the CSI DaemonSet (manifests/20-*, 30-*) are not applied here: on the test bed's real nodes they would run,
 * and a running in-cluster operator would compete with the operator processes most suites start. The
 * in-cluster suite applies all of `crds/` and `manifests/`, as users do, and removes its workloads after.
 * When the CRDs were already there (a developer's long-running test bed shared by several runs), they are left
 * for whoever installed them.
 */
export const SHARED_MANIFESTS = ['crds/', 'manifests/00-namespace.yaml', 'manifests/10-rbac.yaml'];
const fileArgs = SHARED_MANIFESTS.flatMap((path) => ['-f', path]);
let installedHere = false;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    const before = await kubectl(['get', '-f', 'crds/', '-o', 'name'], { allowFailure: true });
    installedHere = before.code !== 0;
    await kubectl(['apply', ...fileArgs]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', 'crds/']);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(180_000);
    if (!installedHere) return;
    await kubectl(['delete', '--ignore-not-found', '--wait=true', '--timeout=150s', '-f', 'manifests/', '-f', 'crds/']);
  },
};
