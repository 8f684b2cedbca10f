import { expect } from 'chai';
import { convertHeketiTopology, objectNameFromHost } from '../../src/heketi/convert.ts';
import { HeketiTopologyError, parseHeketiTopology } from '../../src/heketi/topology-file.ts';

const options = { clusterName: 'gluster', mode: 'External' as const, sshSecret: 'gluster-ssh' };

function problems(text: string): string[] {
  try {
    parseHeketiTopology(text);
  } catch (error) {
    if (error instanceof HeketiTopologyError) return error.problems;
    throw error;
  }
  return [];
}

describe('heketi topology file', () => {
  it('derives DNS-1123 object names from manage hostnames and addresses', () => {
    expect(objectNameFromHost('kube-node1')).to.equal('kube-node1');
    expect(objectNameFromHost('Storage-A.Example.com')).to.equal('storage-a.example.com');
    expect(objectNameFromHost('172.16.10.101')).to.equal('172.16.10.101');
    expect(objectNameFromHost('fd00::1')).to.equal('fd00-1');
    expect(objectNameFromHost('::1')).to.equal('1');
    expect(objectNameFromHost('a'.repeat(300)).length).to.be.at.most(253);
  });

  it('lists every problem at once, each naming the node (index and hostname) and the field', () => {
    const text = JSON.stringify({
      clusters: [
        {
          nodes: [
            { node: { hostnames: { manage: ['ok-1'], storage: ['10.0.0.1'] }, zone: 1 }, devices: ['/dev/sdb', '/dev/sdb'] },
            { node: { hostnames: { manage: ['bad host'], storage: [] }, zone: 1 }, devices: [] },
            { node: { hostnames: { manage: ['ok-3'], storage: ['10.0.0.3'] }, zone: 'zone a' }, devices: [{ destroydata: true }] },
          ],
        },
      ],
    });
    expect(problems(text)).to.deep.equal([
      'cluster 1, node 2 (bad host): node.hostnames.manage[0]: must be a DNS name or an IP address',
      'cluster 1, node 2 (bad host): node.hostnames.storage: needs at least one address',
      'cluster 1, node 3 (ok-3): node.zone: must be a number or a label-like value such as 1 or eu-west-1a',
      'cluster 1, node 3 (ok-3): devices[0]: must be a device path such as /dev/sdb or an object {"name": "/dev/sdb", "destroydata": false}',
    ]);
    // Structural problems first; duplicates are checked once the shapes are right.
    expect(problems(JSON.stringify({ clusters: [{ nodes: [JSON.parse(text).clusters[0].nodes[0]] }] }))).to.deep.equal([
      'cluster 1, node 1 (ok-1): devices[1]: device /dev/sdb is listed twice',
    ]);
    expect(problems('{"clusters": []}')).to.deep.equal(['clusters: needs at least one cluster']);
    expect(problems('[')[0]).to.match(/^not valid JSON: /);
  });

  it('converts zones to strings, defaults a missing zone to 1, and keeps node and device tags', () => {
    const topology = parseHeketiTopology(
      JSON.stringify({
        clusters: [
          {
            nodes: [
              { node: { hostnames: { manage: ['n1'], storage: ['10.0.0.1'] }, zone: 3, tags: { rack: 'r9' } }, devices: [{ name: '/dev/sdb', tags: { class: 'ssd' } }] },
              { node: { hostnames: { manage: ['n2'], storage: ['10.0.0.2'] } } },
            ],
          },
        ],
      }),
    );
    const { clusters, nodes, warnings } = convertHeketiTopology(topology, { ...options, namespace: 'storage' });
    expect(clusters).to.have.length(1);
    expect(warnings).to.deep.equal([]);
    expect(nodes.map((n) => [n.metadata.name, n.metadata.namespace, n.spec.zone, n.spec.tags, n.spec.devices])).to.deep.equal([
      ['n1', 'storage', '3', { rack: 'r9' }, [{ name: '/dev/sdb', destroyData: false, tags: { class: 'ssd' } }]],
      ['n2', 'storage', '1', undefined, []],
    ]);
  });
});
