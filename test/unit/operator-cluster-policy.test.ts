import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { GROUP_VERSION, type GlusterCluster, type GlusterNode } from '../../src/api/index.ts';
import { GLUSTERD_IMAGE } from '../../src/deploy/images.ts';
import { MutationQueue } from '../../src/gluster/mutation-queue.ts';
import { AccessConfigError, ClusterAccessPool, ClusterRefusedError, SECRET_RECHECK_MS } from '../../src/operator/cluster-access.ts';
import { loadOperatorConfig } from '../../src/operator/config.ts';
import { KeyedRateLimiter } from '../../src/runtime/rate-limiter.ts';
import { FINALIZER, REQUEUE, type ReconcileContext } from '../../src/operator/context.ts';
import { reconcileCluster } from '../../src/operator/reconcilers/cluster.ts';
import { refusedCluster } from '../../src/operator/reconcilers/cluster-decisions.ts';
import { clusterRefusal, requestedGlusterdImage, servedObservation, type ClusterPolicy } from '../../src/operator/reconcilers/cluster-policy.ts';
import type { ClusterObservation } from '../../src/topology/rebuild/observe.ts';
import { reconcileNode } from '../../src/operator/reconcilers/node.ts';
import { refusedNodeReport } from '../../src/operator/reconcilers/node-decisions.ts';

const POLICY: ClusterPolicy = { namespaces: ['gluster-operator', 'storage'], images: [GLUSTERD_IMAGE, 'mirror.local/glusterd:1'] };

function cluster(namespace: string, access: GlusterCluster['spec']['access'], extra: Partial<GlusterCluster['metadata']> = {}): GlusterCluster {
  return {
    apiVersion: GROUP_VERSION,
    kind: 'GlusterCluster',
    metadata: { name: 'main', namespace, uid: 'uid-main', generation: 1, resourceVersion: '1', ...extra },
    spec: { access, brickBackend: 'Directory', directoryRoot: '/bricks', zoneChecking: 'None', minBrickSize: '1Gi', maxBrickSize: '4Ti' },
  } as GlusterCluster;
}
const inCluster = (image?: string): GlusterCluster['spec']['access'] => ({ mode: 'InCluster', inCluster: { nodeSelector: { storagenode: 'glusterfs' }, ...(image !== undefined ? { image } : {}) } });
const external: GlusterCluster['spec']['access'] = {
  mode: 'External',
  external: { sshSecretRef: { name: 'ssh', key: 'ssh-privatekey' }, user: 'root', port: 22, sudo: false, connectTimeoutSeconds: 10 },
};

/** A kubeconfig whose server refuses connections at once: any request the code under test makes fails loudly. */
function unreachableKubeConfig(): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'none', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  return config;
}

describe('which GlusterClusters the operator serves (cluster-policy.ts)', () => {
  it('serves a cluster in a listed namespace that names no image or an allowed one', () => {
    expect(clusterRefusal(POLICY, 'storage', cluster('storage', inCluster()).spec)).to.equal(undefined);
    expect(clusterRefusal(POLICY, 'storage', cluster('storage', inCluster('mirror.local/glusterd:1')).spec)).to.equal(undefined);
    expect(clusterRefusal(POLICY, 'gluster-operator', cluster('gluster-operator', external).spec)).to.equal(undefined);
  });

  it('refuses any cluster outside GLUSTER_NAMESPACES, InCluster or External, naming the setting and the list', () => {
    for (const access of [inCluster(), external]) {
      const refusal = clusterRefusal(POLICY, 'tenant-a', cluster('tenant-a', access).spec);
      expect(refusal?.reason).to.equal('NamespaceNotAllowed');
      expect(refusal?.message).to.contain('namespace tenant-a').and.contain('GLUSTER_NAMESPACES (gluster-operator, storage)');
    }
    // A GlusterNode whose cluster does not exist yet is refused by its namespace alone.
    expect(clusterRefusal(POLICY, 'tenant-a')?.reason).to.equal('NamespaceNotAllowed');
  });

  it('refuses an image the operator does not hold, naming the field, the image and what is allowed', () => {
    const refusal = clusterRefusal(POLICY, 'storage', cluster('storage', inCluster('evil.example/root:latest')).spec);
    expect(refusal?.reason).to.equal('ImageNotAllowed');
    expect(refusal?.message).to.contain('spec.access.inCluster.image "evil.example/root:latest"').and.contain(`GLUSTERD_IMAGES: ${GLUSTERD_IMAGE}, mirror.local/glusterd:1`);
  });

  it('takes an empty image for none: the operator\'s own', () => {
    expect(requestedGlusterdImage(cluster('storage', inCluster('')).spec)).to.equal(undefined);
    expect(clusterRefusal(POLICY, 'storage', cluster('storage', inCluster('')).spec)).to.equal(undefined);
  });

  it('reports a refused cluster Failed with the refusal as reason, and its nodes likewise', () => {
    const refusal = { reason: 'NamespaceNotAllowed' as const, message: 'not here' };
    expect(refusedCluster(refusal)).to.deep.equal({ phase: { state: 'failed', reason: 'NamespaceNotAllowed', message: 'not here' }, requeueAfterMs: REQUEUE.steady });
    expect(refusedNodeReport('main', refusal)).to.deep.equal({
      phase: { state: 'failed', reason: 'NamespaceNotAllowed', message: 'GlusterCluster main: not here' },
      fields: {},
      warn: false,
      requeueAfterMs: REQUEUE.steady,
    });
  });
});

describe('the start-up observation keeps only served clusters (servedObservation)', () => {
  const node = (namespace: string, name: string, clusterName = 'main') => ({ metadata: { name, namespace }, spec: { cluster: clusterName } }) as unknown as GlusterNode;
  const volume = (namespace: string, name: string) => ({ metadata: { name, namespace }, spec: { cluster: 'main' } }) as unknown as ClusterObservation['volumes'][number];
  const observation: ClusterObservation = {
    clusters: [cluster('storage', inCluster()), cluster('tenant-a', external), cluster('gluster-operator', inCluster('evil:1'))],
    nodes: [node('storage', 'n1'), node('tenant-a', 'n2'), node('gluster-operator', 'n3'), node('tenant-b', 'orphan', 'gone')],
    volumes: [volume('storage', 'v1'), volume('tenant-a', 'v2')],
    observations: [{ node: 'storage/n1', volumeInfo: [] }, { node: 'tenant-a/n2', errors: ['refused'] }, { node: 'gluster-operator/n3', errors: ['refused'] }],
    recordedGenerations: [{ source: 'GlusterCluster storage/main', generation: 3 }, { source: 'GlusterCluster tenant-a/main', generation: 9 }],
    findings: [
      { severity: 'warning', code: 'NodeNotObserved', node: 'tenant-a/n2', message: 'refused' },
      { severity: 'warning', code: 'InvalidResource', message: 'GlusterVolume x does not validate' },
    ],
  };

  it('drops refused clusters (namespace or image), their nodes, volumes, generations and node findings: they cannot block a rebuild', () => {
    const served = servedObservation(POLICY, observation);
    expect(served.clusters.map((c) => `${c.metadata.namespace}/${c.metadata.name}`)).to.deep.equal(['storage/main']);
    expect(served.nodes.map((n) => n.metadata.name)).to.deep.equal(['n1']);
    expect(served.volumes.map((v) => v.metadata.name)).to.deep.equal(['v1']);
    expect(served.observations.map((o) => o.node)).to.deep.equal(['storage/n1']);
    expect(served.recordedGenerations).to.deep.equal([{ source: 'GlusterCluster storage/main', generation: 3 }]);
    expect(served.findings.map((f) => f.code)).to.deep.equal(['InvalidResource']);
  });

  it('changes nothing when every cluster is served', () => {
    const all = servedObservation({ namespaces: ['storage', 'tenant-a', 'gluster-operator', 'tenant-b'], images: [GLUSTERD_IMAGE, 'evil:1'] }, observation);
    expect(all).to.deep.equal(observation);
  });
});

describe('operator settings GLUSTER_NAMESPACES and GLUSTERD_IMAGES (config.ts)', () => {
  it('serves only the operator\'s own namespace and image by default', () => {
    const config = loadOperatorConfig({ OPERATOR_NAMESPACE: 'ops' });
    expect(config.clusterPolicy).to.deep.equal({ namespaces: ['ops'], images: [GLUSTERD_IMAGE] });
    expect(loadOperatorConfig({ OPERATOR_NAMESPACE: 'ops', GLUSTER_NAMESPACES: ' , ' }).clusterPolicy.namespaces).to.deep.equal(['ops']);
  });

  it('reads comma lists, trimmed and without repeats; GLUSTERD_IMAGE is always allowed', () => {
    const config = loadOperatorConfig({ GLUSTER_NAMESPACES: 'storage, gluster-operator,storage', GLUSTERD_IMAGE: 'own:1', GLUSTERD_IMAGES: 'mirror:1, own:1' });
    expect(config.clusterPolicy).to.deep.equal({ namespaces: ['storage', 'gluster-operator'], images: ['own:1', 'mirror:1'] });
  });

  it('refuses a GLUSTER_NAMESPACES entry that is no namespace name, at start', () => {
    expect(() => loadOperatorConfig({ GLUSTER_NAMESPACES: 'storage,*' })).to.throw(/namespace name[\s\S]*GLUSTER_NAMESPACES\[1\]/);
    expect(() => loadOperatorConfig({ GLUSTER_NAMESPACES: 'Storage' })).to.throw(/namespace name/);
  });
});

describe('operator settings GLUSTER_COMMANDS_PER_SECOND, GLUSTER_COMMAND_BURST and GLUSTER_COMMANDS_IN_FLIGHT (config.ts)', () => {
  const NAMES = ['GLUSTER_COMMANDS_PER_SECOND', 'GLUSTER_COMMAND_BURST', 'GLUSTER_COMMANDS_IN_FLIGHT'];

  it('limit each cluster to 20 commands a second, bursts of 40 and 8 at once by default', () => {
    expect(loadOperatorConfig({}).nodeCommandLimits).to.deep.equal({ ratePerSecond: 20, burst: 40, maxInFlight: 8 });
  });

  it('are read as whole numbers, each into its own limit', () => {
    const env = { GLUSTER_COMMANDS_PER_SECOND: '5', GLUSTER_COMMAND_BURST: ' 7 ', GLUSTER_COMMANDS_IN_FLIGHT: '2' };
    expect(loadOperatorConfig(env).nodeCommandLimits).to.deep.equal({ ratePerSecond: 5, burst: 7, maxInFlight: 2 });
  });

  it('refuse anything but a positive integer at start, naming the setting', () => {
    for (const name of NAMES) {
      for (const value of ['0', '-3', '1.5', 'many', '']) {
        expect(() => loadOperatorConfig({ [name]: value }), `${name}=${value}`).to.throw(new RegExp(`must be a positive integer\\s+→ at ${name}$`));
      }
    }
  });
});

describe('ClusterAccessPool: one rate limit for the commands of every executor it builds', () => {
  const served = cluster('storage', inCluster());

  it('hands each executor its limiter, keyed by the cluster, the same one after a rebuild', async () => {
    const limiter = new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, maxInFlight: 1 });
    const pool = new ClusterAccessPool({ kubeConfig: unreachableKubeConfig(), queue: new MutationQueue(), limiter, policy: POLICY });
    try {
      const first = await pool.forCluster(served);
      const rebuilt = await pool.forCluster({ ...served, spec: { ...served.spec, brickBackend: 'LoopFile' } });
      expect(rebuilt.executor).to.not.equal(first.executor);
      expect(first.executor.limiter).to.equal(limiter);
      expect(rebuilt.executor.limiter).to.equal(limiter);
      expect(rebuilt.executor.clusterKey).to.equal('storage/main');
    } finally {
      await pool.closeAll();
    }
  });

  it('makes one from the operator\'s settings when given none, shared by every cluster', async () => {
    const pool = new ClusterAccessPool({ kubeConfig: unreachableKubeConfig(), queue: new MutationQueue(), policy: POLICY });
    try {
      const one = await pool.forCluster(served);
      const other = await pool.forCluster(cluster('gluster-operator', inCluster()));
      expect(one.executor.limiter).to.be.instanceOf(KeyedRateLimiter);
      expect(other.executor.limiter).to.equal(one.executor.limiter);
    } finally {
      await pool.closeAll();
    }
  });
});

describe('ClusterAccessPool: a refused cluster is never reached', () => {
  const pool = new ClusterAccessPool({ kubeConfig: unreachableKubeConfig(), queue: new MutationQueue(), policy: POLICY });

  it('refuses before the SSH Secret is read (an External cluster elsewhere)', async () => {
    const error = await pool.forCluster(cluster('tenant-a', external)).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ClusterRefusedError).and.instanceOf(AccessConfigError);
    expect((error as ClusterRefusedError).reason).to.equal('NamespaceNotAllowed');
  });

  it('refuses before an exec transport is built (an InCluster cluster naming an image not allowed)', async () => {
    const error = await pool.forCluster(cluster('storage', inCluster('evil:1'))).then(() => undefined, (e: unknown) => e);
    expect((error as ClusterRefusedError).reason).to.equal('ImageNotAllowed');
  });

  it('reads the Secret of a served External cluster (here: the request fails, it is not refused)', async () => {
    const error = await pool.forCluster(cluster('storage', external)).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(Error).and.not.instanceOf(AccessConfigError);
  });
});

describe('ClusterAccessPool: the SSH key Secret is read once per 10 s, not once per reconcile', () => {
  // A private key is only parsed when a connection is made, never here: any bytes will do.
  const secret: k8s.V1Secret = { data: { 'ssh-privatekey': Buffer.from('key').toString('base64') } };

  function counting(outcomes: Array<() => Promise<k8s.V1Secret>>) {
    let clock = 0;
    const reads: string[] = [];
    const pool = new ClusterAccessPool({
      kubeConfig: unreachableKubeConfig(),
      queue: new MutationQueue(),
      policy: POLICY,
      hostKeyNamespace: 'gluster-operator',
      now: () => clock,
      readSecret: (namespace, name) => {
        reads.push(`${namespace}/${name}`);
        return (outcomes.shift() ?? (async () => secret))();
      },
    });
    return { pool, reads, advance: (ms: number) => (clock += ms) };
  }

  it('many reconciles at once and within SECRET_RECHECK_MS share one read; after it, the Secret is read again', async () => {
    const { pool, reads, advance } = counting([]);
    try {
      await Promise.all(Array.from({ length: 20 }, () => pool.forCluster(cluster('storage', external))));
      advance(SECRET_RECHECK_MS - 1);
      await pool.forCluster(cluster('storage', external));
      expect(reads).to.deep.equal(['storage/ssh']);
      advance(1);
      await pool.forCluster(cluster('storage', external));
      expect(reads).to.deep.equal(['storage/ssh', 'storage/ssh']);
    } finally {
      await pool.closeAll();
    }
  });

  it('a failed read is not remembered: the next reconcile reads again', async () => {
    const { pool, reads } = counting([async () => Promise.reject(new Error('apiserver busy'))]);
    try {
      const error = await pool.forCluster(cluster('storage', external)).then(() => undefined, (e: unknown) => e);
      expect(String(error)).to.match(/apiserver busy/);
      await pool.forCluster(cluster('storage', external));
      expect(reads).to.have.length(2);
    } finally {
      await pool.closeAll();
    }
  });
});

/**
 * The reconcilers with a context that records what they do: the objects' clients, Events and the topology
 * database are fakes; the DaemonSet apply goes to a fake AppsV1Api. Anything else they reach throws.
 */
function recordingContext(objects: { cluster?: GlusterCluster; node?: GlusterNode }) {
  const done: string[] = [];
  const statuses: Array<{ kind: string; status: any }> = [];
  const daemonSets: any[] = [];
  const client = (kind: string, object: unknown) => ({
    get: async () => object,
    list: async () => (kind === 'GlusterNode' && objects.node ? [objects.node] : []),
    patchStatus: async (_ns: string, _name: string, status: unknown) => {
      statuses.push({ kind, status });
      return object;
    },
    setFinalizers: async (target: { metadata: object }, finalizers: string[]) => {
      done.push(`${kind} finalizers ${finalizers.join(',')}`);
      return { ...target, metadata: { ...target.metadata, finalizers } };
    },
  });
  const stop = new Error('stopped after the DaemonSet apply');
  const kubeConfig = {
    makeApiClient: () => ({
      patchNamespacedDaemonSet: async (request: { body: unknown }) => {
        daemonSets.push(request.body);
        throw stop;
      },
    }),
  };
  const ctx = {
    kubeConfig,
    clusters: client('GlusterCluster', objects.cluster),
    nodes: client('GlusterNode', objects.node),
    volumes: client('GlusterVolume', undefined),
    topology: {
      commit: () => done.push('topology commit'),
      get db(): never {
        throw new Error('topology read');
      },
    },
    topologyCondition: undefined,
    kubernetesNodeAddresses: () => [],
    access: new ClusterAccessPool({ kubeConfig: unreachableKubeConfig(), queue: new MutationQueue(), policy: POLICY }),
    glusterdImage: GLUSTERD_IMAGE,
    events: {
      warning: async (_o: unknown, reason: string) => void done.push(`warning ${reason}`),
      normal: async (_o: unknown, reason: string) => void done.push(`normal ${reason}`),
    },
    logger: { debug() {}, info() {}, warn() {}, error() {}, log() {} },
    clock: { now: () => 0 },
    random: () => 0,
  } as unknown as ReconcileContext;
  return { ctx, done, statuses, daemonSets, stop };
}

const ready = (status: any) => status.conditions.find((c: { type: string }) => c.type === 'Ready');

describe('reconcilers of a refused GlusterCluster: status and an Event, nothing else', () => {
  it('a GlusterCluster outside GLUSTER_NAMESPACES: Ready False NamespaceNotAllowed, no finalizer, no topology, no DaemonSet', async () => {
    const world = recordingContext({ cluster: cluster('tenant-a', inCluster()) });
    const result = await reconcileCluster(world.ctx, 'tenant-a/main');
    expect(result).to.deep.equal({ requeueAfterMs: REQUEUE.steady });
    expect(ready(world.statuses[0]!.status)).to.include({ status: 'False', reason: 'NamespaceNotAllowed' });
    expect(world.done).to.deep.equal(['warning NamespaceNotAllowed']);
    expect(world.daemonSets).to.deep.equal([]);
  });

  it('a GlusterCluster naming an image not allowed: Ready False ImageNotAllowed, no DaemonSet applied', async () => {
    const world = recordingContext({ cluster: cluster('storage', inCluster('evil.example/root:latest')) });
    await reconcileCluster(world.ctx, 'storage/main');
    expect(ready(world.statuses[0]!.status)).to.include({ status: 'False', reason: 'ImageNotAllowed' });
    expect(world.done).to.deep.equal(['warning ImageNotAllowed']);
    expect(world.daemonSets).to.deep.equal([]);
  });

  it('a served GlusterCluster gets its DaemonSet with the allowed image it names, or the operator\'s', async () => {
    for (const [image, expected] of [['mirror.local/glusterd:1', 'mirror.local/glusterd:1'], [undefined, GLUSTERD_IMAGE]] as const) {
      const world = recordingContext({ cluster: cluster('storage', inCluster(image)) });
      const error = await reconcileCluster(world.ctx, 'storage/main').then(() => undefined, (e: unknown) => e);
      expect(error).to.equal(world.stop);
      expect(world.done).to.deep.equal([`GlusterCluster finalizers ${FINALIZER}`, 'topology commit']);
      expect(world.daemonSets[0].spec.template.spec.containers[0].image).to.equal(expected);
    }
  });

  it('a GlusterNode of a cluster outside GLUSTER_NAMESPACES: Ready False NamespaceNotAllowed, no finalizer, no Secret read, no command', async () => {
    const node = {
      apiVersion: GROUP_VERSION,
      kind: 'GlusterNode',
      metadata: { name: 'n1', namespace: 'tenant-a', uid: 'uid-n1', generation: 1, resourceVersion: '1' },
      spec: { cluster: 'main', manageAddress: 'n1', storageAddress: '10.0.0.1', state: 'Online', devices: [], forceRemoval: false },
    } as unknown as GlusterNode;
    // External: serving it would read the SSH Secret (the unreachable apiserver) before anything else.
    const world = recordingContext({ cluster: cluster('tenant-a', external), node });
    const result = await reconcileNode(world.ctx, 'tenant-a/n1');
    expect(result).to.deep.equal({ requeueAfterMs: REQUEUE.steady });
    expect(world.statuses).to.have.length(1);
    expect(ready(world.statuses[0]!.status)).to.include({ status: 'False', reason: 'NamespaceNotAllowed' });
    expect(ready(world.statuses[0]!.status).message).to.match(/^GlusterCluster main: GlusterClusters in namespace tenant-a are not served/);
    expect(world.done).to.deep.equal([]);
  });
});
