import { expect } from 'chai';
import { DRIVER_NAME, type GlusterVolume } from '../../src/api/index.ts';
import { copyRequestOf, decideCopySource, type ObservedCopySource, type VolumeSnapshot, type VolumeSnapshotContent } from '../../src/provisioner/copy-source.ts';
import { decideClaim, type ClaimWorld } from '../../src/provisioner/decisions.ts';
import { claimSchema, persistentVolumeSchema, type Claim, type PersistentVolume } from '../../src/provisioner/kube-objects.ts';
import { buildGlusterVolume } from '../../src/provisioner/volume-builder.ts';
import { parseStorageClassParameters } from '../../src/provisioner/storage-class-parameters.ts';
import { readyVolume, sampleClaim, sampleClass, sampleCluster } from './provisioner-builders.test.ts';

const GiB = 1024 ** 3;
const SOURCE_UID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

function claimWith(dataSource: Record<string, unknown> | undefined, request = '5Gi', field: 'dataSource' | 'dataSourceRef' = 'dataSource'): Claim {
  const raw = JSON.parse(JSON.stringify(sampleClaim({ name: 'copy', uid: 'aaaaaaaa-0000-0000-0000-000000000001', request })));
  if (dataSource) raw.spec[field] = dataSource;
  return claimSchema.parse(raw);
}

const SNAPSHOT_REF = { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap' };
const CLAIM_REF = { kind: 'PersistentVolumeClaim', name: 'data' };

function snapshot(overrides: Partial<NonNullable<VolumeSnapshot['status']>> = {}): VolumeSnapshot {
  return { metadata: { name: 'snap', namespace: 'team-a' }, status: { readyToUse: true, boundVolumeSnapshotContentName: 'snapcontent-1', restoreSize: '5Gi', ...overrides } };
}

function content(handle = 'team-a/prod/snapshot-1', driver = DRIVER_NAME): VolumeSnapshotContent {
  return { metadata: { name: 'snapcontent-1' }, spec: { driver, source: { volumeHandle: `team-a/pvc-${SOURCE_UID}` } }, status: { snapshotHandle: handle, restoreSize: 5 * GiB, readyToUse: true } };
}

function origin(overrides: Partial<GlusterVolume['spec']> = {}): GlusterVolume {
  const volume = readyVolume({ gid: 2001 });
  volume.spec = { ...volume.spec, durability: { type: 'None' } as never, snapshotFactor: 1.5, ...overrides };
  return volume;
}

function sourceClaim(phase = 'Bound', capacity = '5Gi'): Claim {
  const raw = JSON.parse(JSON.stringify(sampleClaim({ uid: SOURCE_UID })));
  raw.spec.volumeName = `pvc-${SOURCE_UID}`;
  raw.status = { phase, capacity: { storage: capacity } };
  return claimSchema.parse(raw);
}

function sourcePv(driver = DRIVER_NAME): PersistentVolume {
  return persistentVolumeSchema.parse({
    metadata: { name: `pvc-${SOURCE_UID}` },
    spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany'], csi: { driver, volumeHandle: `team-a/pvc-${SOURCE_UID}` } },
  });
}

const fromSnapshot = (extra: Partial<Extract<ObservedCopySource, { kind: 'snapshot' }>> = {}): ObservedCopySource => ({ kind: 'snapshot', name: 'snap', snapshot: snapshot(), content: content(), origin: origin(), ...extra });
const fromClaim = (extra: Partial<Extract<ObservedCopySource, { kind: 'claim' }>> = {}): ObservedCopySource => ({ kind: 'claim', name: 'data', claim: sourceClaim(), persistentVolume: sourcePv(), volume: origin(), ...extra });

describe('provisioner: copies (claim dataSource)', () => {
  it('reads a VolumeSnapshot or a claim from dataSource or dataSourceRef; anything else is refused with its kind named', () => {
    expect(copyRequestOf(claimWith(undefined))).to.equal(undefined);
    expect(copyRequestOf(claimWith(SNAPSHOT_REF))).to.deep.equal({ kind: 'snapshot', name: 'snap' });
    expect(copyRequestOf(claimWith(CLAIM_REF))).to.deep.equal({ kind: 'claim', name: 'data' });
    expect(copyRequestOf(claimWith(CLAIM_REF, '5Gi', 'dataSourceRef'))).to.deep.equal({ kind: 'claim', name: 'data' });
    const other = copyRequestOf(claimWith({ kind: 'ConfigMap', name: 'x' }));
    expect(other).to.include({ kind: 'unsupported' });
    expect((other as { why: string }).why).to.contain('ConfigMap');
    const elsewhere = copyRequestOf(claimWith({ ...SNAPSHOT_REF, namespace: 'team-b' }, '5Gi', 'dataSourceRef'));
    expect((elsewhere as { why: string }).why).to.contain('another namespace');
  });

  it('a ready snapshot of this driver restores into its own cluster, with its origin’s layout, gid and snapshot factor', () => {
    expect(decideCopySource(fromSnapshot(), 5 * GiB, 'team-a')).to.deep.equal({
      ok: true,
      copy: { dataSource: { snapshot: 'snapshot-1' }, cluster: 'prod', durability: { type: 'None' }, snapshotFactor: 1.5, gid: 2001 },
    });
  });

  it('waits for a snapshot not ready to use, and refuses one that is missing, deleting, foreign, elsewhere or larger than the claim', () => {
    expect(decideCopySource(fromSnapshot({ snapshot: snapshot({ readyToUse: false }) }), 5 * GiB, 'team-a')).to.include({ ok: false, wait: true });
    expect(decideCopySource(fromSnapshot({ content: undefined }), 5 * GiB, 'team-a')).to.include({ ok: false, wait: true });
    const refusals: Array<[string, ObservedCopySource, number, string, string]> = [
      ['missing', fromSnapshot({ snapshot: undefined }), 5 * GiB, 'team-a', 'does not exist'],
      ['deleting', fromSnapshot({ snapshot: { ...snapshot(), metadata: { name: 'snap', deletionTimestamp: '2026-01-01T00:00:00Z' } } }), 5 * GiB, 'team-a', 'being deleted'],
      ['foreign driver', fromSnapshot({ content: content('team-a/prod/snapshot-1', 'ebs.csi.aws.com') }), 5 * GiB, 'team-a', 'ebs.csi.aws.com'],
      ['bad handle', fromSnapshot({ content: content('snap-123') }), 5 * GiB, 'team-a', 'not one of this driver'],
      ['other namespace', fromSnapshot(), 5 * GiB, 'team-b', 'a copy stays in its snapshot'],
      ['too small', fromSnapshot(), 1 * GiB, 'team-a', 'less than'],
    ];
    for (const [what, observed, bytes, namespace, message] of refusals) {
      const decision = decideCopySource(observed, bytes, namespace);
      expect(decision, what).to.include({ ok: false, wait: false });
      expect((decision as { message: string }).message, what).to.contain(message);
    }
  });

  it('a pre-provisioned snapshot with no GlusterVolume behind it restores with the class’s layout (the volume reconciler checks it)', () => {
    expect(decideCopySource(fromSnapshot({ origin: undefined }), 5 * GiB, 'team-a')).to.deep.equal({ ok: true, copy: { dataSource: { snapshot: 'snapshot-1' }, cluster: 'prod' } });
  });

  it('a Bound claim of this driver clones its GlusterVolume', () => {
    expect(decideCopySource(fromClaim(), 5 * GiB, 'team-a')).to.deep.equal({
      ok: true,
      copy: { dataSource: { volume: `pvc-${SOURCE_UID}` }, cluster: 'prod', durability: { type: 'None' }, snapshotFactor: 1.5, gid: 2001 },
    });
  });

  it('waits for a source claim not Bound or a volume not Ready; refuses a foreign, directory, missing or larger source', () => {
    expect(decideCopySource(fromClaim({ claim: sourceClaim('Pending') }), 5 * GiB, 'team-a')).to.include({ ok: false, wait: true });
    const notReady = origin();
    notReady.status = { ...notReady.status, conditions: [] };
    expect(decideCopySource(fromClaim({ volume: notReady }), 5 * GiB, 'team-a')).to.include({ ok: false, wait: true });
    const refusals: Array<[string, ObservedCopySource, string]> = [
      ['missing', fromClaim({ claim: undefined }), 'does not exist'],
      ['foreign PV', fromClaim({ persistentVolume: sourcePv('ebs.csi.aws.com') }), `not a volume of ${DRIVER_NAME}`],
      ['directory', fromClaim({ volume: origin({ directoryOf: 'shared-1' }) }), 'claimLayout: directory'],
      ['no GlusterVolume', fromClaim({ volume: undefined }), 'does not exist'],
      ['larger source', fromClaim({ claim: sourceClaim('Bound', '10Gi') }), 'less than'],
    ];
    for (const [what, observed, message] of refusals) {
      const decision = decideCopySource(observed, 5 * GiB, 'team-a');
      expect(decision, what).to.include({ ok: false, wait: false });
      expect((decision as { message: string }).message, what).to.contain(message);
    }
  });

  it('decideClaim: reads the source first, then creates the copy in the source’s cluster; a refused source is ProvisioningFailed', () => {
    const base: ClaimWorld = {
      claim: claimWith(SNAPSHOT_REF),
      storageClass: sampleClass({ parameters: { clusterid: 'other' } }),
      volume: undefined,
      persistentVolume: undefined,
      volumeNamespace: 'team-a',
      clusters: [sampleCluster('other'), sampleCluster('prod')],
      serveInTreeClasses: true,
      now: Date.parse('2026-12-01T00:00:00Z'),
    };
    expect(decideClaim(base)).to.include({ action: 'wait' });
    const decision = decideClaim({ ...base, copySource: fromSnapshot() });
    expect(decision).to.deep.include({ action: 'createVolume', cluster: 'prod' });
    expect((decision as { copy: unknown }).copy).to.deep.include({ dataSource: { snapshot: 'snapshot-1' } });
    const refused = decideClaim({ ...base, copySource: fromSnapshot({ snapshot: undefined }) });
    expect(refused).to.deep.include({ action: 'fail', reason: 'ProvisioningFailed' });
    const directory = decideClaim({ ...base, storageClass: sampleClass({ parameters: { clusterid: 'prod', claimlayout: 'directory' } }), copySource: fromSnapshot() });
    expect(directory).to.deep.include({ action: 'fail' });
    expect((directory as { message: string }).message).to.contain('claimLayout: volume');
  });

  it('the copy’s GlusterVolume names its dataSource and takes its source’s layout and snapshot factor over the class’s', () => {
    const parsed = parseStorageClassParameters({ clusterid: 'prod', volumetype: 'replicate:3', snapfactor: '2' });
    if (!parsed.success) throw new Error('bad parameters');
    const built = buildGlusterVolume({
      claim: claimWith(CLAIM_REF),
      storageClass: sampleClass(),
      parameters: parsed.parameters,
      cluster: 'prod',
      size: '5Gi',
      gid: 2001,
      copy: { dataSource: { volume: 'pvc-src' }, cluster: 'prod', durability: { type: 'None' } as never, snapshotFactor: 1.5, gid: 2001 },
    });
    expect(built.spec).to.deep.include({ dataSource: { volume: 'pvc-src' }, durability: { type: 'None' }, snapshotFactor: 1.5, gid: 2001, cluster: 'prod' });
  });
});
