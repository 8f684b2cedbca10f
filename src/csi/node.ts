import { status } from '@grpc/grpc-js';
import { lstat, mkdir, rmdir } from 'node:fs/promises';
import { KeyedLock } from '../runtime/keyed-lock.ts';
import type { Logger } from '../runtime/logger.ts';
import { CsiError } from './errors.ts';
import { glusterMountArgv, sameGlusterSource, type GlusterMountSpec } from './mount-options.ts';
import type { MountHealth } from './mounter.ts';
import { isGlusterMount, isReadOnly, mountAt, type MountEntry } from './mountinfo.ts';
import {
  parseRequest,
  publishRequestSchema,
  unpublishRequestSchema,
  volumeStatsRequestSchema,
} from './requests.ts';
import type { PublishRecord } from './state.ts';
import { errorMessage } from '../runtime/error-message.ts';

/** What the Node service needs from the host; fakes in unit tests, the real thing in main.ts. */
export interface NodeHost {
  readMounts(): Promise<MountEntry[]>;
  checkHealth(path: string): Promise<MountHealth>;
  mount(argv: readonly string[], targetPath: string): Promise<void>;
  unmount(targetPath: string, lazy: boolean): Promise<void>;
  saveRecord(record: PublishRecord): Promise<void>;
  removeRecord(targetPath: string): Promise<void>;
}

export interface NodeServiceOptions {
  nodeId: string;
  host: NodeHost;
  logger: Logger;
}

/** Stacked mounts on one target are peeled one at a time; more than this means something keeps mounting. */
const MAX_STACKED_MOUNTS = 8;

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

export class NodeService {
  private readonly nodeId: string;
  private readonly host: NodeHost;
  private readonly logger: Logger;
  /** Serializes work per key: kubelet may retry a publish while the first attempt still runs. */
  private readonly locks = new KeyedLock();

  constructor(options: NodeServiceOptions) {
    this.nodeId = options.nodeId;
    this.host = options.host;
    this.logger = options.logger;
  }

  nodeGetInfo(): { node_id: string } {
    // No accessible_topology: a Gluster volume is reachable from every node that reaches the servers.
    return { node_id: this.nodeId };
  }

  nodeGetCapabilities(): { capabilities: Array<{ rpc: { type: string } }> } {
    // No STAGE_UNSTAGE_VOLUME: each publish is its own FUSE mount, so kubelet never calls NodeStageVolume.
    return { capabilities: ['GET_VOLUME_STATS', 'VOLUME_CONDITION'].map((type) => ({ rpc: { type } })) };
  }

  async nodePublishVolume(raw: unknown): Promise<Record<string, never>> {
    const request = parseRequest(publishRequestSchema, raw);
    const spec: GlusterMountSpec = {
      source: request.context.mountSource,
      backupVolfileServers: request.context.backupVolfileServers,
      mountFlags: request.mountFlags,
      readOnly: request.readOnly,
    };
    const argv = glusterMountArgv(spec, request.targetPath);
    const log = this.logger.child({ volumeId: request.volumeId, targetPath: request.targetPath });
    return await this.locks.run(request.targetPath, async () => {
      const existing = mountAt(await this.host.readMounts(), request.targetPath);
      if (existing) {
        if (!isGlusterMount(existing) || !sameGlusterSource(existing.source, spec)) {
          throw new CsiError(
            status.ALREADY_EXISTS,
            `target_path ${request.targetPath} already has a ${existing.fsType} mount of ${existing.source}, not volume ${spec.source.volume}`,
          );
        }
        if (isReadOnly(existing) !== request.readOnly) {
          throw new CsiError(
            status.ALREADY_EXISTS,
            `volume is already published at ${request.targetPath} ${isReadOnly(existing) ? 'read-only' : 'read-write'}; the request asks for ${request.readOnly ? 'read-only' : 'read-write'}`,
          );
        }
        const health = await this.host.checkHealth(request.targetPath);
        if (health.state === 'healthy') {
          // Idempotent: already there. Re-save the record in case it was lost.
          await this.host.saveRecord({ volumeId: request.volumeId, targetPath: request.targetPath, mountArgv: argv, readOnly: request.readOnly });
          return {};
        }
        log.warn('published mount is broken; remounting', { health });
        await this.removeMounts(request.targetPath, log);
      }
      await mkdir(request.targetPath, { recursive: true, mode: 0o750 });
      log.info('mounting', { argv });
      try {
        await this.host.mount(argv, request.targetPath);
      } catch (error) {
        throw new CsiError(status.INTERNAL, `mounting ${spec.source.host}:${spec.source.volume}: ${errorMessage(error)}`);
      }
      // mount.glusterfs has exited 0 without a mount in some versions; trust the mount table, not the exit code.
      const mounted = mountAt(await this.host.readMounts(), request.targetPath);
      if (!mounted || !isGlusterMount(mounted)) {
        throw new CsiError(status.INTERNAL, `mount reported success but ${request.targetPath} is not a glusterfs mount`);
      }
      await this.host.saveRecord({ volumeId: request.volumeId, targetPath: request.targetPath, mountArgv: argv, readOnly: request.readOnly });
      return {};
    });
  }

  async nodeUnpublishVolume(raw: unknown): Promise<Record<string, never>> {
    const request = parseRequest(unpublishRequestSchema, raw);
    const log = this.logger.child({ volumeId: request.volumeId, targetPath: request.targetPath });
    return await this.locks.run(request.targetPath, async () => {
      await this.removeMounts(request.targetPath, log);
      try {
        // rmdir, never a recursive delete: if anything is still there, it is data, not ours to remove.
        await rmdir(request.targetPath);
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') {
          throw new CsiError(status.INTERNAL, `removing ${request.targetPath}: ${errorMessage(error)}`);
        }
      }
      await this.host.removeRecord(request.targetPath);
      log.info('unpublished');
      return {};
    });
  }

  /** Unmounts everything mounted on targetPath; a broken FUSE mount that refuses a plain umount goes lazily. */
  private async removeMounts(targetPath: string, log: Logger): Promise<void> {
    for (let i = 0; i < MAX_STACKED_MOUNTS; i++) {
      const entry = mountAt(await this.host.readMounts(), targetPath);
      if (!entry) return;
      try {
        await this.host.unmount(targetPath, false);
      } catch (error) {
        const health = await this.host.checkHealth(targetPath).catch((): MountHealth => ({ state: 'broken', reason: 'unknown' }));
        if (health.state === 'healthy') {
          throw new CsiError(status.INTERNAL, `unmounting ${targetPath}: ${errorMessage(error)}`);
        }
        log.warn('plain unmount of a broken mount failed; detaching it lazily', { error: errorMessage(error) });
        await this.host.unmount(targetPath, true).catch((lazyError: unknown) => {
          throw new CsiError(status.INTERNAL, `unmounting ${targetPath}: ${(lazyError as Error).message}`);
        });
      }
    }
    throw new CsiError(status.INTERNAL, `${targetPath} still has mounts after ${MAX_STACKED_MOUNTS} unmounts`);
  }

  async nodeGetVolumeStats(raw: unknown): Promise<{
    usage: Array<{ unit: 'BYTES' | 'INODES'; total: string; available: string; used: string }>;
    volume_condition: { abnormal: boolean; message: string };
  }> {
    const request = parseRequest(volumeStatsRequestSchema, raw);
    try {
      await lstat(request.volumePath);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') throw new CsiError(status.NOT_FOUND, `${request.volumePath} does not exist`);
      // lstat of a mount point whose FUSE client is gone fails too; the mount table below tells.
    }
    const entry = mountAt(await this.host.readMounts(), request.volumePath);
    if (!entry || !isGlusterMount(entry)) {
      throw new CsiError(status.NOT_FOUND, `volume ${request.volumeId} is not mounted at ${request.volumePath}`);
    }
    const health = await this.host.checkHealth(request.volumePath);
    if (health.state !== 'healthy') {
      const message = health.state === 'broken' ? `the Gluster FUSE mount is broken: ${health.reason}` : 'the mount point disappeared';
      return { usage: [], volume_condition: { abnormal: true, message } };
    }
    const s = health.stats;
    const usage = [
      { unit: 'BYTES' as const, total: s.blocks * s.blockSize, available: s.blocksAvailable * s.blockSize, used: (s.blocks - s.blocksFree) * s.blockSize },
      { unit: 'INODES' as const, total: s.files, available: s.filesFree, used: s.files - s.filesFree },
    ].map((u) => ({
      unit: u.unit,
      // int64 as decimal strings: protobufjs encodes them exactly, where a JS number would round above 2^53.
      total: String(u.total),
      available: String(u.available),
      used: String(u.used < 0n ? 0n : u.used),
    }));
    return { usage, volume_condition: { abnormal: false, message: 'mounted and answering' } };
  }
}
