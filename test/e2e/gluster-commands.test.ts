import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as g from '../../src/gluster/commands/gluster.ts';
import { rmRf } from '../../src/gluster/commands/fs.ts';
import { ClusterExecutor, runNodeCommand } from '../../src/gluster/executor.ts';
import { MutationQueue } from '../../src/gluster/mutation-queue.ts';
import { rebalanceOutcome, type RebalanceStatus } from '../../src/gluster/parsers/rebalance-status.ts';
import type { NodeTarget } from '../../src/gluster/transport.ts';
import { eventually, giveUp, notYet, WaitError } from '../support/eventually.ts';
import { waitForPool } from '../support/pool.ts';
import { TestbedSshTransport } from '../support/ssh-transport.ts';
import { testbedEnv } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);

/**
 * The command layer against real glusterd on the test bed, through the executor and a Transport: peers,
 * every volume layout end to end (create, start, FUSE mount, write/read, expand + rebalance, delete), and
 * 20 concurrent creations through the mutation queue. Bricks are directories under TESTBED_BRICK_ROOT (the
 * host's root filesystem, hence `force`). Everything created is removed in `after`, also on failure.
 */
describe('gluster command layer on the test bed', function () {
  this.timeout(600_000);
  const env = testbedEnv();
  const nodes: NodeTarget[] = env.TESTBED_NODES.slice(0, 3).map((address, i) => ({ name: `gl${i + 1}`, manageAddress: address }));
  const [first] = nodes as [NodeTarget, ...NodeTarget[]];
  const run = `t3a-${randomBytes(3).toString('hex')}`;
  const transport = new TestbedSshTransport();
  const executor = new ClusterExecutor({ transport, queue: new MutationQueue({ backoff: { maxAttempts: 8, baseDelayMs: 250 } }), clusterKey: 'testbed' });
  const mounts: string[] = [];
  let probedPeers: string[] = [];

  const brickDir = (volume: string, i: number) => `${env.TESTBED_BRICK_ROOT}/${volume}-b${i}`;
  /** One brick per node, round robin, numbered from `from`. */
  const bricks = (volume: string, count: number, from = 1) =>
    Array.from({ length: count }, (_, k) => `${nodes[(from - 1 + k) % nodes.length]!.manageAddress}:${brickDir(volume, from + k)}`);

  async function mountVolume(volume: string): Promise<string> {
    const mountPoint = mkdtempSync(join(tmpdir(), `${volume}-`));
    mounts.push(mountPoint);
    const backups = nodes.slice(1).map((n) => n.manageAddress).join(':');
    await eventually(`FUSE mount of ${volume}`, async () => {
      await execFileAsync('mount', ['-t', 'glusterfs', '-o', `backup-volfile-servers=${backups}`, `${first.manageAddress}:/${volume}`, mountPoint]);
      return true;
    }, 30_000);
    return mountPoint;
  }

  /** Every brick of the volume online with a port: what a client (and a rebalance) needs. */
  async function bricksOnline(volume: string, count: number) {
    return eventually(`${count} bricks of ${volume} online`, async () => {
      const [s] = await executor.run(first, g.volumeStatus(volume));
      const bricks = s!.bricks.map((b) => `${b.host}:${b.path} online=${b.online} port=${b.port}`);
      return s!.bricks.length === count && s!.bricks.every((b) => b.online && b.port !== null) ? s! : notYet(bricks);
    });
  }

  /**
   * Waits for a rebalance to finish on every node hosting bricks, for as long as it makes progress. glusterd's
   * aggregate alone misleads: it says 'in progress' while one node has already failed (rebalanceOutcome reads
   * every node). A failed or stopped rebalance fails the wait at once; so does `stallMs` in which no node's
   * state or counters moved and the status command kept failing or reporting the same numbers.
   */
  async function rebalanceCompleted(volume: string, hosts: number, stallMs = 120_000): Promise<RebalanceStatus> {
    let progress = '';
    let progressAt = Date.now();
    return eventually(`rebalance of ${volume} completed on ${hosts} node(s)`, async () => {
      if (Date.now() - progressAt > stallMs) giveUp(`no progress for ${stallMs / 1000} s`);
      const status = await executor.run(first, g.volumeRebalanceStatus(volume));
      const seen = {
        taskId: status.taskId,
        outcome: rebalanceOutcome(status),
        aggregate: `${status.aggregate.statusStr}, ${status.aggregate.files} files, ${status.aggregate.failures} failures`,
        nodes: status.nodes.map((n) => `${n.nodeName}: ${n.statusStr}, ${n.files} files, ${n.lookups} lookups, ${n.failures} failures, ${n.skipped} skipped, ${n.runtimeSeconds} s`),
      };
      if (seen.outcome === 'failed' || seen.outcome === 'stopped') giveUp(`rebalance ${seen.outcome}`, seen);
      if (seen.outcome === 'completed' && status.nodes.length === hosts) return status;
      const now = status.nodes.map((n) => [n.nodeName, n.state, n.files, n.size, n.lookups, n.failures, n.skipped].join(':')).join(' ');
      if (now !== progress) [progress, progressAt] = [now, Date.now()];
      return notYet(seen);
    }, { timeoutMs: 300_000, intervalMs: 500 });
  }

  /** The last lines of every node's rebalance log of the volume: what a stalled daemon was doing. */
  async function rebalanceLogs(volume: string): Promise<string> {
    const tails = await Promise.all(
      nodes.map(async (node) => {
        const log = await transport.run(node, ['tail', '-n', '15', `/var/log/glusterfs/${volume}-rebalance.log`]).catch((e: unknown) => ({ stdout: String(e) }));
        return `--- ${node.manageAddress} ${volume}-rebalance.log\n${log.stdout.trim()}`;
      }),
    );
    return tails.join('\n');
  }

  async function unmount(mountPoint: string): Promise<void> {
    await execFileAsync('umount', [mountPoint]).catch(() => execFileAsync('umount', ['-l', mountPoint]));
    rmdirSync(mountPoint);
    mounts.splice(mounts.indexOf(mountPoint), 1);
  }

  after(async function () {
    this.timeout(600_000);
    for (const mountPoint of [...mounts]) await unmount(mountPoint).catch(() => undefined);
    // Every volume of this run, whatever state a failed test left it in.
    const volumes = await executor.run(first, g.volumeInfo()).catch(() => []);
    for (const volume of volumes.filter((v) => v.name.startsWith(run))) {
      await executor.run(first, g.volumeStop(volume.name, { force: true })).catch(() => undefined);
      await executor.run(first, g.volumeDelete(volume.name)).catch(() => undefined);
    }
    for (const node of nodes) {
      const listing = await transport.run(node, ['sh', '-c', `ls -d ${env.TESTBED_BRICK_ROOT}/${run}-* 2>/dev/null || true`]);
      for (const dir of listing.stdout.split('\n').filter(Boolean)) await runNodeCommand(transport, node, rmRf(dir));
    }
    // Only peers this suite brought into the pool leave it; other suites may share the pool.
    for (const peer of probedPeers) await executor.run(first, g.peerDetach(peer)).catch(() => undefined);
  });

  it('forms one pool by peer probe (idempotent) and reads it back', async () => {
    const before = await executor.run(first, g.poolList());
    const known = new Set(before.map((p) => p.hostname));
    for (const node of nodes.slice(1)) {
      const result = await executor.run(first, g.peerProbe(node.manageAddress));
      expect(result.message, node.name).to.be.a('string');
      if (!known.has(node.manageAddress)) probedPeers.push(node.manageAddress);
    }
    // Probing again is a success too.
    await executor.run(first, g.peerProbe(nodes[1]!.manageAddress));
    await eventually('all peers connected', async () => {
      const pool = await executor.run(first, g.poolList());
      return pool.length >= 3 && pool.every((p) => p.connected) ? pool : notYet(pool.map((p) => `${p.hostname} connected=${p.connected}`));
    });
    // Membership reaches the other glusterds asynchronously: wait until every node sees the whole pool.
    await waitForPool(executor, nodes);
    const peers = await executor.run(first, g.peerStatus());
    expect(peers.map((p) => p.hostname)).to.include.members(nodes.slice(1).map((n) => n.manageAddress));
    expect(peers.every((p) => p.state === 'Peer in Cluster')).to.equal(true);
  });

  const layouts: { label: string; layout: g.VolumeLayout; expect: Record<string, unknown> }[] = [
    { label: 'distribute', layout: { kind: 'distribute' }, expect: { durability: 'distribute', type: 'Distribute' } },
    { label: 'replicate 3', layout: { kind: 'replicate', replica: 3 }, expect: { durability: 'replicate', replicaCount: 3, arbiterCount: 0 } },
    { label: 'arbiter', layout: { kind: 'replicate', replica: 3, arbiter: true }, expect: { durability: 'replicate', replicaCount: 3, arbiterCount: 1 } },
    { label: 'disperse 2+1', layout: { kind: 'disperse', data: 2, redundancy: 1 }, expect: { durability: 'disperse', disperseCount: 3, redundancyCount: 1 } },
  ];

  for (const { label, layout, expect: expected } of layouts) {
    it(`${label}: create, start, mount, write/read, add-brick + rebalance, delete`, async () => {
      const volume = `${run}-${layout.kind}${layout.kind === 'replicate' && layout.arbiter ? '-arb' : ''}`;
      const size = g.setSize(layout);
      const created = await executor.run(first, g.volumeCreate({ name: volume, layout, bricks: bricks(volume, size), force: true }));
      expect(created.name).to.equal(volume);
      await executor.run(first, g.volumeStart(volume));

      const [info] = await executor.run(first, g.volumeInfo(volume));
      expect(info).to.deep.include({ name: volume, id: created.id, status: 'Started', brickCount: size, ...expected });
      if (layout.kind === 'replicate' && layout.arbiter) expect(info!.bricks.map((b) => b.isArbiter)).to.deep.equal([false, false, true]);
      const [status] = await executor.run(first, g.volumeStatus(volume));
      await bricksOnline(volume, size);
      expect(status!.bricks).to.have.length(size);
      if (layout.kind !== 'distribute') {
        const heal = await executor.run(first, g.volumeHealInfo(volume));
        expect(heal).to.have.length(size);
      }

      const mountPoint = await mountVolume(volume);
      const files = Array.from({ length: 20 }, (_, i) => [`f${i}.txt`, `${volume} ${i} ${randomBytes(8).toString('hex')}\n`] as const);
      for (const [name, payload] of files) writeFileSync(join(mountPoint, name), payload);
      for (const [name, payload] of files) expect(readFileSync(join(mountPoint, name), 'utf8')).to.equal(payload);

      // Expand by one whole set on fresh brick directories, then spread the data.
      await executor.run(first, g.volumeAddBrick(volume, layout, bricks(volume, size, size + 1), { force: true }));
      const [grown] = await executor.run(first, g.volumeInfo(volume));
      expect(grown!.brickCount).to.equal(2 * size);
      expect(grown!.distCount).to.equal(2);
      // A rebalance started before the new bricks answer fails on every node (or on some, the others still
      // "in progress"): glusterd starts their processes during add-brick but does not wait for them.
      await bricksOnline(volume, 2 * size);
      const hosts = new Set(grown!.bricks.map((b) => b.host)).size;
      let taskId = await executor.run(first, g.volumeRebalanceStart(volume));
      let done: RebalanceStatus;
      try {
        done = await rebalanceCompleted(volume, hosts);
      } catch (error) {
        // Seen once in CI (arbiter, 2-core machine under load): one node's rebalance daemon stops making progress
        // ("in progress", 1 file, run time 0 s) while the others completed, and never moves again; glusterd
        // 10.x is known to leave a rebalance stuck this way (users stop and start it). The command layer is what
        // this test is about: the stall is shown with the stuck nodes' rebalance logs, the rebalance is stopped
        // and started once more, and a second stall fails the test with the same evidence.
        if (!(error instanceof WaitError) || !error.message.includes('no progress')) throw error;
        console.warn(`      rebalance of ${volume} stalled; restarting it once. ${error.message}\n${await rebalanceLogs(volume)}`);
        await transport.run(first, ['gluster', '--mode=script', 'volume', 'rebalance', volume, 'stop']);
        taskId = await executor.run(first, g.volumeRebalanceStart(volume));
        done = await rebalanceCompleted(volume, hosts).catch(async (again: unknown) => {
          throw new Error(`rebalance of ${volume} stalled twice: ${String(again)}\n${await rebalanceLogs(volume)}`);
        });
      }
      expect(done.taskId).to.equal(taskId);
      expect(done.aggregate.failures).to.equal(0);
      for (const [name, payload] of files) expect(readFileSync(join(mountPoint, name), 'utf8')).to.equal(payload);

      await unmount(mountPoint);
      await executor.run(first, g.volumeStop(volume));
      await executor.run(first, g.volumeDelete(volume));
      const remaining = await executor.run(first, g.volumeInfo());
      expect(remaining.map((v) => v.name)).to.not.include(volume);
    });
  }

  it('20 concurrent volume creations through the queue all succeed', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `${run}-c${i}`);
    // Spread over the nodes, as concurrent reconciles would: glusterd's lock is cluster-wide either way.
    const results = await Promise.allSettled(
      names.map((name, i) => executor.run(nodes[i % nodes.length]!, g.volumeCreate({ name, layout: { kind: 'distribute' }, bricks: [`${nodes[i % nodes.length]!.manageAddress}:${brickDir(name, 1)}`], force: true }))),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(failures).to.deep.equal([]);
    const listed = (await executor.run(first, g.volumeInfo())).map((v) => v.name);
    expect(listed).to.include.members(names);
    const deletions = await Promise.allSettled(names.map((name, i) => executor.run(nodes[i % nodes.length]!, g.volumeDelete(name))));
    expect(deletions.filter((r) => r.status === 'rejected')).to.deep.equal([]);
  });
});
