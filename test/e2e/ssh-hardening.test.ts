import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterNodeSchema, type GlusterNode } from '../../src/api/index.ts';
import { knownHostKey } from '../../src/heketi/live-known-hosts.ts';
import { HOST_KEY_SECRET_NAME, hostKeyEntryKey } from '../../src/transport/host-key-secret-store.ts';
import { removeBrickRoot } from '../support/brick-cleanup.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl, unlessNotFound } from '../support/kube.ts';
import { killAllOperators, removeOperatorKubeconfig, startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';

/**
 * SSH host keys through the operator, on the test bed's node 1: a GlusterNode whose spec.sshHostKey is wrong
 * is refused (never Ready, both fingerprints named, nothing pinned, nothing run); with the key the test bed's
 * known_hosts lists it is Ready; without a spec key the first key is pinned in the operator's Secret, and a
 * forged status.sshHostKey (what anyone with glusternodes/status patch can write) changes nothing.
 */
describe('SSH host keys: spec.sshHostKey, pins only the operator writes', function () {
  this.timeout(300_000);
  const env = testbedEnv();
  const address = env.TESTBED_NODES[0]!;
  const config = kubeConfig();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const wrong = `SHA256:${'A'.repeat(43)}`;
  const forged = `SHA256:${'F'.repeat(43)}`;
  const nodeName = 'keyed-1';
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let brickRoot: string;
  let operator: OperatorProcess | undefined;
  let healthPort = 18900 + Math.floor(Math.random() * 90);
  let real: string;

  const coordinates = () => ({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glusternodes' });
  const read = async (): Promise<GlusterNode | undefined> => {
    const found = await unlessNotFound(custom.getNamespacedCustomObject({ ...coordinates(), name: nodeName }));
    return found === undefined ? undefined : glusterNodeSchema.parse(found);
  };
  const ready = (node: GlusterNode | undefined) => node?.status?.conditions?.find((c) => c.type === 'Ready');
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const patchSpec = (spec: Record<string, unknown>) => custom.patchNamespacedCustomObject({ ...coordinates(), name: nodeName, body: { spec } }, mergePatch);
  /** The operator's pin for this node, or undefined; port is not part of the key. */
  const pin = async (): Promise<{ fingerprint: string; reason?: string } | undefined> => {
    const secret = await unlessNotFound(core.readNamespacedSecret({ name: HOST_KEY_SECRET_NAME, namespace: 'gluster-operator' }));
    const value = secret?.data?.[hostKeyEntryKey(namespace.name, nodeName, { address, port: env.TESTBED_SSH_PORT })];
    return value === undefined ? undefined : JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  };
  const restartOperator = async () => {
    await operator?.stop();
    operator = await startOperatorProcess('operator-ssh-keys', healthPort++);
  };
  const readyWithin = (what: string) =>
    eventually(what, async () => {
      const node = await read();
      const condition = ready(node);
      return condition?.status === 'True' && node?.status?.observedGeneration === node?.metadata.generation ? node : notYet(condition);
    }, 180_000);
  /** Ready stays True over several reconciles (RESYNC_SECONDS=5 in the operator process). */
  const staysReady = async (ms: number) => {
    for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 2_000))) {
      const condition = ready(await read());
      expect(condition?.status, JSON.stringify(condition)).to.equal('True');
    }
  };

  before(async () => {
    const knownHosts = readFileSync(process.env.TESTBED_SSH_KNOWN_HOSTS ?? join(REPO_ROOT, '.testbed', 'ssh', 'known_hosts'), 'utf8');
    const known = knownHostKey(knownHosts, address, env.TESTBED_SSH_PORT);
    if ('problem' in known) throw new Error(`TESTBED_SSH_KNOWN_HOSTS ${known.problem}`);
    real = known.fingerprint;
    namespace = await createTestNamespace('sshkeys');
    brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    await kubectl(['-n', namespace.name, 'create', 'secret', 'generic', 'gluster-ssh', `--from-file=ssh-privatekey=${env.TESTBED_SSH_KEY}`]);
    await custom.createNamespacedCustomObject({
      ...coordinates(),
      plural: 'glusterclusters',
      body: {
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind: 'GlusterCluster',
        metadata: { name: 'keys' },
        spec: {
          access: { mode: 'External', external: { sshSecretRef: { name: 'gluster-ssh' }, user: env.TESTBED_SSH_USER, port: env.TESTBED_SSH_PORT } },
          brickBackend: 'Directory',
          directoryRoot: brickRoot,
        },
      },
    });
    operator = await startOperatorProcess('operator-ssh-keys', healthPort++);
  });

  after(async () => {
    await kubectl(['-n', namespace.name, 'delete', 'glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await killAllOperators();
    const key = hostKeyEntryKey(namespace.name, nodeName, { address, port: env.TESTBED_SSH_PORT });
    await kubectl(['-n', 'gluster-operator', 'patch', 'secret', HOST_KEY_SECRET_NAME, '--type=json', '-p', JSON.stringify([{ op: 'remove', path: `/data/${key}` }])], { allowFailure: true });
    await removeBrickRoot([address], brickRoot);
    await namespace?.remove();
    removeOperatorKubeconfig();
  });

  it('a wrong spec.sshHostKey: never Ready, HostKeyRefused naming both fingerprints; nothing pinned, nothing run on the node', async () => {
    await custom.createNamespacedCustomObject({
      ...coordinates(),
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterNode', metadata: { name: nodeName }, spec: { cluster: 'keys', manageAddress: address, storageAddress: address, sshHostKey: wrong } },
    });
    const refused = await eventually('Ready False with HostKeyRefused', async () => {
      const condition = ready(await read());
      return condition?.reason === 'HostKeyRefused' ? condition : notYet(condition);
    }, 120_000);
    expect(refused.status).to.equal('False');
    expect(refused.message).to.contain(`SSH host key ${real} offered by`).and.contain(`is not the one spec.sshHostKey expects (${wrong})`);
    // Several reconciles later, still refused.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 3_000));
      expect(ready(await read())?.status).to.equal('False');
    }
    expect(await pin(), 'nothing trusted on first use').to.equal(undefined);
    expect((await sshRun(address, ['test', '-e', brickRoot])).code, 'the directory root was never prepared').to.equal(1);
  });

  it('the key known_hosts lists in spec.sshHostKey: Ready, and still nothing pinned', async () => {
    await patchSpec({ sshHostKey: real });
    await readyWithin('Ready with the right key');
    expect(await pin()).to.equal(undefined);
  });

  it('no spec key: the first key is pinned in the operator\'s Secret; a forged status.sshHostKey changes nothing, across an operator restart', async () => {
    await patchSpec({ sshHostKey: null });
    // A fresh operator opens a fresh connection: the handshake is decided again, now from the store.
    await restartOperator();
    await eventually('pinned on first use', async () => {
      const found = await pin();
      return found ?? notYet(found);
    }, 120_000);
    expect(await pin()).to.include({ fingerprint: real, reason: 'first-use' });
    await readyWithin('Ready on the pinned key');

    await custom.patchNamespacedCustomObjectStatus({ ...coordinates(), name: nodeName, body: { status: { sshHostKey: forged } } }, mergePatch);
    await restartOperator();
    await readyWithin('Ready after the restart');
    await staysReady(20_000);
    expect((await read())?.status?.sshHostKey, 'status is not where trust lives: left as forged, never read as trust').to.equal(forged);
    expect(await pin()).to.include({ fingerprint: real, reason: 'first-use' });
  });
});
