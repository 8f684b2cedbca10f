import { expect } from 'chai';
import type { BrickCrawlStatistics } from '../../src/gluster/parsers/heal-statistics.ts';
import type { GlusterPeer } from '../../src/gluster/parsers/peer-status.ts';
import type { GlusterVolumeInfo } from '../../src/gluster/parsers/volume-info.ts';
import { DISPERSE_SETTLE_MS } from '../../src/gluster/heal-progress.ts';
import { decideVolumeEvacuation, type EvacuationStep, type VolumeEvacuationWorld } from '../../src/operator/reconcilers/evacuation-decisions.ts';
import { planEvacuation } from '../../src/topology/evacuation.ts';
import {
  addCluster,
  addDevice,
  addNode,
  addVolume,
  brickGlusterName,
  brickNode,
  emptyDatabase,
  findVolume,
  replaceVolume,
  type TopologyDatabase,
  type TopologyVolume,
} from '../../src/topology/model.ts';
import { GiB, TiB } from '../../src/topology/sizing.ts';

// Node a leaves; the volume is replica 2 on a and b; c takes a's brick. Gluster is asked on b.
const NOW = Date.parse('2026-11-22T03:00:00Z');
const REPLACED_AT = '2026-11-22T02:50:00.000Z';
const uuidOf = (node: string) => `00000000-0000-4000-8000-00000000000${'abcd'.indexOf(node.slice(-1)) + 1}`;
const peerUuids = new Map(['ns/a', 'ns/b', 'ns/c', 'ns/d'].map((node) => [node, uuidOf(node)]));

function database(durability: TopologyVolume['durability'] = { type: 'Replicate', replica: 2, arbiter: false }): TopologyDatabase {
  let db = addCluster(emptyDatabase(), { name: 'ns/main', zoneChecking: 'None', minBrickSize: GiB, maxBrickSize: 4 * TiB, brickBackend: 'Directory', directoryRoot: '/bricks' });
  for (const [i, node] of ['ns/a', 'ns/b', 'ns/c', 'ns/d'].entries()) {
    db = addNode(db, { name: node, cluster: 'ns/main', zone: String(i + 1), manage: node.slice(3), storage: `10.0.0.${i + 1}`, state: i === 0 ? 'Failed' : 'Online' });
    db = addDevice(db, { node, name: '/bricks', size: 100 * GiB, state: 'Online' });
  }
  const on = durability.type === 'Disperse' ? ['ns/a', 'ns/b', 'ns/d'] : ['ns/a', 'ns/b'];
  return addVolume(db, {
    name: 'ns/v',
    cluster: 'ns/main',
    gluster: 'ns_v',
    glusterId: '11111111-2222-4333-8444-555555555555',
    durability,
    size: 10 * GiB,
    sets: 1,
    snapshotFactor: 1,
    bricks: on.map((node, i) => ({ id: `${i + 1}`.repeat(16), device: db.devices.find((d) => d.node === node)!.id, size: 10 * GiB, set: 0 })),
  });
}

/** The database after the plan was committed (a's brick retired, replaced by one on c), with changes to the retired brick. */
function planned(retired: Record<string, string> = {}, durability?: TopologyVolume['durability']): TopologyDatabase {
  const db = database(durability);
  const plan = planEvacuation(db, findVolume(db, 'ns/v')!, 'ns/a');
  if (!plan.ok) throw new Error(plan.reason);
  return replaceVolume(db, { ...plan.volume, retiredBricks: plan.volume.retiredBricks!.map((brick) => ({ ...brick, ...retired })) });
}

/** What `volume info` would list: the database's bricks, or the old one still in place of its replacement. */
function liveOf(db: TopologyDatabase, which: 'new' | 'old' | 'both' | 'neither', hostUuid?: string): GlusterVolumeInfo {
  const volume = findVolume(db, 'ns/v')!;
  const old = volume.retiredBricks?.[0];
  const bricks = volume.bricks.flatMap((brick) => {
    const entry = (b: typeof brick) => ({ name: brickGlusterName(db, b), host: '', path: '', hostUuid: uuidOf(brickNode(db, b).name), isArbiter: false });
    if (!old || brick.id !== old.replacedBy) return [entry(brick)];
    const replacement = { ...entry(brick), ...(hostUuid ? { hostUuid } : {}) };
    return { new: [replacement], old: [entry(old)], both: [entry(old), replacement], neither: [] }[which];
  });
  return { name: 'ns_v', id: volume.glusterId!, type: 'Replicate', durability: 'replicate', status: 'Started', brickCount: bricks.length, distCount: 1, replicaCount: 2, arbiterCount: 0, disperseCount: 0, redundancyCount: 0, snapshotCount: 0, bricks, options: {} };
}

function statistics(fullStartedAt: string | null, change: { failed?: number; inProgress?: boolean } = {}): BrickCrawlStatistics[] {
  return [
    { brick: 0, host: '10.0.0.3', crawls: [{ type: 'INDEX', startedAt: fullStartedAt, inProgress: false, healed: 0, splitBrain: 0, failed: 0 }] },
    { brick: 1, host: '10.0.0.2', crawls: [{ type: 'FULL', startedAt: fullStartedAt, inProgress: change.inProgress ?? false, healed: 20, splitBrain: 0, failed: change.failed ?? 0 }] },
  ];
}
/** `pool list` as b (the worker) answers it; `change` alters one node's entry, or drops it (null). */
function poolOf(change: Record<string, Partial<GlusterPeer> | null> = {}): GlusterPeer[] {
  return ['a', 'b', 'c', 'd'].flatMap((letter) => {
    const base: GlusterPeer = letter === 'b'
      ? { uuid: uuidOf(letter), hostname: 'localhost', hostnames: [], connected: true, state: null, isLocal: true }
      : { uuid: uuidOf(letter), hostname: `10.0.0.${'abcd'.indexOf(letter) + 1}`, hostnames: [], connected: true, state: 'Peer in Cluster', isLocal: false };
    const changed = change[letter];
    return changed === null ? [] : [{ ...base, ...changed }];
  });
}
const healthyHeal = { pending: 0, statistics: statistics('2026-11-22T02:55:00.000Z') };

function world(db: TopologyDatabase, overrides: Partial<VolumeEvacuationWorld> = {}): VolumeEvacuationWorld {
  return {
    db,
    volume: findVolume(db, 'ns/v')!,
    leaving: 'ns/a',
    worker: 'b',
    live: liveOf(db, 'new'),
    heal: healthyHeal,
    pool: poolOf(),
    peerUuids,
    force: false,
    now: NOW,
    pass: { created: new Set(), fullHealTried: false },
    ...overrides,
  };
}

const decide = (db: TopologyDatabase, overrides: Partial<VolumeEvacuationWorld> = {}): EvacuationStep => decideVolumeEvacuation(world(db, overrides));
const recorded = () => planned({ replacedAt: REPLACED_AT });

describe('node evacuation decisions: an old brick is removed only when provably replaced', () => {
  it('removes the old brick once Gluster shows the replacement in place and a clean full crawl started after the replacement', () => {
    const step = decide(recorded());
    expect(step.action).to.equal('removeOldBrick');
    expect(step).to.have.property('oldName', '10.0.0.1:/bricks/brick_1111111111111111');
  });

  describe('the live volume missing (glusterd on the worker says it does not exist)', () => {
    it('blocks before planning: the database is not changed', () => {
      const step = decide(database(), { live: 'missing' });
      expect(step.action).to.equal('blocked');
      expect(step).to.have.property('reason').that.matches(/glusterd on b says Gluster volume ns_v does not exist/);
    });

    it('blocks, and never removes the old brick, whatever the heal and forceRemoval say', () => {
      for (const force of [false, true]) {
        for (const db of [planned(), recorded(), planned({ replacedAt: REPLACED_AT, fullHealStartedAt: '2026-11-22T02:55:00.000Z' })]) {
          const step = decide(db, { live: 'missing', force, pass: { created: new Set(['1'.repeat(16)]), fullHealTried: true } });
          expect(step.action, `force ${force}`).to.equal('blocked');
          expect(step).to.have.property('reason').that.matches(/ns_v.*removes nothing/);
        }
      }
    });

    it('blocks when Gluster has another volume under the name (a different volume id)', () => {
      const db = recorded();
      expect(decide(db, { live: { ...liveOf(db, 'new'), id: '99999999-2222-4333-8444-555555555555' } }).action).to.equal('blocked');
    });
  });

  it('plans first while the database still has a brick on the leaving node, and blocks when the plan cannot be made', () => {
    const db = database();
    const step = decide(db, { live: liveOf(db, 'new') });
    expect(step.action).to.equal('commitPlan');
    const full = database();
    const noRoom = { ...full, devices: full.devices.map((d) => (d.node === 'ns/c' || d.node === 'ns/d' ? { ...d, state: 'Offline' as const } : d)) };
    expect(decide(noRoom, { live: liveOf(noRoom, 'new') })).to.deep.include({ action: 'blocked' });
  });

  it('creates the replacement brick, then replace-bricks the old one Gluster still lists', () => {
    const db = planned();
    const live = liveOf(db, 'old');
    expect(decide(db, { live }).action).to.equal('createReplacementBrick');
    const created = new Set([findVolume(db, 'ns/v')!.retiredBricks![0]!.replacedBy]);
    expect(decide(db, { live, pass: { created, fullHealTried: false } })).to.deep.include({
      action: 'replaceBrick',
      oldName: '10.0.0.1:/bricks/brick_1111111111111111',
      newName: `10.0.0.3:/bricks/brick_${findVolume(db, 'ns/v')!.retiredBricks![0]!.replacedBy}`,
    });
  });

  describe('replace-brick only while every server of the volume is connected to the worker', () => {
    const created = (db: TopologyDatabase) => ({ created: new Set([findVolume(db, 'ns/v')!.retiredBricks![0]!.replacedBy]), fullHealTried: false });
    /** Node a deleted rather than Failed: it is expected to answer. */
    const deleting = (db: TopologyDatabase): TopologyDatabase => ({ ...db, nodes: db.nodes.map((node) => (node.name === 'ns/a' ? { ...node, state: 'Online' as const } : node)) });

    it('asks for the pool list first, and replaces once it shows them all connected', () => {
      const db = planned();
      const live = liveOf(db, 'old');
      expect(decide(db, { live, pass: created(db), pool: 'unobserved' }).action).to.equal('observePool');
      expect(decide(deleting(db), { live, pass: created(db) }).action).to.equal('replaceBrick');
    });

    it('waits while the leaving node is disconnected or still handshaking, naming it, unless it is Failed or forceRemoval', () => {
      const db = deleting(planned());
      const live = liveOf(db, 'old');
      for (const change of [{ connected: false }, { state: 'Accepted peer request' }]) {
        const step = decide(db, { live, pass: created(db), pool: poolOf({ a: change }) });
        expect(step.action, JSON.stringify(change)).to.equal('wait');
        expect(step).to.have.property('why').that.matches(/replace-brick waits until glusterd on b has every server of the volume connected \(a: /).and.match(/set its spec.forceRemoval/);
      }
      expect(decide(db, { live, pass: created(db), pool: poolOf({ a: { connected: false } }), force: true }).action).to.equal('replaceBrick');
      expect(decide(planned(), { live, pass: created(db), pool: poolOf({ a: { connected: false } }) }).action, 'a Failed').to.equal('replaceBrick');
    });

    it('waits while a server that keeps or takes a brick is disconnected or missing from the pool list, even for a Failed or forced node', () => {
      const db = planned();
      const live = liveOf(db, 'old');
      for (const [pool, seen] of [[poolOf({ c: { connected: false } }), /c: disconnected/], [poolOf({ c: null }), /c: peer \S+ not in its pool list/]] as const) {
        for (const force of [false, true]) {
          const step = decide(db, { live, pass: created(db), pool, force });
          expect(step.action).to.equal('wait');
          expect(step).to.have.property('why').that.matches(seen);
        }
      }
      expect(decide(db, { live, pass: created(db), peerUuids: new Map([...peerUuids].filter(([node]) => node !== 'ns/c')) })).to.have.property('why').that.matches(/c: peer UUID not known yet/);
    });

    it('does not wait for a disconnected peer that holds no brick of the volume', () => {
      const db = planned();
      expect(decide(db, { live: liveOf(db, 'old'), pass: created(db), pool: poolOf({ d: { connected: false } }) }).action).to.equal('replaceBrick');
    });
  });

  it('blocks when Gluster lists neither the old brick nor its replacement, or both', () => {
    const db = recorded();
    expect(decide(db, { live: liveOf(db, 'neither') }).action).to.equal('blocked');
    expect(decide(db, { live: liveOf(db, 'both') }).action).to.equal('blocked');
  });

  it('waits while the replacement is not shown in its place: on another peer UUID, or the node\'s UUID unknown', () => {
    const db = recorded();
    const elsewhere = decide(db, { live: liveOf(db, 'new', uuidOf('ns/d')) });
    expect(elsewhere.action).to.equal('wait');
    expect(elsewhere).to.have.property('why').that.matches(/not in its place/);
    expect(decide(db, { peerUuids: new Map() }).action).to.equal('wait');
  });

  it('records when the replacement was first seen in place, before any heal counts', () => {
    const db = planned();
    expect(decide(db)).to.deep.equal({ action: 'recordReplaced', bricks: ['1'.repeat(16)] });
  });

  it('asks for the heal state once the replacement is in place', () => {
    expect(decide(recorded(), { heal: 'unobserved' }).action).to.equal('observeHeal');
  });

  describe('replicate heal', () => {
    it('a full crawl from before the replacement does not count: a new one is started, once per pass', () => {
      const heal = { pending: 0, statistics: statistics('2026-11-22T02:40:00.000Z') };
      expect(decide(recorded(), { heal }).action).to.equal('startFullHeal');
      expect(decide(recorded(), { heal, pass: { created: new Set(), fullHealTried: true } }).action).to.equal('waitForHeal');
    });

    it('a crawl that reported failed entries, a running crawl or pending entries keep the old brick', () => {
      expect(decide(recorded(), { heal: { pending: 0, statistics: statistics('2026-11-22T02:55:00.000Z', { failed: 3 }) } }).action).to.equal('startFullHeal');
      expect(decide(recorded(), { heal: { pending: 0, statistics: statistics('2026-11-22T02:55:00.000Z', { inProgress: true }) } }).action).to.equal('waitForHeal');
      expect(decide(recorded(), { heal: { pending: 2, statistics: statistics('2026-11-22T02:55:00.000Z') } }).action).to.equal('waitForHeal');
      expect(decide(recorded(), { heal: { pending: null, statistics: statistics('2026-11-22T02:55:00.000Z') } }).action).to.equal('waitForHeal');
    });
  });

  it('disperse: the full heal must have started after the replacement and settled', () => {
    const durability = { type: 'Disperse' as const, data: 2, redundancy: 1 };
    const heal = { pending: 0, statistics: null };
    const before = planned({ replacedAt: REPLACED_AT, fullHealStartedAt: '2026-11-22T02:40:00.000Z' }, durability);
    expect(decide(before, { heal, live: liveOf(before, 'new') }).action).to.equal('startFullHeal');
    const settling = planned({ replacedAt: REPLACED_AT, fullHealStartedAt: new Date(NOW - 1_000).toISOString() }, durability);
    expect(decide(settling, { heal, live: liveOf(settling, 'new') }).action).to.equal('waitForHeal');
    const settled = planned({ replacedAt: REPLACED_AT, fullHealStartedAt: new Date(NOW - DISPERSE_SETTLE_MS).toISOString() }, durability);
    expect(decide(settled, { heal, live: liveOf(settled, 'new') }).action).to.equal('removeOldBrick');
  });

  describe('spec.forceRemoval', () => {
    it('does not wait for self-heal (a full heal is asked for once), but still needs the replacement in place', () => {
      const db = recorded();
      const unhealed = { pending: 5, statistics: statistics('2026-11-22T02:40:00.000Z') };
      expect(decide(db, { force: true, heal: unhealed }).action).to.equal('startFullHeal');
      expect(decide(db, { force: true, heal: 'unobserved', pass: { created: new Set(), fullHealTried: true } }).action).to.equal('removeOldBrick');
      expect(decide(db, { force: true, live: liveOf(db, 'new', uuidOf('ns/d')) }).action).to.equal('wait');
      expect(decide(db, { force: true, live: liveOf(db, 'neither') }).action).to.equal('blocked');
      expect(decide(planned(), { force: true }).action).to.equal('recordReplaced');
    });
  });

  it('waits without a node to ask Gluster on, and is done when nothing is left on the node', () => {
    expect(decide(recorded(), { worker: undefined }).action).to.equal('wait');
    const db = recorded();
    const volume = findVolume(db, 'ns/v')!;
    const { retiredBricks: _, ...cleaned } = volume;
    const after = replaceVolume(db, cleaned);
    expect(decide(after, { live: liveOf(after, 'new') })).to.deep.equal({ action: 'done' });
  });
});
