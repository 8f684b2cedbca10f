import { expect } from 'chai';
import type { GlusterVolume } from '../../src/api/index.ts';
import { HEKETI_VOLUME_ID_ANNOTATION } from '../../src/heketi/annotations.ts';
import { csiPersistentVolumeName, objectNameOf } from '../../src/migration/names.ts';
import { ANN_MIGRATED_FROM_PV, type Claim, type InTreePersistentVolume, type NamespacedObject, type PersistentVolume } from '../../src/migration/objects.ts';
import { planMigration, planRollback, type Plan, type PvWorld, type Step } from '../../src/migration/plan.ts';
import { parseRecord, recordConfigMap, type MigrationRecord } from '../../src/migration/record.ts';

const OLD = 'pvc-0b1c2d3e-0000-4000-8000-000000000001';
const CSI = csiPersistentVolumeName(OLD);

function oldPv(overrides: Partial<InTreePersistentVolume['spec']> = {}, annotations: Record<string, string> = {}): InTreePersistentVolume {
  return {
    metadata: { name: OLD, uid: 'old-pv-uid', annotations: { 'pv.beta.kubernetes.io/gid': '2001', 'gluster.kubernetes.io/heketi-volume-id': 'aaaa', ...annotations } },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteMany'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'gluster-heketi',
      claimRef: { namespace: 'app', name: 'data', uid: 'claim-uid-1' },
      glusterfs: { endpoints: 'glusterfs-dynamic-data', path: 'vol_aaaa' },
      ...overrides,
    },
    status: { phase: 'Bound' },
  };
}

function claim(volumeName: string, uid = 'claim-uid-1', extra: Partial<Claim['metadata']> = {}, phase = 'Bound'): Claim {
  return {
    metadata: { name: 'data', namespace: 'app', uid, labels: { app: 'db' }, annotations: { keep: 'me', 'pv.kubernetes.io/bind-completed': 'yes' }, ...extra },
    spec: { accessModes: ['ReadWriteMany'], storageClassName: 'gluster-heketi', volumeName, resources: { requests: { storage: '1Gi' } } },
    status: { phase },
  };
}

function glusterVolume(overrides: { ready?: boolean; heketiId?: string; hosts?: string[]; name?: string } = {}): GlusterVolume {
  const hosts = overrides.hosts ?? ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
  return {
    apiVersion: 'storage.gluster-operator.dev/v1alpha1',
    kind: 'GlusterVolume',
    metadata: { name: overrides.name ?? 'vol-aaaa', namespace: 'gluster', annotations: { [HEKETI_VOLUME_ID_ANNOTATION]: overrides.heketiId ?? 'aaaa' } },
    spec: { cluster: 'heketi', size: '1Gi', glusterVolumeName: 'vol_aaaa', adoptExisting: true, reclaimPolicy: 'Retain' },
    status: {
      glusterVolumeName: 'vol_aaaa',
      mountSource: `${hosts[0]}:vol_aaaa`,
      bricks: hosts.map((host) => ({ path: `${host}:/var/lib/heketi/mounts/vg_1/brick_1/brick` })),
      conditions: [{ type: 'Ready', status: overrides.ready === false ? 'False' : 'True', reason: 'VolumeStarted', lastTransitionTime: '2026-12-01T00:00:00Z' }],
    },
  } as unknown as GlusterVolume;
}

const endpoints = (ips = ['10.0.0.1', '10.0.0.2'], uid = 'ep-uid'): NamespacedObject =>
  ({ metadata: { name: 'glusterfs-dynamic-data', namespace: 'app', uid }, subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [{ port: 1 }] }] }) as NamespacedObject;
const service = (uid = 'svc-uid'): NamespacedObject => ({ metadata: { name: 'glusterfs-dynamic-data', namespace: 'app', uid }, spec: { ports: [{ port: 1 }] } }) as NamespacedObject;

function csiPv(from = OLD, policy = 'Retain'): PersistentVolume {
  return { metadata: { name: CSI, uid: 'csi-uid', annotations: { [ANN_MIGRATED_FROM_PV]: from } }, spec: { persistentVolumeReclaimPolicy: policy }, status: { phase: 'Bound' } };
}

function freshWorld(overrides: Partial<PvWorld> = {}): PvWorld {
  return { old: oldPv(), record: undefined, volumes: [glusterVolume()], csiPv: undefined, claim: claim(OLD), podsUsingClaim: [], endpoints: endpoints(), service: service(), ...overrides };
}

function savedRecord(phase: 'Saved' | 'Migrated' = 'Saved'): MigrationRecord {
  return { namespace: 'gluster', name: `migration-${OLD}`, phase, glusterVolume: 'gluster/vol-aaaa', persistentVolume: oldPv(), claim: claim(OLD), endpoints: endpoints(), service: service() };
}

const kinds = (plan: Plan) => (plan.outcome === 'steps' ? plan.steps.map((step) => step.kind) : plan.problems);
function steps(plan: Plan): Step[] {
  if (plan.outcome !== 'steps') throw new Error(`refused: ${plan.problems.join('; ')}`);
  return plan.steps;
}
function problems(plan: Plan): string {
  if (plan.outcome !== 'refused') throw new Error(`not refused: ${plan.steps.map((s) => s.kind).join(', ')}`);
  return plan.problems.join('; ');
}

describe('migrate pvs: planning a migration (pure)', () => {
  it('plans every step from a bound in-tree PV, in order, ending with the in-tree Endpoints and Service', () => {
    expect(kinds(planMigration(freshWorld()))).to.deep.equal([
      'save', 'setReclaimPolicy', 'createPersistentVolume', 'deleteClaim', 'waitClaimGone', 'createClaim', 'waitBound', 'deleteObject', 'deleteObject', 'markMigrated',
    ]);
  });

  it('saves the PV, the claim, the Endpoints and the Service as they are, next to the GlusterVolume', () => {
    const save = steps(planMigration(freshWorld()))[0] as Extract<Step, { kind: 'save' }>;
    expect(save.record.namespace).to.equal('gluster');
    expect(save.record.persistentVolume.metadata.name).to.equal(OLD);
    expect(save.record.claim?.metadata.uid).to.equal('claim-uid-1');
    expect(save.record.endpoints?.metadata.uid).to.equal('ep-uid');
    expect(save.record.service?.metadata.uid).to.equal('svc-uid');
    const back = parseRecord(JSON.parse(JSON.stringify(recordConfigMap(save.record))));
    expect(back).to.deep.equal(save.record);
  });

  it('builds the CSI PV for the same Gluster volume: Retain, same capacity, modes and class, gid carried, pre-bound by name', () => {
    const create = steps(planMigration(freshWorld())).find((step) => step.kind === 'createPersistentVolume') as Extract<Step, { kind: 'createPersistentVolume' }>;
    const pv = create.persistentVolume;
    expect(pv.metadata?.name).to.equal(CSI);
    expect(pv.metadata?.annotations).to.include({ [ANN_MIGRATED_FROM_PV]: OLD, 'pv.beta.kubernetes.io/gid': '2001' });
    expect(pv.metadata?.annotations).to.not.have.property('pv.kubernetes.io/provisioned-by');
    expect(pv.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
    expect(pv.spec?.capacity).to.deep.equal({ storage: '1Gi' });
    expect(pv.spec?.accessModes).to.deep.equal(['ReadWriteMany']);
    expect(pv.spec?.storageClassName).to.equal('gluster-heketi');
    expect(pv.spec?.claimRef).to.deep.include({ namespace: 'app', name: 'data' });
    expect(pv.spec?.claimRef).to.not.have.property('uid');
    expect(pv.spec?.csi?.volumeHandle).to.equal('gluster/vol-aaaa');
    expect(pv.spec?.csi?.volumeAttributes).to.deep.include({ mountSource: '10.0.0.1:vol_aaaa', glusterVolumeName: 'vol_aaaa', gid: '2001' });
  });

  it('gives the CSI PV of a TLS volume its tlsDir and the cluster\'s Secret as nodePublishSecretRef', () => {
    const volume = glusterVolume();
    volume.status!.tls = { secretName: 'heketi-tls', secretNamespace: 'gluster', dir: '/var/lib/gluster-operator/tls/gluster/heketi' };
    const create = steps(planMigration(freshWorld({ volumes: [volume] }))).find((step) => step.kind === 'createPersistentVolume') as Extract<Step, { kind: 'createPersistentVolume' }>;
    expect(create.persistentVolume.spec?.csi?.volumeAttributes).to.include({ tlsDir: '/var/lib/gluster-operator/tls/gluster/heketi' });
    expect(create.persistentVolume.spec?.csi?.nodePublishSecretRef).to.deep.equal({ name: 'heketi-tls', namespace: 'gluster' });
  });

  it('recreates the claim with its labels and annotations, bound to the CSI PV, without the binder’s annotations or uid', () => {
    const create = steps(planMigration(freshWorld())).find((step) => step.kind === 'createClaim') as Extract<Step, { kind: 'createClaim' }>;
    expect(create.claim.metadata?.name).to.equal('data');
    expect(create.claim.metadata?.labels).to.deep.equal({ app: 'db' });
    expect(create.claim.metadata?.annotations).to.deep.equal({ keep: 'me', [ANN_MIGRATED_FROM_PV]: OLD });
    expect(create.claim.metadata).to.not.have.property('uid');
    expect(create.claim.metadata).to.not.have.property('resourceVersion');
    expect(create.claim.spec?.volumeName).to.equal(CSI);
    expect(create.claim).to.not.have.property('status');
  });

  it('refuses, changing nothing, while a pod uses the claim, and names the pods', () => {
    const message = problems(planMigration(freshWorld({ podsUsingClaim: ['app/db-0', 'app/db-1'] })));
    expect(message).to.contain('app/db-0, app/db-1').and.contain('scale the workload to 0');
  });

  it('refuses a PV no Ready GlusterVolume can serve: none, several, not Ready, another heketi volume id, other servers', () => {
    expect(problems(planMigration(freshWorld({ volumes: [] })))).to.contain('no GlusterVolume manages Gluster volume vol_aaaa').and.contain('heketi import');
    expect(problems(planMigration(freshWorld({ volumes: [glusterVolume(), glusterVolume({ name: 'other' })] })))).to.contain('several GlusterVolumes');
    expect(problems(planMigration(freshWorld({ volumes: [glusterVolume({ ready: false })] })))).to.contain('is not Ready');
    expect(problems(planMigration(freshWorld({ volumes: [glusterVolume({ heketiId: 'bbbb' })] })))).to.contain('heketi volume aaaa').and.contain('heketi volume bbbb');
    expect(problems(planMigration(freshWorld({ endpoints: endpoints(['192.168.9.9']) })))).to.contain('another Gluster cluster');
  });

  it('refuses a PV without a claim, or whose claim is another one now', () => {
    expect(problems(planMigration(freshWorld({ old: oldPv({ claimRef: undefined }), claim: undefined })))).to.contain('migrate pvs moves bound claims');
    expect(problems(planMigration(freshWorld({ claim: claim(OLD, 'someone-else') })))).to.contain('no longer exists');
    expect(problems(planMigration(freshWorld({ claim: claim('elsewhere') })))).to.contain('not ' + OLD);
  });

  it('refuses when a PV of the CSI name exists that migrate pvs did not make', () => {
    expect(problems(planMigration(freshWorld({ csiPv: csiPv('another-pv') })))).to.contain('was not made from');
  });

  it('resumes where a killed run stopped: after the save it never saves again; after each step the rest is left', () => {
    const record = savedRecord();
    expect(kinds(planMigration(freshWorld({ record })))).to.deep.equal(['setReclaimPolicy', 'createPersistentVolume', 'deleteClaim', 'waitClaimGone', 'createClaim', 'waitBound', 'deleteObject', 'deleteObject', 'markMigrated']);
    const retained = oldPv({ persistentVolumeReclaimPolicy: 'Retain' });
    expect(kinds(planMigration(freshWorld({ record, old: retained })))[0]).to.equal('createPersistentVolume');
    expect(kinds(planMigration(freshWorld({ record, old: retained, csiPv: csiPv() })))[0]).to.equal('deleteClaim');
    const deleting = claim(OLD, 'claim-uid-1', { deletionTimestamp: '2026-12-01T00:00:00Z' });
    expect(kinds(planMigration(freshWorld({ record, old: retained, csiPv: csiPv(), claim: deleting })))[0]).to.equal('waitClaimGone');
    expect(kinds(planMigration(freshWorld({ record, old: retained, csiPv: csiPv(), claim: undefined })))[0]).to.equal('createClaim');
    expect(kinds(planMigration(freshWorld({ record, old: retained, csiPv: csiPv(), claim: claim(CSI, 'new-uid', {}, 'Pending') })))[0]).to.equal('waitBound');
    expect(kinds(planMigration(freshWorld({ record, old: retained, csiPv: csiPv(), claim: claim(CSI, 'new-uid') })))).to.deep.equal(['deleteObject', 'deleteObject', 'markMigrated']);
    expect(kinds(planMigration(freshWorld({ record: savedRecord('Migrated'), old: retained, csiPv: csiPv(), claim: claim(CSI, 'new-uid'), endpoints: undefined, service: undefined })))).to.deep.equal([]);
  });

  it('once saved, needs no GlusterVolume for steps that do not build the CSI PV, and refuses if the volume is needed and gone', () => {
    const retained = oldPv({ persistentVolumeReclaimPolicy: 'Retain' });
    expect(kinds(planMigration(freshWorld({ record: savedRecord(), old: retained, csiPv: csiPv(), volumes: [] })))[0]).to.equal('deleteClaim');
    expect(problems(planMigration(freshWorld({ record: savedRecord(), old: retained, volumes: [] })))).to.contain('no GlusterVolume');
  });

  it('removes only the Endpoints and Service it saved (same uid), never ones made since under that name', () => {
    const retained = oldPv({ persistentVolumeReclaimPolicy: 'Retain' });
    const world = freshWorld({ record: savedRecord(), old: retained, csiPv: csiPv(), claim: claim(CSI, 'new-uid'), endpoints: endpoints(undefined, 'recreated'), service: service('recreated') });
    expect(kinds(planMigration(world))).to.deep.equal(['markMigrated']);
  });

  it('a claim bound to some third PV is refused and not touched', () => {
    expect(problems(planMigration(freshWorld({ record: savedRecord(), claim: claim('pv-elsewhere', 'x') })))).to.contain('neither');
  });
});

describe('migrate pvs: planning a rollback (pure)', () => {
  const migrated = () =>
    freshWorld({ record: savedRecord('Migrated'), old: { ...oldPv({ persistentVolumeReclaimPolicy: 'Retain' }), status: { phase: 'Released' } }, csiPv: csiPv(), claim: claim(CSI, 'new-uid'), endpoints: undefined, service: undefined });

  it('refuses a PV that was never migrated', () => {
    expect(problems(planRollback(freshWorld()))).to.contain('nothing to roll back');
  });

  it('plans the way back: claim off the CSI PV, CSI PV removed, old PV freed, claim recreated on it, objects and policy restored, record forgotten', () => {
    expect(kinds(planRollback(migrated()))).to.deep.equal([
      'deleteClaim', 'waitClaimGone', 'deletePersistentVolume', 'unbindPersistentVolume', 'createClaim', 'waitBound', 'restoreObject', 'restoreObject', 'setReclaimPolicy', 'forget',
    ]);
    const all = steps(planRollback(migrated()));
    const policy = all.find((step) => step.kind === 'setReclaimPolicy') as Extract<Step, { kind: 'setReclaimPolicy' }>;
    expect(policy).to.deep.include({ persistentVolume: OLD, policy: 'Delete' });
    const restored = all.find((step) => step.kind === 'createClaim') as Extract<Step, { kind: 'createClaim' }>;
    expect(restored.claim.spec?.volumeName).to.equal(OLD);
    expect(restored.claim.metadata?.annotations).to.not.have.property(ANN_MIGRATED_FROM_PV);
    const endpointsBack = all.find((step) => step.kind === 'restoreObject') as Extract<Step, { kind: 'restoreObject' }>;
    expect(endpointsBack.object.metadata).to.not.have.property('uid');
  });

  it('refuses while a pod uses the migrated claim', () => {
    expect(problems(planRollback({ ...migrated(), podsUsingClaim: ['app/db-0'] }))).to.contain('app/db-0');
  });

  it('sets a CSI PV switched to Delete back to Retain before deleting it, so the Gluster volume is never reclaimed', () => {
    expect(kinds(planRollback({ ...migrated(), claim: undefined, csiPv: csiPv(OLD, 'Delete') })).slice(0, 2)).to.deep.equal(['setReclaimPolicy', 'deletePersistentVolume']);
  });

  it('resumes: once the claim is back on the old PV and Bound, only the objects, the policy and the record are left', () => {
    const back = { ...migrated(), csiPv: undefined, old: oldPv({ persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'app', name: 'data', uid: 'restored-uid' } }), claim: claim(OLD, 'restored-uid') };
    expect(kinds(planRollback(back))).to.deep.equal(['restoreObject', 'restoreObject', 'setReclaimPolicy', 'forget']);
  });
});

describe('migrate pvs: names', () => {
  it('keeps names within 253 characters, distinct for distinct long names', () => {
    const a = objectNameOf('gluster', 'x'.repeat(250) + 'a');
    const b = objectNameOf('gluster', 'x'.repeat(250) + 'b');
    expect(a.length).to.be.at.most(253);
    expect(a).to.not.equal(b);
    expect(csiPersistentVolumeName(OLD)).to.equal(`gluster-${OLD}`);
  });
});
