import { expect } from 'chai';
import {
  decideDirectory,
  decideDirectoryDeletion,
  directoryKeysOf,
  directoryOwnerMark,
  PARENT_WAIT_REQUEUE_MS,
  type DirectoryDeletionWorld,
  type DirectoryWorld,
  type ParentVolume,
} from '../../src/operator/reconcilers/directory-decisions.ts';

const ME = directoryOwnerMark('storage', 'pvc-1', 'uid-1');
const MiB = 1024 * 1024;
const PARENT: ParentVolume = { name: 'fast-shared-1', cluster: 'main', deleting: false, isDirectory: false, ready: true, glusterVolumeName: 'storage_fast-shared-1', mountSource: '10.0.0.1:storage_fast-shared-1' };

function world(overrides: Partial<DirectoryWorld> = {}): DirectoryWorld {
  return { me: ME, path: '/pvc-1', cluster: 'main', requested: 64 * MiB, parent: PARENT, madeBefore: false, quotaEnabled: true, directory: { made: false, mark: ME }, limitBytes: 64 * MiB, ...overrides };
}

describe('directory decisions (claims as directories of a shared volume)', () => {
  it('walks a new directory through quota, make-and-mark and limit to ready', () => {
    expect(decideDirectory(world({ quotaEnabled: undefined, directory: undefined, limitBytes: undefined }))).to.deep.equal({ kind: 'observeQuota' });
    expect(decideDirectory(world({ quotaEnabled: false, directory: undefined, limitBytes: undefined }))).to.deep.equal({ kind: 'enableQuota' });
    expect(decideDirectory(world({ directory: undefined, limitBytes: undefined }))).to.deep.equal({ kind: 'ensureDirectory' });
    expect(decideDirectory(world({ directory: { made: true }, limitBytes: undefined }))).to.deep.equal({ kind: 'setLimit', bytes: 64 * MiB });
    // Found with this object's mark (a pass that died before reporting): its limit is set again, not trusted.
    expect(decideDirectory(world({ limitBytes: undefined }))).to.deep.equal({ kind: 'setLimit', bytes: 64 * MiB });
    expect(decideDirectory(world())).to.deep.equal({ kind: 'ready' });
  });

  it('a grown size sets the limit again; a directory made before needs no mount', () => {
    expect(decideDirectory(world({ requested: 128 * MiB }))).to.deep.equal({ kind: 'setLimit', bytes: 128 * MiB });
    expect(decideDirectory(world({ madeBefore: true, quotaEnabled: undefined, directory: undefined }))).to.deep.equal({ kind: 'ready' });
    expect(decideDirectory(world({ madeBefore: true, quotaEnabled: undefined, directory: undefined, requested: 128 * MiB }))).to.deep.equal({ kind: 'setLimit', bytes: 128 * MiB });
  });

  it('never limits or uses a directory that carries no mark or another object’s', () => {
    for (const mark of [undefined, directoryOwnerMark('storage', 'pvc-1', 'uid-old'), directoryOwnerMark('other', 'pvc-1', 'uid-1')]) {
      const step = decideDirectory(world({ directory: { made: false, mark }, limitBytes: undefined }));
      expect(step, String(mark)).to.include({ kind: 'fail', reason: 'DirectoryNotOurs' });
    }
  });

  it('waits for a missing or unready parent; refuses a parent on another cluster, a directory parent, a parent being deleted', () => {
    expect(decideDirectory(world({ parent: undefined }))).to.include({ kind: 'wait', reason: 'ParentNotFound' });
    expect(decideDirectory(world({ parent: { ...PARENT, ready: false } }))).to.include({ kind: 'wait', reason: 'ParentNotReady' });
    // A parent that gave up (placement failed, say) fails its directories with its own words, so claims say why.
    const failed = decideDirectory(world({ parent: { ...PARENT, ready: false, failure: 'PlacementFailed: not enough free space' } }));
    expect(failed).to.include({ kind: 'fail', reason: 'ParentFailed' });
    expect((failed as { message: string }).message).to.contain('not enough free space');
    expect(decideDirectory(world({ parent: { ...PARENT, cluster: 'other' } }))).to.include({ kind: 'fail', reason: 'InvalidParent' });
    expect(decideDirectory(world({ parent: { ...PARENT, isDirectory: true } }))).to.include({ kind: 'fail', reason: 'InvalidParent' });
    expect(decideDirectory(world({ parent: { ...PARENT, deleting: true } }))).to.include({ kind: 'fail', reason: 'ParentDeleting' });
  });

  it('an unreadable size, no access, no Ready node: a condition, no command', () => {
    expect(decideDirectory(world({ requested: { error: 'bad' } }))).to.include({ kind: 'fail', reason: 'InvalidSize' });
    expect(decideDirectory(world({ unreachable: 'Secret gone' }))).to.include({ kind: 'wait', reason: 'AccessNotConfigured' });
    expect(decideDirectory(world({ noWorker: true }))).to.include({ kind: 'wait', reason: 'NoReadyNode' });
  });
});

function deletion(overrides: Partial<DirectoryDeletionWorld> = {}): DirectoryDeletionWorld {
  return { me: ME, path: '/pvc-1', reclaimPolicy: 'Delete', namespaceTerminating: false, cleanupConfirmed: false, madeBefore: true, parent: PARENT, persistentVolumes: [], ...overrides };
}

describe('directory deletion decisions', () => {
  it('removes an unused directory of its own with reclaimPolicy Delete, then is done', () => {
    expect(decideDirectoryDeletion(deletion({ persistentVolumes: undefined }))).to.deep.equal({ kind: 'observePersistentVolumes' });
    expect(decideDirectoryDeletion(deletion())).to.deep.equal({ kind: 'removeDirectory' });
    expect(decideDirectoryDeletion(deletion({ removed: { gone: true } }))).to.deep.equal({ kind: 'done' });
  });

  it('Retain keeps the directory; nothing made means nothing to remove', () => {
    expect(decideDirectoryDeletion(deletion({ reclaimPolicy: 'Retain' }))).to.include({ kind: 'keep', reason: 'DirectoryRetained' });
    expect(decideDirectoryDeletion(deletion({ madeBefore: false }))).to.include({ kind: 'keep', reason: 'NothingMade' });
  });

  it('a bound PersistentVolume makes deletion wait; a released one does not', () => {
    expect(decideDirectoryDeletion(deletion({ persistentVolumes: [{ name: 'pvc-1', phase: 'Bound', claim: 'app/data' }] }))).to.include({ kind: 'wait', reason: 'VolumeInUse' });
    expect(decideDirectoryDeletion(deletion({ persistentVolumes: [{ name: 'pvc-1', phase: 'Released', reclaimPolicy: 'Delete' }] }))).to.deep.equal({ kind: 'removeDirectory' });
  });

  it('a namespace deletion keeps the files unless confirmed or released by the provisioner', () => {
    expect(decideDirectoryDeletion(deletion({ namespaceTerminating: true }))).to.include({ kind: 'keep', reason: 'NamespaceDeletionRetained', warning: true });
    expect(decideDirectoryDeletion(deletion({ namespaceTerminating: true, cleanupConfirmed: true }))).to.deep.equal({ kind: 'removeDirectory' });
    expect(decideDirectoryDeletion(deletion({ namespaceTerminating: true, persistentVolumes: [{ name: 'pvc-1', phase: 'Released', reclaimPolicy: 'Delete' }] }))).to.deep.equal({ kind: 'removeDirectory' });
  });

  it('a directory found without this object’s mark is left, and the object goes', () => {
    expect(decideDirectoryDeletion(deletion({ removed: { gone: false, mark: undefined } }))).to.include({ kind: 'keep', reason: 'DirectoryNotOurs', warning: true });
    expect(decideDirectoryDeletion(deletion({ removed: { gone: false, mark: 'x/y@z' } }))).to.include({ kind: 'keep', reason: 'DirectoryNotOurs' });
  });

  it('without Gluster nothing is removed: waits, or keeps in a namespace being deleted; a gone parent keeps', () => {
    expect(decideDirectoryDeletion(deletion({ unreachable: 'no Secret' }))).to.include({ kind: 'wait', reason: 'AccessNotConfigured' });
    expect(decideDirectoryDeletion(deletion({ unreachable: 'no Secret', namespaceTerminating: true, cleanupConfirmed: true }))).to.include({ kind: 'keep', reason: 'NamespaceDeletionRetained' });
    expect(decideDirectoryDeletion(deletion({ parent: undefined }))).to.include({ kind: 'keep', reason: 'ParentNotFound' });
  });
});

describe('directories waiting for their parent are woken by it, not by polling', () => {
  const volume = (namespace: string, name: string, directoryOf?: string) => ({ metadata: { namespace, name }, spec: { cluster: 'main', ...(directoryOf ? { directoryOf } : {}) } });
  const cache = [volume('a', 'shared-1'), volume('a', 'pvc-1', 'shared-1'), volume('a', 'pvc-2', 'shared-1'), volume('a', 'pvc-3', 'shared-2'), volume('b', 'pvc-4', 'shared-1')];

  it('a change of a volume wakes exactly the directories made in it, in its namespace', () => {
    expect(directoryKeysOf(cache, volume('a', 'shared-1'))).to.deep.equal(['a/pvc-1', 'a/pvc-2']);
    expect(directoryKeysOf(cache, volume('a', 'shared-2'))).to.deep.equal(['a/pvc-3']);
    expect(directoryKeysOf(cache, volume('c', 'shared-1'))).to.deep.equal([]);
  });

  it('a directory changing wakes nothing (it is never a parent)', () => {
    expect(directoryKeysOf([...cache, volume('a', 'pvc-5', 'pvc-1')], volume('a', 'pvc-1', 'shared-1'))).to.deep.equal([]);
  });

  it('waiting for the parent (not found, not Ready) only checks again after a minute', () => {
    for (const parent of [undefined, { ...PARENT, ready: false }]) {
      const step = decideDirectory(world({ parent }));
      expect(step).to.include({ kind: 'wait', requeueAfterMs: PARENT_WAIT_REQUEUE_MS });
    }
    expect(PARENT_WAIT_REQUEUE_MS).to.equal(60_000);
  });
});
