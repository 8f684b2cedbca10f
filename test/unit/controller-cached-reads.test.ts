import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { CustomResourceClient, type ObjectCacheView } from '../../src/controller/custom-objects.ts';
import { statusUnchanged } from '../../src/operator/status.ts';

/** A kubeconfig whose apiserver is on port 1, which fetch refuses to contact ("bad port"): a read that tries the apiserver fails at once, with no traffic. */
function unreachableApiserver(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

function volume(namespace: string, name: string, size = '1Gi'): k8s.KubernetesObject {
  return {
    apiVersion: 'storage.gluster-operator.dev/v1alpha1',
    kind: 'GlusterVolume',
    metadata: { name, namespace, uid: `${namespace}-${name}`, resourceVersion: '1' },
    spec: { cluster: 'main', size },
  } as k8s.KubernetesObject;
}

/** An informer cache as client-node's ObjectCache answers: by name and namespace, or a namespace's list. */
function cacheOf(objects: k8s.KubernetesObject[]): ObjectCacheView {
  return {
    get: (name, namespace) => objects.find((o) => o.metadata?.name === name && o.metadata?.namespace === namespace),
    list: (namespace) => objects.filter((o) => namespace === undefined || o.metadata?.namespace === namespace),
  };
}

describe('reconciles read the watch caches (CustomResourceClient.readingFrom)', () => {
  const live = new CustomResourceClient<GlusterVolume>(unreachableApiserver(), 'glustervolumes', glusterVolumeSchema);

  it('get and list answer from a synced cache without a request; list filters by namespace', async () => {
    const objects = [volume('a', 'one'), volume('a', 'two'), volume('b', 'three')];
    const cached = live.readingFrom(() => cacheOf(objects));
    expect((await cached.get('a', 'two'))?.metadata.name).to.equal('two');
    expect(await cached.get('a', 'three'), 'an object of another namespace is not found').to.equal(undefined);
    expect((await cached.list('a')).map((v) => v.metadata.name)).to.deep.equal(['one', 'two']);
    expect(await cached.list()).to.have.length(3);
  });

  it('until the cache has synced, reads go to the apiserver', async () => {
    const cached = live.readingFrom(() => undefined);
    let failure: unknown;
    await cached.get('a', 'one').catch((error: unknown) => (failure = error));
    expect(String((failure as { cause?: unknown })?.cause ?? failure)).to.match(/bad port/);
  });

  it('get returns a copy of its own: changing it changes nothing the next read sees', async () => {
    const cached = live.readingFrom(() => cacheOf([volume('a', 'one')]));
    const first = (await cached.get('a', 'one'))!;
    first.spec.size = '9Gi';
    expect((await cached.get('a', 'one'))!.spec.size).to.equal('1Gi');
  });

  it('list parses each object version once and shares it frozen, so a caller cannot change what others read', async () => {
    const objects = [volume('a', 'one')];
    const cached = live.readingFrom(() => cacheOf(objects));
    const [first] = await cached.list('a');
    const [again] = await cached.list('a');
    expect(again).to.equal(first);
    expect(() => {
      (first!.spec as { size: string }).size = '9Gi';
    }).to.throw(TypeError);
    expect(Object.isFrozen(first!.metadata)).to.equal(true);
    // A new version (the informer replaces the object on each event) is parsed again.
    objects[0] = volume('a', 'one', '2Gi');
    expect((await cached.list('a'))[0]!.spec.size).to.equal('2Gi');
  });

  it('a cached object the schema refuses is an error naming the field, as from the apiserver', async () => {
    const bad = { ...volume('a', 'bad'), spec: { cluster: 'main', size: 7 } } as k8s.KubernetesObject;
    const cached = live.readingFrom(() => cacheOf([bad]));
    let failure: unknown;
    await cached.get('a', 'bad').catch((error: unknown) => (failure = error));
    expect(String(failure)).to.match(/size/);
  });
});

describe('status writes are skipped when they would change nothing (statusUnchanged)', () => {
  const conditions = [{ type: 'Ready', status: 'True', reason: 'VolumeReady', message: 'started', lastTransitionTime: '2026-12-01T00:00:00Z', observedGeneration: 2 }];

  it('the same fields and conditions: unchanged', () => {
    expect(statusUnchanged({ observedGeneration: 2, conditions, capacity: '1Gi' }, { observedGeneration: 2, conditions, capacity: '1Gi' })).to.equal(true);
  });

  it('any field that differs, is new, or a condition that differs: changed', () => {
    const status = { observedGeneration: 2, conditions, capacity: '1Gi' };
    expect(statusUnchanged(status, { observedGeneration: 3, conditions })).to.equal(false);
    expect(statusUnchanged(status, { capacity: '2Gi' })).to.equal(false);
    expect(statusUnchanged(status, { mountSource: 'a:b' })).to.equal(false);
    expect(statusUnchanged(status, { conditions: [{ ...conditions[0]!, message: 'other' }] })).to.equal(false);
    expect(statusUnchanged(undefined, { observedGeneration: 2 })).to.equal(false);
  });

  it('null removes a field: unchanged only when the field is absent; undefined is not sent', () => {
    expect(statusUnchanged({ capacity: '1Gi' }, { tls: null, capacity: '1Gi', other: undefined })).to.equal(true);
    expect(statusUnchanged({ tls: { enabled: true } }, { tls: null })).to.equal(false);
  });

  it('properties that JSON would not carry do not count', () => {
    expect(statusUnchanged({ heal: { entries: 0 } }, { heal: { entries: 0, failed: undefined } })).to.equal(true);
  });
});
