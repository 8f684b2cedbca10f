import { installSharedManifests, removeSharedManifests } from '../support/kube.ts';

/**
 * Installs what every suite needs before the e2e suites (SHARED_MANIFESTS, test/support/kube.ts), and removes
 * it after, also when a suite failed. The in-cluster suite applies all of `crds/` and `manifests/`, as users do, and removes its workloads after.
 * When the CRDs were already there (a developer's long-running test bed shared by several runs), they are left
 * for whoever installed them.
 */
let installedHere = false;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    installedHere = await installSharedManifests();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(180_000);
    if (!installedHere) return;
    await removeSharedManifests();
  },
};
