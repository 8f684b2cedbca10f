import { expect } from 'chai';
import type { GlusterVolumeInfo } from '../../src/gluster/parsers/volume-info.ts';
import type { TopologyVolume } from '../../src/topology/model.ts';
import { GiB } from '../../src/topology/sizing.ts';
import { changedGlusterBy, decideVolume, GLUSTER_CHANGING_STEPS, type VolumeWorld } from '../../src/operator/reconcilers/volume-decisions.ts';
import { DEFAULT_CLIENT_ACCESS, internalAddressesOf, wantedClientAccess } from '../../src/operator/reconcilers/client-access.ts';
import { HEAL_REFRESH_MS } from '../../src/operator/reconcilers/volume-health.ts';
import { decideDeletion, holdsVolume, type DeletionWorld } from '../../src/operator/reconcilers/volume-deletion-decisions.ts';
import { adoptionMismatch, OWNER_OPTION, ownershipOf, RELEASED_MARK } from '../../src/operator/reconcilers/volume-ownership.ts';
import { parseClientList, userClients } from '../../src/gluster/parsers/client-list.ts';

const BRICKS = ['10.0.0.1:/b/brick_aa/brick', '10.0.0.2:/b/brick_bb/brick', '10.0.0.3:/b/brick_cc/brick'];
const REPLICA3 = { type: 'Replicate', replica: 3, arbiter: false } as const;
const NOW = Date.parse('2026-12-01T12:00:00Z');

function info(overrides: Partial<GlusterVolumeInfo> = {}, bricks: string[] = BRICKS): GlusterVolumeInfo {
  return {
    name: 'ns_data',
    id: '11111111-2222-3333-4444-555555555555',
    type: 'Replicate',
    durability: 'replicate',
    status: 'Started',
    brickCount: bricks.length,
    distCount: 1,
    replicaCount: 3,
    arbiterCount: 0,
    disperseCount: 0,
    redundancyCount: 0,
    snapshotCount: 0,
    bricks: bricks.map((name) => ({ name, host: name.split(':')[0]!, path: name.split(':')[1]!, hostUuid: 'u', isArbiter: false })),
    options: {},
    ...overrides,
  } as GlusterVolumeInfo;
}

function record(overrides: Partial<TopologyVolume> = {}): TopologyVolume {
  return {
    name: 'ns/data',
    cluster: 'ns/main',
    gluster: 'ns_data',
    durability: REPLICA3,
    size: 1 * GiB,
    sets: 1,
    snapshotFactor: 1,
    bricks: [0, 1, 2].map((i) => ({ id: 'x'.repeat(15) + i, device: `d${i}`, size: 1 * GiB, set: 0 })),
    ...overrides,
  };
}

function world(overrides: Partial<VolumeWorld> = {}): VolumeWorld {
  return {
    me: 'ns/data',
    gluster: 'ns_data',
    adoptExisting: false,
    durability: REPLICA3,
    requested: 1 * GiB,
    specOptions: {},
    clusterOptions: {},
    appliedOptions: [],
    clientAccess: { kind: 'unmanaged' },
    tls: { kind: 'off' },
    tlsRecorded: false,
    clusterAddresses: new Set(['10.0.0.1', '10.0.0.2', '10.0.0.3']),
    readyNodes: new Set(['n1', 'n2', 'n3']),
    now: NOW,
    ...overrides,
  };
}

const placed = { record: record(), placedBricks: BRICKS.map((glusterName, i) => ({ glusterName, node: `n${i + 1}` })), bricksEnsured: true };
const marked = (extra: Partial<GlusterVolumeInfo> = {}, bricks: string[] = BRICKS) => ({ kind: 'present' as const, info: info({ options: { [OWNER_OPTION]: 'ns/data' }, ...extra }, bricks) });

describe('GlusterVolume decisions: ownership', () => {
  it('a name another GlusterVolume holds in the database is refused, naming the owner', () => {
    const step = decideVolume(world({ holder: { name: 'ns/first', objectExists: true } }));
    expect(step).to.include({ kind: 'fail', reason: 'OwnedByAnother' });
    expect((step as { message: string }).message).to.contain('ns/first');
  });

  it('a Gluster volume marked as another object’s is refused before anything is placed', () => {
    const step = decideVolume(world({ live: { kind: 'present', info: info({ options: { [OWNER_OPTION]: 'other/obj' } }) } }));
    expect(step).to.include({ kind: 'fail', reason: 'OwnedByAnother' });
    expect((step as { message: string }).message).to.contain('other/obj');
  });

  it('an existing unowned volume is refused without adoptExisting', () => {
    expect(decideVolume(world({ live: { kind: 'present', info: info() } }))).to.include({ kind: 'fail', reason: 'VolumeExists' });
  });

  it('adoptExisting takes over an unowned volume that matches the spec, and refuses one that does not', () => {
    expect(decideVolume(world({ adoptExisting: true, live: { kind: 'present', info: info() } }))).to.deep.equal({ kind: 'adopt' });
    const disperse = info({ replicaCount: 1, disperseCount: 3, redundancyCount: 1 });
    expect(decideVolume(world({ adoptExisting: true, live: { kind: 'present', info: disperse } }))).to.include({ kind: 'fail', reason: 'AdoptionMismatch' });
    const stranger = info({}, ['10.9.9.9:/x', ...BRICKS.slice(1)]);
    expect(decideVolume(world({ adoptExisting: true, live: { kind: 'present', info: stranger } }))).to.include({ kind: 'fail', reason: 'AdoptionMismatch' });
  });

  it('adoptExisting never creates: a missing volume is refused', () => {
    expect(decideVolume(world({ adoptExisting: true, live: { kind: 'missing' } }))).to.include({ kind: 'fail', reason: 'NothingToAdopt' });
  });

  it('a volume released by a deleted object is adopted only when asked, replacing that placement', () => {
    const released = { holder: { name: 'ns/old', objectExists: false }, live: { kind: 'present' as const, info: info() } };
    expect(decideVolume(world(released))).to.include({ kind: 'fail', reason: 'OwnedByAnother' });
    expect(decideVolume(world({ ...released, adoptExisting: true }))).to.deep.equal({ kind: 'adopt', replacing: 'ns/old' });
  });

  it('a new name is placed only after Gluster was asked whether it exists', () => {
    expect(decideVolume(world())).to.deep.equal({ kind: 'observeLive' });
    expect(decideVolume(world({ live: { kind: 'missing' } }))).to.deep.equal({ kind: 'place' });
  });

  it('placed and present: our own bricks without a mark get the mark; other bricks are left alone', () => {
    expect(decideVolume(world({ ...placed, live: { kind: 'present', info: info() } }))).to.deep.equal({ kind: 'markOwner', options: [] });
    // A volume just created gets its mark and its options in one `volume set` (recorded in status first).
    const cacheSize = { specOptions: { 'performance.cache-size': '64MB' }, live: { kind: 'present' as const, info: info() } };
    expect(decideVolume(world({ ...placed, ...cacheSize }))).to.deep.equal({ kind: 'recordOptions', keys: ['performance.cache-size'] });
    expect(decideVolume(world({ ...placed, ...cacheSize, appliedOptions: ['performance.cache-size'] }))).to.deep.equal({ kind: 'markOwner', options: [['performance.cache-size', '64MB']] });
    const foreign = info({}, ['10.0.0.1:/else/1', '10.0.0.2:/else/2', '10.0.0.3:/else/3']);
    expect(decideVolume(world({ ...placed, live: { kind: 'present', info: foreign } }))).to.include({ kind: 'fail', reason: 'VolumeExists' });
    expect(decideVolume(world({ ...placed, live: { kind: 'present', info: info({ options: { [OWNER_OPTION]: 'x/y' } }) } }))).to.include({ kind: 'fail', reason: 'OwnedByAnother' });
  });

  it('spec options may not overwrite the owner mark', () => {
    const step = decideVolume(world({ specOptions: { [OWNER_OPTION]: 'ns/data' } }));
    expect(step).to.include({ kind: 'fail', reason: 'InvalidOption' });
    expect((step as { message: string }).message).to.contain(`spec.options: ${OWNER_OPTION} is not allowed: user.* options are reserved`);
  });
});

describe('GlusterVolume decisions: convergence', () => {
  it('a volume that existed (its id recorded) and vanished is reported, never re-created', () => {
    const step = decideVolume(world({ ...placed, record: record({ glusterId: 'gone-id' }), live: { kind: 'missing' } }));
    expect(step).to.include({ kind: 'fail', reason: 'VolumeMissing' });
    expect(decideVolume(world({ ...placed, live: { kind: 'missing' } }))).to.deep.equal({ kind: 'create' });
  });

  it('bricks are ensured before anything else on a placed volume', () => {
    expect(decideVolume(world({ ...placed, bricksEnsured: false, live: marked() }))).to.deep.equal({ kind: 'ensureBricks' });
  });

  it('start, options, growth, record, bricks, then ready', () => {
    const base = { ...placed, record: record({ glusterId: info().id }) };
    expect(decideVolume(world({ ...base, live: marked({ status: 'Created' }) }))).to.deep.equal({ kind: 'start' });
    expect(decideVolume(world({ ...base, specOptions: { 'performance.cache-size': '64MB' }, appliedOptions: ['performance.cache-size'], live: marked() }))).to.deep.equal({ kind: 'setOptions', options: [['performance.cache-size', '64MB']] });
    expect(decideVolume(world({ ...base, requested: 2 * GiB, live: marked() }))).to.deep.equal({ kind: 'grow', to: 2 * GiB });
    expect(decideVolume(world({ ...placed, live: marked() }))).to.deep.equal({ kind: 'recordLive', glusterId: info().id, size: GiB });
    expect(decideVolume(world({ ...base, live: marked() }))).to.deep.equal({ kind: 'observeBricks' });
    const down = new Map([[BRICKS[1]!, false]]);
    expect(decideVolume(world({ ...base, live: marked(), online: down }))).to.deep.equal({ kind: 'restartBricks', bricks: [BRICKS[1]] });
    expect(decideVolume(world({ ...base, live: marked(), online: down, restartedBricks: true }))).to.deep.equal({ kind: 'observeHeal' });
    const heal = { kind: 'read' as const, bricks: [], at: new Date(NOW).toISOString() };
    expect(decideVolume(world({ ...base, live: marked(), online: down, restartedBricks: true, heal }))).to.deep.equal({ kind: 'ready' });
    expect(decideVolume(world({ ...base, live: marked(), online: new Map(), heal }))).to.deep.equal({ kind: 'ready' });
  });

  it('heal info is read last: at most every HEAL_REFRESH_MS, again after a change, never on a distribute volume', () => {
    const settled = { ...placed, record: record({ glusterId: info().id }), live: marked(), online: new Map([[BRICKS[0]!, true]]) };
    const checkedAt = (ago: number) => new Date(NOW - ago).toISOString();
    expect(decideVolume(world(settled))).to.deep.equal({ kind: 'observeHeal' });
    expect(decideVolume(world({ ...settled, healCheckedAt: checkedAt(HEAL_REFRESH_MS - 1) }))).to.deep.equal({ kind: 'ready' });
    expect(decideVolume(world({ ...settled, healCheckedAt: checkedAt(HEAL_REFRESH_MS) }))).to.deep.equal({ kind: 'observeHeal' });
    expect(decideVolume(world({ ...settled, healCheckedAt: checkedAt(1_000), changedGluster: true }))).to.deep.equal({ kind: 'observeHeal' });
    // A checkedAt far in the future does not postpone the read.
    expect(decideVolume(world({ ...settled, healCheckedAt: checkedAt(-HEAL_REFRESH_MS) }))).to.deep.equal({ kind: 'observeHeal' });
    const distribute = marked({ type: 'Distribute', durability: 'distribute', replicaCount: 1, distCount: 3 });
    const dist = { ...settled, record: record({ glusterId: info().id, durability: { type: 'None' } }), live: distribute, rebalanceObserved: true };
    expect(decideVolume(world({ ...dist, durability: { type: 'None' }, changedGluster: true }))).to.deep.equal({ kind: 'ready' });
  });

  it('the steps that change the Gluster volume are the ones after which heal is read again; a restart only if a brick came back', () => {
    expect([...GLUSTER_CHANGING_STEPS].sort()).to.deep.equal(['addBricks', 'clone', 'create', 'grow', 'markOwner', 'resetOptions', 'setOptions', 'start']);
    expect(changedGlusterBy({ kind: 'setOptions', options: [] }, undefined)).to.equal(true);
    expect(changedGlusterBy({ kind: 'ensureBricks' }, undefined)).to.equal(false);
    expect(changedGlusterBy({ kind: 'observeBricks' }, undefined)).to.equal(false);
    const restart = { kind: 'restartBricks' as const, bricks: [BRICKS[1]!] };
    expect(changedGlusterBy(restart, new Map([[BRICKS[1]!, true]]))).to.equal(true);
    expect(changedGlusterBy(restart, new Map([[BRICKS[1]!, false]]))).to.equal(false);
  });

  it('sets the database holds and Gluster lacks (an expansion whose add-brick never ran) are added; an evacuation’s replacement is not', () => {
    const two = record({ glusterId: info().id, size: 2 * GiB, sets: 2, bricks: [0, 1, 2, 3, 4, 5].map((i) => ({ id: 'y'.repeat(15) + i, device: `d${i % 3}`, size: GiB, set: Math.floor(i / 3) })) });
    const names = [...BRICKS, '10.0.0.1:/b/brick_dd/brick', '10.0.0.2:/b/brick_ee/brick', '10.0.0.3:/b/brick_ff/brick'];
    const grown = { ...placed, record: two, requested: 2 * GiB, placedBricks: names.map((glusterName, i) => ({ glusterName, node: `n${(i % 3) + 1}` })) };
    expect(decideVolume(world({ ...grown, live: marked() }))).to.deep.equal({ kind: 'addBricks', sets: [1] });
    expect(decideVolume(world({ ...grown, live: marked({ distCount: 2 }, names) }))).to.not.have.property('kind', 'addBricks');
    // Set 1's first brick replaces a retired one: the evacuation's to put in, so the set is not "missing".
    const evacuating = { ...two, retiredBricks: [{ id: 'old1', device: 'd0', size: GiB, set: 1, replacedBy: two.bricks[3]!.id }] } as TopologyVolume;
    expect(decideVolume(world({ ...grown, record: evacuating, live: marked() }))).to.not.have.property('kind', 'addBricks');
  });

  it('refusals that need nothing from Gluster come first', () => {
    expect(decideVolume(world({ clusterAddresses: undefined }))).to.include({ reason: 'ClusterNotFound' });
    expect(decideVolume(world({ requested: { error: 'bad' } }))).to.include({ reason: 'InvalidSize' });
    expect(decideVolume(world({ readyNodes: new Set() }))).to.include({ kind: 'wait', reason: 'WaitingForNodes' });
    expect(decideVolume(world({ record: record({ gluster: 'other' }) }))).to.include({ reason: 'NameConflict' });
  });
});

function deletion(overrides: Partial<DeletionWorld> = {}): DeletionWorld {
  return {
    me: 'ns/data',
    reclaimPolicy: 'Delete',
    placedBricks: BRICKS,
    gluster: 'ns_data',
    namespaceTerminating: false,
    cleanupConfirmed: false,
    persistentVolumes: [],
    live: marked(),
    clients: 0,
    ...overrides,
  };
}

describe('GlusterVolume decisions: options', () => {
  const base = { ...placed, record: record({ glusterId: info().id }) };
  const messageOf = (step: ReturnType<typeof decideVolume>) => (step as { message: string }).message;

  it('a bad value is InvalidOption naming the option, the value and the rule, before Gluster is even asked', () => {
    const step = decideVolume(world({ specOptions: { 'performance.cache-size': '64MB', 'diagnostics.brick-log-level': 'TRACE' } }));
    expect(step).to.include({ kind: 'fail', reason: 'InvalidOption' });
    expect(messageOf(step)).to.equal(
      'spec.options: diagnostics.brick-log-level "TRACE": must be one of INFO, WARNING, ERROR, CRITICAL, NONE (DEBUG and TRACE fill the disks the logs are on). ' +
        'Nothing was changed on the volume; correct or remove it',
    );
  });

  it('a refused key (an object stored before the CRD refused it) is InvalidOption with the reason, for that object alone', () => {
    const step = decideVolume(world({ ...base, specOptions: { 'auth.allow': '*', 'features.shard': 'on' }, live: marked() }));
    expect(step).to.include({ kind: 'fail', reason: 'InvalidOption' });
    expect(messageOf(step)).to.contain('auth.allow is not allowed: who may mount a volume');
    expect(messageOf(step)).to.contain('features.shard is not allowed: sharding');
  });

  it("a bad cluster option names the GlusterCluster's volumeOptions, and stops no volume that overrides it", () => {
    const clusterOptions = { 'network.ping-timeout': '0' };
    const step = decideVolume(world({ clusterOptions }));
    expect(step).to.include({ kind: 'fail', reason: 'InvalidOption' });
    expect(messageOf(step)).to.match(/^the GlusterCluster's spec\.volumeOptions: network\.ping-timeout "0": must be a whole number from 5 to 120/);
    expect(decideVolume(world({ clusterOptions, specOptions: { 'network.ping-timeout': '30' } }))).to.deep.equal({ kind: 'observeLive' });
  });

  it('more options than a map may hold is InvalidOption, said first', () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`performance.option-${i}`, 'on']));
    expect(messageOf(decideVolume(world({ specOptions: many })))).to.match(/^spec\.options: 65 options, more than the 64 a map may hold/);
  });

  it('options are recorded in status before they are set, the volume overriding its cluster', () => {
    const options = { clusterOptions: { 'performance.cache-size': '32MB', 'network.ping-timeout': '20' }, specOptions: { 'performance.cache-size': '64MB' } };
    expect(decideVolume(world({ ...base, ...options, live: marked() }))).to.deep.equal({ kind: 'recordOptions', keys: ['network.ping-timeout', 'performance.cache-size'] });
    expect(decideVolume(world({ ...base, ...options, appliedOptions: ['network.ping-timeout', 'performance.cache-size'], live: marked() }))).to.deep.equal({
      kind: 'setOptions',
      options: [['performance.cache-size', '64MB'], ['network.ping-timeout', '20']],
    });
    // Already recorded and already live: nothing to do.
    const live = marked({ options: { [OWNER_OPTION]: 'ns/data', 'performance.cache-size': '64MB' } });
    expect(decideVolume(world({ ...base, specOptions: { 'performance.cache-size': '64MB' }, appliedOptions: ['performance.cache-size'], live }))).to.deep.equal({ kind: 'observeBricks' });
  });

  it('an option this object set and the spec dropped is reset, then forgotten', () => {
    const live = marked({ options: { [OWNER_OPTION]: 'ns/data', 'performance.cache-size': '64MB', 'network.ping-timeout': '20' } });
    const applied = ['network.ping-timeout', 'performance.cache-size'];
    expect(decideVolume(world({ ...base, specOptions: { 'network.ping-timeout': '20' }, appliedOptions: applied, live }))).to.deep.equal({ kind: 'resetOptions', keys: ['performance.cache-size'] });
    // Gluster no longer lists it (reset, or reset by hand): only the record changes.
    const after = marked({ options: { [OWNER_OPTION]: 'ns/data', 'network.ping-timeout': '20' } });
    expect(decideVolume(world({ ...base, specOptions: { 'network.ping-timeout': '20' }, appliedOptions: applied, live: after }))).to.deep.equal({ kind: 'recordOptions', keys: ['network.ping-timeout'] });
  });

  it('never resets an option this object did not set: one heketi or an administrator set on an adopted volume', () => {
    const adopted = marked({ options: { [OWNER_OPTION]: 'ns/data', 'performance.cache-size': '64MB', 'features.shard': 'on', 'auth.allow': '10.0.0.*' } });
    expect(decideVolume(world({ ...base, live: adopted }))).to.deep.equal({ kind: 'observeBricks' });
    // Named by the spec with the value it already has: not set, so not recorded, so not reset once the spec drops it.
    expect(decideVolume(world({ ...base, specOptions: { 'performance.cache-size': '64MB' }, live: adopted }))).to.deep.equal({ kind: 'observeBricks' });
  });

  it('never resets the owner mark or a refused option, whatever status.appliedOptions says: such keys are only forgotten', () => {
    const live = marked({ options: { [OWNER_OPTION]: 'ns/data', 'auth.allow': '10.0.0.*' } });
    expect(decideVolume(world({ ...base, appliedOptions: [OWNER_OPTION, 'auth.allow'], live }))).to.deep.equal({ kind: 'recordOptions', keys: [] });
    // And they are not carried into the record written before a set.
    expect(decideVolume(world({ ...base, specOptions: { 'performance.io-thread-count': '32' }, appliedOptions: ['auth.allow'], live }))).to.deep.equal({
      kind: 'recordOptions',
      keys: ['performance.io-thread-count'],
    });
  });
});

describe('GlusterVolume deletion decisions', () => {
  it('deletes an unused volume of its own with reclaimPolicy Delete', () => {
    expect(decideDeletion(deletion())).to.deep.equal({ kind: 'deleteVolume' });
    expect(decideDeletion(deletion({ volumeDeleted: true }))).to.deep.equal({ kind: 'removeBricks' });
    expect(decideDeletion(deletion({ live: { kind: 'missing' } }))).to.deep.equal({ kind: 'removeBricks' });
  });

  it('a volume holding directories (spec.directoryOf) is not deleted, whatever its reclaim policy', () => {
    for (const reclaimPolicy of ['Delete', 'Retain'] as const) {
      const step = decideDeletion(deletion({ reclaimPolicy, directories: ['pvc-a', 'pvc-b'] }));
      expect(step, reclaimPolicy).to.include({ kind: 'wait', reason: 'VolumeInUse' });
      expect((step as { message: string }).message).to.contain('pvc-a, pvc-b').and.contain('directories of this volume');
    }
    expect(decideDeletion(deletion({ directories: [] }))).to.deep.equal({ kind: 'deleteVolume' });
  });

  it('a volume with Gluster snapshots is neither stopped nor deleted: deletion waits for its snapshots to go', () => {
    const marked = (snapshotCount: number) => ({ kind: 'present' as const, info: info({ snapshotCount, options: { [OWNER_OPTION]: 'ns/data' } }) });
    const step = decideDeletion(deletion({ live: marked(2), clients: 0 }));
    expect(step).to.include({ kind: 'wait', reason: 'VolumeHasSnapshots' });
    expect((step as { message: string }).message).to.contain('2 snapshot(s)').and.contain('VolumeSnapshots');
    // Before the client check too: a stop would cut clients off, and glusterd would still refuse the delete.
    expect(decideDeletion(deletion({ live: marked(1) }))).to.include({ kind: 'wait', reason: 'VolumeHasSnapshots' });
    expect(decideDeletion(deletion({ live: marked(0), clients: 0 }))).to.deep.equal({ kind: 'deleteVolume' });
  });

  it('Retain keeps the data and releases the owner mark', () => {
    expect(decideDeletion(deletion({ reclaimPolicy: 'Retain' }))).to.include({ kind: 'keep', reason: 'VolumeRetained', unmark: true });
    expect(decideDeletion(deletion({ reclaimPolicy: 'Retain', live: { kind: 'present', info: info() } }))).to.include({ kind: 'keep', reason: 'VolumeRetained', unmark: false });
  });

  it('a bound PersistentVolume makes deletion wait, naming it and its claim', () => {
    const step = decideDeletion(deletion({ persistentVolumes: [{ name: 'pv-1', phase: 'Bound', claim: 'app/data', reclaimPolicy: 'Delete' }] }));
    expect(step).to.include({ kind: 'wait', reason: 'VolumeInUse' });
    expect((step as { message: string }).message).to.contain('pv-1').and.contain('app/data');
    expect(decideDeletion(deletion({ persistentVolumes: [{ name: 'pv-1', phase: 'Released', claim: 'app/data', reclaimPolicy: 'Delete' }] }))).to.deep.equal({ kind: 'deleteVolume' });
  });

  it('a mounted volume makes deletion wait; clients are asked only of a started volume', () => {
    expect(decideDeletion(deletion({ clients: 2 }))).to.include({ kind: 'wait', reason: 'VolumeInUse' });
    expect(decideDeletion(deletion({ clients: undefined }))).to.deep.equal({ kind: 'observeClients' });
    expect(decideDeletion(deletion({ clients: undefined, live: marked({ status: 'Stopped' }) }))).to.deep.equal({ kind: 'deleteVolume' });
  });

  it('a namespace deletion keeps the data unless the cluster confirms it or the provisioner released the PV', () => {
    expect(decideDeletion(deletion({ namespaceTerminating: true }))).to.include({ kind: 'keep', reason: 'NamespaceDeletionRetained', warning: true });
    expect(decideDeletion(deletion({ namespaceTerminating: true, cleanupConfirmed: true }))).to.deep.equal({ kind: 'deleteVolume' });
    const released = [{ name: 'pv-1', phase: 'Released', reclaimPolicy: 'Delete' }];
    expect(decideDeletion(deletion({ namespaceTerminating: true, persistentVolumes: released }))).to.deep.equal({ kind: 'deleteVolume' });
  });

  it('Gluster unreachable: never destroys; in a namespace being deleted the object goes and the data stays, marked; elsewhere deletion waits', () => {
    const gone = 'Secret ns/gluster-ssh named by spec.access.external.sshSecretRef does not exist';
    const kept = decideDeletion(deletion({ unreachable: gone, namespaceTerminating: true, cleanupConfirmed: true, live: undefined }));
    expect(kept).to.include({ kind: 'keep', reason: 'NamespaceDeletionRetained', warning: true, unmark: false });
    expect((kept as { message: string }).message).to.contain(gone).and.contain('user.gluster-operator.owner released');
    expect(decideDeletion(deletion({ unreachable: gone, live: undefined }))).to.include({ kind: 'wait', reason: 'AccessNotConfigured' });
    // Even with everything observed that would allow deleting it, an unreachable Gluster deletes nothing.
    expect(decideDeletion(deletion({ unreachable: gone, namespaceTerminating: true, cleanupConfirmed: true }))).to.include({ kind: 'keep' });
  });

  it('never deletes a Gluster volume that is not provably its own', () => {
    const other = { kind: 'present' as const, info: info({ options: { [OWNER_OPTION]: 'ns/first' } }) };
    expect(decideDeletion(deletion({ live: other }))).to.include({ kind: 'keep', reason: 'VolumeNotOurs' });
    const foreign = { kind: 'present' as const, info: info({}, ['h:/elsewhere/1', 'h:/elsewhere/2', 'h:/elsewhere/3']) };
    expect(decideDeletion(deletion({ live: foreign }))).to.include({ kind: 'keep', reason: 'VolumeNotOurs' });
    // Unmarked but exactly the bricks placed for it: ours (a pass ended between create and mark).
    expect(decideDeletion(deletion({ live: { kind: 'present', info: info() } }))).to.deep.equal({ kind: 'deleteVolume' });
  });

  it('nothing placed: the object goes and nothing is touched', () => {
    expect(decideDeletion(deletion({ placedBricks: undefined, gluster: undefined }))).to.include({ kind: 'keep', reason: 'NothingPlaced' });
  });

  it('observes Gluster and the PVs before deciding', () => {
    expect(decideDeletion(deletion({ live: undefined }))).to.deep.equal({ kind: 'observeLive' });
    expect(decideDeletion(deletion({ persistentVolumes: undefined }))).to.deep.equal({ kind: 'observePersistentVolumes' });
  });

  it('holdsVolume: Bound, or claimed while binding; not Released, Failed or unclaimed', () => {
    expect(holdsVolume({ name: 'a', phase: 'Bound' })).to.equal(true);
    expect(holdsVolume({ name: 'a', phase: 'Available', claim: 'x/y' })).to.equal(true);
    expect(holdsVolume({ name: 'a', phase: 'Available' })).to.equal(false);
    expect(holdsVolume({ name: 'a', phase: 'Released', claim: 'x/y' })).to.equal(false);
    expect(holdsVolume({ name: 'a', phase: 'Failed', claim: 'x/y' })).to.equal(false);
  });
});

describe('volume ownership and client-list', () => {
  it('ownershipOf reads the mark, then the bricks', () => {
    expect(ownershipOf(info({ options: { [OWNER_OPTION]: 'ns/data' } }), 'ns/data', undefined)).to.deep.equal({ kind: 'ours' });
    expect(ownershipOf(info(), 'ns/data', BRICKS)).to.deep.equal({ kind: 'oursUnmarked' });
    expect(ownershipOf(info(), 'ns/data', [...BRICKS].reverse())).to.deep.equal({ kind: 'unowned' });
    expect(ownershipOf(info(), 'ns/data', [])).to.deep.equal({ kind: 'unowned' });
    expect(ownershipOf(info({ options: { [OWNER_OPTION]: RELEASED_MARK } }), 'ns/data', undefined)).to.deep.equal({ kind: 'unowned' });
  });

  it('adoptionMismatch names the difference', () => {
    expect(adoptionMismatch(info(), REPLICA3, new Set(['10.0.0.1', '10.0.0.2', '10.0.0.3']))).to.equal(undefined);
    expect(adoptionMismatch(info(), { type: 'Replicate', replica: 2, arbiter: false }, new Set(['10.0.0.1', '10.0.0.2', '10.0.0.3']))).to.contain('replica 2');
  });

  it('parses client-list as glusterd 10.3 prints it, counting mounts and not Gluster’s daemons', () => {
    const one = [
      'Client connections for volume v',
      'Name                                                       count',
      '-----                                                     ------',
      'fuse                                                           1',
      'glustershd                                                     3',
      '',
      'total clients for volume v : 4 ',
      '-----------------------------------------------------------------',
      '',
    ].join('\n');
    const parsed = parseClientList(one);
    expect(parsed.total).to.equal(4);
    expect(userClients(parsed)).to.equal(1);
    const none = ['Client connections for volume v', '', 'total clients for volume v : 0 ', '-----------------------------------------------------------------', ''].join('\n');
    expect(userClients(parseClientList(none))).to.equal(0);
    expect(() => parseClientList('Volume v is not started')).to.throw(/total clients/);
  });
});

describe('GlusterVolume decisions: who may mount (auth.allow)', () => {
  const base = { ...placed, record: record({ glusterId: info().id }) };
  const nodesOnly = { kind: 'set' as const, value: '10.0.1.1,10.0.1.2' };

  it('a volume just created gets auth.allow with its owner mark, before it is started', () => {
    expect(decideVolume(world({ ...placed, clientAccess: nodesOnly, live: { kind: 'present', info: info() } }))).to.deep.equal({
      kind: 'markOwner',
      options: [['auth.allow', '10.0.1.1,10.0.1.2']],
    });
  });

  it('a started volume whose list differs gets it set, and the key is never recorded for a reset', () => {
    const open = marked({ status: 'Started' });
    expect(decideVolume(world({ ...base, clientAccess: nodesOnly, live: open }))).to.deep.equal({ kind: 'setOptions', options: [['auth.allow', '10.0.1.1,10.0.1.2']] });
    const current = marked({ status: 'Started', options: { [OWNER_OPTION]: 'ns/data', 'auth.allow': '10.0.1.1,10.0.1.2' } });
    expect(decideVolume(world({ ...base, clientAccess: nodesOnly, live: current }))).to.not.include({ kind: 'setOptions' });
    // With a spec option beside it, only the spec's key is recorded before the set.
    const withOption = world({ ...base, clientAccess: nodesOnly, specOptions: { 'performance.cache-size': '64MB' }, live: open });
    expect(decideVolume(withOption)).to.deep.equal({ kind: 'recordOptions', keys: ['performance.cache-size'] });
    expect(decideVolume({ ...withOption, appliedOptions: ['performance.cache-size'] })).to.deep.equal({
      kind: 'setOptions',
      options: [['performance.cache-size', '64MB'], ['auth.allow', '10.0.1.1,10.0.1.2']],
    });
  });

  it('Open is *, which a volume that never had the option already is', () => {
    const open = { kind: 'set' as const, value: '*' };
    expect(decideVolume(world({ ...base, clientAccess: open, live: marked({ status: 'Started' }) }))).to.not.include({ kind: 'setOptions' });
    const restricted = marked({ status: 'Started', options: { [OWNER_OPTION]: 'ns/data', 'auth.allow': '10.0.1.1' } });
    expect(decideVolume(world({ ...base, clientAccess: open, live: restricted }))).to.deep.equal({ kind: 'setOptions', options: [['auth.allow', '*']] });
  });

  it('unknown clients: nothing is placed, created or changed, the pass waits', () => {
    const unknown = { kind: 'unknown' as const, why: 'the Kubernetes nodes are not known yet' };
    expect(decideVolume(world({ clientAccess: unknown }))).to.include({ kind: 'wait', reason: 'WaitingForClientAccess' });
    expect(decideVolume(world({ ...base, clientAccess: unknown, live: marked({ status: 'Started' }) }))).to.include({ kind: 'wait', reason: 'WaitingForClientAccess' });
  });

  it('nobody allowed is NoClientsAllowed with what to set, before the volume is placed', () => {
    const step = decideVolume(world({ clientAccess: { kind: 'refused', why: 'spec.clientAccess of the GlusterCluster: no client may mount' } }));
    expect(step).to.include({ kind: 'fail', reason: 'NoClientsAllowed' });
  });

  it('an unmanaged (adopted) volume keeps whatever auth.allow it has', () => {
    const theirs = marked({ status: 'Started', options: { [OWNER_OPTION]: 'ns/data', 'auth.allow': '192.168.7.*' } });
    expect(decideVolume(world({ ...base, live: theirs }))).to.not.include({ kind: 'setOptions' });
  });
});

describe('client access: the auth.allow a volume wants', () => {
  const nodes = ['10.0.1.2', '10.0.1.1'];

  it('by default: the Kubernetes nodes and the pool\'s own servers, sorted, once each, and nothing else', () => {
    expect(wantedClientAccess({ clientAccess: undefined, adopted: false, kubernetesNodeAddresses: nodes, serverAddresses: [] })).to.deep.equal({ kind: 'set', value: '10.0.1.1,10.0.1.2' });
    // The servers always: a TLS volume admits its self-heal daemons only by address.
    expect(wantedClientAccess({ clientAccess: undefined, adopted: false, kubernetesNodeAddresses: nodes, serverAddresses: ['10.0.9.1', '10.0.1.1'] })).to.deep.equal({
      kind: 'set',
      value: '10.0.1.1,10.0.1.2,10.0.9.1',
    });
  });

  it('the listed addresses are added, once each; kubernetesNodes false leaves the nodes out', () => {
    const clientAccess = { ...DEFAULT_CLIENT_ACCESS, addresses: ['192.168.0.0/24', '10.0.1.1'] };
    expect(wantedClientAccess({ clientAccess, adopted: false, kubernetesNodeAddresses: nodes, serverAddresses: [] })).to.deep.equal({ kind: 'set', value: '10.0.1.1,10.0.1.2,192.168.0.0/24' });
    const behindNat = { ...clientAccess, kubernetesNodes: false };
    expect(wantedClientAccess({ clientAccess: behindNat, adopted: false, kubernetesNodeAddresses: undefined, serverAddresses: [] })).to.deep.equal({ kind: 'set', value: '10.0.1.1,192.168.0.0/24' });
  });

  it('an unsynced node cache is unknown, never an empty list', () => {
    expect(wantedClientAccess({ clientAccess: undefined, adopted: false, kubernetesNodeAddresses: undefined, serverAddresses: [] })).to.include({ kind: 'unknown' });
  });

  it('no node and no address is refused, naming the field', () => {
    const wanted = wantedClientAccess({ clientAccess: undefined, adopted: false, kubernetesNodeAddresses: [], serverAddresses: ['10.0.9.1'] });
    expect(wanted).to.include({ kind: 'refused' });
    expect((wanted as { why: string }).why).to.contain('spec.clientAccess.addresses');
  });

  it('Open is * whatever the nodes; adopted volumes are left alone unless adoptedVolumes is Restricted', () => {
    expect(wantedClientAccess({ clientAccess: { ...DEFAULT_CLIENT_ACCESS, mode: 'Open' }, adopted: false, kubernetesNodeAddresses: undefined, serverAddresses: [] })).to.deep.equal({ kind: 'set', value: '*' });
    expect(wantedClientAccess({ clientAccess: undefined, adopted: true, kubernetesNodeAddresses: nodes, serverAddresses: [] })).to.deep.equal({ kind: 'unmanaged' });
    const restrictAdopted = { ...DEFAULT_CLIENT_ACCESS, adoptedVolumes: 'Restricted' as const };
    expect(wantedClientAccess({ clientAccess: restrictAdopted, adopted: true, kubernetesNodeAddresses: nodes, serverAddresses: [] })).to.deep.equal({ kind: 'set', value: '10.0.1.1,10.0.1.2' });
  });

  it('node addresses: InternalIP only, each once', () => {
    const node = (...addresses: Array<[string, string]>) => ({ status: { addresses: addresses.map(([type, address]) => ({ type, address })) } });
    expect(internalAddressesOf([node(['InternalIP', '10.0.1.2'], ['Hostname', 'kn2']), node(['ExternalIP', '1.2.3.4'], ['InternalIP', '10.0.1.1']), node(['InternalIP', '10.0.1.2']), {}])).to.deep.equal([
      '10.0.1.1',
      '10.0.1.2',
    ]);
  });
});

describe('GlusterVolume decisions: TLS for I/O', () => {
  const base = { ...placed, record: record({ glusterId: info().id }) };
  const tls = { kind: 'on' as const, secretName: 'gluster-tls', secretNamespace: 'ns', dir: '/var/lib/gluster-operator/tls/ns/c', files: { 'ca.crt': 'CA', 'tls.crt': 'CRT', 'tls.key': 'KEY' } };
  const tlsOptions = [
    ['client.ssl', 'on'],
    ['server.ssl', 'on'],
    ['ssl.own-cert', '/var/lib/gluster-operator/tls/ns/c/tls.crt'],
    ['ssl.private-key', '/var/lib/gluster-operator/tls/ns/c/tls.key'],
    ['ssl.ca-list', '/var/lib/gluster-operator/tls/ns/c/ca.crt'],
  ];

  it('a new volume: the files reach the servers, then the TLS options come with the owner mark, before the start', () => {
    const fresh = world({ ...placed, tls, live: { kind: 'present', info: info({ status: 'Created' }) } });
    expect(decideVolume(fresh)).to.deep.equal({ kind: 'copyTls' });
    expect(decideVolume({ ...fresh, tlsCopied: true })).to.deep.equal({ kind: 'markOwner', options: tlsOptions });
    const withTls = marked({ status: 'Created', options: { [OWNER_OPTION]: 'ns/data', ...Object.fromEntries(tlsOptions) } });
    expect(decideVolume({ ...fresh, tlsCopied: true, live: withTls })).to.deep.equal({ kind: 'start' });
  });

  it('a volume started without TLS is left as it is (turning it on needs its bricks restarted)', () => {
    const running = world({ ...base, tls, live: marked({ status: 'Started' }) });
    expect(decideVolume(running)).to.not.deep.include({ kind: 'copyTls' });
    expect(decideVolume(running)).to.not.include({ kind: 'setOptions' });
  });

  it('a started TLS volume recorded in status needs no copy; one whose options drifted gets them back', () => {
    const drifted = marked({ status: 'Started', options: { [OWNER_OPTION]: 'ns/data', ...Object.fromEntries(tlsOptions), 'ssl.ca-list': '/elsewhere' } });
    expect(decideVolume(world({ ...base, tls, tlsRecorded: true, live: drifted }))).to.deep.equal({ kind: 'setOptions', options: [['ssl.ca-list', '/var/lib/gluster-operator/tls/ns/c/ca.crt']] });
  });

  it('a missing or incomplete Secret is TLSSecretInvalid, before anything is placed', () => {
    expect(decideVolume(world({ tls: { kind: 'invalid', why: 'Secret gluster-tls has no tls.key' } }))).to.include({ kind: 'fail', reason: 'TLSSecretInvalid' });
  });
});
