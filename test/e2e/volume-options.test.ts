import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { applyTestbedTopology } from '../support/demo-topology.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { sshCheck } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';
import { tearDownOperatorSuite } from '../support/operator-suite.ts';

const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];

/**
 * Volume options (issue 12, item 3) with the real operator process, apiserver and glusterd: the CRD refuses
 * options outside the allow-list at create; an allowed option is set, and reset to Gluster's default once the
 * spec drops it, while one set by hand stays; a value the policy refuses is Ready False, InvalidOption, and
 * nothing reaches Gluster.
 */
describe('volume options: an allow-list at the apiserver, values checked by the operator, dropped options reset', function () {
  this.timeout(240_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const config = kubeConfig();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let brickRoot: string;
  let operator: OperatorProcess | undefined;
  const healthPort = 18990 + Math.floor(Math.random() * 9);
  const coordinates = (plural: string) => ({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural });

  async function volume(name: string): Promise<GlusterVolume | undefined> {
    const found = await unlessNotFound(custom.getNamespacedCustomObject({ ...coordinates('glustervolumes'), name }));
    return found === undefined ? undefined : glusterVolumeSchema.parse(found);
  }
  const ready = (object: GlusterVolume | undefined) => object?.status?.conditions?.find((c) => c.type === 'Ready');

  function createVolume(name: string, spec: Record<string, unknown>): Promise<unknown> {
    return custom.createNamespacedCustomObject({
      ...coordinates('glustervolumes'),
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterVolume', metadata: { name }, spec: { cluster: 'opts', size: '1Gi', reclaimPolicy: 'Delete', ...spec } },
    });
  }
  function patchOptions(name: string, options: Record<string, string | null>): Promise<unknown> {
    return custom.patchNamespacedCustomObject(
      { ...coordinates('glustervolumes'), name, body: { spec: { options } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }

  /** The apiserver's message for a refused create or patch. */
  async function refusal(attempt: Promise<unknown>): Promise<string> {
    try {
      await attempt;
    } catch (error) {
      if (error instanceof k8s.ApiException) {
        expect(error.code, String(error.body)).to.equal(422);
        const body = typeof error.body === 'string' ? error.body : JSON.stringify(error.body);
        return (JSON.parse(body) as { message: string }).message;
      }
      throw error;
    }
    return expect.fail('the apiserver accepted options outside the allow-list');
  }

  /** Waits for a reason on the Ready condition at the object's current generation. */
  function readyReason(name: string, reason: string, timeoutMs = 120_000): Promise<GlusterVolume> {
    return eventually(`GlusterVolume ${name} with reason ${reason}`, async () => {
      const current = await volume(name);
      return ready(current)?.reason === reason && current?.status?.observedGeneration === current?.metadata.generation
        ? current!
        : notYet({ generation: current?.metadata.generation, conditions: current?.status?.conditions });
    }, timeoutMs);
  }

  /** "Options Reconfigured" of `volume info`, as key → value. */
  async function reconfigured(gv: string): Promise<Record<string, string>> {
    const text = await sshCheck(nodes[0]!, gluster('volume', 'info', gv));
    const section = text.split(/^Options Reconfigured:$/m)[1] ?? '';
    return Object.fromEntries([...section.matchAll(/^([a-z0-9._-]+): (.*)$/gm)].map((match) => [match[1]!, match[2]!.trim()]));
  }

  before(async () => {
    namespace = await createTestNamespace('options');
    brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    await applyTestbedTopology(namespace.name, nodes, { cluster: 'opts', backend: 'Directory', directoryRoot: brickRoot, sshKey: env.TESTBED_SSH_KEY });
    operator = await startOperatorProcess('operator-options', healthPort);
  });

  after(async () => {
    await tearDownOperatorSuite({ namespace, nodes, brickRoot, operator });
  });

  it('a hostile options map (auth.allow, features.shard, server.allow-insecure) is refused at create, naming an option; so is one on the GlusterCluster', async () => {
    const hostile = { 'auth.allow': '*', 'features.shard': 'on', 'server.allow-insecure': 'on' };
    const message = await refusal(createVolume('hostile', { options: hostile }));
    expect(message).to.match(/spec\.options: .*options: (auth\.allow|features\.shard|server\.allow-insecure) is not an option that may be set/);
    expect(await volume('hostile')).to.equal(undefined);
    // One refused key among allowed ones is enough.
    expect(await refusal(createVolume('one-bad', { options: { 'performance.cache-size': '64MB', 'storage.owner-uid': '0' } }))).to.contain('options: storage.owner-uid is not an option');
    const clusterPatch = custom.patchNamespacedCustomObject(
      { ...coordinates('glusterclusters'), name: 'opts', body: { spec: { volumeOptions: { 'auth.allow': '*' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(await refusal(clusterPatch)).to.match(/spec\.volumeOptions: .*volumeOptions: auth\.allow is not an option that may be set/);
  });

  it('an allowed option is set and recorded; dropped from the spec it is reset, and an option set by hand is left alone', async () => {
    await createVolume('tuned', { options: { 'performance.cache-size': '64MB', 'network.ping-timeout': '20' } });
    const started = await readyReason('tuned', 'VolumeStarted');
    const gv = started.status!.glusterVolumeName!;
    expect(await reconfigured(gv)).to.deep.include({ 'performance.cache-size': '64MB', 'network.ping-timeout': '20' });
    expect(started.status!.appliedOptions).to.deep.equal(['network.ping-timeout', 'performance.cache-size']);

    // An administrator's own setting: the operator never set it, so it never resets it.
    await sshCheck(nodes[0]!, gluster('volume', 'set', gv, 'performance.io-thread-count', '8'));
    await patchOptions('tuned', { 'performance.cache-size': null });
    const reset = await eventually('performance.cache-size reset on the Gluster volume', async () => {
      const current = await volume('tuned');
      const options = await reconfigured(gv);
      return !('performance.cache-size' in options) && current?.status?.appliedOptions?.length === 1 ? { current, options } : notYet({ options, status: current?.status });
    }, 120_000);
    expect(reset.options).to.deep.include({ 'network.ping-timeout': '20', 'performance.io-thread-count': '8' });
    expect(reset.current!.status!.appliedOptions).to.deep.equal(['network.ping-timeout']);
    expect(ready(await readyReason('tuned', 'VolumeStarted'))?.status).to.equal('True');
    const events = await kubectl(['-n', namespace.name, 'get', 'events', '--field-selector', 'involvedObject.name=tuned,reason=OptionsReset', '-o', 'jsonpath={.items[*].message}']);
    expect(events.stdout).to.contain('performance.cache-size');
  });

  it('a value the policy refuses (diagnostics.brick-log-level TRACE, which the CRD lets through) is Ready False, InvalidOption, and never reaches Gluster', async () => {
    const gv = (await volume('tuned'))!.status!.glusterVolumeName!;
    await patchOptions('tuned', { 'diagnostics.brick-log-level': 'TRACE' });
    const refused = await readyReason('tuned', 'InvalidOption');
    expect(ready(refused)?.status).to.equal('False');
    expect(ready(refused)?.message).to.contain('spec.options: diagnostics.brick-log-level "TRACE": must be one of INFO, WARNING, ERROR, CRITICAL, NONE');
    expect(await reconfigured(gv)).to.not.have.property('diagnostics.brick-log-level');
    // Corrected, the volume converges again and the level is set.
    await patchOptions('tuned', { 'diagnostics.brick-log-level': 'WARNING' });
    await readyReason('tuned', 'VolumeStarted');
    expect(await reconfigured(gv)).to.deep.include({ 'diagnostics.brick-log-level': 'WARNING' });
  });
});
