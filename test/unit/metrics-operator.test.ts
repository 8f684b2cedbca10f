import { expect } from 'chai';
import { ApiException, type CoordinationV1Api, type V1Lease, type V1Secret } from '@kubernetes/client-node';
import { mkdirP } from '../../src/gluster/commands/fs.ts';
import { peerProbe, volumeHealInfo, volumeStart } from '../../src/gluster/commands/gluster.ts';
import { TransportError } from '../../src/gluster/errors.ts';
import { runNodeCommand } from '../../src/gluster/executor.ts';
import { M } from '../../src/metrics/names.ts';
import { operatorMetrics } from '../../src/metrics/operator-metrics.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { LeaderElector } from '../../src/runtime/leader-election.ts';
import { WorkQueue } from '../../src/runtime/work-queue.ts';
import { topologyCodec } from '../../src/topology/backup/codec.ts';
import { SecretBackupStore, type SecretsApi } from '../../src/topology/backup/secret-store.ts';
import { emptyDatabase } from '../../src/topology/model/schema.ts';
import { FakeTransport, failed, fixture, has, node1, ok } from './gluster-fake-transport.ts';
import { find, MetricsServer, value } from './metrics-scrape.ts';

/**
 * The operator's /metrics, scraped over HTTP from the health server after driving the code that counts:
 * the work queue, runNodeCommand, the leader elector and the topology backup store (the provisioner's and
 * the cluster-state gauges have their own files).
 */
describe('metrics: the operator serves /metrics on its health port', () => {
  let server: MetricsServer;
  before(async () => (server = await MetricsServer.start(operatorMetrics)));
  after(() => server.close());
  beforeEach(() => operatorMetrics.registry.resetMetrics());

  it('in the Prometheus text format, next to /healthz, with every family typed', async () => {
    const scrape = await server.scrape();
    expect(scrape.contentType).to.match(/^text\/plain; version=0\.0\.4/);
    expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
    expect(scrape.types.get(M.reconcileTotal)).to.equal('counter');
    expect(scrape.types.get(M.reconcileDuration)).to.equal('histogram');
    expect(scrape.types.get(M.workqueueDepth)).to.equal('gauge');
    expect(scrape.types.get(M.nodeCommandDuration)).to.equal('histogram');
    expect(scrape.types.get(M.nodeCommandFailures)).to.equal('counter');
    expect(scrape.types.get(M.leader)).to.equal('gauge');
    expect(scrape.types.get(M.topologyBackupGeneration)).to.equal('gauge');
    for (const name of scrape.types.keys()) expect(name).to.match(/^gluster_operator_[a-z_]+$/);
  });

  it('answers 500 with the reason when the exposition cannot be made, so the scrape shows it', async () => {
    const broken = await MetricsServer.start({ contentType: 'text/plain', render: () => Promise.reject(new Error('cache gone')) });
    try {
      const response = await fetch(`${broken.url}/metrics`);
      expect(response.status).to.equal(500);
      expect(await response.text()).to.contain('cache gone');
    } finally {
      await broken.close();
    }
  });

  it('counts reconciles by controller and result, times them, and reports queue depth and wait', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const failedOnce = new Set<string>();
    const queue = new WorkQueue({
      concurrency: 1,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
      observer: operatorMetrics.queueObserver('glustervolume'),
    });
    queue.start(async (key) => {
      await gate;
      if (key === 'ns/later') return { requeueAfterMs: 60_000 };
      if (key === 'ns/broken' && !failedOnce.has(key)) {
        failedOnce.add(key);
        throw new Error('glusterd unreachable');
      }
    });
    for (const key of ['ns/done', 'ns/later', 'ns/broken']) queue.add(key);

    // One key in flight, held at the gate; two wait.
    const waiting = await server.scrape();
    expect(value(waiting, M.workqueueDepth, { controller: 'glustervolume' })).to.equal(2);

    release();
    await queue.idle();
    await queue.stop();
    const scrape = await server.scrape();
    const labels = { controller: 'glustervolume' };
    expect(value(scrape, M.reconcileTotal, { ...labels, result: 'success' })).to.equal(1);
    expect(value(scrape, M.reconcileTotal, { ...labels, result: 'requeue' })).to.equal(1);
    expect(value(scrape, M.reconcileTotal, { ...labels, result: 'error' })).to.equal(1);
    expect(value(scrape, M.reconcileErrors, labels)).to.equal(1);
    expect(value(scrape, `${M.reconcileDuration}_count`, labels)).to.equal(3);
    expect(value(scrape, `${M.workqueueWait}_count`, labels)).to.equal(3);
    expect(value(scrape, M.workqueueDepth, labels)).to.equal(0);
  });

  it('times every node command by node and a fixed command word, never a volume name or path', async () => {
    const transport = new FakeTransport()
      .reply(has('volume', 'heal'), ok(fixture('gluster/heal-info-rep3.xml')))
      .reply(has('volume', 'start'), ok(fixture('gluster/error-another-transaction.xml')))
      .reply(has('mkdir'), ok())
      .reply(has('peer', 'probe'), () => {
        throw new TransportError({ node: node1.name, argv: ['gluster'], message: 'connection reset' });
      });
    // A volume named like a sub-command, and a path with a secret-looking name.
    await runNodeCommand(transport, node1, volumeHealInfo('info'));
    await runNodeCommand(transport, node1, mkdirP('/bricks/tenant-acme/brick'));
    await runNodeCommand(transport, node1, volumeStart('tenant-acme-db')).catch(() => undefined);
    await runNodeCommand(transport, node1, peerProbe('10.0.0.9')).catch(() => undefined);

    const scrape = await server.scrape();
    const node = node1.name;
    expect(value(scrape, `${M.nodeCommandDuration}_count`, { node, command: 'gluster volume heal info' })).to.equal(1);
    expect(value(scrape, `${M.nodeCommandDuration}_count`, { node, command: 'mkdir' })).to.equal(1);
    expect(value(scrape, `${M.nodeCommandDuration}_count`, { node, command: 'gluster volume start' })).to.equal(1);
    expect(value(scrape, M.nodeCommandFailures, { node, command: 'gluster volume start', reason: 'lock-busy' })).to.equal(1);
    expect(value(scrape, M.nodeCommandFailures, { node, command: 'gluster peer probe', reason: 'transport' })).to.equal(1);
    expect(find(scrape, M.nodeCommandFailures)).to.have.length(2);
    const labelValues = scrape.samples.flatMap((sample) => Object.values(sample.labels));
    expect(labelValues.filter((label) => /acme|10\.0\.0\.9|\//.test(label))).to.deep.equal([]);
  });

  it('says 1 while this process holds the Lease and 0 once it let go', async () => {
    const leases = fakeLeases();
    const elector = new LeaderElector({
      coordination: leases.api,
      namespace: 'gluster-operator',
      name: 'gluster-operator-leader',
      identity: 'pod-a',
      leaseDurationMs: 4_000,
      renewDeadlineMs: 3_000,
      retryPeriodMs: 10,
      clock: systemClock,
      onStartedLeading: () => undefined,
      onStoppedLeading: () => undefined,
    });
    expect(value(await server.scrape(), M.leader)).to.equal(0);
    elector.start();
    for (let i = 0; i < 100 && !elector.isLeader; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(value(await server.scrape(), M.leader)).to.equal(1);
    await elector.stop();
    expect(value(await server.scrape(), M.leader)).to.equal(0);
  });

  it('reports the topology backup\'s generation, size and write time after a write, and after a read at start-up', async () => {
    const writtenAt = new Date('2026-03-01T10:00:00Z');
    const secrets = fakeSecrets();
    const store = new SecretBackupStore({ core: secrets, namespace: 'gluster-operator', codec: topologyCodec(), now: () => writtenAt });
    const db = { ...emptyDatabase(), generation: 7 };
    await store.save(db);
    const written = await server.scrape();
    expect(value(written, M.topologyBackupGeneration)).to.equal(7);
    expect(value(written, M.topologyBackupSize)).to.equal(topologyCodec().encode(db).compressedBytes);
    expect(value(written, M.topologyBackupWritten)).to.equal(writtenAt.getTime() / 1000);

    // A restarted operator has written nothing yet: it reports what the Secret it read holds.
    operatorMetrics.registry.resetMetrics();
    const restarted = new SecretBackupStore({ core: secrets, namespace: 'gluster-operator', codec: topologyCodec(), now: () => new Date('2026-03-02T00:00:00Z') });
    expect((await restarted.load()).state).to.equal('ok');
    const read = await server.scrape();
    expect(value(read, M.topologyBackupGeneration)).to.equal(7);
    expect(value(read, M.topologyBackupWritten)).to.equal(writtenAt.getTime() / 1000);
  });

  it('does not report a backup write that failed', async () => {
    const secrets = fakeSecrets({ failWrites: true });
    const store = new SecretBackupStore({ core: secrets, namespace: 'gluster-operator', codec: topologyCodec() });
    await store.save({ ...emptyDatabase(), generation: 3 }).catch(() => undefined);
    expect(value(await server.scrape(), M.topologyBackupGeneration)).to.equal(0);
  });
});

/** A Lease API in memory: 404 until created, then the stored Lease; writes always win. */
function fakeLeases() {
  let lease: V1Lease | undefined;
  const api = {
    readNamespacedLease: async () => {
      if (!lease) throw new ApiException(404, 'not found', '{}', {});
      return structuredClone(lease);
    },
    createNamespacedLease: async ({ body }: { body: V1Lease }) => (lease = structuredClone(body)),
    replaceNamespacedLease: async ({ body }: { body: V1Lease }) => (lease = structuredClone(body)),
  };
  return { api: api as unknown as CoordinationV1Api };
}

/** Secrets in memory, enough for one head Secret written and read back. */
function fakeSecrets(options: { failWrites?: boolean } = {}): SecretsApi {
  const secrets = new Map<string, V1Secret>();
  const refuse = () => {
    if (options.failWrites) throw new ApiException(500, 'etcd unavailable', '{}', {});
  };
  const api = {
    readNamespacedSecret: async ({ name }: { name: string }) => {
      const secret = secrets.get(name);
      if (!secret) throw new ApiException(404, 'not found', '{}', {});
      return structuredClone(secret);
    },
    createNamespacedSecret: async ({ body }: { body: V1Secret }) => {
      refuse();
      secrets.set(body.metadata!.name!, structuredClone({ ...body, metadata: { ...body.metadata, resourceVersion: '1' } }));
      return body;
    },
    replaceNamespacedSecret: async ({ name, body }: { name: string; body: V1Secret }) => {
      refuse();
      secrets.set(name, structuredClone(body));
      return body;
    },
    deleteNamespacedSecret: async () => ({}),
    listNamespacedSecret: async () => ({ items: [...secrets.values()] }),
  };
  return api as unknown as SecretsApi;
}
