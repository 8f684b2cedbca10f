import type { GlusterCluster, GlusterVolume } from '../../api/index.ts';
import { isConditionTrue } from '../../controller/conditions.ts';
import { classifyFailure } from '../../gluster/classify.ts';
import { volumeSet } from '../../gluster/commands/gluster.ts';
import { lvs, pvs } from '../../gluster/commands/lvm.ts';
import { snapshotActivate, snapshotClone, snapshotCreate, snapshotDelete, snapshotInfo } from '../../gluster/commands/snapshot.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import { errorMessage } from '../../runtime/error-message.ts';
import { topologyName, type TopologyVolume } from '../../topology/model.ts';
import type { NodeObservation } from '../../topology/rebuild/rebuild.ts';
import { cloneBrickLvName } from '../../topology/rebuild/volume.ts';
import { topologyNodeTarget, type ClusterAccess } from '../cluster-access.ts';
import type { ReconcileContext } from '../context.ts';
import { cloneSnapshotName, type CloneStep, type CopySource, type SourceSnapshot } from './volume-clone-decisions.ts';
import { observeLive, recordLiveVolume } from './volume-actions.ts';
import { StepRefused } from './volume-errors.ts';
import { markedOwner } from '../../gluster/owner-mark.ts';
import { OWNER_OPTION, ownerMark } from './volume-ownership.ts';
import type { VolumeWorld } from './volume-decisions.ts';

/**
 * The steps of a copy (spec.dataSource; volume-clone-decisions.ts decides them). Each observes first or is
 * idempotent, and changes only what it names: the source volume is only ever snapshotted, and the only
 * snapshot ever deleted is the operator's own `<copy>-source`.
 */

/** spec.dataSource as the decisions see it; undefined for a volume that starts empty. */
export async function observeCopy(ctx: ReconcileContext, volume: GlusterVolume): Promise<VolumeWorld['copy']> {
  const dataSource = volume.spec.dataSource;
  if (!dataSource) return undefined;
  const reported = volume.status?.copiedFrom !== undefined;
  if (dataSource.snapshot !== undefined) return { source: { kind: 'snapshot', snapshot: dataSource.snapshot }, reported };
  const namespace = volume.metadata.namespace ?? 'default';
  const name = dataSource.volume!;
  const source = await ctx.volumes.get(namespace, name);
  const mark = ownerMark(namespace, name);
  return { source: { kind: 'volume', volume: name, mark, ...sourceVolumeState(volume, source) }, reported };
}

/** A GlusterVolume source's Gluster name, or why it cannot be copied now. */
function sourceVolumeState(volume: GlusterVolume, source: GlusterVolume | undefined): Pick<Extract<CopySource, { kind: 'volume' }>, 'unavailable' | 'gluster'> {
  const name = `dataSource.volume: GlusterVolume ${volume.spec.dataSource!.volume}`;
  if (!source) return { unavailable: `${name} does not exist` };
  if (source.spec.cluster !== volume.spec.cluster) return { unavailable: `${name} is in GlusterCluster ${source.spec.cluster}, not ${volume.spec.cluster}: a copy stays in its source's thin pools` };
  if (source.spec.directoryOf) return { unavailable: `${name} is a directory of ${source.spec.directoryOf}, not a Gluster volume` };
  const gluster = source.status?.glusterVolumeName;
  if (!gluster || !isConditionTrue(source.status?.conditions, 'Ready')) return { unavailable: `${name} is not Ready yet` };
  return { gluster };
}

/** What status says the volume is a copy of. */
export function copiedFrom(source: CopySource): string {
  return source.kind === 'snapshot' ? `snapshot ${source.snapshot}` : `GlusterVolume ${source.volume}`;
}

type CopyAct = Extract<CloneStep, { kind: 'observeSource' | 'takeSourceSnapshot' | 'activateSnapshot' | 'clone' | 'recordClone' | 'dropSourceSnapshot' }>;

export interface CopyActInput {
  volume: GlusterVolume;
  cluster: GlusterCluster;
  access: ClusterAccess;
  worker: NodeTarget;
  world: VolumeWorld;
}

/** One step of a copy; what it changed goes into the world. Returns the placement when it recorded one. */
export async function actCopy(ctx: ReconcileContext, input: CopyActInput, step: CopyAct): Promise<TopologyVolume | undefined> {
  const { volume, cluster, access, worker, world } = input;
  const copy = world.copy!;
  const snapshot = cloneSnapshotName({ gluster: world.gluster, source: copy.source });
  switch (step.kind) {
    case 'observeSource':
      copy.sourceSnapshot = await observeSourceSnapshot(ctx, access, worker, snapshot, topologyName(volume.metadata.namespace, cluster.metadata.name));
      return undefined;
    case 'takeSourceSnapshot': {
      const source = copy.source as Extract<CopySource, { kind: 'volume' }>;
      await tolerating('already-exists', () => access.executor.run(worker, snapshotCreate(snapshot, source.gluster!, `source of the copy ${world.me}`)));
      await ctx.events.normal(volume, 'SourceSnapshotTaken', `snapshot ${snapshot} of ${source.gluster} taken to copy GlusterVolume ${source.volume}`);
      copy.sourceSnapshot = undefined; // read again: its origin and state as Gluster has them
      return undefined;
    }
    case 'activateSnapshot':
      // A clone is made from an activated snapshot only; an activated one stays so (restoring again is quicker).
      await tolerating('already-started', () => access.executor.run(worker, snapshotActivate(snapshot)));
      if (copy.sourceSnapshot?.kind === 'present') copy.sourceSnapshot.activated = true;
      return undefined;
    case 'clone':
      await access.executor.run(worker, snapshotClone(world.gluster, snapshot));
      await ctx.events.normal(volume, 'VolumeCloned', `Gluster volume ${world.gluster} cloned from snapshot ${snapshot}`);
      world.live = await observeLive(access, worker, world.gluster);
      return undefined;
    case 'recordClone':
      return recordClone(ctx, input);
    case 'dropSourceSnapshot':
      await tolerating('not-found', () => access.executor.run(worker, snapshotDelete(snapshot)));
      await ctx.events.normal(volume, 'SourceSnapshotDeleted', `snapshot ${snapshot}, taken for the copy, deleted`);
      copy.sourceSnapshot = { kind: 'missing' };
      return undefined;
  }
}

async function tolerating(reason: ReturnType<typeof classifyFailure>['reason'], run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (classifyFailure(errorMessage(error)).reason !== reason) throw error;
  }
}

async function observeSourceSnapshot(ctx: ReconcileContext, access: ClusterAccess, worker: NodeTarget, name: string, clusterName: string): Promise<SourceSnapshot> {
  let info;
  try {
    [info] = await access.executor.run(worker, snapshotInfo(name));
  } catch (error) {
    if (classifyFailure(errorMessage(error)).reason === 'not-found') return { kind: 'missing' };
    throw error;
  }
  if (!info) return { kind: 'missing' };
  const origin = ctx.topology.db.volumes.find((record) => record.gluster === info.originVolume && record.cluster === clusterName);
  return {
    kind: 'present',
    originVolume: info.originVolume,
    activated: info.status === 'Started',
    ...(origin ? { origin: { mark: origin.name, durability: origin.durability } } : {}),
  };
}

/**
 * The clone marked as this object's (it carries its origin's mark until then), then recorded from Gluster and
 * from `lvs` on its bricks' nodes: each brick is the thin LV glusterd made in the origin brick's thin pool.
 */
async function recordClone(ctx: ReconcileContext, input: CopyActInput): Promise<TopologyVolume> {
  const { volume, cluster, access, worker, world } = input;
  const info = (world.live as { kind: 'present'; info: GlusterVolumeInfo }).info;
  if (markedOwner(info.options) !== world.me) {
    await access.executor.run(worker, volumeSet(world.gluster, OWNER_OPTION, world.me));
    info.options = { ...info.options, [OWNER_OPTION]: world.me };
  }
  const observations = await observeCloneLvs(ctx, access, info);
  const missing = info.bricks.filter((brick) => !observations.lvs.has(cloneBrickLvName(brick.path) ?? ''));
  if (missing.length > 0) {
    throw new StepRefused('CopyNotRecorded', `copy ${world.gluster}: no thin LV for brick(s) ${missing.map((brick) => brick.name).join(', ')} in the volume groups of their nodes; nothing was changed`);
  }
  const record = await recordLiveVolume(ctx, volume, cluster, info, { observations: observations.byNode, refusal: ['CopyNotRecorded', 'cannot record the copy'] });
  await ctx.events.normal(volume, 'VolumeCopied', `Gluster volume ${world.gluster} (${info.bricks.length} bricks) is a copy of ${copiedFrom(world.copy!.source)}`);
  return record;
}

/**
 * `lvs` of every volume group the operator made on the clone's brick nodes that exists there (`pvs` says: a
 * device the database knows may have no VG yet, a refused one never will).
 */
async function observeCloneLvs(ctx: ReconcileContext, access: ClusterAccess, info: GlusterVolumeInfo): Promise<{ byNode: Map<string, NodeObservation>; lvs: Set<string> }> {
  const db = ctx.topology.db;
  const byNode = new Map<string, NodeObservation>();
  const names = new Set<string>();
  const hosts = new Set(info.bricks.map((brick) => brick.host));
  for (const node of db.nodes.filter((candidate) => hosts.has(candidate.storage))) {
    const target = topologyNodeTarget(node);
    const observation: NodeObservation = { node: node.name, lvs: [] };
    const ours = new Set(db.devices.filter((device) => device.node === node.name && device.vg).map((device) => device.vg));
    const present = new Set((await access.executor.run(target, pvs())).map((pv) => pv.vgName).filter((vg): vg is string => vg !== null && ours.has(vg)));
    for (const vg of present) observation.lvs!.push(...(await access.executor.run(target, lvs(vg))));
    for (const lv of observation.lvs!) names.add(lv.name);
    byNode.set(node.name, observation);
  }
  return { byNode, lvs: names };
}
