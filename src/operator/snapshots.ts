import { status } from '@grpc/grpc-js';
import type { GlusterCluster, GlusterVolume } from '../api/index.ts';
import { isConditionTrue } from '../controller/conditions.ts';
import { CsiError } from '../csi/errors.ts';
import type { SnapshotBackend, SnapshotRecord } from '../csi/controller.ts';
import { classifyFailure } from '../gluster/classify.ts';
import { lvs } from '../gluster/commands/lvm.ts';
import { snapshotCreate, snapshotDelete, snapshotInfo, snapshotList } from '../gluster/commands/snapshot.ts';
import type { GlusterSnapshotInfo } from '../gluster/parsers/snapshot.ts';
import type { NodeTarget } from '../gluster/transport.ts';
import { parseVolumeHandle } from '../provisioner/pv-builder.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { brickLvName, brickNode, brickThinPoolName, findDevice, findVolume, topologyName } from '../topology/model.ts';
import { nodeTarget, topologyNodeTarget, type ClusterAccess } from './cluster-access.ts';
import type { ReconcileContext } from './context.ts';
import { requestedBytes } from './reconcilers/volume.ts';
import { createFailure, parseSnapshotId, snapshotIdOf, snapshotSource, thinPoolRoom, type SnapshotRefusal } from './snapshot-decisions.ts';

/**
 * Gluster snapshots behind the CSI Controller service (src/csi/controller.ts): a VolumeSnapshot of one of our
 * PVs becomes `gluster snapshot create <CSI name> <volume> no-timestamp`. The CSI name is the idempotency key,
 * so a retried create finds the snapshot it made. Nothing here deletes anything but a snapshot the id names.
 */
type SnapshotContext = Pick<ReconcileContext, 'clusters' | 'nodes' | 'volumes' | 'access' | 'topology' | 'logger'>;

const refuse = (refusal: SnapshotRefusal) => new CsiError(refusal.code, refusal.message);

export class GlusterSnapshots implements SnapshotBackend {
  readonly #ctx: SnapshotContext;
  constructor(ctx: SnapshotContext) {
    this.#ctx = ctx;
  }

  async create(sourceVolumeId: string, name: string): Promise<SnapshotRecord> {
    const handle = parseVolumeHandle(sourceVolumeId);
    if (!handle) throw new CsiError(status.NOT_FOUND, `source_volume_id ${sourceVolumeId} is not a volume of this driver (<namespace>/<GlusterVolume>)`);
    const volume = await this.#ctx.volumes.get(handle.namespace, handle.name);
    const cluster = volume ? await this.#ctx.clusters.get(handle.namespace, volume.spec.cluster) : undefined;
    const source = snapshotSource(sourceVolumeId, volume, cluster);
    if ('code' in source) throw refuse(source);
    const { access, worker } = await this.#reach(cluster!);
    const record = (info: GlusterSnapshotInfo) => this.#record(cluster!, volume!, info);

    const existing = await this.#info(access, worker, name);
    if (existing) {
      if (existing.originVolume !== source.gluster) throw new CsiError(status.ALREADY_EXISTS, `snapshot ${name} exists, of Gluster volume ${existing.originVolume}, not of ${source.gluster}`);
      return record(existing);
    }
    const room = thinPoolRoom(await this.#thinPools(access, volume!));
    if (room) throw refuse(room);
    try {
      await access.executor.run(worker, snapshotCreate(name, source.gluster, `csi snapshot of ${sourceVolumeId}`));
    } catch (error) {
      // A create that raced another (the sidecar retried while glusterd was still working) left the snapshot.
      if (classifyFailure(errorMessage(error)).reason !== 'already-exists') throw refuse(createFailure(errorMessage(error)));
    }
    const taken = await this.#info(access, worker, name);
    if (!taken || taken.originVolume !== source.gluster) throw new CsiError(status.INTERNAL, `snapshot ${name} of ${source.gluster} not found right after it was taken`);
    this.#ctx.logger.info('snapshot taken', { snapshot: name, volume: sourceVolumeId, gluster: source.gluster });
    return record(taken);
  }

  async delete(snapshotId: string): Promise<void> {
    const id = parseSnapshotId(snapshotId);
    // Not an id this driver hands out: nothing of ours to delete (the spec: deleting what does not exist is OK).
    if (!id) return;
    const cluster = await this.#ctx.clusters.get(id.namespace, id.cluster);
    if (!cluster) throw new CsiError(status.FAILED_PRECONDITION, `GlusterCluster ${id.namespace}/${id.cluster} of snapshot ${snapshotId} does not exist: its snapshot cannot be reached`);
    const { access, worker } = await this.#reach(cluster);
    try {
      await access.executor.run(worker, snapshotDelete(id.name));
      this.#ctx.logger.info('snapshot deleted', { snapshot: snapshotId });
    } catch (error) {
      if (classifyFailure(errorMessage(error)).reason !== 'not-found') throw new CsiError(status.INTERNAL, errorMessage(error));
    }
  }

  async get(snapshotId: string): Promise<SnapshotRecord | undefined> {
    const id = parseSnapshotId(snapshotId);
    if (!id) return undefined;
    const cluster = await this.#ctx.clusters.get(id.namespace, id.cluster);
    if (!cluster) return undefined;
    const { access, worker } = await this.#reach(cluster);
    const info = await this.#info(access, worker, id.name);
    if (!info) return undefined;
    const volume = (await this.#ctx.volumes.list(id.namespace)).find((candidate) => candidate.status?.glusterVolumeName === info.originVolume && candidate.spec.cluster === id.cluster);
    return volume ? this.#record(cluster, volume, info) : { ...this.#record(cluster, undefined, info), sourceVolumeId: '' };
  }

  async list(sourceVolumeId?: string): Promise<SnapshotRecord[]> {
    const volumes = (await this.#ctx.volumes.list()).filter(
      (volume) => volume.status?.glusterVolumeName && !volume.spec.directoryOf && (sourceVolumeId === undefined || `${volume.metadata.namespace}/${volume.metadata.name}` === sourceVolumeId),
    );
    const records: SnapshotRecord[] = [];
    for (const volume of volumes) {
      const cluster = await this.#ctx.clusters.get(volume.metadata.namespace!, volume.spec.cluster);
      if (cluster?.spec.brickBackend !== 'LVM') continue;
      const { access, worker } = await this.#reach(cluster);
      for (const name of await access.executor.run(worker, snapshotList(volume.status!.glusterVolumeName!))) {
        const info = await this.#info(access, worker, name);
        if (info) records.push(this.#record(cluster, volume, info));
      }
    }
    return records.sort((a, b) => a.snapshotId.localeCompare(b.snapshotId));
  }

  /** The cluster's access and a Ready node to run the command on; UNAVAILABLE (retried) when none is. */
  async #reach(cluster: GlusterCluster): Promise<{ access: ClusterAccess; worker: NodeTarget }> {
    const namespace = cluster.metadata.namespace!;
    const ready = (await this.#ctx.nodes.list(namespace)).find((node) => node.spec.cluster === cluster.metadata.name && isConditionTrue(node.status?.conditions, 'Ready'));
    if (!ready) throw new CsiError(status.UNAVAILABLE, `GlusterCluster ${namespace}/${cluster.metadata.name} has no Ready node`);
    try {
      return { access: await this.#ctx.access.forCluster(cluster), worker: nodeTarget(ready) };
    } catch (error) {
      throw new CsiError(status.FAILED_PRECONDITION, `GlusterCluster ${namespace}/${cluster.metadata.name}: ${errorMessage(error)}`);
    }
  }

  async #info(access: ClusterAccess, worker: NodeTarget, name: string): Promise<GlusterSnapshotInfo | undefined> {
    try {
      return (await access.executor.run(worker, snapshotInfo(name)))[0];
    } catch (error) {
      if (classifyFailure(errorMessage(error)).reason === 'not-found') return undefined;
      throw new CsiError(status.UNAVAILABLE, errorMessage(error));
    }
  }

  /** Each brick's thin LV and thin pool as lvs reports them now, on the brick's own node. */
  async #thinPools(access: ClusterAccess, volume: GlusterVolume) {
    const db = this.#ctx.topology.db;
    const record = findVolume(db, topologyName(volume.metadata.namespace!, volume.metadata.name));
    if (!record) throw new CsiError(status.UNAVAILABLE, `GlusterVolume ${volume.metadata.namespace}/${volume.metadata.name} has no placement in the topology database yet`);
    const bricks = [];
    for (const brick of record.bricks) {
      const device = findDevice(db, brick.device);
      const node = brickNode(db, brick);
      const present = device ? await access.executor.run(topologyNodeTarget(node), lvs(device.vg)) : [];
      bricks.push({ node: node.name, pool: present.find((lv) => lv.name === brickThinPoolName(brick)), thin: present.find((lv) => lv.name === brickLvName(brick)) });
    }
    return bricks;
  }

  #record(cluster: GlusterCluster, volume: GlusterVolume | undefined, info: GlusterSnapshotInfo): SnapshotRecord {
    const size = volume ? requestedBytes(volume.spec.size) : 0;
    return {
      snapshotId: snapshotIdOf(cluster.metadata.namespace!, cluster.metadata.name, info.name),
      sourceVolumeId: volume ? `${volume.metadata.namespace}/${volume.metadata.name}` : '',
      sizeBytes: typeof size === 'number' ? size : 0,
      createdAt: info.createdAt,
      readyToUse: true,
    };
  }
}
