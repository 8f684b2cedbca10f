import { expect } from 'chai';
import { resolveCluster, volumeNamespaceFor, type ClusterResolution } from '../../src/provisioner/cluster-resolution.ts';
import { sampleCluster } from './provisioner-builders.test.ts';

const HEKETI_A = '630372ccdc720a92c681fb928f27b53f';
const HEKETI_B = '42d2f6e5c4f6b1d2e0e1a2b3c4d5e6f7';

const resolve = (clusterIds: string[], clusters = [sampleCluster('main', { heketiId: HEKETI_A }), sampleCluster('backup', { heketiId: HEKETI_B }), sampleCluster('plain')]) =>
  resolveCluster({ clusterIds }, clusters, 'storage');

function failed(resolution: ClusterResolution): string {
  if (resolution.resolved) throw new Error(`expected a failure, resolved to ${resolution.cluster}`);
  return resolution.message;
}

describe('provisioner: which GlusterCluster a StorageClass means (resolveCluster)', () => {
  it('matches clusterid by GlusterCluster name', () => {
    expect(resolve(['plain'])).to.deep.equal({ resolved: true, cluster: 'plain' });
  });

  it('matches a heketi id through the annotation the import writes', () => {
    expect(resolve([HEKETI_B])).to.deep.equal({ resolved: true, cluster: 'backup' });
  });

  it('takes the first entry of the comma list that resolves, in list order', () => {
    expect(resolve(['0123456789abcdef0123456789abcdef', HEKETI_B, HEKETI_A])).to.deep.equal({ resolved: true, cluster: 'backup' });
    expect(resolve([HEKETI_A, 'backup'])).to.deep.equal({ resolved: true, cluster: 'main' });
  });

  it('without clusterid, takes the only GlusterCluster of the namespace', () => {
    expect(resolve([], [sampleCluster('only')])).to.deep.equal({ resolved: true, cluster: 'only' });
  });

  it('without clusterid, fails naming every candidate (and what to set) when there are several', () => {
    const message = failed(resolve([]));
    expect(message).to.contain(`main (heketi id ${HEKETI_A}), backup (heketi id ${HEKETI_B}), plain`);
    expect(message).to.contain('namespace storage').and.to.contain('clusterid naming one of them');
  });

  it('without clusterid, fails when the namespace holds none, saying what to create or set', () => {
    const message = failed(resolve([], []));
    expect(message).to.contain('no GlusterCluster in namespace storage').and.to.contain('clusternamespace');
  });

  it('fails naming the candidates when heketi ids resolve nowhere (not imported)', () => {
    const message = failed(resolve(['0123456789abcdef0123456789abcdef']));
    expect(message).to.contain('0123456789abcdef0123456789abcdef').and.to.contain('kubectl gluster heketi import');
    expect(message).to.contain(`main (heketi id ${HEKETI_A}), backup`);
  });

  it('fails when one entry matches two clusters (a name and another cluster\'s heketi id)', () => {
    const clusters = [sampleCluster(HEKETI_A), sampleCluster('main', { heketiId: HEKETI_A })];
    const message = failed(resolve([HEKETI_A], clusters));
    expect(message).to.contain('several').and.to.contain(`${HEKETI_A}, main (heketi id ${HEKETI_A})`);
  });

  it('keeps a cluster name that matches nothing yet (the GlusterVolume waits for its cluster, as before)', () => {
    expect(resolve(['later'])).to.deep.equal({ resolved: true, cluster: 'later' });
    expect(resolve(['0123456789abcdef0123456789abcdef', 'later'], [])).to.deep.equal({ resolved: true, cluster: 'later' });
  });
});

describe('provisioner: the namespace of a claim’s GlusterVolume (pure)', () => {
  const inNamespace = (namespace: string, name: string, heketiId?: string) => {
    const cluster = sampleCluster(name, heketiId ? { heketiId } : {});
    return { ...cluster, metadata: { ...cluster.metadata, namespace } };
  };
  const base = { clusterNamespace: undefined, clusterIds: [] as string[], persistentVolumeNamespace: undefined, clustersEverywhere: [], defaultNamespace: 'gluster-operator' };

  it('takes clusternamespace first, then the namespace the claim’s PV names, then the default', () => {
    expect(volumeNamespaceFor({ ...base, clusterNamespace: 'storage', persistentVolumeNamespace: 'elsewhere' })).to.equal('storage');
    expect(volumeNamespaceFor({ ...base, persistentVolumeNamespace: 'elsewhere', clusterIds: [HEKETI_A], clustersEverywhere: [inNamespace('gluster', 'heketi', HEKETI_A)] })).to.equal('elsewhere');
    expect(volumeNamespaceFor(base)).to.equal('gluster-operator');
  });

  it('finds a heketi-era class’s cluster in any namespace by the heketi id the import recorded', () => {
    const everywhere = [inNamespace('gluster', 'heketi', HEKETI_A), inNamespace('other', 'plain')];
    expect(volumeNamespaceFor({ ...base, clusterIds: ['unknown0000000000000000000000000', HEKETI_A], clustersEverywhere: everywhere })).to.equal('gluster');
    expect(volumeNamespaceFor({ ...base, clusterIds: ['plain'], clustersEverywhere: everywhere }), 'names are looked up in the default namespace only').to.equal('gluster-operator');
  });

  it('does not guess when one heketi id is carried by clusters of two namespaces', () => {
    const everywhere = [inNamespace('a', 'one', HEKETI_A), inNamespace('b', 'two', HEKETI_A)];
    expect(volumeNamespaceFor({ ...base, clusterIds: [HEKETI_A], clustersEverywhere: everywhere })).to.equal('gluster-operator');
  });
});
