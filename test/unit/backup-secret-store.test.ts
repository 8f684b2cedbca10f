import { expect } from 'chai';
import { ApiException, type V1Secret } from '@kubernetes/client-node';
import { BackupCorruptError, decodeBackup, encodeBackup, topologyCodec } from '../../src/topology/backup/codec.ts';
import {
  LABEL_ROLE,
  SecretBackupStore,
  StaleGenerationError,
  type SecretsApi,
} from '../../src/topology/backup/secret-store.ts';
import { SCHEMA_VERSION, deviceId, type TopologyDatabase } from '../../src/topology/model.ts';

/** A topology with `volumes` replicate-3 volumes on three nodes; ids are deterministic. */
function topology(generation: number, volumes = 2): TopologyDatabase {
  const nodes = ['n1', 'n2', 'n3'];
  const devices = nodes.map((node) => ({ id: deviceId(node, '/dev/sdb'), node, name: '/dev/sdb', size: 10 * 2 ** 40, state: 'Online' as const, vg: `vg_${deviceId(node, '/dev/sdb')}` }));
  return {
    schemaVersion: SCHEMA_VERSION,
    generation,
    clusters: [{ name: 'c1', zoneChecking: 'None', minBrickSize: 2 ** 30, maxBrickSize: 4 * 2 ** 40, brickBackend: 'LVM' }],
    nodes: nodes.map((name, i) => ({ name, cluster: 'c1', zone: String(i + 1), manage: `10.0.0.${i + 1}`, storage: `10.0.0.${i + 1}`, state: 'Online' })),
    devices,
    volumes: Array.from({ length: volumes }, (_, v) => ({
      name: `vol-${v}`,
      cluster: 'c1',
      gluster: `default_vol-${v}`,
      durability: { type: 'Replicate' as const, replica: 3, arbiter: false },
      size: 2 ** 30,
      sets: 1,
      snapshotFactor: 1,
      bricks: devices.map((d, b) => ({ id: (v * 3 + b).toString(16).padStart(8, '0'), device: d.id, size: 2 ** 30, set: 0 })),
    })),
  };
}

/** An in-memory Secrets API with the apiserver's resourceVersion rules (409 on stale update or existing create). */
function fakeSecrets() {
  const secrets = new Map<string, V1Secret>();
  let version = 1;
  const calls: string[] = [];
  const hooks: { beforeReplace?: (name: string) => void; failReplace?: number } = {};
  const conflict = (what: string) => new ApiException(409, what, '{}', {});
  const api: SecretsApi = {
    readNamespacedSecret: (async ({ name }: { name: string }) => {
      calls.push(`read ${name}`);
      const s = secrets.get(name);
      if (!s) throw new ApiException(404, 'not found', '{}', {});
      return structuredClone(s);
    }) as SecretsApi['readNamespacedSecret'],
    createNamespacedSecret: (async ({ body }: { body: V1Secret }) => {
      calls.push(`create ${body.metadata!.name}`);
      if (secrets.has(body.metadata!.name!)) throw conflict('exists');
      const stored = structuredClone({ ...body, metadata: { ...body.metadata, resourceVersion: String(version++) } });
      secrets.set(body.metadata!.name!, stored);
      return structuredClone(stored);
    }) as SecretsApi['createNamespacedSecret'],
    replaceNamespacedSecret: (async ({ name, body }: { name: string; body: V1Secret }) => {
      calls.push(`replace ${name}`);
      hooks.beforeReplace?.(name);
      if (hooks.failReplace) {
        hooks.failReplace--;
        throw new ApiException(500, 'etcd timeout', '{}', {});
      }
      const current = secrets.get(name);
      if (!current) throw new ApiException(404, 'not found', '{}', {});
      if (body.metadata?.resourceVersion !== current.metadata?.resourceVersion) throw conflict('stale resourceVersion');
      const stored = structuredClone({ ...body, metadata: { ...body.metadata, resourceVersion: String(version++) } });
      secrets.set(name, stored);
      return structuredClone(stored);
    }) as SecretsApi['replaceNamespacedSecret'],
    deleteNamespacedSecret: (async ({ name }: { name: string }) => {
      calls.push(`delete ${name}`);
      if (!secrets.delete(name)) throw new ApiException(404, 'not found', '{}', {});
      return {};
    }) as SecretsApi['deleteNamespacedSecret'],
    listNamespacedSecret: (async ({ labelSelector }: { labelSelector?: string }) => {
      const wanted = (labelSelector ?? '').split(',').filter(Boolean).map((term) => term.split('=') as [string, string]);
      const items = [...secrets.values()].filter((s) => wanted.every(([k, v]) => s.metadata?.labels?.[k] === v));
      return { items: structuredClone(items) };
    }) as SecretsApi['listNamespacedSecret'],
  };
  /** Another client changing a Secret (bumps resourceVersion). */
  const touch = (name: string, change: (s: V1Secret) => void = () => undefined) => {
    const s = secrets.get(name)!;
    change(s);
    s.metadata!.resourceVersion = String(version++);
  };
  return { api, secrets, calls, hooks, touch };
}

function store(api: SecretsApi, chunkBytes?: number) {
  return new SecretBackupStore<TopologyDatabase>({
    core: api,
    namespace: 'ns',
    codec: topologyCodec(chunkBytes ? { chunkBytes } : {}),
    now: () => new Date('2025-11-21T23:00:00Z'),
  });
}

describe('topology backup codec with the real model', () => {
  it('round-trips a topology database and rejects one that breaks its integrity rules', () => {
    const db = topology(3, 5);
    const encoded = encodeBackup(db);
    expect(decodeBackup(encoded.chunks, encoded.meta)).to.deep.equal(db);
    const broken = structuredClone(db);
    broken.volumes[0]!.bricks[0]!.device = 'nosuchdevice';
    expect(() => encodeBackup(broken)).to.throw(/unknown device/);
  });
});

describe('Secret backup store (against an in-memory apiserver)', () => {
  it('reports a missing backup, then round-trips one inline in the head Secret', async () => {
    const fake = fakeSecrets();
    const s = store(fake.api);
    expect(await s.load()).to.deep.equal({ state: 'missing' });
    const result = await s.save(topology(1));
    expect(result).to.include({ written: true, generation: 1, chunks: 1, attempts: 1 });
    expect([...fake.secrets.keys()]).to.deep.equal(['gluster-operator-topology']);
    const loaded = await s.load();
    expect(loaded.state).to.equal('ok');
    if (loaded.state === 'ok') expect(loaded.db).to.deep.equal(topology(1));
  });

  it('spreads a large backup over chunk Secrets written before the head, and deletes the old chunks after', async () => {
    const fake = fakeSecrets();
    const s = store(fake.api, 1024);
    await s.save(topology(1, 40));
    const firstChunks = [...fake.secrets.values()].filter((x) => x.metadata!.labels![LABEL_ROLE] === 'chunk').map((x) => x.metadata!.name!);
    expect(firstChunks.length).to.be.at.least(2);
    const creates = fake.calls.filter((c) => c.startsWith('create'));
    expect(creates.at(-1)).to.equal('create gluster-operator-topology'); // head last
    await s.save(topology(2, 41));
    const loaded = await s.load();
    expect(loaded.state === 'ok' && loaded.db.generation).to.equal(2);
    for (const name of firstChunks) expect(fake.secrets.has(name), name).to.equal(false);
  });

  it('a crash between chunks and head leaves the previous backup whole', async () => {
    const fake = fakeSecrets();
    const s = store(fake.api, 1024);
    await s.save(topology(1, 40));
    fake.hooks.failReplace = 1;
    let failure: unknown;
    await s.save(topology(2, 45)).catch((e) => (failure = e));
    expect(String(failure)).to.match(/etcd timeout/);
    const loaded = await s.load();
    expect(loaded.state === 'ok' && loaded.db.generation).to.equal(1);
    // and the chunks of the failed write were cleaned up
    const chunkGenerations = [...fake.secrets.values()].filter((x) => x.metadata!.labels![LABEL_ROLE] === 'chunk').map((x) => x.metadata!.name!);
    expect(chunkGenerations.every((n) => n.includes('-g1-'))).to.equal(true);
  });

  it('never writes a lower generation, and never a different database under the same generation', async () => {
    const fake = fakeSecrets();
    const s = store(fake.api);
    await s.save(topology(5));
    await s.save(topology(4)).then(
      () => expect.fail('wrote generation 4 over 5'),
      (e) => expect(e).to.be.instanceOf(StaleGenerationError),
    );
    expect((await s.save(topology(5))).written).to.equal(false); // same content: nothing to do
    await s.save(topology(5, 3)).then(
      () => expect.fail('overwrote generation 5 with other contents'),
      (e) => expect(e).to.be.instanceOf(StaleGenerationError),
    );
    const loaded = await s.load();
    expect(loaded.state === 'ok' && loaded.db).to.deep.equal(topology(5));
  });

  it('re-reads and retries on a 409 instead of overwriting, and re-applies the generation rule', async () => {
    const fake = fakeSecrets();
    const s = store(fake.api);
    await s.save(topology(1));
    // Another client touches the head between our read and our write: we retry and win.
    let once = true;
    fake.hooks.beforeReplace = (name) => {
      if (once) fake.touch(name, (x) => (x.metadata!.annotations = { other: 'writer' }));
      once = false;
    };
    expect(await s.save(topology(2))).to.include({ written: true, attempts: 2 });
    // Another writer stores generation 10 between our read and our write: we must not overwrite it.
    once = true;
    const newer = await (async () => {
      const other = fakeSecrets();
      await store(other.api).save(topology(10));
      return other.secrets.get('gluster-operator-topology')!;
    })();
    fake.hooks.beforeReplace = (name) => {
      if (once) fake.touch(name, (x) => (x.data = newer.data));
      once = false;
    };
    await s.save(topology(3)).then(
      () => expect.fail('overwrote a newer backup'),
      (e) => expect(e).to.be.instanceOf(StaleGenerationError),
    );
    const loaded = await s.load();
    expect(loaded.state === 'ok' && loaded.db.generation).to.equal(10);
  });

  it('reports a flipped byte as corrupt with the generation the head claims, and keeps it aside when asked', async () => {
    const fake = fakeSecrets();
    const s = store(fake.api);
    await s.save(topology(7));
    fake.touch('gluster-operator-topology', (x) => {
      const bytes = Buffer.from(x.data!['chunk-0']!, 'base64');
      bytes[20] = bytes[20]! ^ 0xff;
      x.data!['chunk-0'] = bytes.toString('base64');
    });
    const loaded = await s.load();
    expect(loaded.state).to.equal('corrupt');
    if (loaded.state !== 'corrupt') return;
    expect(loaded.error).to.be.instanceOf(BackupCorruptError);
    expect(loaded.generation).to.equal(7);
    const names = await s.quarantine(loaded.evidence, loaded.error.message);
    expect(names).to.deep.equal(['gluster-operator-topology-corrupt-20251121t230000z-head']);
    const copy = fake.secrets.get(names[0]!)!;
    expect(copy.data).to.deep.equal(fake.secrets.get('gluster-operator-topology')!.data);
    expect(copy.metadata!.labels).to.include({ [LABEL_ROLE]: 'corrupt', 'storage.gluster-operator.dev/quarantined': 'corrupt-20251121t230000z' });
    expect((await s.listQuarantined()).map((x) => x.metadata!.name)).to.deep.equal(names);
  });

  it('a missing chunk Secret is corrupt, not a partial database', async () => {
    const fake = fakeSecrets();
    const s = store(fake.api, 1024);
    await s.save(topology(3, 40));
    const chunk = [...fake.secrets.keys()].find((n) => n.includes('-g3-'))!;
    fake.secrets.delete(chunk);
    const loaded = await s.load();
    expect(loaded.state).to.equal('corrupt');
    expect(loaded.state === 'corrupt' && loaded.error.message).to.match(/missing/);
  });

  it('copies an unreadable head aside before a save replaces it', async () => {
    const fake = fakeSecrets();
    const s = store(fake.api);
    await s.save(topology(2));
    fake.touch('gluster-operator-topology', (x) => (x.data = { 'meta.json': Buffer.from('garbage').toString('base64') }));
    const result = await s.save(topology(3));
    expect(result.quarantined).to.have.length(1);
    expect(fake.secrets.get(result.quarantined[0]!)!.data!['meta.json']).to.equal(Buffer.from('garbage').toString('base64'));
    const loaded = await s.load();
    expect(loaded.state === 'ok' && loaded.db.generation).to.equal(3);
  });
});
