import { expect } from 'chai';
import { poolMetadataSizeFor, thinPoolSizing } from '../../src/bricks/sizing.ts';
import { brickAllocation, EXTENT_SIZE, GiB, KiB, MiB, poolMetadataSize, thinPoolSize } from '../../src/topology/sizing.ts';
import { backend, newBrickTransport } from './bricks-lvm.test.ts';
import { node1 } from './gluster-fake-transport.ts';

/** The sizes (bytes) the LVM backend passes to `lvcreate --thin` for a new brick: pool and metadata. */
async function createdPool(sizeBytes: number, snapshotFactor: number): Promise<{ pool: number; metadata: number }> {
  const transport = newBrickTransport();
  await backend(transport).createBrick(node1, { id: 'b1', sizeBytes, location: 'vg_dev1', snapshotFactor });
  const pool = transport.argvs().find((argv) => argv[0] === 'lvcreate' && argv.includes('--poolmetadatasize'))!;
  const kib = (flag: string) => Number(pool[pool.indexOf(flag) + 1]!.replace(/k$/, '')) * KiB;
  return { pool: kib('--size'), metadata: kib('--poolmetadatasize') };
}

describe('thin pool sizing: one rule for the LVM backend and the topology model', () => {
  it('what the model counts a brick as taking is what the LVM backend creates', async () => {
    // 4056 KiB at snapshot factor 1.01: 4096.56 KiB, truncated to KiB as LVM is given it, is one extent. The
    // model's byte-wise copy of the rule made it 4194877 bytes and counted two extents of pool.
    const cases: Array<[number, number]> = [
      [4056 * KiB, 1.01],
      [GiB, 1],
      [10 * GiB, 1.5],
      [300 * MiB, 1.37],
      [4 * 1024 * GiB, 2],
    ];
    for (const [size, factor] of cases) {
      const created = await createdPool(size, factor);
      expect(thinPoolSize(size, factor), `pool of ${size} × ${factor}`).to.equal(created.pool);
      expect(poolMetadataSize(thinPoolSize(size, factor)), `metadata of ${size} × ${factor}`).to.equal(created.metadata);
      expect(brickAllocation(size, factor, 'LVM'), `allocation of ${size} × ${factor}`).to.equal(created.pool + created.metadata);
    }
    expect(brickAllocation(4056 * KiB, 1.01, 'LVM')).to.equal(2 * EXTENT_SIZE);
  });

  it('agrees with thinPoolSizing over a sweep of sizes and factors', () => {
    for (const factor of [1, 1.01, 1.07, 1.37, 2.3, 7.9, 100]) {
      for (let kib = 1; kib < 40_000; kib += 37) {
        const size = kib * KiB;
        expect(brickAllocation(size, factor, 'LVM'), `${size} × ${factor}`).to.equal(thinPoolSizing(size, factor, EXTENT_SIZE).totalBytes);
      }
    }
  });

  it('pool metadata is never below the 2 MiB lvm2 accepts, whatever the extent', () => {
    expect(poolMetadataSizeFor(100 * MiB, 1 * MiB)).to.equal(2 * MiB);
    expect(poolMetadataSizeFor(100 * MiB, 4 * MiB)).to.equal(4 * MiB);
    // The model's copy counted no metadata at all for a tiny pool.
    expect(poolMetadataSize(100)).to.equal(EXTENT_SIZE);
    expect(poolMetadataSizeFor(8 * 1024 * GiB, 4 * MiB)).to.equal(16 * GiB);
  });

  it('directory and loop file bricks take their size, with no pool', () => {
    expect(brickAllocation(GiB, 2, 'Directory')).to.equal(GiB);
    expect(brickAllocation(GiB, 2, 'LoopFile')).to.equal(GiB);
  });
});
