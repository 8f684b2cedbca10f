import { kubectl } from '../support/kube.ts';

/**
 * Installs the operator exactly as users do (`kubectl apply -f crds/ -f manifests/`) before the e2e suites,
 * and removes it after them, also when a suite failed. When the CRDs were already there (a developer's
 * long-running test bed shared by several runs), they are left for whoever installed them.
 */
let installedHere = false;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    const before = await kubectl(['get', '-f', 'crds/', '-o', 'name'], { allowFailure: true });
    installedHere = before.code !== 0;
    await kubectl(['apply', '-f', 'crds/', '-f', 'manifests/']);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', 'crds/']);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(180_000);
    if (!installedHere) return;
    await kubectl(['delete', '--ignore-not-found', '--wait=true', '--timeout=150s', '-f', 'manifests/', '-f', 'crds/']);
  },
};
