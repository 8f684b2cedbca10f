import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION } from '../../src/api/index.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { ControllerManager } from '../../src/controller/manager.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { ResilientInformer, objectKey } from '../../src/runtime/informer.ts';
import { LeaderElector } from '../../src/runtime/leader-election.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig } from '../support/kube.ts';

describe('controller runtime on the real apiserver', function () {
  this.timeout(60_000);
  const config = kubeConfig();
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  before(async () => {
    namespace = await createTestNamespace('runtime');
  });
  after(async () => {
    await namespace?.remove();
  });

  describe('leader election on a Lease', () => {
    const electors: LeaderElector[] = [];
    afterEach(async () => {
      await Promise.all(electors.splice(0).map((elector) => elector.stop({ release: false })));
    });

    function candidate(identity: string, log: string[]) {
      const elector = new LeaderElector({
        coordination: config.makeApiClient(k8s.CoordinationV1Api),
        namespace: namespace.name,
        name: 'gluster-operator-leader',
        identity,
        leaseDurationMs: 3_000,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 250,
        clock: systemClock,
        onStartedLeading: () => log.push(`${identity} leads`),
        onStoppedLeading: () => log.push(`${identity} stopped`),
      });
      electors.push(elector);
      return elector;
    }

    it('elects exactly one of two replicas and fails over when the leader dies', async () => {
      const log: string[] = [];
      const a = candidate('replica-a', log);
      const b = candidate('replica-b', log);
      a.start();
      b.start();
      await eventually('a leader', async () => (a.isLeader || b.isLeader ? true : notYet({ a: a.isLeader, b: b.isLeader })));
      // Over several renew periods, never both.
      for (let i = 0; i < 8; i += 1) {
        expect(a.isLeader && b.isLeader, 'two leaders').to.equal(false);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const [leader, standby] = a.isLeader ? [a, b] : [b, a];
      const diedAt = Date.now();
      await leader.stop({ release: false }); // a crash: no release, the Lease must expire
      await eventually('failover', async () => (standby.isLeader ? true : notYet({ standbyLeads: standby.isLeader })), 15_000);
      const failoverMs = Date.now() - diedAt;
      expect(failoverMs, 'waited for the lease to expire').to.be.at.least(1_500);
      const lease = await config.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'gluster-operator-leader', namespace: namespace.name });
      expect(lease.spec?.holderIdentity).to.equal(standby === a ? 'replica-a' : 'replica-b');
      expect(lease.spec?.leaseTransitions).to.be.at.least(1);
    });

    it('hands over at once when the leader shuts down gracefully', async () => {
      const log: string[] = [];
      const a = candidate('graceful-a', log);
      a.start();
      await eventually('a leads', async () => (a.isLeader ? true : notYet({ a: a.isLeader, b: b.isLeader })));
      const b = candidate('graceful-b', log);
      b.start();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(b.isLeader).to.equal(false);
      await a.stop();
      await eventually('b leads', async () => (b.isLeader ? true : notYet({ a: a.isLeader, b: b.isLeader })), 2_000);
      expect(log).to.deep.equal(['graceful-a leads', 'graceful-a stopped', 'graceful-b leads']);
    });
  });

  it('an informer delivers adds and deletes, and resyncs from a fresh list', async () => {
    const custom = config.makeApiClient(k8s.CustomObjectsApi);
    const seen: string[] = [];
    const plural = 'glustervolumes';
    const list = async () =>
      (await custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural })) as k8s.KubernetesListObject<k8s.KubernetesObject>;
    const informer = new ResilientInformer({
      kubeConfig: config,
      path: `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace.name}/${plural}`,
      list,
      onObject: (object, event) => seen.push(`${event} ${objectKey(object)}`),
      resyncMs: 700,
      restartBackoff: { baseMs: 100, maxMs: 1_000 },
      clock: systemClock,
    });
    await informer.start();
    try {
      expect(informer.hasSynced).to.equal(true);
      const body = {
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind: 'GlusterVolume',
        metadata: { name: 'watched' },
        spec: { cluster: 'main', size: '1Gi' },
      };
      await custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural, body });
      const key = `${namespace.name}/watched`;
      const sawEvent = (event: string) => async () => (seen.includes(event) ? true : notYet(seen.slice(-20)));
      await eventually('add event', sawEvent(`add ${key}`));
      await eventually('resync event', sawEvent(`resync ${key}`), 5_000);
      expect(informer.get('watched', namespace.name)?.metadata?.name).to.equal('watched');
      await custom.deleteNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural, name: 'watched' });
      await eventually('delete event', sawEvent(`delete ${key}`));
    } finally {
      await informer.stop();
    }
  });
  it('an informer restarting after a watch error keeps serving its cache until the new list has completed', async () => {
    const custom = config.makeApiClient(k8s.CustomObjectsApi);
    const plural = 'glustervolumes';
    const coordinates = { group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural };
    await custom.createNamespacedCustomObject({
      ...coordinates,
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterVolume', metadata: { name: 'kept' }, spec: { cluster: 'main', size: '1Gi' } },
    });
    // The lists after the first wait for the test to let them go: the window in which a restart re-lists.
    let lists = 0;
    let releaseList: () => void = () => undefined;
    const listGate = new Promise<void>((resolve) => (releaseList = resolve));
    const list = async () => {
      lists += 1;
      if (lists > 1) await listGate;
      return (await custom.listNamespacedCustomObject(coordinates)) as k8s.KubernetesListObject<k8s.KubernetesObject>;
    };
    const informer = new ResilientInformer({
      kubeConfig: config,
      path: `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace.name}/${plural}`,
      list,
      onObject: () => undefined,
      resyncMs: 600_000,
      restartBackoff: { baseMs: 10, maxMs: 10 },
      clock: systemClock,
    });
    await informer.start();
    try {
      expect(informer.list().map((o) => o.metadata?.name)).to.deep.equal(['kept']);
      // As client-node's informer reports a failed watch (private: the test stands in for the watch).
      (informer as unknown as { scheduleRestart(error: unknown): void }).scheduleRestart(new Error('watch failed (test)'));
      await eventually('the restart to be listing', async () => (lists >= 2 ? true : notYet(`lists so far: ${lists}`)), 5_000);
      // Reconciles read this cache: an empty one now would read as "no volumes".
      expect(informer.list().map((o) => o.metadata?.name), 'while the new list is in flight').to.deep.equal(['kept']);
      expect(informer.get('kept', namespace.name)?.metadata?.name).to.equal('kept');
      releaseList();
      await eventually('the restarted informer to hold the object', async () => {
        const restarted = (informer as unknown as { restarting?: Promise<void> }).restarting === undefined;
        return restarted && informer.list().length === 1 ? true : notYet(`restart done: ${restarted}, cached: ${informer.list().length}`);
      }, 10_000);
      expect(informer.hasSynced).to.equal(true);
    } finally {
      releaseList();
      await informer.stop();
      await custom.deleteNamespacedCustomObject({ ...coordinates, name: 'kept' }).catch(() => undefined);
    }
  });
  it('controllers watching one kind share one informer: each handler runs after the cache reconciles read holds the change', async () => {
    const custom = config.makeApiClient(k8s.CustomObjectsApi);
    const plural = 'glustervolumes';
    const coordinates = { group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural };
    const source = {
      name: plural,
      path: `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace.name}/${plural}`,
      list: async () => (await custom.listNamespacedCustomObject(coordinates)) as k8s.KubernetesListObject<k8s.KubernetesObject>,
    };
    const manager = new ControllerManager({ kubeConfig: config, clock: systemClock, logger: createLogger('error'), resyncMs: 600_000 });
    // For every object a handler is handed: the resourceVersion it carries and the one the shared cache holds then.
    const seen: Array<{ handler: string; event: string; cached: string | undefined }> = [];
    const recordingHandler = (handler: string) => (object: k8s.KubernetesObject) => {
      const cached = manager.syncedCache(plural)?.get(object.metadata!.name!, namespace.name);
      seen.push({ handler, event: object.metadata!.resourceVersion!, cached: cached?.metadata?.resourceVersion });
      return [];
    };
    const controller = (name: string) => ({ name, concurrency: 1, reconcile: async () => undefined, primary: source, related: [{ source, toKeys: recordingHandler(name) }] });
    await manager.start([controller('first'), controller('second')]);
    try {
      await custom.createNamespacedCustomObject({
        ...coordinates,
        body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterVolume', metadata: { name: 'shared' }, spec: { cluster: 'main', size: '1Gi' } },
      });
      for (let i = 0; i < 10; i += 1) {
        await custom.patchNamespacedCustomObject({ ...coordinates, name: 'shared', body: { metadata: { labels: { step: String(i) } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      }
      await eventually('both handlers to see the last change', async () => {
        const last = (await custom.getNamespacedCustomObject({ ...coordinates, name: 'shared' })) as k8s.KubernetesObject;
        const handlers = new Set(seen.filter((entry) => entry.event === last.metadata!.resourceVersion).map((entry) => entry.handler));
        return handlers.size === 2 ? true : notYet({ lastVersion: last.metadata!.resourceVersion, handlersThatSawIt: [...handlers], events: seen.length });
      });
      const behind = seen.filter((entry) => entry.cached !== entry.event);
      expect(behind, 'a handler ran while the cache held another version of the object').to.deep.equal([]);
    } finally {
      await manager.stop();
      await custom.deleteNamespacedCustomObject({ ...coordinates, name: 'shared' }).catch(() => undefined);
    }
  });
});
