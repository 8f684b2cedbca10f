import { poolList, peerStatus } from '../../src/gluster/commands/gluster.ts';
import type { ClusterExecutor } from '../../src/gluster/executor.ts';
import type { NodeTarget } from '../../src/gluster/transport.ts';
import { eventually, notYet } from './eventually.ts';

/**
 * Waits until every node sees the whole pool connected and 'Peer in Cluster': membership reaches the other
 * glusterds asynchronously, and a volume created before that can fail half-way on a peer still joining.
 */
export async function waitForPool(executor: ClusterExecutor, nodes: readonly NodeTarget[]): Promise<void> {
  for (const node of nodes) {
    await eventually(`${node.name} sees the pool`, async () => {
      const pool = await executor.run(node, poolList());
      const peers = await executor.run(node, peerStatus());
      const settled = pool.length >= nodes.length && pool.every((p) => p.connected) && peers.every((p) => p.state === 'Peer in Cluster');
      return settled ? pool : notYet({ pool: pool.map((p) => `${p.hostname} connected=${p.connected}`), peers: peers.map((p) => `${p.hostname}: ${p.state}`) });
    }, 60_000);
  }
}
