import { expect } from 'chai';
import { GROUP_VERSION, type GlusterVolume } from '../../src/api/index.ts';
import { ANN_STORAGE_CLASS, LABEL_PROVISIONED_BY, PROVISIONER_NAME } from '../../src/provisioner/constants.ts';
import { buildSharedVolume, LABEL_ROLE, placeDirectory, SHARED_DIRECTORIES_ROLE, sharedVolumeName, sharedVolumesOfClass } from '../../src/provisioner/directory-placement.ts';
import { parseStorageClassParameters } from '../../src/provisioner/storage-class-parameters.ts';

const GiB = 1024 ** 3;

function volume(name: string, spec: Partial<GlusterVolume['spec']>, meta: { labels?: Record<string, string>; annotations?: Record<string, string>; namespace?: string; deleting?: boolean } = {}): GlusterVolume {
  return {
    apiVersion: GROUP_VERSION,
    kind: 'GlusterVolume',
    metadata: { name, namespace: meta.namespace ?? 'storage', labels: meta.labels ?? {}, annotations: meta.annotations ?? {}, ...(meta.deleting ? { deletionTimestamp: '2026-12-02T00:00:00Z' } : {}) },
    spec: { cluster: 'main', size: '1Gi', durability: { type: 'None' }, snapshotFactor: 1, reclaimPolicy: 'Delete', ...spec },
  } as GlusterVolume;
}
const sharedLabels = { [LABEL_PROVISIONED_BY]: PROVISIONER_NAME, [LABEL_ROLE]: SHARED_DIRECTORIES_ROLE };
const shared = (name: string, size: string, cls = 'fast', extra: { deleting?: boolean; namespace?: string } = {}) =>
  volume(name, { size, reclaimPolicy: 'Retain' }, { labels: sharedLabels, annotations: { [ANN_STORAGE_CLASS]: cls }, ...extra });
const directory = (name: string, of: string, size: string) => volume(name, { size, directoryOf: of }, { labels: { [LABEL_PROVISIONED_BY]: PROVISIONER_NAME } });

describe('provisioner: where a directory claim goes', () => {
  it('counts the directories of each shared volume of the class, in this namespace only', () => {
    const volumes = [shared('fast-shared-1', '10Gi'), directory('pvc-a', 'fast-shared-1', '4Gi'), directory('pvc-b', 'fast-shared-1', '3Gi'), shared('slow-shared-1', '10Gi', 'slow'), shared('fast-shared-1', '10Gi', 'fast', { namespace: 'other' })];
    expect(sharedVolumesOfClass('fast', 'storage', volumes)).to.deep.equal([{ name: 'fast-shared-1', sizeBytes: 10 * GiB, usedBytes: 7 * GiB, deleting: false }]);
  });

  it('a volume without the shared role or made by someone else is never a shared volume', () => {
    const handMade = volume('fast-shared-1', { size: '10Gi' }, { annotations: { [ANN_STORAGE_CLASS]: 'fast' } });
    const perClaim = volume('pvc-x', { size: '10Gi' }, { labels: { [LABEL_PROVISIONED_BY]: PROVISIONER_NAME }, annotations: { [ANN_STORAGE_CLASS]: 'fast' } });
    expect(sharedVolumesOfClass('fast', 'storage', [handMade, perClaim])).to.deep.equal([]);
  });

  it('uses the first shared volume with room, else makes the next one; never one being deleted', () => {
    const base = { storageClass: 'fast', sharedVolumeBytes: 10 * GiB, taken: new Set(['fast-shared-1', 'fast-shared-2']) };
    const full = { name: 'fast-shared-1', sizeBytes: 10 * GiB, usedBytes: 9 * GiB, deleting: false };
    const roomy = { name: 'fast-shared-2', sizeBytes: 10 * GiB, usedBytes: 1 * GiB, deleting: false };
    expect(placeDirectory({ ...base, shared: [full, roomy], requestBytes: 2 * GiB })).to.deep.equal({ kind: 'use', shared: 'fast-shared-2' });
    expect(placeDirectory({ ...base, shared: [full, roomy], requestBytes: 1 * GiB })).to.deep.equal({ kind: 'use', shared: 'fast-shared-1' });
    expect(placeDirectory({ ...base, shared: [full, { ...roomy, deleting: true }], requestBytes: 2 * GiB })).to.deep.equal({ kind: 'create', shared: 'fast-shared-3', sizeBytes: 10 * GiB });
    // Exactly full fits; one byte more does not.
    expect(placeDirectory({ ...base, shared: [full], requestBytes: 1 * GiB })).to.deep.equal({ kind: 'use', shared: 'fast-shared-1' });
    expect(placeDirectory({ ...base, shared: [full], requestBytes: 1 * GiB + 1 })).to.include({ kind: 'create' });
    // A claim larger than the shared size gets a shared volume of its own size.
    expect(placeDirectory({ ...base, shared: [], requestBytes: 50 * GiB })).to.deep.equal({ kind: 'create', shared: 'fast-shared-3', sizeBytes: 50 * GiB });
  });

  it('names shared volumes after the class, cut short, skipping taken names', () => {
    expect(sharedVolumeName('fast', new Set())).to.equal('fast-shared-1');
    expect(sharedVolumeName('fast', new Set(['fast-shared-1']))).to.equal('fast-shared-2');
    const long = sharedVolumeName(`${'a'.repeat(39)}.b-more`, new Set());
    expect(long).to.equal(`${'a'.repeat(39)}-shared-1`);
  });

  it('a shared volume is Retain, labelled and annotated for its class, with the class’s durability and options, no gid', () => {
    const parsed = parseStorageClassParameters({ claimLayout: 'directory', volumetype: 'replicate:2', volumeoptions: 'performance.cache-size 64MB' });
    if (!parsed.success) throw new Error('parameters');
    const made = buildSharedVolume({ name: 'fast-shared-1', namespace: 'storage', storageClass: 'fast', cluster: 'main', size: '100Gi', parameters: parsed.parameters });
    expect(made.spec).to.deep.include({ cluster: 'main', size: '100Gi', reclaimPolicy: 'Retain', options: { 'performance.cache-size': '64MB' } });
    expect(made.spec.durability).to.deep.equal({ type: 'Replicate', replicate: { replica: 2, arbiter: false } });
    expect(made.spec.gid).to.equal(undefined);
    expect(sharedVolumesOfClass('fast', 'storage', [made])).to.have.length(1);
  });
});
