import { expect } from 'chai';
import type { GlusterVolumeInfo } from '../../src/gluster/parsers/volume-info.ts';
import { cloneBrickLvName } from '../../src/topology/rebuild/volume.ts';
import {
  cloneSnapshotName,
  decideCopy,
  decideCopyCleanup,
  isCloneOf,
  sourceSnapshotName,
  type CloneWorld,
  type SourceSnapshot,
} from '../../src/operator/reconcilers/volume-clone-decisions.ts';
import { OWNER_OPTION } from '../../src/operator/reconcilers/volume-ownership.ts';

const NONE = { type: 'None' } as const;
const CLONE_ID = 'c6a27faf-10e9-4a4c-9c42-905282b05b2b';
const CLONE_HEX = CLONE_ID.replace(/-/g, '');
/** What glusterd 10.3 reported for a clone on the VM node (volume info of `snapshot clone tc ts`). */
const CLONE_BRICK = `10.0.0.1:/run/gluster/snaps/${CLONE_HEX}/brick1/brick`;

function cloneInfo(overrides: Partial<GlusterVolumeInfo> = {}, bricks: string[] = [CLONE_BRICK]): GlusterVolumeInfo {
  return {
    name: 'ns_copy',
    id: CLONE_ID,
    type: 'Distribute',
    durability: 'distribute',
    status: 'Created',
    brickCount: bricks.length,
    distCount: bricks.length,
    replicaCount: 1,
    arbiterCount: 0,
    disperseCount: 0,
    redundancyCount: 0,
    snapshotCount: 0,
    bricks: bricks.map((name) => ({ name, host: name.split(':')[0]!, path: name.split(':')[1]!, hostUuid: 'u', isArbiter: false })),
    options: { [OWNER_OPTION]: 'ns/origin' },
    ...overrides,
  } as GlusterVolumeInfo;
}

const snapshotOfOrigin = (overrides: Partial<Extract<SourceSnapshot, { kind: 'present' }>> = {}): SourceSnapshot => ({
  kind: 'present',
  originVolume: 'ns_origin',
  activated: true,
  origin: { mark: 'ns/origin', durability: NONE },
  ...overrides,
});

function world(overrides: Partial<CloneWorld> = {}): CloneWorld {
  return {
    me: 'ns/copy',
    gluster: 'ns_copy',
    durability: NONE,
    clusterAddresses: new Set(['10.0.0.1']),
    source: { kind: 'snapshot', snapshot: 'snap1' },
    ...overrides,
  };
}

const volumeSource = (extra: Record<string, unknown> = {}) => ({ kind: 'volume' as const, volume: 'origin', mark: 'ns/origin', gluster: 'ns_origin', ...extra });
const missing = { kind: 'missing' } as const;

describe('GlusterVolume copies: decisions', () => {
  it('a clone brick names its thin LV with the 0-based brick position, as glusterd made it', () => {
    expect(cloneBrickLvName(`/run/gluster/snaps/${CLONE_HEX}/brick1/brick`)).to.equal(`${CLONE_HEX}_0`);
    expect(cloneBrickLvName(`/run/gluster/snaps/${CLONE_HEX}/brick12/brick`)).to.equal(`${CLONE_HEX}_11`);
    expect(cloneBrickLvName(`/run/gluster/snaps/${CLONE_HEX}/brick0/brick`)).to.equal(undefined);
    expect(cloneBrickLvName('/var/lib/heketi/mounts/vg_1/brick_aa/brick')).to.equal(undefined);
  });

  it('is a clone of itself only when every brick carries its own volume id', () => {
    expect(isCloneOf(cloneInfo())).to.equal(true);
    expect(isCloneOf(cloneInfo({ id: '11111111-2222-3333-4444-555555555555' }))).to.equal(false);
    expect(isCloneOf(cloneInfo({}, [CLONE_BRICK, '10.0.0.1:/bricks/vg/brick_aa/brick']))).to.equal(false);
    expect(isCloneOf(cloneInfo({}, []))).to.equal(false);
  });

  it('from a snapshot: observe it, activate it, clone it (in that order, one step each)', () => {
    expect(decideCopy(world(), missing)).to.deep.equal({ kind: 'observeSource' });
    expect(decideCopy(world({ sourceSnapshot: snapshotOfOrigin({ activated: false }) }), missing)).to.deep.equal({ kind: 'activateSnapshot' });
    expect(decideCopy(world({ sourceSnapshot: snapshotOfOrigin() }), missing)).to.deep.equal({ kind: 'clone' });
    expect(cloneSnapshotName(world())).to.equal('snap1');
  });

  it('a snapshot that does not exist fails naming it, and nothing is created', () => {
    const step = decideCopy(world({ sourceSnapshot: missing }), missing);
    expect(step).to.include({ kind: 'fail', reason: 'SnapshotNotFound' });
    expect((step as { message: string }).message).to.contain('snap1');
  });

  it('a snapshot of a volume no GlusterVolume manages is not cloned (its data is not provably ours to copy)', () => {
    const step = decideCopy(world({ sourceSnapshot: snapshotOfOrigin({ origin: undefined, originVolume: 'heketi_vol' }) }), missing);
    expect(step).to.include({ kind: 'fail', reason: 'DataSourceNotManaged' });
    expect((step as { message: string }).message).to.contain('heketi_vol');
  });

  it('a spec asking another layout than the origin’s is refused before cloning', () => {
    const replica = { type: 'Replicate', replica: 3, arbiter: false } as const;
    const step = decideCopy(world({ durability: replica, sourceSnapshot: snapshotOfOrigin() }), missing);
    expect(step).to.include({ kind: 'fail', reason: 'DataSourceMismatch' });
  });

  it('from a GlusterVolume: waits while it is unavailable, then takes the operator’s own snapshot of it', () => {
    const waiting = decideCopy(world({ source: volumeSource({ unavailable: 'dataSource.volume: GlusterVolume origin is not Ready yet', gluster: undefined }) }), missing);
    expect(waiting).to.include({ kind: 'wait', reason: 'WaitingForDataSource' });
    expect(decideCopy(world({ source: volumeSource() }), missing)).to.deep.equal({ kind: 'observeSource' });
    expect(decideCopy(world({ source: volumeSource(), sourceSnapshot: missing }), missing)).to.deep.equal({ kind: 'takeSourceSnapshot' });
    expect(decideCopy(world({ source: volumeSource(), sourceSnapshot: snapshotOfOrigin({ activated: false }) }), missing)).to.deep.equal({ kind: 'activateSnapshot' });
    expect(decideCopy(world({ source: volumeSource(), sourceSnapshot: snapshotOfOrigin() }), missing)).to.deep.equal({ kind: 'clone' });
    expect(cloneSnapshotName(world({ source: volumeSource() }))).to.equal(sourceSnapshotName('ns_copy'));
  });

  it('never clones over an existing volume: one that is not this object’s copy is refused and left alone', () => {
    const foreign = cloneInfo({ id: '11111111-2222-3333-4444-555555555555' }, ['10.0.0.1:/bricks/vg/brick_aa/brick']);
    const step = decideCopy(world({ sourceSnapshot: snapshotOfOrigin() }), { kind: 'present', info: foreign });
    expect(step).to.include({ kind: 'fail', reason: 'VolumeExists' });
  });

  it('the clone a pass made (carrying its origin’s mark or this object’s) is recorded; another owner’s is refused', () => {
    const made = { kind: 'present' as const, info: cloneInfo() };
    expect(decideCopy(world({ sourceSnapshot: snapshotOfOrigin() }), made)).to.deep.equal({ kind: 'recordClone' });
    expect(decideCopy(world({ source: volumeSource() }), made)).to.deep.equal({ kind: 'recordClone' });
    const marked = { kind: 'present' as const, info: cloneInfo({ options: { [OWNER_OPTION]: 'ns/copy' } }) };
    expect(decideCopy(world(), marked)).to.deep.equal({ kind: 'recordClone' });
    const stranger = { kind: 'present' as const, info: cloneInfo({ options: { [OWNER_OPTION]: 'ns/someone-else' } }) };
    expect(decideCopy(world({ sourceSnapshot: snapshotOfOrigin() }), stranger)).to.include({ kind: 'fail', reason: 'OwnedByAnother' });
  });

  it('a snapshot source’s clone with a mark and no snapshot left to prove its origin is observed first, then refused', () => {
    const made = { kind: 'present' as const, info: cloneInfo() };
    expect(decideCopy(world(), made)).to.deep.equal({ kind: 'observeSource' });
    expect(decideCopy(world({ sourceSnapshot: missing }), made)).to.include({ kind: 'fail', reason: 'OwnedByAnother' });
  });

  it('a made clone on hosts outside the cluster is not recorded', () => {
    const made = { kind: 'present' as const, info: cloneInfo({}, [`10.9.9.9:/run/gluster/snaps/${CLONE_HEX}/brick1/brick`]) };
    expect(decideCopy(world({ sourceSnapshot: snapshotOfOrigin() }), made)).to.include({ kind: 'fail', reason: 'DataSourceMismatch' });
  });

  it('the operator’s own snapshot of a source volume is dropped once the copy is recorded; a user’s snapshot never', () => {
    expect(decideCopyCleanup({ source: volumeSource() }, false)).to.deep.equal({ kind: 'observeSource' });
    expect(decideCopyCleanup({ source: volumeSource(), sourceSnapshot: snapshotOfOrigin() }, false)).to.deep.equal({ kind: 'dropSourceSnapshot' });
    expect(decideCopyCleanup({ source: volumeSource(), sourceSnapshot: missing }, false)).to.equal(undefined);
    expect(decideCopyCleanup({ source: volumeSource(), sourceSnapshot: snapshotOfOrigin() }, true)).to.equal(undefined);
    expect(decideCopyCleanup({ source: { kind: 'snapshot', snapshot: 'snap1' }, sourceSnapshot: snapshotOfOrigin() }, false)).to.equal(undefined);
  });
});
