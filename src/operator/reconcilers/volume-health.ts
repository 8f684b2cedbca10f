import type { Condition } from '../../api/common.ts';
import type { GlusterVolume } from '../../api/index.ts';
import { findCondition, type ConditionUpdate, type Phase } from '../../controller/conditions.ts';
import type { GlusterHealSummaryBrick } from '../../gluster/parsers/heal-summary.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import { setSize } from '../../topology/model.ts';
import { durabilityFromGluster } from '../../topology/rebuild/volume.ts';
import { REQUEUE } from '../context.ts';
import { anyBrickDown } from './brick-restart.ts';

/**
 * A started GlusterVolume's health, from what Gluster said this pass (pure): bricks online, quorum per set,
 * the self-heal backlog and split-brain. Degraded (Ready stays True: the volume serves what it can) says
 * what is wrong, most severe first:
 *   - QuorumLost: a set has fewer bricks online than its client quorum needs, so writes to its files fail;
 *   - SplitBrain: entries self-heal cannot resolve alone; a human picks the good copy;
 *   - BricksOffline: brick processes down (the reconciler restarts those of Ready nodes before it reports).
 * A heal backlog is not a fault: right after a brick comes back the good bricks list everything written
 * while it was away. It is the separate condition Healing, True while entries are pending.
 *
 * Heal info crawls every brick's index, which is slow on big volumes: it is read at most every
 * HEAL_REFRESH_MS, and after every change the reconciler makes to the volume (healRefreshDue); in between,
 * status.heal and the Healing condition stay as they were written.
 */
export const HEAL_REFRESH_MS = 60_000;

type VolumeStatus = NonNullable<GlusterVolume['status']>;
export type HealStatus = NonNullable<VolumeStatus['heal']>;
export type QuorumStatus = NonNullable<VolumeStatus['quorum']>;

/** What heal info said this pass; undefined when it was not asked (not due, or a distribute volume). */
export type HealObservation =
  | { kind: 'read'; bricks: readonly GlusterHealSummaryBrick[]; at: string }
  /** Gluster answered that the volume has nothing to heal (not replicate/disperse, not started). */
  | { kind: 'notApplicable' }
  | { kind: 'failed'; message: string };

export type HealthProblem = { reason: 'QuorumLost' | 'SplitBrain' | 'BricksOffline'; message: string };
export const HEALTH_REASONS: ReadonlySet<string> = new Set<HealthProblem['reason']>(['QuorumLost', 'SplitBrain', 'BricksOffline']);

export interface HealthInput {
  info: GlusterVolumeInfo;
  /** Brick processes online by brick name, as `volume status` reports them; empty when not known. */
  online: ReadonlyMap<string, boolean>;
  heal: HealObservation | undefined;
  /** status.heal as last written: the figures that stand when heal was not read or could not be. */
  previousHeal: HealStatus | undefined;
  /** The GlusterNode of each brick, by brick name, and which nodes are Ready: for the messages. */
  brickNodes: ReadonlyMap<string, string>;
  readyNodes: ReadonlySet<string>;
  /** Why `volume start force` failed this pass, if it did. */
  restartFailure?: string;
}

export interface VolumeHealth {
  /** Status fields. null removes one that no longer applies or is no longer known (a merge patch). */
  fields: { bricksOnline: number | null; quorum: QuorumStatus | null; heal?: HealStatus | null };
  /** Healing, when heal was read or could not be. */
  conditions: ConditionUpdate[];
  problems: HealthProblem[];
  /** Each brick gluster lists: online or not; empty when `volume status` did not answer. */
  brickOnline: ReadonlyMap<string, boolean>;
  /** Entries pending heal, or heal figures not known: worth a look sooner than the steady period. */
  settling: boolean;
}

/**
 * Online state of each brick `volume info` lists. `volume status` leaves out the bricks of peers the asked
 * glusterd cannot reach: such a brick is counted offline (nothing vouches for it), not left unknown. An
 * empty answer is "not known" (a failed or skipped read), so nothing is claimed either way.
 */
export function brickOnlineStates(info: GlusterVolumeInfo, online: ReadonlyMap<string, boolean>): Map<string, boolean> {
  if (online.size === 0) return new Map();
  return new Map(info.bricks.map((brick) => [brick.name, online.get(brick.name) ?? false]));
}

/** The live bricks set by set, in the order gluster lists them (that order makes the sets). */
function setsOf(info: GlusterVolumeInfo): string[][] {
  const size = setSize(durabilityFromGluster(info));
  const sets: string[][] = [];
  info.bricks.forEach((brick, i) => (sets[Math.floor(i / size)] ??= []).push(brick.name));
  return sets;
}

interface QuorumRule {
  type: QuorumStatus['type'];
  /** Bricks of a set that must be online, given whether its first one is (auto on an even replica count). */
  needed: (set: number, firstOnline: boolean) => number;
}

const positiveInt = (value: string | undefined): number | undefined => (value !== undefined && /^\d+$/.test(value) && Number(value) > 0 ? Number(value) : undefined);

/**
 * Client quorum as the translators apply it. Replicate: cluster.quorum-type, which AFR turns to auto when
 * unset on sets of more than two bricks (an arbiter counts); auto needs more than half of a set, or exactly
 * half including its first brick; fixed needs cluster.quorum-count. Disperse: the data bricks of a set, or
 * disperse.quorum-count when set higher. Distribute has none (a brick down only hides its own files).
 */
export function quorumRule(info: GlusterVolumeInfo): QuorumRule | undefined {
  if (info.durability === 'disperse') {
    const data = info.disperseCount - info.redundancyCount;
    const count = positiveInt(info.options['disperse.quorum-count']);
    return count === undefined ? { type: 'auto', needed: () => data } : { type: 'fixed', needed: () => Math.max(data, count) };
  }
  if (info.durability !== 'replicate') return undefined;
  const configured = info.options['cluster.quorum-type'];
  const type = configured === 'auto' || configured === 'fixed' || configured === 'none' ? configured : info.replicaCount > 2 ? 'auto' : 'none';
  switch (type) {
    case 'none':
      return { type, needed: () => 1 };
    case 'fixed': {
      const count = positiveInt(info.options['cluster.quorum-count']) ?? info.replicaCount;
      return { type, needed: () => Math.min(count, info.replicaCount) };
    }
    case 'auto':
      return { type, needed: (size, firstOnline) => (size % 2 === 0 && firstOnline ? size / 2 : Math.floor(size / 2) + 1) };
  }
}

function quorumOf(info: GlusterVolumeInfo, states: ReadonlyMap<string, boolean>): { status: QuorumStatus; lost: string[] } | undefined {
  const rule = quorumRule(info);
  if (!rule || states.size === 0) return undefined;
  const lost: string[] = [];
  setsOf(info).forEach((set, index) => {
    const up = set.filter((brick) => states.get(brick)).length;
    const needed = rule.needed(set.length, states.get(set[0]!) === true);
    if (up < needed) lost.push(`set ${index} has ${up} of ${set.length} bricks online and quorum ${rule.type} needs ${needed}`);
  });
  return { status: { type: rule.type, met: lost.length === 0 }, lost };
}

interface HealFigures {
  pendingEntries: number;
  splitBrainEntries: number;
  /** Bricks that could not say, with what glfsheal said of them. */
  unknown: string[];
}

/**
 * The backlog of the volume from each brick's counts. An entry to heal is listed by every brick of its set
 * that holds the newer copy, so a set counts the most any of its bricks lists (not their sum), and sets add.
 * Entries being healed now ("possibly healing") are still pending.
 */
export function healFigures(info: GlusterVolumeInfo, bricks: readonly GlusterHealSummaryBrick[]): HealFigures {
  const setOfBrick = new Map(setsOf(info).flatMap((set, index) => set.map((brick) => [brick, index] as const)));
  const perSet = new Map<string, { pending: number; splitBrain: number }>();
  const unknown: string[] = [];
  for (const brick of bricks) {
    if (brick.healPending === null || brick.splitBrain === null) {
      unknown.push(`${brick.name} (${brick.status})`);
      continue;
    }
    // A brick gluster no longer lists in volume info (a replace-brick since): a set of its own.
    const key = String(setOfBrick.get(brick.name) ?? brick.name);
    const seen = perSet.get(key) ?? { pending: 0, splitBrain: 0 };
    perSet.set(key, {
      pending: Math.max(seen.pending, brick.healPending + (brick.possiblyHealing ?? 0)),
      splitBrain: Math.max(seen.splitBrain, brick.splitBrain),
    });
  }
  const sum = (pick: (set: { pending: number; splitBrain: number }) => number) => [...perSet.values()].reduce((total, set) => total + pick(set), 0);
  return { pendingEntries: sum((set) => set.pending), splitBrainEntries: sum((set) => set.splitBrain), unknown };
}

function healingCondition(heal: HealObservation, figures: HealFigures | undefined, previous: HealStatus | undefined): ConditionUpdate {
  if (heal.kind === 'failed') {
    const stale = previous ? ` (status.heal holds the figures of ${previous.checkedAt})` : '';
    return { type: 'Healing', status: 'Unknown', reason: 'HealInfoUnavailable', message: `heal info could not be read: ${heal.message}${stale}` };
  }
  const { pendingEntries, unknown } = figures!;
  const notAsked = unknown.length > 0 ? `; not known for ${unknown.join(', ')}` : '';
  if (pendingEntries > 0) return { type: 'Healing', status: 'True', reason: 'HealPending', message: `${pendingEntries} entries pending self-heal${notAsked}` };
  if (unknown.length > 0) return { type: 'Healing', status: 'Unknown', reason: 'HealInfoIncomplete', message: `no entries pending on the bricks that answered${notAsked}` };
  return { type: 'Healing', status: 'False', reason: 'NoHealPending', message: 'no entries pending self-heal' };
}

function offlineMessage(offline: string[], input: HealthInput): string {
  const described = offline.map((brick) => {
    const node = input.brickNodes.get(brick);
    if (!input.online.has(brick)) return `${brick} (not listed by gluster volume status: the glusterd of its node does not answer)`;
    if (node !== undefined && !input.readyNodes.has(node)) return `${brick} (GlusterNode ${node} is not Ready; its bricks are started once it is)`;
    return node !== undefined ? `${brick} (GlusterNode ${node})` : brick;
  });
  const restart = input.restartFailure ? `; starting them failed (gluster volume start ${input.info.name} force): ${input.restartFailure}` : '';
  return `${offline.length} of ${input.info.bricks.length} bricks offline: ${described.join(', ')}${restart}`;
}

function splitBrainMessage(entries: number, gluster: string): string {
  return (
    `${entries} entries in split-brain, which self-heal cannot resolve: list them with "gluster volume heal ${gluster} info split-brain", then choose the good copy ` +
    `of each with "gluster volume heal ${gluster} split-brain latest-mtime FILE" (or bigger-file FILE, or source-brick HOST:BRICK [FILE])`
  );
}

export function volumeHealth(input: HealthInput): VolumeHealth {
  const { info, heal } = input;
  const brickOnline = brickOnlineStates(info, input.online);
  const offline = [...brickOnline].filter(([, up]) => !up).map(([brick]) => brick);
  const quorum = quorumOf(info, brickOnline);
  const figures = heal?.kind === 'read' ? healFigures(info, heal.bricks) : undefined;
  const replicated = info.durability !== 'distribute';

  const fields: VolumeHealth['fields'] = { bricksOnline: brickOnline.size === 0 ? null : brickOnline.size - offline.length, quorum: quorum?.status ?? null };
  if (!replicated || heal?.kind === 'notApplicable') fields.heal = null;
  else if (heal?.kind === 'read') fields.heal = { pendingEntries: figures!.pendingEntries, splitBrainEntries: figures!.splitBrainEntries, checkedAt: heal.at };
  const conditions = replicated && heal && heal.kind !== 'notApplicable' ? [healingCondition(heal, figures, input.previousHeal)] : [];

  const problems: HealthProblem[] = [];
  if (quorum && quorum.lost.length > 0) problems.push({ reason: 'QuorumLost', message: `quorum lost, writes to the files of these sets fail: ${quorum.lost.join('; ')}` });
  const splitBrain = fields.heal === null ? 0 : (figures?.splitBrainEntries ?? input.previousHeal?.splitBrainEntries ?? 0);
  if (splitBrain > 0) problems.push({ reason: 'SplitBrain', message: splitBrainMessage(splitBrain, info.name) });
  if (offline.length > 0) problems.push({ reason: 'BricksOffline', message: offlineMessage(offline, input) });

  const healUnknown = replicated && (heal?.kind === 'failed' || (figures !== undefined && figures.unknown.length > 0));
  const pending = fields.heal === null ? 0 : (figures?.pendingEntries ?? input.previousHeal?.pendingEntries ?? 0);
  return { fields, conditions, problems, brickOnline, settling: brickOnline.size === 0 || healUnknown || pending > 0 };
}

/** Degraded with the most severe problem's reason and every problem's message, or the healthy phase as it is. */
export function healthPhase(health: VolumeHealth, healthy: Phase): Phase {
  const [worst] = health.problems;
  if (!worst) return healthy;
  return { state: 'degraded', reason: worst.reason, message: health.problems.map((problem) => problem.message).join('; ') };
}

/**
 * Events of a change of health, once per change (and through warningsOnce, which drops a repeat within its
 * window): a Warning when Degraded turns True or changes reason, a Normal one when a health problem clears.
 * The figures in a message change every refresh; an Event per refresh would bury the one that matters.
 */
export function healthEvents(previous: readonly Condition[] | undefined, health: VolumeHealth, phase: Phase): Array<{ type: 'Normal' | 'Warning'; reason: string; message: string }> {
  const before = findCondition(previous, 'Degraded');
  const wasHealthProblem = before?.status === 'True' && HEALTH_REASONS.has(before.reason);
  const [worst] = health.problems;
  if (worst) return wasHealthProblem && before.reason === worst.reason ? [] : [{ type: 'Warning', reason: worst.reason, message: phase.message }];
  return wasHealthProblem ? [{ type: 'Normal', reason: 'VolumeHealthy', message: `no longer ${before.reason}: ${phase.message}` }] : [];
}

/** When to look again: soon while bricks are down, within a heal refresh while healing or not known, else the steady period. */
export function healthRequeueMs(health: VolumeHealth): number {
  if (anyBrickDown(health.brickOnline) || health.problems.some((problem) => problem.reason === 'QuorumLost')) return REQUEUE.waiting;
  return health.settling || health.problems.length > 0 ? HEAL_REFRESH_MS : REQUEUE.steady;
}

/** Read heal info this pass? Never for distribute volumes; after a change; else when the last read is HEAL_REFRESH_MS old. */
export function healRefreshDue(world: { info: GlusterVolumeInfo; checkedAt: string | undefined; now: number; changed: boolean }): boolean {
  if (world.info.durability === 'distribute') return false;
  if (world.changed || world.checkedAt === undefined) return true;
  const at = Date.parse(world.checkedAt);
  // A checkedAt in the future (another replica's clock, an edit) is not trusted to postpone the read.
  return Number.isNaN(at) || Math.abs(world.now - at) >= HEAL_REFRESH_MS;
}
