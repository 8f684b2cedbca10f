import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import { isAllowedOption, volumeOptionsProblems } from '../../gluster/volume-option-policy.ts';
import { volumeCapacity, type TopologyDurability, type TopologyVolume } from '../../topology/model.ts';
import { REQUEUE } from '../context.ts';
import { bricksToRestart } from './brick-restart.ts';
import { AUTH_ALLOW, liveAuthAllow, type WantedClientAccess } from './client-access.ts';
import { tlsApplies, wantedTlsOptions, type WantedTls } from './volume-tls.ts';
import { healRefreshDue, type HealObservation } from './volume-health.ts';
import { bricksInSetOrder } from './volume-layout.ts';
import { adoptionMismatch, OWNER_OPTION, ownershipOf } from './volume-ownership.ts';
import { decideCopy, decideCopyCleanup, type CloneStep, type CopySource, type SourceSnapshot } from './volume-clone-decisions.ts';

/**
 * The GlusterVolume reconcile's decisions, as pure functions of what it observed: the reconciler (volume.ts)
 * observes, asks `decideVolume` for the next step, performs that one step, records what the step changed in
 * the observed world, and asks again, until the answer is to report. Every rule that protects data lives
 * here, each with a unit test (test/unit/operator-volume-decisions.test.ts):
 *   - a Gluster volume belongs to one GlusterVolume (volume-ownership.ts); another object's, or one nobody
 *     owns, is refused unless spec.adoptExisting asks for it and Gluster shows what the spec describes;
 *   - a volume that existed and vanished behind the operator's back is reported, never re-created empty;
 *   - bricks the operator did not make (adopted ones) are never created, formatted or mounted by it;
 *   - only allowed options with valid values are set, and only options this object set are ever reset
 *     (optionsProblem, optionSteps).
 */

/** What Gluster says of the volume: not asked yet (undefined), absent, or its `volume info`. */
export type LiveVolume = { kind: 'missing' } | { kind: 'present'; info: GlusterVolumeInfo };

export interface VolumeWorld {
  /** This object's owner mark, namespace/name. */
  me: string;
  /** The Gluster name the spec asks for. */
  gluster: string;
  adoptExisting: boolean;
  durability: TopologyDurability;
  /** spec.size in bytes, or why it cannot be read. */
  requested: number | { error: string };
  /** spec.options. */
  specOptions: Readonly<Record<string, string>>;
  /** The GlusterCluster's spec.volumeOptions, which spec.options overrides key by key. */
  clusterOptions: Readonly<Record<string, string>>;
  /** status.appliedOptions: the options this object has set on the volume (optionSteps says why it is recorded). */
  appliedOptions: readonly string[];
  /** Who may mount it (client-access.ts): auth.allow, set by the operator from typed cluster fields, never from options. */
  clientAccess: WantedClientAccess;
  /** TLS the GlusterCluster asks for (volume-tls.ts), with its Secret's files. */
  tls: WantedTls;
  /** status.tls already names this directory: the servers had the files when the volume started with TLS. */
  tlsRecorded: boolean;
  /** This pass copied the TLS files to the servers. */
  tlsCopied?: boolean;
  /** Storage addresses of the cluster's GlusterNodes; undefined when the GlusterCluster does not exist. */
  clusterAddresses: ReadonlySet<string> | undefined;
  accessError?: string;
  readyNodes: ReadonlySet<string>;
  /** This object's placement in the topology database. */
  record?: TopologyVolume;
  /** Another placement that holds the same Gluster name, and whether its GlusterVolume still exists. */
  holder?: { name: string; objectExists: boolean };
  /** The record's bricks as Gluster names them, in set order, with their GlusterNode. */
  placedBricks?: Array<{ glusterName: string; node: string }>;
  live?: LiveVolume;
  /** This pass made sure the bricks exist (or had nothing to make). */
  bricksEnsured?: boolean;
  /** Brick processes online, by brick name; undefined until asked (or known: all up right after a create). */
  online?: ReadonlyMap<string, boolean>;
  restartedBricks?: boolean;
  /** Rebalance status was read (volumes with several sets), or none is needed. */
  rebalanceObserved?: boolean;
  /** Clock time, ms, and when heal info was last read (status.heal.checkedAt): heal is read at most so often. */
  now: number;
  healCheckedAt?: string;
  /** This pass changed the Gluster volume (GLUSTER_CHANGING_STEPS, or a restart that brought a brick back): heal is read again. */
  changedGluster?: boolean;
  /** Heal info as read this pass (volume-health.ts). */
  heal?: HealObservation;
  /** Why restarting down bricks failed this pass: they are reported offline with it. */
  restartFailure?: string;
  /**
   * spec.dataSource: what the volume starts as a copy of (volume-clone-decisions.ts), the snapshot it is
   * cloned from once observed, and whether status already reports the copy (it has been Ready once).
   */
  copy?: { source: CopySource; sourceSnapshot?: SourceSnapshot; reported: boolean };
}

/** Steps that change the Gluster volume, after which its health is read afresh. */
export const GLUSTER_CHANGING_STEPS: ReadonlySet<VolumeStep['kind']> = new Set(['create', 'clone', 'markOwner', 'start', 'setOptions', 'resetOptions', 'grow', 'addBricks']);

/** Did this step, done, change the Gluster volume? A restart does only if a brick it started is online after it. */
export function changedGlusterBy(step: VolumeStep, online: ReadonlyMap<string, boolean> | undefined): boolean {
  if (step.kind === 'restartBricks') return step.bricks.some((brick) => online?.get(brick) === true);
  return GLUSTER_CHANGING_STEPS.has(step.kind);
}

export type VolumeStep =
  | { kind: 'fail'; reason: string; message: string; requeueAfterMs: number }
  | { kind: 'wait'; reason: string; message: string; requeueAfterMs: number }
  | { kind: 'observeLive' }
  | { kind: 'place' }
  | { kind: 'adopt'; replacing?: string }
  | { kind: 'ensureBricks' }
  | { kind: 'create' }
  /** The owner mark, with any options that differ, in one `volume set`. */
  | { kind: 'markOwner'; options: Array<[string, string]> }
  /** The cluster's TLS Secret as files on its Ready servers, before the volume starts with TLS. */
  | { kind: 'copyTls' }
  | { kind: 'start' }
  | { kind: 'setOptions'; options: Array<[string, string]> }
  /** status.appliedOptions becomes `keys`: before options are set (they are added), after they are reset (removed). */
  | { kind: 'recordOptions'; keys: string[] }
  /** Options this object set and the spec no longer names, back to Gluster's defaults (`volume reset`, one each). */
  | { kind: 'resetOptions'; keys: string[] }
  | { kind: 'grow'; to: number }
  /** Whole sets the database holds and Gluster does not: a growth whose add-brick never ran (a crash, a failure). */
  | { kind: 'addBricks'; sets: number[] }
  | { kind: 'recordLive'; glusterId: string; size: number }
  | { kind: 'observeBricks' }
  | { kind: 'restartBricks'; bricks: string[] }
  | { kind: 'observeRebalance' }
  | { kind: 'observeHeal' }
  | Exclude<CloneStep, { kind: 'fail' | 'wait' }>
  | { kind: 'ready' };

const fail = (reason: string, message: string, requeueAfterMs: number = REQUEUE.waiting): VolumeStep => ({ kind: 'fail', reason, message, requeueAfterMs });

export function decideVolume(world: VolumeWorld): VolumeStep {
  const { gluster, record, live } = world;
  if (world.clusterAddresses === undefined) return fail('ClusterNotFound', 'spec.cluster: the GlusterCluster does not exist');
  if (world.accessError !== undefined) return fail('AccessNotConfigured', world.accessError);
  if (typeof world.requested !== 'number') return fail('InvalidSize', `spec.size: ${world.requested.error}`, REQUEUE.unreachable);
  const invalidOptions = optionsProblem(world);
  if (invalidOptions) return fail('InvalidOption', invalidOptions, REQUEUE.unreachable);
  // Before anything is created or changed: a volume is never started open because its clients were unknown.
  if (world.clientAccess.kind === 'refused') return fail('NoClientsAllowed', world.clientAccess.why, REQUEUE.waiting);
  if (world.clientAccess.kind === 'unknown') return { kind: 'wait', reason: 'WaitingForClientAccess', message: world.clientAccess.why, requeueAfterMs: 5_000 };
  if (world.tls.kind === 'invalid') return fail('TLSSecretInvalid', world.tls.why);
  if (world.readyNodes.size === 0) return { kind: 'wait', reason: 'WaitingForNodes', message: 'no GlusterNode of the cluster is Ready yet', requeueAfterMs: REQUEUE.waiting };
  if (record && record.gluster !== gluster) return fail('NameConflict', `topology volume ${record.name} is Gluster volume ${record.gluster}, not ${gluster}`, REQUEUE.unreachable);
  if (world.holder && (world.holder.objectExists || !world.adoptExisting)) {
    return fail(
      'OwnedByAnother',
      world.holder.objectExists
        ? `glusterVolumeName: Gluster volume ${gluster} belongs to GlusterVolume ${world.holder.name}; choose another name`
        : `glusterVolumeName: Gluster volume ${gluster} was kept by GlusterVolume ${world.holder.name} (deleted with reclaimPolicy Retain); set spec.adoptExisting: true to take it over`,
      REQUEUE.unreachable,
    );
  }
  if (live === undefined) return { kind: 'observeLive' };
  return record ? decidePlaced(world, record, live) : decideUnplaced(world, live);
}

/** No placement for this object yet: create one, or adopt what Gluster has, or refuse. */
function decideUnplaced(world: VolumeWorld, live: LiveVolume): VolumeStep {
  const { gluster } = world;
  if (world.copy) return decideCopy({ ...world, ...world.copy, clusterAddresses: world.clusterAddresses! }, live);
  if (live.kind === 'missing') {
    if (world.adoptExisting) return fail('NothingToAdopt', `adoptExisting: Gluster volume ${gluster} does not exist; nothing was created (remove adoptExisting to create a new volume)`, REQUEUE.unreachable);
    return { kind: 'place' };
  }
  const ownership = ownershipOf(live.info, world.me, undefined);
  const replacing = world.holder && !world.holder.objectExists ? { replacing: world.holder.name } : {};
  switch (ownership.kind) {
    case 'ours':
      // Marked ours but not in the database (a database rebuilt without it): record what Gluster has.
      return { kind: 'adopt', ...replacing };
    case 'other':
      return fail('OwnedByAnother', `glusterVolumeName: Gluster volume ${gluster} belongs to GlusterVolume ${ownership.owner} (its ${OWNER_OPTION} option); choose another name`, REQUEUE.unreachable);
    case 'oursUnmarked':
    case 'unowned': {
      if (!world.adoptExisting) {
        return fail('VolumeExists', `glusterVolumeName: Gluster volume ${gluster} already exists and no GlusterVolume owns it; set spec.adoptExisting: true to take it over as it is, or choose another name`, REQUEUE.unreachable);
      }
      const mismatch = adoptionMismatch(live.info, world.durability, world.clusterAddresses!);
      if (mismatch) return fail('AdoptionMismatch', `adoptExisting: ${mismatch}; nothing was changed`, REQUEUE.unreachable);
      return { kind: 'adopt', ...replacing };
    }
  }
}

function decidePlaced(world: VolumeWorld, record: TopologyVolume, live: LiveVolume): VolumeStep {
  const { gluster } = world;
  const requested = world.requested as number;
  if (live.kind === 'missing' && record.glusterId) {
    // It existed (its id is recorded): re-creating it would present empty bricks as the user's volume.
    return fail(
      'VolumeMissing',
      `Gluster volume ${gluster} (${record.glusterId}) no longer exists in Gluster; it is not re-created empty. Restore it (its bricks are kept), or delete this GlusterVolume`,
      REQUEUE.unreachable,
    );
  }
  // Every pass: the backends observe first, and a LoopFile brick's mount is gone after its node rebooted.
  if (!world.bricksEnsured) return { kind: 'ensureBricks' };
  if (live.kind === 'missing') return { kind: 'create' };
  const info = live.info;
  const ownership = ownershipOf(info, world.me, world.placedBricks?.map((brick) => brick.glusterName));
  if (ownership.kind === 'other') return fail('OwnedByAnother', `Gluster volume ${gluster} belongs to GlusterVolume ${ownership.owner} (its ${OWNER_OPTION} option); this object leaves it alone`, REQUEUE.unreachable);
  if (ownership.kind === 'unowned') {
    return fail('VolumeExists', `Gluster volume ${gluster} exists with other bricks than the ones placed for this object, and no owner mark; it is left alone`, REQUEUE.unreachable);
  }
  const cleanup = world.copy && decideCopyCleanup(world.copy, world.copy.reported);
  if (cleanup) return cleanup;
  const options = optionSteps(world, info);
  if (options.record) return options.record;
  // Bricks read their certificate when they start: the files are on the servers first.
  if (tlsApplies(world.tls, info) && !world.tlsCopied && !world.tlsRecorded) return { kind: 'copyTls' };
  if (ownership.kind === 'oursUnmarked') return { kind: 'markOwner', options: options.set };
  if (info.status !== 'Started') return { kind: 'start' };
  if (options.set.length > 0) return { kind: 'setOptions', options: options.set };
  if (options.reset) return options.reset;
  if (options.forget) return options.forget;
  if (requested > volumeCapacity(record)) return { kind: 'grow', to: requested };
  const unadded = setsNotInGluster(record, world.placedBricks ?? [], info);
  if (unadded.length > 0) return { kind: 'addBricks', sets: unadded };
  if (record.glusterId !== info.id || record.size < requested) return { kind: 'recordLive', glusterId: info.id, size: Math.max(record.size, requested) };
  if (world.online === undefined) return { kind: 'observeBricks' };
  if (!world.restartedBricks) {
    const restart = bricksToRestart(world.placedBricks ?? [], world.online, world.readyNodes);
    if (restart.length > 0) return { kind: 'restartBricks', bricks: restart };
  }
  if (!world.rebalanceObserved && (record.sets > 1 || info.distCount !== record.sets)) return { kind: 'observeRebalance' };
  if (world.heal === undefined && healRefreshDue({ info, checkedAt: world.healCheckedAt, now: world.now, changed: world.changedGluster === true })) return { kind: 'observeHeal' };
  return { kind: 'ready' };
}

/**
 * Sets of the placement of which Gluster lists no brick. A growth commits its new sets before `add-brick`;
 * if that never ran, the capacity the database counts is not Gluster's, and the next pass adds them. A brick
 * that replaces a retired one is the evacuation's (Gluster gets it by replace-brick), so a set holding one
 * is never taken for a missing set.
 */
export function setsNotInGluster(record: TopologyVolume, placedBricks: ReadonlyArray<{ glusterName: string }>, info: GlusterVolumeInfo): number[] {
  const live = new Set(info.bricks.map((brick) => brick.name));
  const replacements = new Set((record.retiredBricks ?? []).map((brick) => brick.replacedBy));
  const bySet = new Map<number, boolean>();
  // placedBricks is in the same order (volume.ts builds it from bricksInSetOrder).
  bricksInSetOrder(record).forEach((brick, i) => {
    const absent = !live.has(placedBricks[i]?.glusterName ?? '') && !replacements.has(brick.id);
    bySet.set(brick.set, (bySet.get(brick.set) ?? true) && absent);
  });
  return [...bySet].filter(([, absent]) => absent).map(([set]) => set);
}

/**
 * Why the options cannot be applied, naming where each bad one comes from, or undefined. The policy
 * (src/gluster/volume-option-policy.ts) is the CRD's too; this catches values, which the CRD does not check,
 * and objects stored before the policy existed, refused here for this object alone.
 */
export function optionsProblem(world: Pick<VolumeWorld, 'specOptions' | 'clusterOptions'>): string | undefined {
  const sources: Array<[string, Readonly<Record<string, string>>]> = [
    ['spec.options', world.specOptions],
    // A cluster option this volume overrides is not applied here, so it does not stop this volume.
    ["the GlusterCluster's spec.volumeOptions", Object.fromEntries(Object.entries(world.clusterOptions).filter(([key]) => !(key in world.specOptions)))],
  ];
  for (const [where, options] of sources) {
    const problems = volumeOptionsProblems(options);
    if (problems.length > 0) return `${where}: ${problems.join('; ')}. Nothing was changed on the volume; correct or remove ${problems.length === 1 ? 'it' : 'them'}`;
  }
  return undefined;
}

export interface OptionSteps {
  /** Options whose live value differs from the wanted one, for markOwner or setOptions. */
  set: Array<[string, string]>;
  /** status.appliedOptions with the keys about to be set, when some are not recorded yet: written first. */
  record?: VolumeStep;
  reset?: VolumeStep;
  /** status.appliedOptions without the keys the spec dropped and Gluster no longer lists. */
  forget?: VolumeStep;
}

/**
 * The option steps, from the wanted options (cluster's, overridden by the volume's), the live ones and the
 * record in status. Which options to reset cannot be read from Gluster: "Options Reconfigured" also holds
 * options heketi or an administrator set (an adopted volume keeps them, and adoption never changes them), so
 * only keys this object recorded before setting them are reset, and only allowed ones: status is writable by
 * whoever may patch it, and a key written there must not let that reset auth.allow or the owner mark. Recording
 * before the set means a crash in between leaves a key recorded that may not be set, which at worst resets an
 * option to its default: never one set but forgotten. A key the spec names whose live value already matches
 * (an adopted volume's) is not set, so not recorded, so never reset.
 */
export function optionSteps(world: Pick<VolumeWorld, 'specOptions' | 'clusterOptions' | 'appliedOptions' | 'clientAccess' | 'tls'>, info: GlusterVolumeInfo): OptionSteps {
  const wanted: Record<string, string> = { ...world.clusterOptions, ...world.specOptions };
  const applied = world.appliedOptions.filter(isAllowedOption);
  const fromSpec = Object.entries(wanted).filter(([key, value]) => info.options[key] !== value);
  // auth.allow comes from typed fields (never a spec option, the policy refuses it there), so it is not recorded
  // for a reset: the operator keeps it set for as long as it manages the volume's clients.
  const access = world.clientAccess;
  const managed: Array<[string, string]> = [];
  if (access.kind === 'set' && liveAuthAllow(info.options) !== access.value) managed.push([AUTH_ALLOW, access.value]);
  // TLS, likewise from typed fields: set with the owner mark on a new volume, kept on one that has it.
  for (const [key, value] of wantedTlsOptions(world.tls, info)) if (info.options[key] !== value) managed.push([key, value]);
  const set: Array<[string, string]> = [...fromSpec, ...managed];
  const unrecorded = fromSpec.map(([key]) => key).filter((key) => !applied.includes(key));
  if (unrecorded.length > 0) return { set, record: { kind: 'recordOptions', keys: [...new Set([...applied, ...unrecorded])].sort() } };
  const dropped = world.appliedOptions.filter((key) => !(key in wanted));
  const reset = dropped.filter((key) => isAllowedOption(key) && key in info.options);
  if (reset.length > 0) return { set, reset: { kind: 'resetOptions', keys: reset } };
  if (dropped.length > 0) return { set, forget: { kind: 'recordOptions', keys: [...new Set(applied.filter((key) => key in wanted))].sort() } };
  return { set };
}
