import { expect } from 'chai';
import { addCluster, type TopologyDatabase } from '../../src/topology/model.ts';
import type { LoadResult, SaveResult } from '../../src/topology/backup/secret-store.ts';
import type { ClusterObservation } from '../../src/topology/rebuild/observe.ts';
import { TopologyStore, type BackupBackend } from '../../src/topology/store.ts';

function backend(initial: LoadResult<TopologyDatabase> = { state: 'missing' }) {
  const saved: number[] = [];
  const api: BackupBackend = {
    load: async () => initial,
    save: async (db): Promise<SaveResult> => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      saved.push(db.generation);
      return { written: true, generation: db.generation, chunks: 1, attempts: 1, quarantined: [] };
    },
    quarantine: async () => [],
  };
  return { api, saved };
}

const nothing = async (): Promise<ClusterObservation> => ({ clusters: [], nodes: [], volumes: [], observations: [], recordedGenerations: [], findings: [] });

describe('TopologyStore', () => {
  it('starts a fresh install empty, backs it up, and coalesces a burst of commits into few backups', async () => {
    const { api, saved } = backend();
    const store = new TopologyStore({ backup: api, observe: nothing, writer: { delayMs: 5, minIntervalMs: 20 } });
    const outcome = await store.start();
    expect(outcome.reason).to.equal('RebuiltFromCluster');
    expect(saved).to.deep.equal([1]); // written before it is acted on
    for (let i = 0; i < 100; i++) {
      store.commit((db) => addCluster(db, { name: `c${i}`, zoneChecking: 'None', minBrickSize: 1, maxBrickSize: 2, brickBackend: 'LVM' }));
    }
    await store.flush();
    expect(store.db.generation).to.equal(101);
    expect(saved.length).to.be.at.most(4);
    expect(saved.at(-1)).to.equal(101);
  });

  it('refuses a change that does not move the generation forward', async () => {
    const { api } = backend();
    const store = new TopologyStore({ backup: api, observe: nothing });
    await store.start();
    expect(() => store.commit((db) => ({ ...db, clusters: [] }))).to.throw(/raise the generation/);
    expect(store.commit((db) => db)).to.equal(store.db);
  });

  it('is unusable before start', () => {
    const store = new TopologyStore({ backup: backend().api, observe: nothing });
    expect(() => store.db).to.throw(/not started/);
  });
});
