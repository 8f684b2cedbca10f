import { OWNER_OPTION, ownerMark } from '../../src/gluster/owner-mark.ts';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, GROUP_VERSION } from '../../src/api/index.ts';
import { parseVolumeInfoXml } from '../../src/gluster/parsers/volume-info.ts';
import { topologyCodec } from '../../src/topology/backup/codec.ts';
import { ANNOTATION_ORIGINAL, SecretBackupStore } from '../../src/topology/backup/secret-store.ts';
import { SCHEMA_VERSION, deviceId, topologyDatabaseSchema, topologyName, type TopologyDatabase } from '../../src/topology/model.ts';
import { TOPOLOGY_GENERATION_ANNOTATION, observeCluster } from '../../src/topology/rebuild/observe.ts';
import { adoptedBrickId } from '../../src/topology/rebuild/rebuild.ts';
import { GiB } from '../../src/topology/sizing.ts';
import { TopologyStore } from '../../src/topology/store.ts';
import { createTestNamespace, kubeConfig } from '../support/kube.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';

/**
 * Losing the backup on a real cluster: a real replicate-3 Gluster volume on the test bed's three nodes, the
 * matching custom resources on the real apiserver, a backup in real Secrets. Then the Secret is deleted or
 * corrupted, and a fresh store (as after a pod restart) must rebuild the same topology from the live
 * cluster over SSH, keep the corrupt data aside, say so in an Event, and never go back in generation.
 */

const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];

describe('topology rebuild from the live cluster on the test bed', function () {
  this.timeout(180_000);
  const env = testbedEnv();
  const ips = env.TESTBED_NODES.slice(0, 3);
  const [first] = ips as [string];
  const volumeName = `t4b-${randomBytes(3).toString('hex')}`;
  const brickDir = `${env.TESTBED_BRICK_ROOT}/${volumeName}`;
  const nodeNames = ips.map((_, i) => `node-${i + 1}`);
  const devicePath = (i: number) => `/dev/loop${i}`;
  let namespace: { name: string; remove: () => Promise<void> };
  let core: k8s.CoreV1Api;
  let custom: k8s.CustomObjectsApi;
  let volumeCreated = false;
  let original: TopologyDatabase;

  const backupStore = () => new SecretBackupStore<TopologyDatabase>({ core, namespace: namespace.name, codec: topologyCodec(), name: 'gluster-operator-topology' });
  const newStore = () =>
    new TopologyStore({
      backup: backupStore(),
      events: core,
      observe: () =>
        observeCluster({
          custom,
          namespace: namespace.name,
          run: async (node, command) => command.parse(await sshCheck(node.spec.manageAddress, [...command.argv]), 0),
        }),
    });
  const crd = (plural: string, body: object) => custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural, body });
  const events = async (reason: string) =>
    (await core.listNamespacedEvent({ namespace: namespace.name, fieldSelector: `reason=${reason},involvedObject.name=bed` })).items;

  before(async () => {
    expect(ips.length, 'TESTBED_NODES').to.equal(3);
    namespace = await createTestNamespace('t4b-rebuild');
    const config = kubeConfig();
    core = config.makeApiClient(k8s.CoreV1Api);
    custom = config.makeApiClient(k8s.CustomObjectsApi);

    // A real replicate-3 volume. Peer probe is idempotent; peers are shared with other suites and stay.
    for (const ip of ips.slice(1)) await sshCheck(first, gluster('peer', 'probe', ip));
    for (const ip of ips) await sshCheck(ip, ['mkdir', '-p', brickDir]);
    const bricks = ips.map((ip) => `${ip}:${brickDir}`);
    for (let attempt = 1; ; attempt++) {
      // A peer just probed may not be connected yet; glusterd may be busy with another suite's transaction.
      const created = await sshRun(first, gluster('volume', 'create', volumeName, 'replica', '3', ...bricks, 'force'));
      if (created.code === 0) break;
      if (attempt >= 20) throw new Error(`volume create: ${created.stderr || created.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    volumeCreated = true;
    await sshCheck(first, gluster('volume', 'start', volumeName));
    // As the operator leaves a volume it made: marked with its GlusterVolume, which the rebuild requires.
    await sshCheck(first, gluster('volume', 'set', volumeName, OWNER_OPTION, ownerMark(namespace.name, 'shared-data')));
    const [live] = parseVolumeInfoXml(await sshCheck(first, gluster('volume', 'info', volumeName, '--xml')));

    // The custom resources describing it.
    await crd('glusterclusters', {
      apiVersion: GROUP_VERSION,
      kind: 'GlusterCluster',
      metadata: { name: 'bed', annotations: { [TOPOLOGY_GENERATION_ANNOTATION]: '7' } },
      spec: { access: { mode: 'External', external: { sshSecretRef: { name: 'testbed-ssh' } } }, brickBackend: 'Directory', directoryRoot: env.TESTBED_BRICK_ROOT },
    });
    for (const [i, ip] of ips.entries()) {
      await crd('glusternodes', {
        apiVersion: GROUP_VERSION,
        kind: 'GlusterNode',
        metadata: { name: nodeNames[i] },
        spec: { cluster: 'bed', manageAddress: ip, storageAddress: ip, zone: String(i + 1), devices: [{ name: devicePath(i) }] },
      });
      // Device sizes are what the node reconciler measured; the rebuild reads them from status.
      const node = (await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glusternodes', name: nodeNames[i]! })) as Record<string, unknown>;
      await custom.replaceNamespacedCustomObjectStatus({
        group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glusternodes', name: nodeNames[i]!,
        body: { ...node, status: { devices: [{ name: devicePath(i), state: 'Ready', size: '10Gi' }] } },
      });
    }
    await crd('glustervolumes', {
      apiVersion: GROUP_VERSION,
      kind: 'GlusterVolume',
      metadata: { name: 'shared-data' },
      spec: { cluster: 'bed', size: '1Gi', glusterVolumeName: volumeName, options: { 'performance.cache-size': '32MB' } },
    });

    // What the operator's database said before the loss (its names are `<namespace>/<name>`).
    const q = (name: string) => topologyName(namespace.name, name);
    const devices = ips.map((_, i) => ({ id: deviceId(q(nodeNames[i]!), devicePath(i)), node: q(nodeNames[i]!), name: devicePath(i), size: 10 * GiB, state: 'Online' as const, vg: `vg_${deviceId(q(nodeNames[i]!), devicePath(i))}` }));
    original = topologyDatabaseSchema.parse({
      schemaVersion: SCHEMA_VERSION,
      generation: 7,
      clusters: [{ name: q('bed'), zoneChecking: 'None', minBrickSize: GiB, maxBrickSize: 4 * 1024 * GiB, brickBackend: 'Directory', directoryRoot: env.TESTBED_BRICK_ROOT }],
      nodes: ips.map((ip, i) => ({ name: q(nodeNames[i]!), cluster: q('bed'), zone: String(i + 1), manage: ip, storage: ip, state: 'Online' })),
      devices,
      volumes: [
        {
          name: q('shared-data'), cluster: q('bed'), gluster: volumeName, glusterId: live!.id,
          durability: { type: 'Replicate', replica: 3, arbiter: false }, size: GiB, sets: 1, snapshotFactor: 1,
          options: { 'performance.cache-size': '32MB' },
          bricks: ips.map((ip, i) => ({ id: adoptedBrickId(q('shared-data'), `${ip}:${brickDir}`), device: devices[i]!.id, size: GiB, set: 0, path: brickDir })),
        },
      ],
    });
  });

  after(async () => {
    // Also after a failure half-way: the volume, its bricks and the namespace go; the peers stay (shared).
    if (volumeCreated) {
      await sshRun(first, gluster('volume', 'stop', volumeName, 'force'));
      await sshRun(first, gluster('volume', 'delete', volumeName));
    }
    for (const ip of ips) await sshRun(ip, ['rm', '-rf', brickDir]).catch(() => undefined);
    await namespace?.remove();
  });

  it('restores an intact backup that matches the cluster, and says so', async () => {
    await backupStore().save(original);
    const store = newStore();
    const outcome = await store.start();
    expect(outcome.reason).to.equal('RestoredFromBackup');
    expect(outcome.condition).to.include({ type: 'TopologyRestored', status: 'True', reason: 'RestoredFromBackup' });
    expect(store.db).to.deep.equal(original);
    expect(await events('TopologyRestored')).to.have.length.at.least(1);
  });

  it('Secret deleted: rebuilds the same topology from the real Gluster volume, past the recorded generation', async () => {
    await backupStore().deleteAll();
    const store = newStore();
    const outcome = await store.start();
    expect(outcome.reason).to.equal('RebuiltFromCluster');
    expect(outcome.condition).to.include({ type: 'TopologyRestored', status: 'True', reason: 'RebuiltFromCluster' });
    expect(outcome.message).to.match(/no backup exists/);
    // Generation: past the one the GlusterCluster recorded (7), never back to 0.
    expect(store.db.generation).to.equal(8);
    expect({ ...store.db, generation: 7 }).to.deep.equal(original);
    // The rebuilt database is backed up again, and the Event tells the user what happened.
    const reloaded = await backupStore().load();
    expect(reloaded.state === 'ok' && reloaded.db).to.deep.equal(store.db);
    const [event] = await events('TopologyRebuilt');
    expect(event?.involvedObject).to.include({ kind: 'GlusterCluster', name: 'bed', apiVersion: GROUP_VERSION });
    expect(event?.message).to.match(/no backup exists/);
  });

  for (const [what, damage] of [
    ['a flipped byte', (s: k8s.V1Secret) => {
      const bytes = Buffer.from(s.data!['chunk-0']!, 'base64');
      bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
      s.data!['chunk-0'] = bytes.toString('base64');
    }],
    ['a wrong checksum', (s: k8s.V1Secret) => {
      const meta = JSON.parse(Buffer.from(s.data!['meta.json']!, 'base64').toString());
      meta.checksum = '0'.repeat(64);
      s.data!['meta.json'] = Buffer.from(JSON.stringify(meta)).toString('base64');
    }],
    ['a truncated chunk', (s: k8s.V1Secret) => {
      s.data!['chunk-0'] = Buffer.from(s.data!['chunk-0']!, 'base64').subarray(0, 40).toString('base64');
    }],
  ] as const) {
    it(`Secret corrupted (${what}): rebuilds the same topology and keeps the corrupt data aside`, async () => {
      const before = await backupStore().load();
      expect(before.state).to.equal('ok');
      const storedGeneration = before.state === 'ok' ? before.db.generation : -1;
      const head = await core.readNamespacedSecret({ name: 'gluster-operator-topology', namespace: namespace.name });
      damage(head);
      await core.replaceNamespacedSecret({ name: 'gluster-operator-topology', namespace: namespace.name, body: head });
      const corruptData = head.data;
      const quarantinedBefore = (await backupStore().listQuarantined()).length;

      const store = newStore();
      const outcome = await store.start();
      expect(outcome.reason).to.equal('RebuiltFromCluster');
      expect(outcome.message).to.match(/corrupt/);
      expect(store.db.generation).to.equal(storedGeneration + 1);
      expect({ ...store.db, generation: 7 }).to.deep.equal(original);
      // The evidence: a copy of the corrupt head, byte for byte, labelled and annotated.
      const kept = await backupStore().listQuarantined();
      expect(kept).to.have.length(quarantinedBefore + 1);
      const copy = kept.find((s) => outcome.quarantined.includes(s.metadata!.name!))!;
      expect(copy.data).to.deep.equal(corruptData);
      expect(copy.metadata!.annotations![ANNOTATION_ORIGINAL]).to.equal('gluster-operator-topology');
      expect(copy.metadata!.labels!['storage.gluster-operator.dev/quarantined']).to.match(/^corrupt-\d{8}t\d{6}z$/);
      const reloaded = await backupStore().load();
      expect(reloaded.state === 'ok' && reloaded.db.generation).to.equal(storedGeneration + 1);
      // The quarantine names have one-second resolution; keep the next variant's copy apart.
      await new Promise((resolve) => setTimeout(resolve, 1100));
    });
  }

  it('refuses to start (and writes nothing) when the backup is corrupt and no node answers', async () => {
    const head = await core.readNamespacedSecret({ name: 'gluster-operator-topology', namespace: namespace.name });
    head.data!['chunk-0'] = Buffer.from('garbage').toString('base64');
    await core.replaceNamespacedSecret({ name: 'gluster-operator-topology', namespace: namespace.name, body: head });
    const damaged = await core.readNamespacedSecret({ name: 'gluster-operator-topology', namespace: namespace.name });
    const store = new TopologyStore({
      backup: backupStore(),
      events: core,
      observe: () => observeCluster({ custom, namespace: namespace.name, run: async () => Promise.reject(new Error('connection refused')) }),
    });
    let failure: unknown;
    await store.start().catch((error) => (failure = error));
    expect(String(failure)).to.match(/refusing to start/);
    expect((failure as { outcome?: { condition?: object } }).outcome?.condition).to.include({ status: 'False', reason: 'RebuildBlocked' });
    const after = await core.readNamespacedSecret({ name: 'gluster-operator-topology', namespace: namespace.name });
    expect(after.metadata!.resourceVersion).to.equal(damaged.metadata!.resourceVersion);
    expect(await events('TopologyRebuildBlocked')).to.have.length.at.least(1);
  });
});
