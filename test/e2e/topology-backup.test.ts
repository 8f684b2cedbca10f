import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { topologyCodec } from '../../src/topology/backup/codec.ts';
import { CoalescingWriter } from '../../src/topology/backup/coalescing-writer.ts';
import { LABEL_ROLE, SecretBackupStore, StaleGenerationError, type SecretsApi } from '../../src/topology/backup/secret-store.ts';
import { SCHEMA_VERSION, deviceId, type TopologyDatabase } from '../../src/topology/model.ts';
import { createTestNamespace, kubeConfig } from '../support/kube.ts';

/**
 * The topology backup against the test bed's real kube-apiserver: Secrets, resourceVersion conflicts,
 * the 1 MiB object limit and label selectors are the apiserver's, not a fake's.
 */

function topology(generation: number, volumes: number, randomIds = false): TopologyDatabase {
  const nodes = ['n1', 'n2', 'n3'];
  const devices = nodes.map((node) => ({ id: deviceId(node, '/dev/sdb'), node, name: '/dev/sdb', size: 2 ** 52, state: 'Online' as const, vg: `vg_${deviceId(node, '/dev/sdb')}` }));
  return {
    schemaVersion: SCHEMA_VERSION,
    generation,
    clusters: [{ name: 'c1', zoneChecking: 'None', minBrickSize: 2 ** 30, maxBrickSize: 4 * 2 ** 40, brickBackend: 'LVM' }],
    nodes: nodes.map((name, i) => ({ name, cluster: 'c1', zone: String(i + 1), manage: `10.0.0.${i + 1}`, storage: `10.0.0.${i + 1}`, state: 'Online' })),
    devices,
    volumes: Array.from({ length: volumes }, (_, v) => ({
      name: `pvc-${v}`,
      cluster: 'c1',
      gluster: `ns_pvc-${v}`,
      ...(randomIds ? { glusterId: crypto.randomUUID() } : {}),
      durability: { type: 'Replicate' as const, replica: 3, arbiter: false },
      size: 2 ** 30,
      sets: 1,
      snapshotFactor: 1,
      bricks: devices.map((d, b) => ({ id: randomIds ? randomBytes(16).toString('hex') : (v * 3 + b).toString(16).padStart(8, '0'), device: d.id, size: 2 ** 30, set: 0 })),
    })),
  };
}

/** Counts calls, and lets a test act between the store's read of the head and its write. */
function instrumented(core: k8s.CoreV1Api) {
  const counts = { replace: 0, create: 0 };
  let beforeHeadWrite: (() => Promise<void>) | undefined;
  const api: SecretsApi = {
    readNamespacedSecret: (p) => core.readNamespacedSecret(p),
    listNamespacedSecret: (p) => core.listNamespacedSecret(p),
    deleteNamespacedSecret: (p) => core.deleteNamespacedSecret(p),
    createNamespacedSecret: async (p) => {
      counts.create++;
      return core.createNamespacedSecret(p);
    },
    replaceNamespacedSecret: async (p) => {
      counts.replace++;
      const hook = beforeHeadWrite;
      beforeHeadWrite = undefined;
      await hook?.();
      return core.replaceNamespacedSecret(p);
    },
  };
  return { api, counts, onceBeforeHeadWrite: (hook: () => Promise<void>) => (beforeHeadWrite = hook) };
}

describe('topology backup in Secrets on the real apiserver', function () {
  this.timeout(120_000);
  let namespace: { name: string; remove: () => Promise<void> };
  let core: k8s.CoreV1Api;
  const storeOf = (api: SecretsApi, name?: string) =>
    new SecretBackupStore<TopologyDatabase>({ core: api, namespace: namespace.name, codec: topologyCodec(), writer: 'e2e', ...(name ? { name } : {}) });

  before(async () => {
    namespace = await createTestNamespace('t4b-backup');
    core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  });
  after(async () => {
    await namespace?.remove();
  });

  it('round-trips a backup through a new store instance (as after a pod restart)', async () => {
    const db = topology(3, 20);
    expect((await storeOf(core, 'rt').save(db)).written).to.equal(true);
    const loaded = await storeOf(kubeConfig().makeApiClient(k8s.CoreV1Api), 'rt').load();
    expect(loaded.state).to.equal('ok');
    expect(loaded.state === 'ok' && loaded.db).to.deep.equal(db);
  });

  it('spreads a database larger than a Secret over several Secrets, each under 1 MiB, and round-trips it', async () => {
    const db = topology(9, 12_000, true);
    const store = storeOf(core, 'big');
    const result = await store.save(db);
    expect(result.chunks).to.be.at.least(2);
    const secrets = (await core.listNamespacedSecret({ namespace: namespace.name, labelSelector: 'storage.gluster-operator.dev/topology-backup=big' })).items;
    expect(secrets.filter((s) => s.metadata!.labels![LABEL_ROLE] === 'chunk')).to.have.length(result.chunks);
    for (const secret of secrets) {
      const size = Buffer.byteLength(JSON.stringify(secret));
      expect(size, secret.metadata!.name).to.be.lessThan(1024 * 1024);
    }
    const loaded = await storeOf(core, 'big').load();
    expect(loaded.state === 'ok' && loaded.db).to.deep.equal(db);
    // The next (smaller) generation replaces the chunks: the old ones are deleted after the head moved.
    await store.save(topology(10, 5));
    const after = (await core.listNamespacedSecret({ namespace: namespace.name, labelSelector: 'storage.gluster-operator.dev/topology-backup=big' })).items;
    expect(after.map((s) => s.metadata!.name)).to.deep.equal(['big']);
    const reloaded = await storeOf(core, 'big').load();
    expect(reloaded.state === 'ok' && reloaded.db.generation).to.equal(10);
  });

  it("retries a concurrent writer's conflict instead of overwriting, and never overwrites a newer generation", async () => {
    const mine = instrumented(core);
    const store = storeOf(mine.api, 'conflict');
    await store.save(topology(1, 2));
    const other = kubeConfig().makeApiClient(k8s.CoreV1Api);

    // Another client changes the head between our read and our write: 409, re-read, retry.
    mine.onceBeforeHeadWrite(async () => {
      const head = await other.readNamespacedSecret({ name: 'conflict', namespace: namespace.name });
      head.metadata!.annotations = { ...head.metadata!.annotations, 'e2e/touched-by': 'other-client' };
      await other.replaceNamespacedSecret({ name: 'conflict', namespace: namespace.name, body: head });
    });
    const result = await store.save(topology(2, 2));
    expect(result).to.include({ written: true, attempts: 2 });
    const loaded = await storeOf(core, 'conflict').load();
    expect(loaded.state === 'ok' && loaded.db.generation).to.equal(2);

    // Another operator instance writes generation 7 between our read and our write of generation 3.
    mine.onceBeforeHeadWrite(async () => {
      await storeOf(other, 'conflict').save(topology(7, 4));
    });
    let refused: unknown;
    await store.save(topology(3, 3)).catch((error) => (refused = error));
    expect(refused).to.be.instanceOf(StaleGenerationError);
    const after = await storeOf(core, 'conflict').load();
    expect(after.state === 'ok' && after.db).to.deep.equal(topology(7, 4));
  });

  it('never lets the stored generation go backwards', async () => {
    const store = storeOf(core, 'monotonic');
    await store.save(topology(5, 1));
    for (const older of [4, 1, 0]) {
      let refused: unknown;
      await store.save(topology(older, 1)).catch((error) => (refused = error));
      expect(refused, `generation ${older}`).to.be.instanceOf(StaleGenerationError);
    }
    const loaded = await store.load();
    expect(loaded.state === 'ok' && loaded.db.generation).to.equal(5);
  });

  it('coalesces 100 rapid commits into a handful of Secret writes, ending with the last generation', async () => {
    const counted = instrumented(core);
    const store = storeOf(counted.api, 'burst');
    const writer = new CoalescingWriter<TopologyDatabase>({ save: (db) => store.save(db), delayMs: 20, minIntervalMs: 100 });
    for (let generation = 1; generation <= 100; generation++) {
      writer.schedule(topology(generation, 3));
      if (generation % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await writer.flush();
    const writes = counted.counts.create + counted.counts.replace;
    expect(writer.stats.writes, 'backups written').to.be.at.most(5);
    expect(writes, 'Secret create/replace calls').to.be.at.most(5);
    const loaded = await storeOf(core, 'burst').load();
    expect(loaded.state === 'ok' && loaded.db.generation).to.equal(100);
  });
});
