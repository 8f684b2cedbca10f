import { expect } from 'chai';
import type * as k8s from '@kubernetes/client-node';
import { defaultGlusterVolumeName, glusterVolumeSchema, type GlusterVolume } from '../../src/api/index.ts';
import { parseRequest, publishRequestSchema } from '../../src/csi/requests.ts';
import { volumeHandleProblem } from '../../src/csi/volume-binding.ts';
import { objectNameFromHost, uniqueName } from '../../src/heketi/convert.ts';
import { buildCsiPersistentVolume } from '../../src/migration/build.ts';
import { persistentVolumeSchema, type InTreePersistentVolume } from '../../src/migration/objects.ts';
import { claimSchema, storageClassSchema } from '../../src/provisioner/kube-objects.ts';
import { buildPersistentVolume } from '../../src/provisioner/pv-builder.ts';
import { glusterVolumeNameFor, prefixedGlusterVolumeName } from '../../src/provisioner/volume-builder.ts';
import { randomHex, seededRandom } from '../../src/topology/random.ts';

const UID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const claim = claimSchema.parse({
  metadata: { name: 'data', namespace: 'team-a', uid: UID },
  spec: { storageClassName: 'gluster', accessModes: ['ReadWriteMany'], resources: { requests: { storage: '5Gi' } } },
});
const storageClass = storageClassSchema.parse({ metadata: { name: 'gluster' }, provisioner: 'gluster.gluster-operator.dev', parameters: { clusterid: 'prod' } });

/** A Ready GlusterVolume as the operator reports it: status.glusterVolumeName is the name it has in Gluster. */
function readyVolume(namespace: string, name: string, gluster: string, specName?: string): GlusterVolume {
  return glusterVolumeSchema.parse({
    apiVersion: 'storage.gluster-operator.dev/v1alpha1',
    kind: 'GlusterVolume',
    metadata: { name, namespace, generation: 1 },
    spec: { cluster: 'prod', size: '5Gi', reclaimPolicy: 'Delete', ...(specName !== undefined ? { glusterVolumeName: specName } : {}) },
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'VolumeStarted', message: '', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 1 }],
      mountSource: `10.77.0.11:${gluster}`,
      backupVolfileServers: ['10.77.0.12'],
      glusterVolumeName: gluster,
    },
  });
}

/** kubelet's NodePublishVolumeRequest for a PV, as it builds it from spec.csi and spec.mountOptions. */
function publishFor(pv: k8s.V1PersistentVolume) {
  return {
    volume_id: pv.spec!.csi!.volumeHandle,
    target_path: '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/pv/mount',
    volume_capability: { access_type: 'mount', mount: { fs_type: '', mount_flags: pv.spec!.mountOptions ?? [] }, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } },
    readonly: false,
    volume_context: pv.spec!.csi!.volumeAttributes,
  };
}

describe('CSI volume_id bound to its volume context', () => {
  it('publishes the PVs the provisioner makes: pvc-<uid> names, and volumenameprefix names', () => {
    for (const volumeNamePrefix of [undefined, 'app']) {
      const gluster = glusterVolumeNameFor(volumeNamePrefix === undefined ? {} : { volumeNamePrefix }, claim);
      const pv = buildPersistentVolume({ claim, storageClass: { ...storageClass, mountOptions: ['log-level=WARNING'] }, volume: readyVolume('gluster', `pvc-${UID}`, gluster, gluster) });
      const request = parseRequest(publishRequestSchema, publishFor(pv));
      expect(request.context.glusterVolumeName, String(volumeNamePrefix)).to.equal(gluster);
      expect(request.mountFlags).to.deep.equal(['log-level=WARNING']);
    }
  });

  it('publishes a PV of a GlusterVolume that sets no glusterVolumeName (the default name)', () => {
    for (const [namespace, name] of [['team-a', 'db'], ['team-a', 'web.cache'], ['n'.repeat(40), 'x'.repeat(40)]] as const) {
      const pv = buildPersistentVolume({ claim, storageClass, volume: readyVolume(namespace, name, defaultGlusterVolumeName(namespace, name)) });
      expect(() => parseRequest(publishRequestSchema, publishFor(pv)), `${namespace}/${name}`).not.to.throw();
    }
  });

  it('publishes the PVs `kubectl gluster migrate pvs` makes for GlusterVolumes the heketi import made', () => {
    const taken = new Set<string>();
    for (const heketiName of ['vol_0123456789abcdef0123456789abcdef', 'vol_0123456789abcdef0123456789abcdef', 'heketidbstorage', 'My_Data']) {
      const name = uniqueName(objectNameFromHost(heketiName), taken);
      const volume = readyVolume('gluster', name, heketiName, heketiName);
      const old = persistentVolumeSchema.parse({
        metadata: { name: `pv-${name}` },
        spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany'], glusterfs: { endpoints: 'glusterfs-cluster', path: heketiName } },
      }) as InTreePersistentVolume;
      const pv = buildCsiPersistentVolume({ name: `migrated-${name}`, old, volume });
      expect(() => parseRequest(publishRequestSchema, publishFor(pv)), `${name} → ${heketiName}`).not.to.throw();
    }
  });

  it('publishes the PV the provisioner makes for a directory of a shared volume (spec.directoryOf)', () => {
    const shared = readyVolume('gluster', `pvc-${UID}`, 'gluster_shared-1');
    const directory = glusterVolumeSchema.parse({
      ...shared,
      spec: { ...shared.spec, directoryOf: 'shared-1' },
      status: { ...shared.status, directory: `/pvc-${UID}` },
    });
    const request = parseRequest(publishRequestSchema, publishFor(buildPersistentVolume({ claim, storageClass, volume: directory })));
    expect(request.context.subdirectory).to.equal(`pvc-${UID}`);
    expect(request.context.glusterVolumeName).to.equal('gluster_shared-1');
  });

  it('accepts every volumenameprefix name prefixedGlusterVolumeName makes for the claim uid', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      const uid = `${randomHex(random, 8)}-${randomHex(random, 4)}-4${randomHex(random, 3)}-a${randomHex(random, 3)}-${randomHex(random, 12)}`;
      const gluster = prefixedGlusterVolumeName(`p${i % 7}`, `ns-${randomHex(random, 1 + (i % 50))}`, `claim-${randomHex(random, 1 + (i % 70))}`, uid);
      expect(volumeHandleProblem(`gluster/pvc-${uid}`, gluster), gluster).to.equal(undefined);
    }
  });

  it('refuses a volume_id that names another GlusterVolume than the one mounted, saying what would match', () => {
    const problem = volumeHandleProblem('team-a/db', 'team-b_payroll');
    expect(problem).to.contain('team-a/db').and.contain('team-a_db').and.contain('team-b_payroll');
    expect(volumeHandleProblem(`gluster/pvc-${UID}`, 'app_team-a_data_deadbeef')).to.match(/0f1e2d3c/);
    expect(volumeHandleProblem(`gluster/pvc-${UID}`, 'x_0f1e2d3c')).to.be.a('string');
    expect(volumeHandleProblem('gluster/vol-abc-1', 'vol_abc')).to.be.a('string');
    expect(volumeHandleProblem('gluster/vol-abc-2', 'vol_abc')).to.equal(undefined);
    expect(volumeHandleProblem('team-a_db', 'team-a_db')).to.match(/not <namespace>\/<GlusterVolume name>/);
  });

  it('binds a directory-mode PV by its directory: the subdirectory must be the handle\'s name, the shared volume\'s name is not checked', () => {
    expect(volumeHandleProblem(`team-a/pvc-${UID}`, 'team-a_shared', `pvc-${UID}`)).to.equal(undefined);
    expect(volumeHandleProblem('team-a/db', 'any_shared_volume', 'db')).to.equal(undefined);
    const problem = volumeHandleProblem('team-a/db', 'team-a_shared', 'web');
    expect(problem).to.contain('names GlusterVolume team-a/db, whose directory would be subdirectory db').and.contain('mounts directory web of team-a_shared');
    expect(problem).to.contain("Set the PV's volumeHandle to team-a/web");
    // Handles the whole-volume rules take for the shared volume do not take a directory of it.
    for (const handle of ['team-a/team-a-shared', 'team-a/shared']) {
      expect(volumeHandleProblem(handle, 'team-a_shared'), handle).to.equal(undefined);
      expect(volumeHandleProblem(handle, 'team-a_shared', 'web'), handle).to.be.a('string');
    }
    expect(volumeHandleProblem('team-a_db', 'team-a_shared', 'db')).to.match(/not <namespace>\/<GlusterVolume name>/);
  });
});
