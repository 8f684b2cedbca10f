import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LoopFileBrickBackend, type BrickRecord } from '../../src/bricks/index.ts';
import * as fs from '../../src/gluster/commands/fs.ts';
import * as g from '../../src/gluster/commands/gluster.ts';
import { ClusterExecutor } from '../../src/gluster/executor.ts';
import { MutationQueue } from '../../src/gluster/mutation-queue.ts';
import type { NodeTarget } from '../../src/gluster/transport.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { waitForPool } from '../support/pool.ts';
import { TestbedSshTransport } from '../support/ssh-transport.ts';
import { testbedEnv } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;

/**
 * The loop-file brick backend end to end on the test bed (no device-mapper needed): one XFS loop file per
 * brick on each of the three nodes, a replica 3 volume on them (no `force`: every brick has its own
 * filesystem), a FUSE mount from the host, data on every brick, growth, then everything removed: volume,
 * mounts, loop devices and files.
 */
describe('loop-file brick backend on the test bed', function () {
  this.timeout(600_000);
  const env = testbedEnv();
  const nodes: NodeTarget[] = env.TESTBED_NODES.slice(0, 3).map((address, i) => ({ name: `gl${i + 1}`, manageAddress: address }));
  const [first] = nodes as [NodeTarget, ...NodeTarget[]];
  const run = `t3a-lf-${randomBytes(3).toString('hex')}`;
  const root = `${env.TESTBED_BRICK_ROOT}/${run}`;
  const transport = new TestbedSshTransport();
  const executor = new ClusterExecutor({ transport, queue: new MutationQueue({ backoff: { maxAttempts: 8, baseDelayMs: 250 } }), clusterKey: 'testbed' });
  const backend = new LoopFileBrickBackend(executor);
  const records = new Map<string, BrickRecord>();
  let mountPoint: string | undefined;

  before(async function () {
    // A volume create staged while a peer is still joining fails AND leaves the volume-id xattr on the local
    // brick, so wait until every node sees the whole pool in 'Peer in Cluster' (probing is idempotent).
    for (const node of nodes.slice(1)) await executor.run(first, g.peerProbe(node.manageAddress));
    await waitForPool(executor, nodes);
  });

  after(async function () {
    this.timeout(300_000);
    if (mountPoint) {
      await execFileAsync('umount', [mountPoint]).catch(() => execFileAsync('umount', ['-l', mountPoint!]));
      rmdirSync(mountPoint);
    }
    await executor.run(first, g.volumeStop(run, { force: true })).catch(() => undefined);
    await executor.run(first, g.volumeDelete(run)).catch(() => undefined);
    for (const node of nodes) {
      const record = records.get(node.name);
      if (record) await backend.deleteBrick(node, record).catch((error: unknown) => console.error(`cleanup ${node.name}:`, error));
      await executor.run(node, fs.rmRf(root)).catch(() => undefined);
    }
  });

  it('creates one XFS loop-file brick per node, idempotently', async () => {
    for (const node of nodes) {
      const prepared = await backend.prepareDevice(node, { path: root, id: 'root' });
      const request = { id: `b-${node.name}`, sizeBytes: 512 * MiB, location: prepared.location, gid: 2001 };
      const record = await backend.createBrick(node, request);
      records.set(node.name, record);
      // Running the create again changes nothing and yields the same record.
      expect(await backend.createBrick(node, request)).to.deep.equal(record);
      const [mounted] = await executor.run(node, fs.findmnt(record.mount!.target));
      expect(mounted).to.deep.include({ fstype: 'xfs', source: record.mount!.source });
      expect(mounted!.options).to.contain('noatime').and.contain('inode64');
      const brick = await executor.run(node, fs.statPath(record.path));
      expect(brick).to.deep.include({ type: 'directory', gid: 2001, mode: '2775' });
      const loops = await executor.run(node, fs.losetupAssociated(record.loopFile!.file));
      expect(loops.map((l) => l.name)).to.deep.equal([record.mount!.source]);
    }
  });

  it('makes a replica 3 volume on them, mounts it from the host, writes and reads back from every brick', async () => {
    const bricks = nodes.map((node) => `${node.manageAddress}:${records.get(node.name)!.path}`);
    await executor.run(first, g.volumeCreate({ name: run, layout: { kind: 'replicate', replica: 3 }, bricks }));
    await executor.run(first, g.volumeStart(run));
    const [info] = await executor.run(first, g.volumeInfo(run));
    expect(info).to.deep.include({ status: 'Started', replicaCount: 3, brickCount: 3 });
    await eventually('bricks online', async () => {
      const [status] = await executor.run(first, g.volumeStatus(run, { detail: true }));
      return status!.bricks.every((b) => b.online) ? status : notYet(status!.bricks.map((b) => `${b.host}:${b.path} online=${b.online}`));
    });
    const [detail] = await executor.run(first, g.volumeStatus(run, { detail: true }));
    for (const brick of detail!.bricks) {
      expect(brick.fsName).to.equal('xfs');
      expect(brick.sizeTotal).to.be.within(400 * MiB, 512 * MiB);
    }

    mountPoint = mkdtempSync(join(tmpdir(), `${run}-`));
    const backups = nodes.slice(1).map((n) => n.manageAddress).join(':');
    await eventually('FUSE mount', async () => {
      await execFileAsync('mount', ['-t', 'glusterfs', '-o', `backup-volfile-servers=${backups}`, `${first.manageAddress}:/${run}`, mountPoint!]);
      return true;
    }, 30_000);
    const payload = `loop-file bricks ${randomBytes(16).toString('hex')}\n`;
    writeFileSync(join(mountPoint, 'hello.txt'), payload);
    expect(readFileSync(join(mountPoint, 'hello.txt'), 'utf8')).to.equal(payload);
    for (const node of nodes) {
      const onBrick = await transport.run(node, ['cat', `${records.get(node.name)!.path}/hello.txt`]);
      expect(onBrick.stdout, node.name).to.equal(payload);
    }
  });

  it('grows a brick online (truncate + losetup --set-capacity + xfs_growfs)', async () => {
    const node = first;
    const grown = await backend.growBrick(node, records.get(node.name)!, 768 * MiB);
    records.set(node.name, grown);
    const [status] = await executor.run(first, g.volumeStatus(run, { detail: true }));
    const brick = status!.bricks.find((b) => b.path === grown.path)!;
    expect(brick.sizeTotal).to.be.greaterThan(600 * MiB);
  });

  it('deletes everything: volume, mounts, loop devices and files', async () => {
    await execFileAsync('umount', [mountPoint!]);
    rmdirSync(mountPoint!);
    mountPoint = undefined;
    await executor.run(first, g.volumeStop(run));
    await executor.run(first, g.volumeDelete(run));
    for (const node of nodes) {
      const record = records.get(node.name)!;
      await backend.deleteBrick(node, record);
      // Deleting again is a no-op, not an error.
      await backend.deleteBrick(node, record);
      records.delete(node.name);
      expect(await executor.run(node, fs.findmnt(record.mount!.target))).to.deep.equal([]);
      expect(await executor.run(node, fs.statPath(record.loopFile!.file))).to.equal(null);
      // Loop devices are host-wide on the test bed (all nodes share one kernel): look for this brick's file only.
      const loops = await executor.run(node, fs.losetupList());
      expect(loops.filter((l) => (l.backingFile ?? '').endsWith(`${run}/${record.id}.img`))).to.deep.equal([]);
    }
  });
});
