import { expect } from 'chai';
import { glusterClusterSchema, glusterNodeSchema, glusterVolumeSchema } from '../../src/api/index.ts';
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
    expect(volume.spec.reclaimPolicy).to.equal('Delete');
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
