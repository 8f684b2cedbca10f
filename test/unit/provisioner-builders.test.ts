import { expect } from 'chai';
import { glusterClusterSchema, glusterVolumeSchema, type GlusterCluster, type GlusterVolume } from '../../src/api/index.ts';
import { allocateGid, gidsInUse } from '../../src/provisioner/gid-allocator.ts';
import { claimSchema, persistentVolumeSchema, storageClassSchema, type Claim, type StorageClass } from '../../src/provisioner/kube-objects.ts';
import { buildPersistentVolume, parseVolumeHandle } from '../../src/provisioner/pv-builder.ts';
import { parseStorageClassParameters, type ProvisioningParameters } from '../../src/provisioner/storage-class-parameters.ts';
import { buildGlusterVolume, prefixedGlusterVolumeName } from '../../src/provisioner/volume-builder.ts';

const UID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

export function sampleClaim(overrides: { name?: string; namespace?: string; uid?: string; request?: string; accessModes?: string[]; annotations?: Record<string, string> } = {}): Claim {
  return claimSchema.parse({
    metadata: {
      name: overrides.name ?? 'data',
      namespace: overrides.namespace ?? 'team-a',
      uid: overrides.uid ?? UID,
      annotations: overrides.annotations ?? { 'volume.kubernetes.io/storage-provisioner': 'gluster.gluster-operator.dev' },
    },
    spec: {
      storageClassName: 'gluster',
      accessModes: overrides.accessModes ?? ['ReadWriteMany'],
      resources: { requests: { storage: overrides.request ?? '5Gi' } },
    },
  });
}

export function sampleClass(overrides: Partial<StorageClass> = {}): StorageClass {
  return storageClassSchema.parse({
    metadata: { name: 'gluster' },
    provisioner: 'gluster.gluster-operator.dev',
    parameters: { clusterid: 'prod' },
    ...overrides,
  });
}

/** A GlusterCluster of `namespace` (default team-a, the claims' namespace), carrying heketi's id when given (as the import writes it). */
export function sampleCluster(name: string, options: { heketiId?: string; namespace?: string } = {}): GlusterCluster {
  return glusterClusterSchema.parse({
    apiVersion: 'storage.gluster-operator.dev/v1alpha1',
    kind: 'GlusterCluster',
    metadata: {
      name,
      namespace: options.namespace ?? 'team-a',
      ...(options.heketiId ? { annotations: { 'storage.gluster-operator.dev/heketi-cluster-id': options.heketiId } } : {}),
    },
    spec: { access: { mode: 'External', external: { sshSecretRef: { name: 'gluster-ssh' } } } },
  });
}

/** As buildGlusterVolume makes it (the reclaim policy always explicit, from the StorageClass), once Ready. */
export function readyVolume(overrides: { gid?: number; capacity?: string; backups?: string[] } = {}): GlusterVolume {
  return glusterVolumeSchema.parse({
    apiVersion: 'storage.gluster-operator.dev/v1alpha1',
    kind: 'GlusterVolume',
    metadata: { name: `pvc-${UID}`, namespace: 'team-a', generation: 1, labels: { 'storage.gluster-operator.dev/claim-uid': UID, 'storage.gluster-operator.dev/provisioned-by': 'gluster.gluster-operator.dev' } },
    spec: { cluster: 'prod', size: '5Gi', glusterVolumeName: `pvc-${UID}`, reclaimPolicy: 'Delete', ...(overrides.gid !== undefined ? { gid: overrides.gid } : {}) },
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'VolumeStarted', message: '', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 1 }],
      mountSource: `10.77.0.11:pvc-${UID}`,
      backupVolfileServers: overrides.backups ?? ['10.77.0.12', '10.77.0.13'],
      glusterVolumeName: `pvc-${UID}`,
      ...(overrides.capacity !== undefined ? { capacity: overrides.capacity } : {}),
    },
  });
}

function parameters(raw: Record<string, string>): ProvisioningParameters {
  const result = parseStorageClassParameters(raw);
  if (!result.success) throw new Error('bad test parameters');
  return result.parameters;
}

describe('provisioner: GID allocation', () => {
  it('hands out the lowest free GID of the range, reusing freed ones', () => {
    expect(allocateGid(new Set(), 2000, 2010)).to.equal(2000);
    expect(allocateGid(new Set([2000, 2001, 2003]), 2000, 2010)).to.equal(2002);
    expect(allocateGid(new Set([1999, 5000]), 2000, 2010)).to.equal(2000);
  });
  it('returns undefined when the range is used up', () => {
    expect(allocateGid(new Set([2000, 2001]), 2000, 2001)).to.equal(undefined);
    expect(allocateGid(new Set(), 10, 9)).to.equal(undefined);
  });
  it('is quick at the top of the default range', () => {
    const used = new Set(Array.from({ length: 10_000 }, (_, i) => 2000 + i));
    expect(allocateGid(used, 2000, 2147483647)).to.equal(12000);
  });
  it('counts GIDs of this class only: PV annotations (also in-tree PVs) and our GlusterVolumes', () => {
    const pv = (name: string, storageClassName: string, gid?: string) =>
      persistentVolumeSchema.parse({ metadata: { name, annotations: gid ? { 'pv.beta.kubernetes.io/gid': gid } : {} }, spec: { storageClassName } });
    const gv = (name: string, storageClass: string, gid: number, ours = true) =>
      glusterVolumeSchema.parse({
        apiVersion: 'storage.gluster-operator.dev/v1alpha1',
        kind: 'GlusterVolume',
        metadata: {
          name,
          namespace: 'x',
          labels: ours ? { 'storage.gluster-operator.dev/provisioned-by': 'gluster.gluster-operator.dev' } : {},
          annotations: { 'storage.gluster-operator.dev/storage-class': storageClass },
        },
        spec: { cluster: 'c', size: '1Gi', gid },
      });
    const used = gidsInUse(
      'gluster',
      [pv('a', 'gluster', '2000'), pv('b', 'other', '2001'), pv('c', 'gluster'), pv('d', 'gluster', ' 2005 ')],
      [gv('e', 'gluster', 2002), gv('f', 'other', 2003), gv('g', 'gluster', 2004, false)],
    );
    expect([...used].sort()).to.deep.equal([2000, 2002, 2005]);
  });
});

describe('provisioner: GlusterVolume name', () => {
  it('is <prefix>_<ns>_<claim>_<8 hex of the uid>', () => {
    expect(prefixedGlusterVolumeName('dept', 'team-a', 'data', UID)).to.equal('dept_team-a_data_0f1e2d3c');
  });
  it('has heketi\'s four parts in heketi\'s order (prefix_namespace_claim_id), whole when they fit, the id leading to the PV pvc-<uid>', () => {
    const name = prefixedGlusterVolumeName('Dept-7', 'production', 'data-postgres-0', UID);
    expect(name.split('_')).to.deep.equal(['Dept-7', 'production', 'data-postgres-0', '0f1e2d3c']);
    expect(`pvc-${UID}`.startsWith(`pvc-${name.split('_')[3]}`)).to.equal(true);
  });
  it('stays within 64 characters and Gluster\'s charset for the longest names', () => {
    const name = prefixedGlusterVolumeName('p'.repeat(32), 'n'.repeat(63), `claim.with.dots.${'c'.repeat(200)}`, UID);
    expect(name.length).to.be.at.most(64);
    expect(name).to.match(/^[A-Za-z0-9_][A-Za-z0-9_-]*$/);
    expect(name.endsWith('_0f1e2d3c')).to.equal(true);
    expect(name.split('_')).to.have.length(4);
  });
  it('shortens only the longer of namespace and claim when the shorter fits', () => {
    const name = prefixedGlusterVolumeName('vol', 'ns', 'c'.repeat(100), UID);
    expect(name.length).to.equal(64);
    expect(name.startsWith('vol_ns_ccc')).to.equal(true);
  });
  it('differs between claims of the same name (new uid) and is stable for one claim', () => {
    const a = prefixedGlusterVolumeName('p', 'ns', 'data', UID);
    expect(prefixedGlusterVolumeName('p', 'ns', 'data', UID)).to.equal(a);
    expect(prefixedGlusterVolumeName('p', 'ns', 'data', 'a1b2c3d4-0000-0000-0000-000000000000')).not.to.equal(a);
  });
});

describe('provisioner: GlusterVolume builder', () => {
  it('puts the GlusterVolume with its GlusterCluster (clusternamespace) and remembers the claim namespace', () => {
    const parsed = parameters({ clusterid: 'prod', clusternamespace: 'storage' });
    expect(parsed.clusterNamespace).to.equal('storage');
    const volume = buildGlusterVolume({ claim: sampleClaim(), storageClass: sampleClass(), parameters: parsed, cluster: 'prod', size: '1Gi', gid: undefined, namespace: 'storage' });
    expect(volume.metadata.namespace).to.equal('storage');
    expect(volume.metadata.annotations?.['storage.gluster-operator.dev/claim-namespace']).to.equal('team-a');
  });

  it('builds a labelled, owner-less GlusterVolume that the API schema accepts', () => {
    const volume = buildGlusterVolume({
      claim: sampleClaim(),
      storageClass: sampleClass({ reclaimPolicy: 'Retain' }),
      parameters: parameters({ clusterid: 'prod', volumetype: 'disperse:4:2', volumeoptions: 'performance.cache-size 64MB', snapfactor: '5' }),
      cluster: 'prod',
      size: '5Gi',
      gid: 2001,
    });
    expect(glusterVolumeSchema.parse(volume)).to.deep.equal(volume);
    expect(volume.metadata).to.deep.include({ name: `pvc-${UID}`, namespace: 'team-a' });
    expect(volume.metadata).not.to.have.property('ownerReferences');
    expect(volume.metadata.labels).to.deep.equal({
      'storage.gluster-operator.dev/provisioned-by': 'gluster.gluster-operator.dev',
      'storage.gluster-operator.dev/claim-uid': UID,
      'storage.gluster-operator.dev/claim-name': 'data',
    });
    expect(volume.metadata.annotations).to.deep.equal({
      'storage.gluster-operator.dev/claim-name': 'data',
      'storage.gluster-operator.dev/claim-namespace': 'team-a',
      'storage.gluster-operator.dev/storage-class': 'gluster',
    });
    expect(volume.spec).to.deep.equal({
      cluster: 'prod',
      size: '5Gi',
      durability: { type: 'Disperse', disperse: { data: 4, redundancy: 2 } },
      glusterVolumeName: `pvc-${UID}`,
      snapshotFactor: 5,
      reclaimPolicy: 'Retain',
      options: { 'performance.cache-size': '64MB' },
      gid: 2001,
    });
  });
  it('names the GlusterCluster it is given (resolved from clusterid), not the raw clusterid', () => {
    const volume = buildGlusterVolume({ claim: sampleClaim(), storageClass: sampleClass(), parameters: parameters({ clusterid: '630372ccdc720a92c681fb928f27b53f' }), cluster: 'imported', size: '1Gi', gid: undefined });
    expect(volume.spec.cluster).to.equal('imported');
  });
  it('uses the prefix naming when volumenameprefix is set, and Delete unless the class says Retain', () => {
    const volume = buildGlusterVolume({ claim: sampleClaim(), storageClass: sampleClass(), parameters: parameters({ clusterid: 'prod', volumenameprefix: 'dept' }), cluster: 'prod', size: '1Gi', gid: undefined });
    expect(volume.spec.glusterVolumeName).to.equal('dept_team-a_data_0f1e2d3c');
    expect(volume.spec.reclaimPolicy).to.equal('Delete');
    expect(volume.spec).not.to.have.property('gid');
  });
  it('labels the claim name only when it fits a label value', () => {
    const name = `a.${'b'.repeat(70)}`;
    const volume = buildGlusterVolume({ claim: sampleClaim({ name }), storageClass: sampleClass(), parameters: parameters({ clusterid: 'prod' }), cluster: 'prod', size: '1Gi', gid: 2000 });
    expect(volume.metadata.labels).not.to.have.property('storage.gluster-operator.dev/claim-name');
    expect(volume.metadata.annotations!['storage.gluster-operator.dev/claim-name']).to.equal(name);
  });
});

describe('provisioner: PV builder', () => {
  it('builds a PV pre-bound to the claim, mounted through the CSI driver', () => {
    const pv = buildPersistentVolume({
      claim: sampleClaim({ accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] }),
      storageClass: sampleClass({ reclaimPolicy: 'Retain', mountOptions: ['log-level=WARNING'] }),
      volume: readyVolume({ gid: 2003, capacity: '6Gi' }),
    });
    expect(pv).to.deep.equal({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: `pvc-${UID}`,
        annotations: { 'pv.kubernetes.io/provisioned-by': 'gluster.gluster-operator.dev', 'pv.beta.kubernetes.io/gid': '2003' },
      },
      spec: {
        capacity: { storage: '6Gi' },
        accessModes: ['ReadWriteOnce', 'ReadOnlyMany'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'gluster',
        volumeMode: 'Filesystem',
        mountOptions: ['log-level=WARNING'],
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'team-a', name: 'data', uid: UID },
        csi: {
          driver: 'gluster.gluster-operator.dev',
          volumeHandle: `team-a/pvc-${UID}`,
          volumeAttributes: {
            mountSource: `10.77.0.11:pvc-${UID}`,
            glusterVolumeName: `pvc-${UID}`,
            backupVolfileServers: '10.77.0.12:10.77.0.13',
            gid: '2003',
          },
        },
      },
    });
  });
  it('falls back to the request for capacity, Delete for the policy, and omits gid and backups when absent', () => {
    const pv = buildPersistentVolume({ claim: sampleClaim({ request: '3Gi' }), storageClass: sampleClass(), volume: readyVolume({ backups: [] }) });
    expect(pv.spec!.capacity).to.deep.equal({ storage: '3Gi' });
    expect(pv.spec!.persistentVolumeReclaimPolicy).to.equal('Delete');
    expect(pv.spec!).not.to.have.property('mountOptions');
    expect(pv.metadata!.annotations).to.deep.equal({ 'pv.kubernetes.io/provisioned-by': 'gluster.gluster-operator.dev' });
    expect(pv.spec!.csi!.volumeAttributes).to.have.keys(['mountSource', 'glusterVolumeName']);
  });
  it('names the TLS directory and the cluster\'s Secret (nodePublishSecretRef) for a volume with status.tls, and neither without', () => {
    const volume = readyVolume();
    volume.status!.tls = { secretName: 'prod-tls', secretNamespace: 'gluster', dir: '/var/lib/gluster-operator/tls/gluster/prod' };
    const csi = buildPersistentVolume({ claim: sampleClaim(), storageClass: sampleClass(), volume }).spec!.csi!;
    expect(csi.volumeAttributes).to.include({ tlsDir: '/var/lib/gluster-operator/tls/gluster/prod', mountSource: `10.77.0.11:pvc-${UID}` });
    expect(csi.nodePublishSecretRef).to.deep.equal({ name: 'prod-tls', namespace: 'gluster' });
    const plain = buildPersistentVolume({ claim: sampleClaim(), storageClass: sampleClass(), volume: readyVolume() }).spec!.csi!;
    expect(plain.volumeAttributes).to.not.have.property('tlsDir');
    expect(plain).to.not.have.property('nodePublishSecretRef');
    expect(persistentVolumeSchema.safeParse(buildPersistentVolume({ claim: sampleClaim(), storageClass: sampleClass(), volume })).success).to.equal(true);
  });
  it('refuses a volume without a mountSource', () => {
    const volume = readyVolume();
    delete volume.status!.mountSource;
    expect(() => buildPersistentVolume({ claim: sampleClaim(), storageClass: sampleClass(), volume })).to.throw('mountSource');
  });
  it('round-trips the volume handle', () => {
    expect(parseVolumeHandle(`team-a/pvc-${UID}`)).to.deep.equal({ namespace: 'team-a', name: `pvc-${UID}` });
    expect(parseVolumeHandle('no-slash')).to.equal(undefined);
    expect(parseVolumeHandle('a/b/c')).to.equal(undefined);
  });
});
