import { expect } from 'chai';
import { GlusterNodesByKubeNode } from '../../src/operator/glusterd-pods.ts';

describe('glusterd pods → GlusterNodes', () => {
  const node = (namespace: string, name: string, manageAddress: string) => ({ metadata: { namespace, name }, spec: { manageAddress } });
  const pod = (namespace: string, nodeName?: string) => ({ metadata: { namespace, name: 'glusterd-x' }, spec: { nodeName } });

  it('maps a glusterd pod to the GlusterNodes of its namespace whose manageAddress is the pod\'s node', () => {
    const index = new GlusterNodesByKubeNode();
    index.observe(node('storage', 'server-a', 'kn1'));
    index.observe(node('storage', 'server-b', 'kn2'));
    index.observe(node('other', 'server-a', 'kn1'));
    expect(index.keysForPod(pod('storage', 'kn1'))).to.deep.equal(['storage/server-a']);
    expect(index.keysForPod(pod('other', 'kn1'))).to.deep.equal(['other/server-a']);
    expect(index.keysForPod(pod('storage', 'kn3'))).to.deep.equal([]);
  });

  it('ignores pods not yet scheduled and nodes without a manage address', () => {
    const index = new GlusterNodesByKubeNode();
    index.observe({ metadata: { namespace: 'storage', name: 'server-a' }, spec: {} } as Parameters<GlusterNodesByKubeNode['observe']>[0]);
    expect(index.keysForPod(pod('storage'))).to.deep.equal([]);
    expect(index.keysForPod(pod('storage', 'undefined'))).to.deep.equal([]);
  });

  it('keeps both keys when two GlusterNodes name the same Kubernetes node, and an old address stays harmless', () => {
    const index = new GlusterNodesByKubeNode();
    index.observe(node('storage', 'server-a', 'kn1'));
    index.observe(node('storage', 'server-b', 'kn1'));
    index.observe(node('storage', 'server-a', 'kn2'));
    expect(index.keysForPod(pod('storage', 'kn1'))).to.have.members(['storage/server-a', 'storage/server-b']);
    expect(index.keysForPod(pod('storage', 'kn2'))).to.deep.equal(['storage/server-a']);
  });
});
