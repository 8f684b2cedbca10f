import { expect } from 'chai';
import { loadOperatorConfig } from '../../src/operator/config.ts';
import { claimClassName, classService, IN_TREE_GRACE_MS, inTreeGraceLeftMs, persistentVolumeClassName } from '../../src/provisioner/claim-class.ts';
import { gidsInUse } from '../../src/provisioner/gid-allocator.ts';
import { claimSchema, persistentVolumeSchema } from '../../src/provisioner/kube-objects.ts';
import { sampleClass } from './provisioner-builders.test.ts';

const BETA = 'volume.beta.kubernetes.io/storage-class';

function claim(annotations: Record<string, string> | undefined, storageClassName: string | undefined, creationTimestamp?: string) {
  return claimSchema.parse({
    metadata: { name: 'c', namespace: 'ns', uid: 'u', ...(annotations ? { annotations } : {}), ...(creationTimestamp ? { creationTimestamp } : {}) },
    spec: storageClassName === undefined ? {} : { storageClassName },
  });
}

describe('provisioner: the class a claim names (GetPersistentVolumeClaimClass)', () => {
  it('reads spec.storageClassName', () => {
    expect(claimClassName(claim(undefined, 'fast'))).to.equal('fast');
  });
  it('reads the beta annotation when the field is unset (StatefulSet templates of old)', () => {
    expect(claimClassName(claim({ [BETA]: 'old' }, undefined))).to.equal('old');
  });
  it('lets the beta annotation win over the field, as Kubernetes does', () => {
    expect(claimClassName(claim({ [BETA]: 'old' }, 'fast'))).to.equal('old');
  });
  it('takes an empty beta annotation as "no class", even with the field set', () => {
    expect(claimClassName(claim({ [BETA]: '' }, 'fast'))).to.equal(undefined);
  });
  it('has no class when both are absent or the field is empty (the default class is filled in by admission)', () => {
    expect(claimClassName(claim(undefined, undefined))).to.equal(undefined);
    expect(claimClassName(claim({ other: 'x' }, ''))).to.equal(undefined);
  });
  it('reads a PV the same way, so GIDs of in-tree PVs that carry only the annotation count for their class', () => {
    const pv = (annotations: Record<string, string>, storageClassName?: string) =>
      persistentVolumeSchema.parse({ metadata: { name: 'p', annotations }, spec: storageClassName ? { storageClassName } : {} });
    expect(persistentVolumeClassName(pv({ [BETA]: 'old' }, 'fast'))).to.equal('old');
    expect(persistentVolumeClassName(pv({}, 'fast'))).to.equal('fast');
    const used = gidsInUse('old', [pv({ [BETA]: 'old', 'pv.beta.kubernetes.io/gid': '2001' }), pv({ 'pv.beta.kubernetes.io/gid': '2002' }, 'old'), pv({ 'pv.beta.kubernetes.io/gid': '2003' }, 'fast')], []);
    expect([...used].sort()).to.deep.equal([2001, 2002]);
  });
});

describe('provisioner: which classes are served', () => {
  it('serves our driver\'s classes always, in-tree glusterfs classes when the setting allows, nothing else', () => {
    expect(classService(sampleClass(), false)).to.equal('driver');
    expect(classService(sampleClass({ provisioner: 'kubernetes.io/glusterfs' }), true)).to.equal('inTree');
    expect(classService(sampleClass({ provisioner: 'kubernetes.io/glusterfs' }), false)).to.equal(undefined);
    expect(classService(sampleClass({ provisioner: 'gluster.org/glusterfile' }), true)).to.equal(undefined);
    expect(classService(undefined, true)).to.equal(undefined);
  });

  it('the operator setting SERVE_IN_TREE_GLUSTERFS_CLASSES defaults to true and takes only true or false', () => {
    expect(loadOperatorConfig({}).serveInTreeGlusterfsClasses).to.equal(true);
    expect(loadOperatorConfig({ SERVE_IN_TREE_GLUSTERFS_CLASSES: 'false' }).serveInTreeGlusterfsClasses).to.equal(false);
    expect(() => loadOperatorConfig({ SERVE_IN_TREE_GLUSTERFS_CLASSES: 'no' })).to.throw('SERVE_IN_TREE_GLUSTERFS_CLASSES');
  });

  it('counts the in-tree grace from creationTimestamp', () => {
    const created = '2025-06-01T12:00:00Z';
    const at = Date.parse(created);
    expect(IN_TREE_GRACE_MS).to.equal(5_000);
    expect(inTreeGraceLeftMs(claim(undefined, 'x', created), at)).to.equal(5_000);
    expect(inTreeGraceLeftMs(claim(undefined, 'x', created), at + 3_000)).to.equal(2_000);
    expect(inTreeGraceLeftMs(claim(undefined, 'x', created), at + 60_000)).to.equal(0);
    expect(inTreeGraceLeftMs(claim(undefined, 'x'), at)).to.equal(0);
  });
});
