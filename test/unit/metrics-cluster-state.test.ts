import { expect } from 'chai';
import type { GlusterVolume } from '../../src/api/index.ts';
import { MemoryEventRecorder } from '../../src/controller/events.ts';
import { commandLabel } from '../../src/metrics/command-label.ts';
import { M } from '../../src/metrics/names.ts';
import { operatorMetrics } from '../../src/metrics/operator-metrics.ts';
import { ClaimReconciler } from '../../src/provisioner/claim-reconciler.ts';
import type { ProvisionerKube } from '../../src/provisioner/kube-io.ts';
import { claimSchema, persistentVolumeSchema, type Claim } from '../../src/provisioner/kube-objects.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { find, MetricsServer, value } from './metrics-scrape.ts';
import { readyVolume, sampleClaim, sampleClass } from './provisioner-builders.test.ts';

const condition = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: '', lastTransitionTime: '2026-01-01T00:00:00Z' });
const brick = (node: string, online?: boolean) => ({ node, path: `${node}:/bricks/b`, set: 0, ...(online !== undefined ? { online } : {}) });

describe('metrics: per-volume and per-device gauges from the leader\'s caches', () => {
  let server: MetricsServer;
  let volumes: unknown[];
  let nodes: unknown[];
  before(async () => (server = await MetricsServer.start(operatorMetrics)));
  after(() => server.close());
  beforeEach(() => {
    operatorMetrics.registry.resetMetrics();
    volumes = [
      {
        metadata: { name: 'db', namespace: 'apps' },
        status: {
          conditions: [condition('Ready', 'False', 'BricksOffline'), condition('Degraded', 'True', 'BricksOffline'), condition('Rebalanced', 'True', 'RebalanceCompleted')],
          capacity: '10Gi',
          bricks: [brick('n1', true), brick('n2', false), brick('n3')],
          heal: { pendingEntries: 12, splitBrainEntries: 1 },
        },
      },
      // Not provisioned yet: no status at all.
      { metadata: { name: 'new', namespace: 'apps' }, spec: {} },
      // Not an object we can read: skipped, not guessed at.
      { metadata: {}, status: { bricks: 'many' } },
    ];
    nodes = [{ metadata: { name: 'n1', namespace: 'gluster' }, status: { devices: [{ name: '/dev/sdb', state: 'Ready', size: '100Gi', free: '40Gi' }] } }];
    operatorMetrics.setClusterState({ volumes: () => volumes, nodes: () => nodes, topologyGeneration: () => 42 });
  });
  afterEach(() => operatorMetrics.setClusterState(undefined));

  it('exports state, bricks, capacity and heal of every GlusterVolume, labelled by namespace and name', async () => {
    const scrape = await server.scrape();
    const db = { namespace: 'apps', volume: 'db' };
    expect(value(scrape, M.volumeCondition, { ...db, condition: 'Ready' })).to.equal(0);
    expect(find(scrape, M.volumeCondition, { ...db, condition: 'Degraded' })).to.deep.equal([
      { name: M.volumeCondition, labels: { ...db, condition: 'Degraded', reason: 'BricksOffline' }, value: 1 },
    ]);
    // Only the three standard conditions: other types would add series per kind of operation.
    expect(find(scrape, M.volumeCondition, { condition: 'Rebalanced' })).to.deep.equal([]);
    expect(value(scrape, M.volumeBricks, db)).to.equal(3);
    expect(value(scrape, M.volumeBricksOnline, db)).to.equal(1);
    // n3 was never asked about: neither online nor offline, so "brick offline" does not fire on a guess.
    expect(value(scrape, M.volumeBricksOffline, db)).to.equal(1);
    expect(value(scrape, M.volumeCapacity, db)).to.equal(10 * 2 ** 30);
    expect(value(scrape, M.volumeHealPending, db)).to.equal(12);
    expect(value(scrape, M.volumeSplitBrain, db)).to.equal(1);
    const fresh = { namespace: 'apps', volume: 'new' };
    expect(value(scrape, M.volumeBricks, fresh)).to.equal(0);
    expect(value(scrape, M.volumeHealPending, fresh)).to.equal(undefined);
    expect(value(scrape, M.volumeCapacity, fresh)).to.equal(undefined);
    expect(find(scrape, M.volumeBricks)).to.have.length(2);
    expect(value(scrape, M.topologyGeneration)).to.equal(42);
  });

  it('exports size and free bytes of every GlusterNode device', async () => {
    const scrape = await server.scrape();
    const device = { namespace: 'gluster', node: 'n1', device: '/dev/sdb' };
    expect(value(scrape, M.deviceSize, device)).to.equal(100 * 2 ** 30);
    expect(value(scrape, M.deviceFree, device)).to.equal(40 * 2 ** 30);
  });

  it('drops the series of a deleted volume at the next scrape, and exports none on a standby', async () => {
    volumes = volumes.slice(1);
    const after = await server.scrape();
    expect(find(after, M.volumeBricks, { volume: 'db' })).to.deep.equal([]);
    expect(find(after, M.volumeCondition)).to.deep.equal([]);

    operatorMetrics.setClusterState(undefined);
    const standby = await server.scrape();
    for (const name of [M.volumeBricks, M.volumeCondition, M.deviceSize, M.deviceFree]) expect(find(standby, name), name).to.deep.equal([]);
  });

  it('keeps condition reasons to CamelCase words, anything else is Other', async () => {
    volumes = [{ metadata: { name: 'odd', namespace: 'apps' }, status: { conditions: [condition('Ready', 'False', 'Failed:on_node_7')] } }];
    const scrape = await server.scrape();
    expect(find(scrape, M.volumeCondition).map((sample) => sample.labels.reason)).to.deep.equal(['Other']);
  });
});

describe('metrics: the command label is a fixed word, never free text', () => {
  it('names gluster commands by object, verb and sub-action, wherever the volume name sits', () => {
    expect(commandLabel(['gluster', '--mode=script', '--xml', 'volume', 'heal', 'full', 'info'])).to.equal('gluster volume heal info');
    expect(commandLabel(['gluster', '--mode=script', '--xml', 'volume', 'heal', 'status', 'full'])).to.equal('gluster volume heal full');
    expect(commandLabel(['gluster', '--mode=script', '--xml', 'volume', 'create', 'start', 'replica', '3', 'a:/b', 'c:/d', 'e:/f'])).to.equal('gluster volume create');
    expect(commandLabel(['gluster', '--mode=script', '--xml', 'volume', 'remove-brick', 'v', 'replica', '2', 'h:/commit', 'start'])).to.equal('gluster volume remove-brick start');
    expect(commandLabel(['gluster', '--mode=script', 'volume', 'status', 'v', 'client-list'])).to.equal('gluster volume status client-list');
    expect(commandLabel(['gluster', '--mode=script', '--xml', 'peer', 'probe', '10.0.0.1'])).to.equal('gluster peer probe');
  });

  it('keeps programs of the fixed set and calls anything else other', () => {
    expect(commandLabel(['lvcreate', '--thin', 'vg/pool'])).to.equal('lvcreate');
    expect(commandLabel(['mkfs.xfs', '-i', 'size=512', '/dev/x'])).to.equal('mkfs.xfs');
    expect(commandLabel(['/tmp/evil-tenant-name'])).to.equal('other');
    expect(commandLabel([])).to.equal('other');
    expect(commandLabel(['gluster', 'volume', 'tenant-secret', 'x'])).to.equal('gluster other');
    expect(commandLabel(['gluster', 'snapshot', 'create'])).to.equal('gluster other');
  });
});

describe('metrics: claim created → PersistentVolume made', () => {
  const CREATED = Date.parse('2026-02-01T12:00:00Z');
  let server: MetricsServer;
  before(async () => (server = await MetricsServer.start(operatorMetrics)));
  after(() => server.close());
  beforeEach(() => operatorMetrics.registry.resetMetrics());

  /** A claim whose GlusterVolume is Ready: the next reconcile makes its PV (the createPersistentVolume decision). */
  function setUp(options: { pvExists?: boolean } = {}) {
    const base = sampleClaim();
    const claim: Claim = claimSchema.parse({ ...base, metadata: { ...base.metadata, creationTimestamp: new Date(CREATED).toISOString() } });
    const volume: GlusterVolume = readyVolume();
    const kube = {
      volumes: { get: async () => volume },
      readClaim: async () => claim,
      readStorageClass: async () => sampleClass(),
      readPersistentVolume: async () => undefined,
      observeClaim: async () => claim,
      observeStorageClass: async () => sampleClass(),
      observePersistentVolume: async () => undefined,
      observeGlusterVolume: async () => volume,
      listGlusterClusters: async () => [],
      annotateGlusterVolume: async () => undefined,
      createPersistentVolume: async (pv: unknown) => ({
        persistentVolume: persistentVolumeSchema.parse({ ...(pv as object), metadata: { ...(pv as { metadata: object }).metadata, uid: 'pv-uid' } }),
        created: !options.pvExists,
      }),
    };
    const clock = { now: () => CREATED + 42_000, sleep: async () => undefined };
    const reconciler = new ClaimReconciler({
      kube: kube as unknown as ProvisionerKube,
      events: new MemoryEventRecorder(),
      logger: createLogger('error'),
      clock,
      defaultVolumeNamespace: 'team-a',
      serveInTreeClasses: true,
    });
    return { reconciler, key: `${claim.metadata.namespace}/${claim.metadata.name}` };
  }

  it('observes the claim\'s age when its PV is made, by StorageClass', async () => {
    const { reconciler, key } = setUp();
    await reconciler.reconcile(key);
    const scrape = await server.scrape();
    const labels = { storage_class: 'gluster' };
    expect(value(scrape, `${M.claimProvisioningDuration}_count`, labels)).to.equal(1);
    expect(value(scrape, `${M.claimProvisioningDuration}_sum`, labels)).to.equal(42);
    expect(value(scrape, `${M.claimProvisioningDuration}_bucket`, { ...labels, le: '30' })).to.equal(0);
    expect(value(scrape, `${M.claimProvisioningDuration}_bucket`, { ...labels, le: '60' })).to.equal(1);
  });

  it('counts a claim the apiserver\'s clock dates after ours as provisioned at once, not in negative time', async () => {
    operatorMetrics.observeClaimProvisioned('gluster', new Date(CREATED + 5_000).toISOString(), CREATED);
    operatorMetrics.observeClaimProvisioned('gluster', undefined, CREATED);
    const scrape = await server.scrape();
    expect(value(scrape, `${M.claimProvisioningDuration}_count`, { storage_class: 'gluster' })).to.equal(1);
    expect(value(scrape, `${M.claimProvisioningDuration}_sum`, { storage_class: 'gluster' })).to.equal(0);
  });

  it('observes nothing when the PV was there already (a retry must not count a claim twice)', async () => {
    const { reconciler, key } = setUp({ pvExists: true });
    await reconciler.reconcile(key);
    expect(value(await server.scrape(), `${M.claimProvisioningDuration}_count`, { storage_class: 'gluster' })).to.equal(undefined);
  });
});
