import { createHash } from 'node:crypto';
import type { GlusterCluster, GlusterVolume } from '../../api/index.ts';
import type { ConditionUpdate } from '../../controller/conditions.ts';
import { volumeAddBrick, volumeCreate, volumeHealSummary, volumeInfo, volumeRebalanceStart, volumeRebalanceStatus, volumeResetOption, volumeStart, volumeStatus } from '../../gluster/commands/gluster.ts';
import { isRetryable, NodeCommandError, ParseError } from '../../gluster/errors.ts';
import { failureReason } from '../../gluster/executor.ts';
import { rebalanceOutcome } from '../../gluster/parsers/rebalance-status.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import { addVolume, brickGlusterName, brickNode, deviceFree, findCluster, findVolume, removeVolume, replaceVolume, topologyName, volumeCapacity, type TopologyBrick, type TopologyDatabase, type TopologyDevice, type TopologyVolume } from '../../topology/model.ts';
import { placeVolume } from '../../topology/placement/index.ts';
import { seededRandom } from '../../topology/random.ts';
import { rebuildVolume, type Finding, type NodeObservation } from '../../topology/rebuild/rebuild.ts';
import { formatBytes } from '../../topology/sizing.ts';
import { errorMessage } from '../../runtime/error-message.ts';
import { topologyNodeTarget, type ClusterAccess } from '../cluster-access.ts';
import type { ReconcileContext } from '../context.ts';
import { backendBrickRequest, brickRecordOf, bricksInSetOrder, glusterLayout, glusterVolumeNameOf, modelDurability } from './volume-layout.ts';
import type { LiveVolume } from './volume-decisions.ts';
import { StepRefused } from './volume-errors.ts';
import type { HealObservation } from './volume-health.ts';
import { rebalanceProgress, type RebalanceProgress } from './volume-report.ts';

/**
 * The volume reconcile's steps that change something (volume.ts decides which, one at a time). Each is
 * idempotent or observes first, and each commits to the topology database, and waits for the backup,
 * before the remote change that depends on it.
 */

/** Placement is deterministic per volume: a retried reconcile of the same object places the same way. */
function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

export async function placeNewVolume(
  ctx: ReconcileContext,
  volume: GlusterVolume,
  cluster: GlusterCluster,
  requested: number,
): Promise<{ ok: true; record: TopologyVolume } | { ok: false; message: string }> {
  const namespace = volume.metadata.namespace ?? 'default';
  const placed = placeVolume(
    ctx.topology.db,
    {
      volume: topologyName(namespace, volume.metadata.name),
      cluster: topologyName(namespace, cluster.metadata.name),
      size: requested,
      durability: modelDurability(volume.spec.durability),
      snapshotFactor: volume.spec.snapshotFactor,
      gluster: glusterVolumeNameOf(volume),
      ...(volume.spec.deviceSelector ? { deviceSelector: volume.spec.deviceSelector } : {}),
      ...(volume.spec.gid !== undefined ? { gid: volume.spec.gid } : {}),
    },
    seededRandom(seedOf(volume.metadata.uid ?? volume.metadata.name)),
  );
  if (!placed.ok) return { ok: false, message: `no brick layout for ${volume.spec.size}: ${placed.reason}` };
  ctx.topology.commit((db) => addVolume(db, placed.volume));
  await ctx.topology.flush(); // the placement is in the backup before any brick exists
  await ctx.events.normal(volume, 'BricksPlaced', `${placed.volume.bricks.length} bricks in ${placed.volume.sets} set(s) of ${formatBytes(placed.brickSize)}`);
  return { ok: true, record: placed.volume };
}

/**
 * Takes an existing Gluster volume into the database as it is (the decision has checked it matches the
 * spec): bricks where Gluster has them, each with its path recorded as Gluster names it so the operator
 * never creates, formats or mounts a brick it did not make. `replacing` is the placement of a deleted
 * GlusterVolume (kept by Retain) that held the same Gluster volume.
 */
export async function adoptVolume(ctx: ReconcileContext, volume: GlusterVolume, cluster: GlusterCluster, info: GlusterVolumeInfo, replacing: string | undefined): Promise<TopologyVolume> {
  const recorded = await recordLiveVolume(ctx, volume, cluster, info, { replacing, refusal: ['AdoptionFailed', 'adoptExisting: cannot take over'] });
  await ctx.events.normal(volume, 'VolumeAdopted', `took over Gluster volume ${info.name} (${info.bricks.length} bricks) as it is${replacing ? `, kept by ${replacing}` : ''}`);
  return recorded;
}

/**
 * A Gluster volume into the database as Gluster shows it (rebuildVolume), with LVM's view of the nodes when
 * given (`observations`, by GlusterNode: how a clone's bricks are found), durable before it returns; refused
 * with `refusal` (reason, message prefix) when it cannot be recorded. Nothing on the nodes changes.
 */
export async function recordLiveVolume(
  ctx: ReconcileContext,
  volume: GlusterVolume,
  cluster: GlusterCluster,
  info: GlusterVolumeInfo,
  options: { replacing?: string | undefined; observations?: Map<string, NodeObservation>; refusal: [reason: string, prefix: string] },
): Promise<TopologyVolume> {
  const { replacing, refusal } = options;
  const namespace = volume.metadata.namespace ?? 'default';
  const db = ctx.topology.db;
  const clusterRecord = findCluster(db, topologyName(namespace, cluster.metadata.name));
  if (!clusterRecord) throw new Error(`cluster ${cluster.metadata.name} is not in the topology database yet`);
  const findings: Finding[] = [];
  const nodes = db.nodes.filter((node) => node.cluster === clusterRecord.name);
  const record = rebuildVolume(volume, info, clusterRecord, {
    nodes,
    // LoopFile and Directory bricks live under directoryRoot, not on a device: their space is counted against
    // the node's device with the most room, the one device rebuildVolume is then offered. LVM bricks are
    // found by the volume group in their path, or by their LV in the observations.
    devices: clusterRecord.brickBackend === 'LVM' ? db.devices : nodes.flatMap((node) => roomiestDevice(db, node.name)),
    nodeByAddress: (clusterName, host) => db.nodes.find((node) => node.cluster === clusterName && node.storage === host),
    observationOf: options.observations ?? new Map(),
    hint: undefined,
    find: (finding) => findings.push(finding),
  });
  const [reason, prefix] = refusal;
  if (!record) throw new StepRefused(reason, `${prefix} Gluster volume ${info.name}: ${findings.map((f) => f.message).join('; ') || 'no reason given'}; nothing was changed`);
  const taken: TopologyVolume = { ...record, bricks: record.bricks.map((brick, i) => ({ ...brick, path: info.bricks[i]!.path })) };
  try {
    ctx.topology.commit((current) => addVolume(replacing && findVolume(current, replacing) ? removeVolume(current, replacing) : current, taken));
  } catch (error) {
    // The database refuses what it cannot hold (a device without room for the bricks' space, a brick in two volumes).
    throw new StepRefused(reason, `${prefix} Gluster volume ${info.name}: ${(error as Error).message}; nothing was changed`);
  }
  await ctx.topology.flush();
  return findVolume(ctx.topology.db, taken.name)!;
}

function roomiestDevice(db: TopologyDatabase, node: string): TopologyDevice[] {
  const devices = db.devices.filter((device) => device.node === node && device.state === 'Online');
  return devices.sort((a, b) => deviceFree(db, b.id) - deviceFree(db, a.id) || a.id.localeCompare(b.id)).slice(0, 1);
}

/** Every brick the operator made for the volume, nodes in parallel (a node's bricks one after another: they may share a device). */
export async function createBricks(ctx: ReconcileContext, access: ClusterAccess, record: TopologyVolume): Promise<void> {
  const db = ctx.topology.db;
  // A brick with a recorded path was adopted (or rebuilt where its path is not ours): never touched.
  const ours = record.bricks.filter((brick) => brick.path === undefined);
  const byNode = Map.groupBy(ours, (brick) => brickNode(db, brick).name);
  await Promise.all(
    [...byNode.values()].map(async (bricks) => {
      for (const brick of bricks) await createBrick(ctx, access, record, brick);
    }),
  );
}

/** One brick of the volume, where the database says; idempotent (the backends observe before acting). */
export async function createBrick(ctx: ReconcileContext, access: ClusterAccess, record: TopologyVolume, brick: TopologyBrick): Promise<void> {
  const db = ctx.topology.db;
  const { id, location } = backendBrickRequest(db, record, brick);
  const created = await access.backend.createBrick(topologyNodeTarget(brickNode(db, brick)), {
    id,
    location,
    sizeBytes: brick.size,
    snapshotFactor: record.snapshotFactor,
    ...(record.gid !== undefined ? { gid: record.gid } : {}),
  });
  const expected = brickRecordOf(db, record, brick).path;
  if (created.path !== expected) throw new Error(`brick ${brick.id}: backend put it at ${created.path}, the database expects ${expected}`);
}

/**
 * `volume create` from the placed bricks. "Already exists" means a pass created it and ended before
 * anything else: the live volume is read then, and the ownership decision judges it by its bricks.
 */
export async function createVolume(ctx: ReconcileContext, volume: GlusterVolume, access: ClusterAccess, worker: NodeTarget, record: TopologyVolume, cluster: GlusterCluster): Promise<LiveVolume> {
  const bricks = bricksInSetOrder(record).map((brick) => brickGlusterName(ctx.topology.db, brick));
  const create = volumeCreate({ name: record.gluster, layout: glusterLayout(record.durability), bricks, force: cluster.spec.brickBackend === 'Directory' });
  const created = await access.executor.run(worker, create).catch((error: unknown) => {
    if (failureReason(error) === 'already-exists') return undefined;
    throw error;
  });
  if (!created) return observeLive(access, worker, record.gluster);
  await ctx.events.normal(volume, 'VolumeCreated', `Gluster volume ${record.gluster} created from ${bricks.length} bricks`);
  // What `volume info` would say of a volume just created; saves a round trip on the provisioning path.
  const info = {
    name: record.gluster,
    id: created.id,
    status: 'Created',
    options: {},
    distCount: record.sets,
    bricks: bricks.map(brickInfoOf),
  } as unknown as GlusterVolumeInfo;
  return { kind: 'present', info };
}

/**
 * Adds sets for the missing capacity: placement of a volume of the missing size with the same durability,
 * its sets renumbered after the existing ones; durable in the backup; bricks created; add-brick; rebalance.
 */
export async function growVolume(
  ctx: ReconcileContext,
  access: ClusterAccess,
  volume: GlusterVolume,
  cluster: GlusterCluster,
  record: TopologyVolume,
  requested: number,
  node: NodeTarget,
): Promise<{ ok: true; record: TopologyVolume; added: string[] } | { ok: false; message: string }> {
  const missing = requested - volumeCapacity(record);
  const extension = placeVolume(
    // Placed as if a separate volume, against the database that holds this volume's bricks: their space is taken.
    ctx.topology.db,
    {
      volume: `${record.name}-grow-${record.sets}`,
      cluster: record.cluster,
      size: missing,
      durability: record.durability,
      snapshotFactor: record.snapshotFactor,
      gluster: record.gluster,
      ...(volume.spec.deviceSelector ? { deviceSelector: volume.spec.deviceSelector } : {}),
    },
    seededRandom(seedOf(`${volume.metadata.uid}-${record.sets}`)),
  );
  if (!extension.ok) return { ok: false, message: `cannot grow to ${volume.spec.size}: ${extension.reason}` };
  const added = extension.volume.bricks.map((brick) => ({ ...brick, set: brick.set + record.sets }));
  ctx.topology.commit((db) => {
    const fresh = findVolume(db, record.name)!; // bricks an evacuation swapped meanwhile stay swapped
    return replaceVolume(db, { ...fresh, size: requested, sets: fresh.sets + extension.sets, bricks: [...fresh.bricks, ...added] });
  });
  await ctx.topology.flush();
  const grown = findVolume(ctx.topology.db, record.name)!;
  await createBricks(ctx, access, grown);
  const newBricks = bricksInSetOrder({ ...grown, bricks: added }).map((brick) => brickGlusterName(ctx.topology.db, brick));
  await access.executor.run(node, volumeAddBrick(record.gluster, glusterLayout(record.durability), newBricks, { force: cluster.spec.brickBackend === 'Directory' }));
  await access.executor.run(node, volumeRebalanceStart(record.gluster));
  await ctx.events.normal(volume, 'VolumeExpanded', `added ${extension.sets} set(s) (${newBricks.length} bricks) and started a rebalance`);
  return { ok: true, record: grown, added: newBricks };
}

/** `volume info NAME`, holding only the entry of that name (a list is what the command parses). */
export async function observeLive(access: ClusterAccess, node: NodeTarget, gluster: string): Promise<LiveVolume> {
  try {
    const info = (await access.executor.run(node, volumeInfo(gluster))).find((entry) => entry.name === gluster);
    return info ? { kind: 'present', info } : { kind: 'missing' };
  } catch (error) {
    if (failureReason(error) === 'not-found') return { kind: 'missing' };
    throw error;
  }
}

/** A brick as `volume info` lists it, for a brick this pass put in Gluster (what the next decision sees). */
export function brickInfoOf(name: string): GlusterVolumeInfo['bricks'][number] {
  return { name, host: name.slice(0, name.indexOf(':')), path: name.slice(name.indexOf(':') + 1), hostUuid: '', isArbiter: false };
}

/** add-brick (and a rebalance) for sets the database holds and Gluster lacks; returns the bricks as Gluster will list them. */
export async function addMissingSets(
  ctx: ReconcileContext,
  volume: GlusterVolume,
  access: ClusterAccess,
  node: NodeTarget,
  record: TopologyVolume,
  sets: number[],
  cluster: GlusterCluster,
): Promise<GlusterVolumeInfo['bricks']> {
  const wanted = new Set(sets);
  const names = bricksInSetOrder({ ...record, bricks: record.bricks.filter((brick) => wanted.has(brick.set)) }).map((brick) => brickGlusterName(ctx.topology.db, brick));
  await access.executor.run(node, volumeAddBrick(record.gluster, glusterLayout(record.durability), names, { force: cluster.spec.brickBackend === 'Directory' }));
  await access.executor.run(node, volumeRebalanceStart(record.gluster));
  await ctx.events.normal(volume, 'BricksAdded', `set(s) ${sets.join(', ')} were placed but not in Gluster (an expansion that did not finish): added ${names.length} bricks and started a rebalance`);
  return names.map(brickInfoOf);
}

export async function readBrickOnline(access: ClusterAccess, node: NodeTarget, gluster: string): Promise<Map<string, boolean>> {
  try {
    const [status] = await access.executor.run(node, volumeStatus(gluster));
    return new Map((status?.bricks ?? []).map((brick) => [`${brick.host}:${brick.path}`, brick.online]));
  } catch (error) {
    if (isRetryable(error)) return new Map();
    throw error;
  }
}

/**
 * status.appliedOptions, alone (a merge patch leaves conditions and the rest as they are): written before the
 * options are set, so that a crash between the two never leaves an option set that the record does not name.
 */
export async function recordAppliedOptions(ctx: ReconcileContext, volume: GlusterVolume, keys: string[]): Promise<void> {
  await ctx.volumes.patchStatus(volume.metadata.namespace ?? 'default', volume.metadata.name, { appliedOptions: keys });
}

/**
 * `volume reset` of each key, one after another (glusterd takes one key per reset); `onReset` tells the world
 * as each goes, so a failure part-way leaves the world true to what Gluster has. The decision chose keys this
 * object set and Gluster lists; the record forgets them on the next step.
 */
export async function resetOptions(
  ctx: ReconcileContext,
  volume: GlusterVolume,
  access: ClusterAccess,
  node: NodeTarget,
  gluster: string,
  keys: readonly string[],
  onReset: (key: string) => void,
): Promise<void> {
  for (const key of keys) {
    await access.executor.run(node, volumeResetOption(gluster, key));
    onReset(key);
  }
  await ctx.events.normal(volume, 'OptionsReset', `option(s) ${keys.join(', ')} no longer in the spec: reset to Gluster's defaults`);
}

/**
 * Down brick processes on Ready nodes: `volume start force` starts exactly those (brick-restart.ts decides),
 * then `volume status` says which came back (those get the BricksRestarted Event). Returns that answer and, for
 * bricks still down, why: glusterd's refusal, or that it left them down. A brick that cannot start (its
 * filesystem gone, its binary broken) is then reported offline with the reason instead of failing the pass.
 */
export async function restartBricks(
  ctx: ReconcileContext,
  volume: GlusterVolume,
  access: ClusterAccess,
  node: NodeTarget,
  gluster: string,
  bricks: string[],
): Promise<{ online: Map<string, boolean>; failure?: string }> {
  let failure: string | undefined;
  try {
    await access.executor.run(node, volumeStart(gluster, { force: true }));
  } catch (error) {
    if (!(error instanceof NodeCommandError)) throw error;
    failure = errorMessage(error);
  }
  const online = await readBrickOnline(access, node, gluster);
  const back = bricks.filter((brick) => online.get(brick) === true);
  const still = bricks.filter((brick) => online.get(brick) === false);
  if (back.length > 0) await ctx.events.normal(volume, 'BricksRestarted', `brick process(es) ${back.join(', ')} were down on Ready nodes; started them (volume start force)`);
  if (failure === undefined && still.length > 0) failure = `it left ${still.join(', ')} down (the brick's log on its node says why)`;
  return failure === undefined ? { online } : { online, failure };
}

/** glfsheal's refusal on a volume that is not replicated or dispersed (test/fixtures/gluster/heal-info-dist-error.xml). */
const NOTHING_TO_HEAL = /is not of type replicate\/disperse|supported for only volumes of replicate\/disperse type/i;

/**
 * `heal info summary`, once for the whole volume. Nothing to heal (a distribute or stopped volume) is not an
 * error, and neither is a read that fails (a brick crawl timing out on a big volume, a busy glusterd): health
 * then says heal is not known, and the rest of the status is still written.
 */
export async function readHealSummary(access: ClusterAccess, node: NodeTarget, gluster: string, at: string): Promise<HealObservation> {
  try {
    return { kind: 'read', bricks: await access.executor.run(node, volumeHealSummary(gluster)), at };
  } catch (error) {
    if (failureReason(error) === 'not-started' || NOTHING_TO_HEAL.test(errorMessage(error))) return { kind: 'notApplicable' };
    if (error instanceof NodeCommandError || error instanceof ParseError) return { kind: 'failed', message: errorMessage(error) };
    throw error;
  }
}

/** The Rebalanced condition and, when a rebalance has run, its progress for status.rebalance. */
export async function readRebalance(access: ClusterAccess, node: NodeTarget, gluster: string, at: string): Promise<{ condition: ConditionUpdate; progress?: RebalanceProgress }> {
  try {
    const status = await access.executor.run(node, volumeRebalanceStatus(gluster));
    const { failures, files } = status.aggregate;
    // Not the aggregate alone: glusterd reports a node that failed beside others still running as "in progress".
    const outcome = rebalanceOutcome(status);
    const progress = rebalanceProgress(status, at);
    if (outcome === 'failed' || failures > 0) {
      const failed = status.nodes.filter((n) => n.state === 'failed').map((n) => n.nodeName);
      const message = `rebalance failed${failed.length ? ` on ${failed.join(', ')}` : ''}: ${failures} failure(s), ${files} file(s) moved`;
      return { condition: { type: 'Rebalanced', status: 'False', reason: 'RebalanceFailed', message }, progress };
    }
    if (outcome === 'completed') return { condition: { type: 'Rebalanced', status: 'True', reason: 'RebalanceCompleted', message: `${files} file(s) moved` }, progress };
    const message = `rebalance ${status.aggregate.statusStr}: ${progress.filesScanned} file(s) scanned, ${files} moved`;
    return { condition: { type: 'Rebalanced', status: 'Unknown', reason: 'RebalanceInProgress', message }, progress };
  } catch (error) {
    if (failureReason(error) === 'not-started' || failureReason(error) === 'not-found') {
      return { condition: { type: 'Rebalanced', status: 'True', reason: 'NoRebalanceNeeded', message: 'no rebalance has run on this volume' } };
    }
    throw error;
  }
}

/** Only the volume asked for: `volume info NAME` answers for that name, but a list is what it parses. */
export async function findLiveVolume(access: ClusterAccess, node: NodeTarget, gluster: string): Promise<GlusterVolumeInfo | undefined> {
  const live = await observeLive(access, node, gluster);
  return live.kind === 'present' ? live.info : undefined;
}
