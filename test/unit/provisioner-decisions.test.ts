import { expect } from 'chai';
import type { GlusterVolume } from '../../src/api/index.ts';
import {
  decideClaim,
  FAILED_REQUEUE_MS,
  decidePersistentVolume,
  decideResize,
  isOrphanedVolume,
  resizeFinishedStatus,
  resizeStartedStatus,
  type ClaimWorld,
} from '../../src/provisioner/decisions.ts';
import { claimSchema, persistentVolumeSchema, type Claim, type PersistentVolume } from '../../src/provisioner/kube-objects.ts';
import { buildPersistentVolume } from '../../src/provisioner/pv-builder.ts';
import { readyVolume, sampleClaim, sampleClass, sampleCluster } from './provisioner-builders.test.ts';

const UID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const NAME = `pvc-${UID}`;

const NOW = Date.parse('2025-06-01T12:00:00Z');

function world(overrides: Partial<ClaimWorld> = {}): ClaimWorld {
  return {
    claim: sampleClaim(),
    storageClass: sampleClass(),
    volume: undefined,
    persistentVolume: undefined,
    volumeNamespace: 'team-a',
    clusters: [sampleCluster('prod')],
    serveInTreeClasses: true,
    now: NOW,
    ...overrides,
  };
}

function withClaim(mutate: (raw: Record<string, any>) => void): Claim {
  const raw = JSON.parse(JSON.stringify(sampleClaim()));
  mutate(raw);
  return claimSchema.parse(raw);
}

function pendingVolume(conditions: Array<{ type: string; status: string; reason: string; message?: string }>): GlusterVolume {
  const volume = readyVolume();
  volume.status = { conditions: conditions.map((c) => ({ message: '', lastTransitionTime: '2025-01-01T00:00:00Z', ...c })) as never };
  return volume;
}

function ourPV(overrides: { capacity?: string; phase?: string; policy?: string } = {}): PersistentVolume {
  const built = buildPersistentVolume({ claim: sampleClaim(), storageClass: sampleClass(), volume: readyVolume({ capacity: overrides.capacity ?? '5Gi' }) });
  const raw = JSON.parse(JSON.stringify(built));
  if (overrides.policy) raw.spec.persistentVolumeReclaimPolicy = overrides.policy;
  raw.status = { phase: overrides.phase ?? 'Bound' };
  return persistentVolumeSchema.parse(raw);
}

describe('provisioner: claim decisions', () => {
  it('ignores claims of other provisioners, without a class, or being deleted', () => {
    expect(decideClaim(world({ storageClass: sampleClass({ provisioner: 'example.com/other' }) })).action).to.equal('ignore');
    expect(decideClaim(world({ storageClass: undefined })).action).to.equal('ignore');
    expect(decideClaim(world({ claim: withClaim((raw) => delete raw.spec.storageClassName) })).action).to.equal('ignore');
    expect(decideClaim(world({ claim: withClaim((raw) => (raw.metadata.deletionTimestamp = '2025-01-01T00:00:00Z')) })).action).to.equal('ignore');
  });

  it('waits until the PV controller asks for this provisioner (either annotation)', () => {
    expect(decideClaim(world({ claim: sampleClaim({ annotations: {} }) })).action).to.equal('wait');
    expect(decideClaim(world({ claim: sampleClaim({ annotations: { 'volume.kubernetes.io/storage-provisioner': 'other' } }) })).action).to.equal('wait');
    expect(decideClaim(world({ claim: sampleClaim({ annotations: { 'volume.beta.kubernetes.io/storage-provisioner': 'gluster.gluster-operator.dev' } }) })).action).to.equal('createVolume');
  });

  it('waits for a selected node with WaitForFirstConsumer, then creates', () => {
    const storageClass = sampleClass({ volumeBindingMode: 'WaitForFirstConsumer' });
    expect(decideClaim(world({ storageClass })).action).to.equal('wait');
    const claim = sampleClaim({ annotations: { 'volume.kubernetes.io/storage-provisioner': 'gluster.gluster-operator.dev', 'volume.kubernetes.io/selected-node': 'n1' } });
    expect(decideClaim(world({ storageClass, claim })).action).to.equal('createVolume');
  });

  it('creates the GlusterVolume with the request as size and the parameters\' warnings', () => {
    const decision = decideClaim(world({ storageClass: sampleClass({ parameters: { clusterid: 'prod', resturl: 'http://x' } }) }));
    expect(decision).to.deep.include({ action: 'createVolume', size: '5Gi', cluster: 'prod' });
    if (decision.action !== 'createVolume') throw new Error('unreachable');
    expect(decision.events).to.have.length(1);
    expect(decision.events[0]).to.deep.include({ type: 'Warning', reason: 'IgnoredParameters' });
    expect(decision.events[0]!.message).to.contain('resturl');
  });

  it('fails with the parameter named when the class is bad, before creating anything', () => {
    const decision = decideClaim(world({ storageClass: sampleClass({ parameters: { clusterid: 'prod', volumetype: 'triple' } }) }));
    expect(decision).to.deep.include({ action: 'fail', reason: 'ProvisioningFailed' });
    if (decision.action !== 'fail') throw new Error('unreachable');
    expect(decision.message).to.contain('volumetype');
  });

  it('fails with a ProvisioningFailed Event naming a volume option the policy refuses, never a silent Pending claim', () => {
    for (const [volumeoptions, named] of [
      ['auth.allow 10.0.0.*', 'volumeoptions: auth.allow is not allowed'],
      ['performance.cache-size 64MB, features.shard on', 'volumeoptions: features.shard is not allowed'],
      ['diagnostics.brick-log-level TRACE', 'volumeoptions: diagnostics.brick-log-level "TRACE": must be one of'],
    ] as const) {
      const decision = decideClaim(world({ storageClass: sampleClass({ parameters: { clusterid: 'prod', volumeoptions } }) }));
      expect(decision, volumeoptions).to.deep.include({ action: 'fail', reason: 'ProvisioningFailed', requeueAfterMs: FAILED_REQUEUE_MS });
      if (decision.action === 'fail') expect(decision.message).to.contain(`invalid StorageClass parameter ${named}`);
    }
    // An allowed option provisions.
    expect(decideClaim(world({ storageClass: sampleClass({ parameters: { clusterid: 'prod', volumeoptions: 'performance.cache-size 64MB' } }) })).action).to.equal('createVolume');
  });

  for (const [what, mutate, message] of [
    ['a selector', (raw: Record<string, any>) => (raw.spec.selector = { matchLabels: { a: 'b' } }), 'selector'],
    ['a data source of a kind no copy is made from', (raw: Record<string, any>) => (raw.spec.dataSource = { kind: 'ConfigMap', name: 'x' }), 'is not a VolumeSnapshot or a PersistentVolumeClaim'],
    ['block mode', (raw: Record<string, any>) => (raw.spec.volumeMode = 'Block'), 'Block'],
    ['an access mode Kubernetes does not have', (raw: Record<string, any>) => (raw.spec.accessModes = ['ReadWriteSometimes']), 'ReadWriteSometimes'],
    ['no access modes', (raw: Record<string, any>) => (raw.spec.accessModes = []), 'accessModes'],
    ['no request', (raw: Record<string, any>) => delete raw.spec.resources, 'requests.storage'],
  ] as const) {
    it(`fails a claim with ${what}`, () => {
      const decision = decideClaim(world({ claim: withClaim(mutate) }));
      expect(decision).to.deep.include({ action: 'fail', reason: 'ProvisioningFailed' });
      if (decision.action === 'fail') expect(decision.message).to.contain(message);
    });
  }

  it("leaves a claim a volume populator fills to the populator (no Event, no volume): it provisions the populator's own claim", () => {
    const decision = decideClaim(world({ claim: withClaim((raw) => (raw.spec.dataSourceRef = { apiGroup: 'hello.example.com', kind: 'Hello', name: 'example-hello' })) }));
    expect(decision).to.deep.equal({ action: 'ignore', why: 'spec.dataSourceRef names Hello.hello.example.com: a volume populator fills this claim' });
  });

  it('accepts ReadWriteOncePod (Kubernetes enforces one pod; the volume is an ordinary one)', () => {
    expect(decideClaim(world({ claim: sampleClaim({ accessModes: ['ReadWriteOncePod'] }) })).action).to.equal('createVolume');
  });

  it('accepts RWO, ROX and RWX together', () => {
    expect(decideClaim(world({ claim: sampleClaim({ accessModes: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany'] }) })).action).to.equal('createVolume');
  });

  it('waits while the GlusterVolume is progressing and fails with its message when it has failed', () => {
    const progressing = pendingVolume([
      { type: 'Ready', status: 'False', reason: 'Creating' },
      { type: 'Progressing', status: 'True', reason: 'Creating' },
    ]);
    expect(decideClaim(world({ volume: progressing })).action).to.equal('wait');
    const failed = pendingVolume([
      { type: 'Ready', status: 'False', reason: 'PlacementFailed', message: 'no space on 2 of 3 zones' },
      { type: 'Degraded', status: 'True', reason: 'PlacementFailed', message: 'no space on 2 of 3 zones' },
    ]);
    const decision = decideClaim(world({ volume: failed }));
    expect(decision).to.deep.include({ action: 'fail', reason: 'ProvisioningFailed' });
    if (decision.action === 'fail') expect(decision.message).to.contain('PlacementFailed: no space on 2 of 3 zones');
  });

  it('waits while the GlusterVolume is Ready but has no mountSource yet', () => {
    const volume = readyVolume();
    delete volume.status!.mountSource;
    expect(decideClaim(world({ volume })).action).to.equal('wait');
  });

  it('creates the PV once the GlusterVolume is Ready', () => {
    const decision = decideClaim(world({ volume: readyVolume({ gid: 2000 }) }));
    expect(decision.action).to.equal('createPersistentVolume');
    if (decision.action === 'createPersistentVolume') expect(decision.persistentVolume.metadata!.name).to.equal(NAME);
  });

  it('refuses a same-named GlusterVolume made for another claim', () => {
    const volume = readyVolume();
    volume.metadata.labels = { 'storage.gluster-operator.dev/claim-uid': 'someone-else' };
    expect(decideClaim(world({ volume }))).to.deep.include({ action: 'fail' });
  });

  it('leaves a made PV to the binder, and claims bound to other PVs alone', () => {
    expect(decideClaim(world({ volume: readyVolume(), persistentVolume: ourPV({ phase: 'Available' }) })).action).to.equal('ignore');
    const claim = withClaim((raw) => (raw.spec.volumeName = 'static-pv'));
    expect(decideClaim(world({ claim })).action).to.equal('ignore');
  });
});

describe('provisioner: claims of in-tree kubernetes.io/glusterfs classes', () => {
  const inTree = sampleClass({ metadata: { name: 'glusterfs-old' }, provisioner: 'kubernetes.io/glusterfs', parameters: { resturl: 'http://heketi:8080', clusterid: 'prod' } });
  /** What the PV controller leaves on such a claim: no storage-provisioner annotation. */
  const claimAged = (ageMs: number) => withClaim((raw) => {
    raw.metadata.annotations = {};
    raw.spec.storageClassName = 'glusterfs-old';
    raw.metadata.creationTimestamp = new Date(NOW - ageMs).toISOString();
  });

  it('waits out the grace (from creationTimestamp) without any storage-provisioner annotation, then provisions', () => {
    expect(decideClaim(world({ storageClass: inTree, claim: claimAged(1_000) }))).to.deep.include({ action: 'wait', requeueAfterMs: 4_000 });
    expect(decideClaim(world({ storageClass: inTree, claim: claimAged(5_000) })).action).to.equal('createVolume');
    expect(decideClaim(world({ storageClass: inTree, claim: claimAged(3_600_000) })).action).to.equal('createVolume');
  });

  it('ignores them when the operator setting turns serving them off', () => {
    const decision = decideClaim(world({ storageClass: inTree, claim: claimAged(60_000), serveInTreeClasses: false }));
    expect(decision.action).to.equal('ignore');
    if (decision.action === 'ignore') expect(decision.why).to.contain('SERVE_IN_TREE_GLUSTERFS_CLASSES=false');
  });

  it('says once on the claim that the operator serves it, after the heketi parameters warning', () => {
    const decision = decideClaim(world({ storageClass: inTree, claim: claimAged(60_000) }));
    if (decision.action !== 'createVolume') throw new Error(`expected createVolume, got ${decision.action}`);
    expect(decision.events.map((event) => `${event.type} ${event.reason}`)).to.deep.equal(['Warning IgnoredParameters', 'Normal ServedByGlusterOperator']);
    expect(decision.events[1]!.message).to.equal(
      'StorageClass glusterfs-old names the removed in-tree provisioner kubernetes.io/glusterfs; gluster-operator provisions this claim (the ProvisioningFailed event from persistentvolume-controller can be ignored)',
    );
  });

  it('does not say it for our own classes', () => {
    const decision = decideClaim(world());
    if (decision.action !== 'createVolume') throw new Error('unreachable');
    expect(decision.events.map((event) => event.reason)).not.to.include('ServedByGlusterOperator');
  });

  it('makes the PV as for our classes: our CSI driver, our provisioned-by, so reclaim still takes it', () => {
    const claim = claimAged(60_000);
    const decision = decideClaim(world({ storageClass: inTree, claim, volume: readyVolume() }));
    if (decision.action !== 'createPersistentVolume') throw new Error(`expected createPersistentVolume, got ${decision.action}`);
    const pv = persistentVolumeSchema.parse({ ...JSON.parse(JSON.stringify(decision.persistentVolume)), status: { phase: 'Released' } });
    expect(pv.spec.csi?.driver).to.equal('gluster.gluster-operator.dev');
    expect(pv.spec.storageClassName).to.equal('glusterfs-old');
    expect(pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by']).to.equal('gluster.gluster-operator.dev');
    expect(decidePersistentVolume({ persistentVolume: pv, volume: readyVolume() })).to.deep.equal({ action: 'deleteVolume' });
  });
});

describe('provisioner: the class a claim names, and the cluster its class means', () => {
  it('serves a claim that names its class only through the beta annotation', () => {
    const claim = withClaim((raw) => {
      delete raw.spec.storageClassName;
      raw.metadata.annotations['volume.beta.kubernetes.io/storage-class'] = 'gluster';
    });
    expect(decideClaim(world({ claim })).action).to.equal('createVolume');
  });

  it('ignores a claim whose beta annotation says "no class", whatever the field says', () => {
    const claim = withClaim((raw) => (raw.metadata.annotations['volume.beta.kubernetes.io/storage-class'] = ''));
    expect(decideClaim(world({ claim })).action).to.equal('ignore');
  });

  it('creates the volume on the GlusterCluster the heketi id resolves to', () => {
    const storageClass = sampleClass({ parameters: { clusterid: '630372ccdc720a92c681fb928f27b53f' } });
    const clusters = [sampleCluster('other'), sampleCluster('imported', { heketiId: '630372ccdc720a92c681fb928f27b53f' })];
    expect(decideClaim(world({ storageClass, clusters }))).to.deep.include({ action: 'createVolume', cluster: 'imported' });
  });

  it('fails with ProvisioningFailed naming the candidates when no clusterid is set and several clusters are there', () => {
    const decision = decideClaim(world({ storageClass: sampleClass({ parameters: {} }), clusters: [sampleCluster('a'), sampleCluster('b')] }));
    expect(decision).to.deep.include({ action: 'fail', reason: 'ProvisioningFailed' });
    if (decision.action === 'fail') expect(decision.message).to.contain('a, b').and.to.contain('clusterid');
  });
});

describe('provisioner: resize decisions', () => {
  const expandable = sampleClass({ allowVolumeExpansion: true });
  function boundClaim(request: string, capacity: string, extraStatus: Record<string, unknown> = {}): Claim {
    return withClaim((raw) => {
      raw.spec.volumeName = NAME;
      raw.spec.resources.requests.storage = request;
      raw.status = { phase: 'Bound', capacity: { storage: capacity }, ...extraStatus };
    });
  }

  it('does nothing for a bound claim at its size', () => {
    expect(decideResize({ claim: boundClaim('5Gi', '5Gi'), storageClass: expandable, persistentVolume: ourPV(), volume: readyVolume() }).action).to.equal('ignore');
  });

  it('grows the GlusterVolume first', () => {
    expect(decideResize({ claim: boundClaim('8Gi', '5Gi'), storageClass: expandable, persistentVolume: ourPV(), volume: readyVolume() })).to.deep.equal({ action: 'expandVolume', size: '8Gi' });
  });

  it('goes through decideClaim for bound claims', () => {
    expect(decideClaim(world({ claim: boundClaim('8Gi', '5Gi'), storageClass: expandable, persistentVolume: ourPV(), volume: readyVolume() }))).to.deep.equal({ action: 'expandVolume', size: '8Gi' });
  });

  it('waits until the volume reports the capacity, Ready, for its current generation', () => {
    const volume = readyVolume({ capacity: '5Gi' });
    volume.spec.size = '8Gi';
    volume.metadata.generation = 2;
    expect(decideResize({ claim: boundClaim('8Gi', '5Gi'), storageClass: expandable, persistentVolume: ourPV(), volume }).action).to.equal('wait');
    volume.status!.capacity = '8Gi';
    expect(decideResize({ claim: boundClaim('8Gi', '5Gi'), storageClass: expandable, persistentVolume: ourPV(), volume }).action, 'stale Ready condition').to.equal('wait');
    volume.status!.conditions![0]!.observedGeneration = 2;
    expect(decideResize({ claim: boundClaim('8Gi', '5Gi'), storageClass: expandable, persistentVolume: ourPV(), volume })).to.deep.equal({ action: 'expandPersistentVolume', capacity: '8Gi' });
  });

  it('finishes on the claim when the PV has grown but the claim status has not (crash between the two)', () => {
    expect(decideResize({ claim: boundClaim('8Gi', '5Gi'), storageClass: expandable, persistentVolume: ourPV({ capacity: '8Gi' }), volume: readyVolume() })).to.deep.equal({
      action: 'finishResize',
      capacity: '8Gi',
    });
    const marked = boundClaim('8Gi', '8Gi', { conditions: [{ type: 'Resizing', status: 'True' }] });
    expect(decideResize({ claim: marked, storageClass: expandable, persistentVolume: ourPV({ capacity: '8Gi' }), volume: readyVolume() }).action).to.equal('finishResize');
  });

  it('refuses when the class does not allow expansion', () => {
    expect(decideResize({ claim: boundClaim('8Gi', '5Gi'), storageClass: sampleClass(), persistentVolume: ourPV(), volume: readyVolume() })).to.deep.include({ action: 'fail', reason: 'VolumeResizeFailed' });
  });

  it('marks and clears the claim status as external-resizer does', () => {
    const claim = boundClaim('8Gi', '5Gi', { conditions: [{ type: 'Other', status: 'True' }] });
    const started = resizeStartedStatus(claim, '8Gi', new Date('2025-01-01T00:00:00Z'));
    expect(started).to.deep.equal({
      conditions: [{ type: 'Other', status: 'True' }, { type: 'Resizing', status: 'True', lastTransitionTime: '2025-01-01T00:00:00.000Z' }],
      allocatedResources: { storage: '8Gi' },
      allocatedResourceStatuses: { storage: 'ControllerResizeInProgress' },
    });
    const resizing = boundClaim('8Gi', '5Gi', { ...started, conditions: started.conditions });
    expect(JSON.parse(JSON.stringify(resizeFinishedStatus(resizing, '8Gi')))).to.deep.equal({
      capacity: { storage: '8Gi' },
      conditions: [{ type: 'Other', status: 'True' }],
      allocatedResourceStatuses: { storage: null },
      allocatedResources: { storage: '8Gi' },
    });
  });
});

describe('provisioner: PV (reclaim) decisions', () => {
  it('ignores PVs it did not make', () => {
    const foreign = persistentVolumeSchema.parse({ metadata: { name: 'x' }, spec: { persistentVolumeReclaimPolicy: 'Delete' }, status: { phase: 'Released' } });
    expect(decidePersistentVolume({ persistentVolume: foreign, volume: undefined }).action).to.equal('ignore');
  });
  it('leaves Bound PVs alone', () => {
    expect(decidePersistentVolume({ persistentVolume: ourPV(), volume: readyVolume() }).action).to.equal('ignore');
  });
  it('Released + Delete: GlusterVolume first, waits while it is deleted, then the PV', () => {
    const pv = ourPV({ phase: 'Released' });
    expect(decidePersistentVolume({ persistentVolume: pv, volume: readyVolume() }).action).to.equal('deleteVolume');
    const deleting = readyVolume();
    deleting.metadata.deletionTimestamp = '2025-01-01T00:00:00Z';
    expect(decidePersistentVolume({ persistentVolume: pv, volume: deleting }).action).to.equal('wait');
    expect(decidePersistentVolume({ persistentVolume: pv, volume: undefined }).action).to.equal('deletePersistentVolume');
  });
  it('Released + Retain: keeps both', () => {
    const volume = readyVolume();
    volume.spec.reclaimPolicy = 'Retain';
    expect(decidePersistentVolume({ persistentVolume: ourPV({ phase: 'Released', policy: 'Retain' }), volume }).action).to.equal('ignore');
    expect(decidePersistentVolume({ persistentVolume: ourPV({ phase: 'Released', policy: 'Retain' }), volume: undefined }).action).to.equal('ignore');
  });
  it('carries a PV reclaim policy changed by hand to the GlusterVolume before anything else', () => {
    expect(decidePersistentVolume({ persistentVolume: ourPV({ policy: 'Retain' }), volume: readyVolume() })).to.deep.equal({ action: 'syncReclaimPolicy', policy: 'Retain' });
    const retained = readyVolume();
    retained.spec.reclaimPolicy = 'Retain';
    expect(decidePersistentVolume({ persistentVolume: ourPV({ phase: 'Released' }), volume: retained })).to.deep.equal({ action: 'syncReclaimPolicy', policy: 'Delete' });
  });
});

describe('provisioner: a PV acts only when it is provably the one made for its GlusterVolume', () => {
  const PV_UID = '11111111-2222-3333-4444-555555555555';
  /** ourPV() with its JSON edited: what a user can do with `kubectl get pv -o yaml | edit | kubectl create`. */
  const editedPV = (mutate: (raw: Record<string, any>) => void, overrides: Parameters<typeof ourPV>[0] = {}): PersistentVolume => {
    const raw = JSON.parse(JSON.stringify(ourPV(overrides)));
    mutate(raw);
    return persistentVolumeSchema.parse(raw);
  };
  const retained = () => {
    const volume = readyVolume();
    volume.spec.reclaimPolicy = 'Retain';
    return volume;
  };

  it('a cloned PV (same volumeHandle, another name) neither switches a Retain volume to Delete nor deletes it', () => {
    const clone = (phase: string) => editedPV((raw) => (raw.metadata.name = 'pvc-copy-of-data'), { phase });
    const sync = decidePersistentVolume({ persistentVolume: clone('Bound'), volume: retained() });
    expect(sync.action).to.equal('refuse');
    expect(sync).to.have.property('message').that.includes('pvc-copy-of-data is not ' + NAME);
    expect(sync).to.have.property('message').that.includes('Not going to carry reclaim policy Delete to GlusterVolume team-a/' + NAME);
    expect(decidePersistentVolume({ persistentVolume: clone('Released'), volume: readyVolume() }).action).to.equal('refuse');
  });

  it('a hand-made PV with the provisioner annotation is refused, whatever it points at', () => {
    const handMade = (volumeName: string, claimUid: string) =>
      persistentVolumeSchema.parse({
        metadata: { name: 'static-data', annotations: { 'pv.kubernetes.io/provisioned-by': 'gluster.gluster-operator.dev' } },
        spec: {
          persistentVolumeReclaimPolicy: 'Delete',
          claimRef: { namespace: 'team-a', name: 'data', uid: claimUid },
          csi: { driver: 'gluster.gluster-operator.dev', volumeHandle: `team-a/${volumeName}` },
        },
        status: { phase: 'Released' },
      });
    // At a GlusterVolume the provisioner made (Retain): not switched to Delete.
    const atOurs = decidePersistentVolume({ persistentVolume: handMade(NAME, UID), volume: retained() });
    expect(atOurs).to.include({ action: 'refuse', reason: 'PersistentVolumeMismatch' });
    // At a GlusterVolume made by hand (no provisioner labels): not deleted.
    const byHand = readyVolume();
    byHand.metadata.name = 'data';
    byHand.metadata.labels = {};
    const atHandMade = decidePersistentVolume({ persistentVolume: handMade('data', 'another-claim'), volume: byHand });
    expect(atHandMade.action).to.equal('refuse');
    expect(atHandMade).to.have.property('message').that.includes('was not made by the provisioner');
    // Named like ours but bound to another claim.
    const otherClaim = editedPV((raw) => (raw.spec.claimRef.uid = 'another-claim'), { phase: 'Released' });
    expect(decidePersistentVolume({ persistentVolume: otherClaim, volume: readyVolume() })).to.have.property('message').that.includes('bound to claim uid another-claim');
    // Its GlusterVolume gone: a PV not consistent the way ours are is not deleted either.
    expect(decidePersistentVolume({ persistentVolume: handMade(NAME, UID), volume: undefined }).action).to.equal('refuse');
  });

  it('a PV made again under the name of one recorded on its GlusterVolume is refused', () => {
    const recorded = readyVolume();
    recorded.metadata.annotations = { 'storage.gluster-operator.dev/persistent-volume-uid': PV_UID };
    const remade = editedPV((raw) => (raw.metadata.uid = 'a-later-uid'), { phase: 'Released' });
    expect(decidePersistentVolume({ persistentVolume: remade, volume: recorded })).to.have.property('message').that.includes(`not ${PV_UID}`);
  });

  it('the genuine PV acts, with its uid recorded or (made by an earlier version) without', () => {
    const recorded = readyVolume();
    recorded.metadata.annotations = { 'storage.gluster-operator.dev/persistent-volume-uid': PV_UID };
    const genuine = editedPV((raw) => (raw.metadata.uid = PV_UID), { phase: 'Released' });
    expect(decidePersistentVolume({ persistentVolume: genuine, volume: recorded }).action).to.equal('deleteVolume');
    expect(decidePersistentVolume({ persistentVolume: genuine, volume: readyVolume() }).action).to.equal('deleteVolume');
    expect(decidePersistentVolume({ persistentVolume: genuine, volume: retained() })).to.deep.equal({ action: 'syncReclaimPolicy', policy: 'Delete' });
    expect(decidePersistentVolume({ persistentVolume: genuine, volume: undefined }).action).to.equal('deletePersistentVolume');
  });
});

describe('provisioner: orphaned GlusterVolumes', () => {
  const ours = () => {
    const volume = readyVolume();
    volume.metadata.labels = { 'storage.gluster-operator.dev/provisioned-by': 'gluster.gluster-operator.dev', 'storage.gluster-operator.dev/claim-uid': UID };
    return volume;
  };
  it('deletes a Delete-policy volume whose claim is gone and which never got a PV', () => {
    expect(isOrphanedVolume({ volume: ours(), claimUid: undefined, persistentVolumeExists: false })).to.equal(true);
    expect(isOrphanedVolume({ volume: ours(), claimUid: 'a-new-claim-of-the-same-name', persistentVolumeExists: false })).to.equal(true);
  });
  it('keeps it when the claim is still there, a PV exists (reclaim goes through the PV), or the policy is Retain', () => {
    expect(isOrphanedVolume({ volume: ours(), claimUid: UID, persistentVolumeExists: false })).to.equal(false);
    expect(isOrphanedVolume({ volume: ours(), claimUid: undefined, persistentVolumeExists: true })).to.equal(false);
    const retained = ours();
    retained.spec.reclaimPolicy = 'Retain';
    expect(isOrphanedVolume({ volume: retained, claimUid: undefined, persistentVolumeExists: false })).to.equal(false);
    const foreign = ours();
    foreign.metadata.labels = {};
    expect(isOrphanedVolume({ volume: foreign, claimUid: undefined, persistentVolumeExists: false })).to.equal(false);
  });
});

describe('provisioner: events once', () => {
  it('records an identical event once per period, distinct ones each', async () => {
    const { EventOnce } = await import('../../src/provisioner/claim-reconciler.ts');
    const { MemoryEventRecorder } = await import('../../src/controller/events.ts');
    const recorder = new MemoryEventRecorder();
    let now = 0;
    const once = new EventOnce(recorder, { now: () => now, sleep: async () => undefined }, 1_000);
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'ns', uid: UID } };
    await once.record(claim, 'Warning', 'ProvisioningFailed', 'bad volumetype');
    await once.record(claim, 'Warning', 'ProvisioningFailed', 'bad volumetype');
    await once.record(claim, 'Warning', 'ProvisioningFailed', 'bad snapfactor');
    now = 1_000;
    await once.record(claim, 'Warning', 'ProvisioningFailed', 'bad volumetype');
    expect(recorder.recorded.map((event) => event.note)).to.deep.equal(['bad volumetype', 'bad snapfactor', 'bad volumetype']);
  });
});
