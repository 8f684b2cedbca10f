import { expect } from 'chai';
import { glusterClusterSchema, glusterNodeSchema, glusterVolumeSchema } from '../../src/api/index.ts';
import { customResourceDefinition, KINDS } from '../../src/crd/definitions.ts';
import { heldClusterChanges, heldNodeChanges, syncCluster, syncNode } from '../../src/operator/topology-sync.ts';
import { addVolume, emptyDatabase, findCluster, findNode } from '../../src/topology/model.ts';
import { GiB } from '../../src/topology/sizing.ts';
import { readSamples } from '../support/samples.ts';

const schemaByKind = {
  GlusterCluster: glusterClusterSchema,
  GlusterNode: glusterNodeSchema,
  GlusterVolume: glusterVolumeSchema,
} as const;

describe('API schemas (zod)', () => {
  it('parse every sample under manifests/samples', () => {
    const samples = readSamples();
    expect(samples.length).to.be.greaterThanOrEqual(5);
    for (const sample of samples) {
      const schema = schemaByKind[sample.kind as keyof typeof schemaByKind];
      expect(schema, `schema for ${sample.kind}`).to.not.equal(undefined);
      const result = schema.safeParse(sample);
      expect(result.success, `${sample.kind}/${sample.metadata.name}: ${result.error?.message}`).to.equal(true);
    }
  });

  it('fill the defaults users rely on', () => {
    const volume = glusterVolumeSchema.parse({
      apiVersion: 'storage.gluster-operator.dev/v1alpha1',
      kind: 'GlusterVolume',
      metadata: { name: 'v' },
      spec: { cluster: 'main', size: '1Gi' },
    });
    expect(volume.spec.durability).to.deep.equal({ type: 'Replicate', replicate: { replica: 3, arbiter: false } });
    expect(volume.spec.reclaimPolicy, 'data is kept unless the spec says Delete').to.equal('Retain');
    expect(volume.spec.snapshotFactor).to.equal(1);

    const node = glusterNodeSchema.parse({
      apiVersion: 'storage.gluster-operator.dev/v1alpha1',
      kind: 'GlusterNode',
      metadata: { name: 'n' },
      spec: { cluster: 'main', manageAddress: 'h1', storageAddress: '10.0.0.1', devices: [{ name: '/dev/sdb' }] },
    });
    expect(node.spec.devices[0]?.destroyData).to.equal(false);
    expect(node.spec.state).to.equal('Online');
    expect(node.spec.zone).to.equal('1');
  });

  it('refuse what the apiserver also refuses, naming the field', () => {
    const base = {
      apiVersion: 'storage.gluster-operator.dev/v1alpha1',
      kind: 'GlusterVolume',
      metadata: { name: 'v' },
    } as const;
    const cases: Array<[unknown, string]> = [
      [{ cluster: 'main', size: 10 }, 'size'],
      [{ cluster: 'main', size: '-1Gi' }, 'size'],
      [{ cluster: 'main', size: 'ten gigs' }, 'size'],
      [{ cluster: 'main', size: '1Gi', durability: { type: 'Replicate', replicate: { replica: 0 } } }, 'replica'],
      [{ cluster: 'Not_A_Name', size: '1Gi' }, 'cluster'],
    ];
    for (const [spec, field] of cases) {
      const result = glusterVolumeSchema.safeParse({ ...base, spec });
      expect(result.success, JSON.stringify(spec)).to.equal(false);
      expect(result.error!.issues.map((issue) => issue.path.join('.')).join(' ')).to.contain(field);
    }
  });
});

describe('fields brick names derive from (storageAddress, brickBackend, directoryRoot)', () => {
  const rootRules = (kind: string) =>
    ((customResourceDefinition(KINDS.find((k) => k.kind === kind)!) as any).spec.versions[0].schema.openAPIV3Schema['x-kubernetes-validations'] ?? []) as Array<{
      rule: string;
      message: string;
      fieldPath: string;
    }>;

  it('the CRDs refuse a change while status.bricks says bricks exist, with a rule at the object root naming the field', () => {
    const [address] = rootRules('GlusterNode');
    expect(address!.fieldPath).to.equal('.spec.storageAddress');
    expect(address!.rule).to.contain('oldSelf.status.bricks == 0').and.contain('self.spec.storageAddress == oldSelf.spec.storageAddress');
    expect(address!.message).to.match(/^spec\.storageAddress cannot change while bricks are on this node.*Move the bricks away first/);
    const cluster = rootRules('GlusterCluster');
    expect(cluster.map((rule) => rule.fieldPath)).to.deep.equal(['.spec.brickBackend', '.spec.directoryRoot']);
    for (const rule of cluster) expect(rule.rule).to.match(/^!has\(oldSelf\.status\) \|\| !has\(oldSelf\.status\.bricks\) \|\| oldSelf\.status\.bricks == 0 \|\| /);
    expect(cluster[1]!.message).to.match(/^spec\.directoryRoot cannot change while the cluster has bricks/);
    expect(rootRules('GlusterVolume')).to.deep.equal([]);
  });

  const clusterCr = (spec: Record<string, unknown>) =>
    glusterClusterSchema.parse({ apiVersion: 'storage.gluster-operator.dev/v1alpha1', kind: 'GlusterCluster', metadata: { name: 'main', namespace: 'ns' }, spec: { access: { mode: 'InCluster' }, ...spec } });
  const nodeCr = (storageAddress: string, zone = '1') =>
    glusterNodeSchema.parse({ apiVersion: 'storage.gluster-operator.dev/v1alpha1', kind: 'GlusterNode', metadata: { name: 'n1', namespace: 'ns' }, spec: { cluster: 'main', manageAddress: 'h1', storageAddress, zone } });
  const loopFile = clusterCr({ brickBackend: 'LoopFile', directoryRoot: '/bricks' });
  const synced = syncNode(syncCluster(emptyDatabase(), loopFile), nodeCr('10.0.0.1'));
  const withDevice = { ...synced, generation: synced.generation + 1, devices: [{ id: 'd1', node: 'ns/n1', name: '/bricks', size: 100 * GiB, state: 'Online' as const, vg: 'vg_d1' }] };
  const withBrick = addVolume(withDevice, {
    name: 'ns/v', cluster: 'ns/main', gluster: 'ns_v', durability: { type: 'None' }, size: GiB, sets: 1, snapshotFactor: 1,
    bricks: [{ id: 'a'.repeat(16), device: 'd1', size: GiB, set: 0 }],
  });

  it('the reconcilers keep the recorded storageAddress while the node holds bricks, and say so', () => {
    const moved = nodeCr('10.0.0.9', '2');
    expect(heldNodeChanges(withBrick, moved)).to.deep.equal([{ field: 'spec.storageAddress', from: '10.0.0.1', to: '10.0.0.9', bricks: 1 }]);
    const after = syncNode(withBrick, moved);
    expect(findNode(after, 'ns/n1')).to.include({ storage: '10.0.0.1', zone: '2' });
    // Without bricks the new address is taken.
    expect(heldNodeChanges(withDevice, moved)).to.deep.equal([]);
    expect(findNode(syncNode(withDevice, moved), 'ns/n1')!.storage).to.equal('10.0.0.9');
  });

  it('the reconcilers keep the recorded brickBackend and directoryRoot while the cluster has bricks, and say so', () => {
    const changed = clusterCr({ brickBackend: 'Directory', directoryRoot: '/elsewhere', zoneChecking: 'Strict' });
    expect(heldClusterChanges(withBrick, changed)).to.deep.equal([
      { field: 'spec.brickBackend', from: 'LoopFile', to: 'Directory', bricks: 1 },
      { field: 'spec.directoryRoot', from: '/bricks', to: '/elsewhere', bricks: 1 },
    ]);
    expect(findCluster(syncCluster(withBrick, changed), 'ns/main')).to.include({ brickBackend: 'LoopFile', directoryRoot: '/bricks', zoneChecking: 'Strict' });
    expect(heldClusterChanges(withBrick, clusterCr({ brickBackend: 'LVM' }))).to.deep.include({ field: 'spec.directoryRoot', from: '/bricks', to: '(unset)', bricks: 1 });
    expect(findCluster(syncCluster(withDevice, changed), 'ns/main')).to.include({ brickBackend: 'Directory', directoryRoot: '/elsewhere' });
  });
});
