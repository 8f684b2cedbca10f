import { status } from '@grpc/grpc-js';
import { lstat, mkdir, rmdir } from 'node:fs/promises';
import type { CsiMetrics } from '../metrics/csi-metrics.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { KeyedLock } from '../runtime/keyed-lock.ts';
import type { Logger } from '../runtime/logger.ts';
import { CsiError, failedPrecondition, invalidArgument, notFound } from './errors.ts';
import type { MountHealth } from './mount-health.ts';
import { formatSource, mountedPath, mountedVolumeOf, sameGlusterSource } from './mount-options.ts';
import { isGlusterMount, isReadOnly, mountAt, type MountEntry } from './mountinfo.ts';
import { mountsRecorded, planPublish, recordedMount } from './publish-plan.ts';
import { parseRequest, tlsMaterialOf, unpublishRequestSchema, volumeStatsRequestSchema } from './requests.ts';
import type { PublishRecord } from './state.ts';
import { resolvedTargetProblem, targetPathProblem, type ResolveFs } from './target-path.ts';
import type { TlsMaterial, TlsWriteReport } from './tls-files.ts';

/** What the Node service needs from the host; fakes in unit tests, the real thing in main.ts. */
export interface NodeHost {
  readMounts(): Promise<MountEntry[]>;
  /** In a child process with a timeout (mount-health.ts): a hung mount must not hang this process. */
  checkHealth(path: string): Promise<MountHealth>;
  mount(argv: readonly string[], targetPath: string): Promise<void>;
  unmount(targetPath: string, lazy: boolean): Promise<void>;
  readRecord(targetPath: string): Promise<PublishRecord | undefined>;
  saveRecord(record: PublishRecord): Promise<void>;
  removeRecord(targetPath: string): Promise<void>;
  /**
   * Writes a TLS volume's certificate, key and CA where its FUSE client reads them (tls-files.ts). Hosts that
   * leave it out refuse TLS volumes (FAILED_PRECONDITION).
   */
  writeTlsFiles?(material: TlsMaterial): Promise<TlsWriteReport>;
}

export interface NodeServiceOptions {
  nodeId: string;
  /** kubelet's root directory (--kubelet-dir): every target path must lie under its pods/ (target-path.ts). */
  kubeletDir: string;
  host: NodeHost;
  logger: Logger;
  resolveFs?: ResolveFs;
  /** Counts broken mounts a publish mounted again. */
  metrics?: CsiMetrics;
}

/** Stacked mounts on one target are peeled one at a time; more than this means something keeps mounting. */
const MAX_STACKED_MOUNTS = 8;

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Why the mount on top of `target` is not one unpublish may remove, or undefined when it is: a glusterfs mount
 * of the Gluster volume (or, for a directory-mode PV, the directory of it) this plugin recorded publishing
 * there, for the volume_id asked about. Anything else (kubelet's tmpfs, another driver's mount, a glusterfs
 * mount someone made by hand, a mount of another directory of the same volume) is not ours to take away.
 */
export function unmountRefusal(target: string, entry: MountEntry, record: PublishRecord | undefined, volumeId: string): string | undefined {
  const leftAlone = 'it is left alone';
  if (!isGlusterMount(entry)) return `${target} holds a ${entry.fsType} mount of ${entry.source}, not a glusterfs mount this plugin published; ${leftAlone}`;
  if (!record) {
    return `${target} holds a glusterfs mount of ${entry.source} that this plugin has no record of publishing; ${leftAlone} (if it is stale, unmount it on the node)`;
  }
  if (record.volumeId !== volumeId) return `${target} was published for volume ${record.volumeId}, not ${volumeId}; ${leftAlone}`;
  if (!mountsRecorded(entry.source, record)) {
    const recorded = recordedMount(record);
    return `${target} holds a glusterfs mount of ${entry.source}, not of ${recorded ? mountedPath(recorded) : 'the volume'} this plugin published there; ${leftAlone}`;
  }
  return undefined;
}

export class NodeService {
  private readonly nodeId: string;
  private readonly kubeletDir: string;
  private readonly host: NodeHost;
  private readonly logger: Logger;
  private readonly resolveFs: ResolveFs | undefined;
  private readonly metrics: CsiMetrics | undefined;
  /** Serializes work per key: kubelet may retry a publish while the first attempt still runs. */
  private readonly locks = new KeyedLock();

  constructor(options: NodeServiceOptions) {
    this.nodeId = options.nodeId;
    this.kubeletDir = options.kubeletDir;
    this.host = options.host;
    this.logger = options.logger;
    this.resolveFs = options.resolveFs;
    this.metrics = options.metrics;
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
    const { request, spec, argv, record } = planPublish(raw, this.kubeletDir);
    const tls = tlsMaterialOf(request);
    const target = request.targetPath;
    const log = this.logger.child({ volumeId: request.volumeId, targetPath: target });
    return await this.locks.run(target, async () => {
      const existing = mountAt(await this.host.readMounts(), target);
      await this.confine(target, existing !== undefined);
      if (existing) {
        if (!isGlusterMount(existing) || !sameGlusterSource(existing.source, spec)) {
          throw new CsiError(
            status.ALREADY_EXISTS,
            `target_path ${target} already has a ${existing.fsType} mount of ${existing.source}, not volume ${mountedPath(mountedVolumeOf(spec))}`,
          );
        }
        if (isReadOnly(existing) !== request.readOnly) {
          throw new CsiError(
            status.ALREADY_EXISTS,
            `volume is already published at ${target} ${isReadOnly(existing) ? 'read-only' : 'read-write'}; the request asks for ${request.readOnly ? 'read-only' : 'read-write'}`,
          );
        }
        const health = await this.host.checkHealth(target);
        if (health.state === 'healthy') {
          // Idempotent: already there. Re-save the record in case it was lost.
          await this.host.saveRecord(record);
          return {};
        }
        log.warn('published mount is broken; remounting', { health });
        await this.removeMounts(target, log, (entry) =>
          isGlusterMount(entry) && sameGlusterSource(entry.source, spec) ? undefined : `${target} also holds a ${entry.fsType} mount of ${entry.source}; it is left alone`,
        );
      }
      await this.makeTarget(target);
      if (tls) await this.writeTlsFiles(tls, log);
      // Recorded before mounting: a mount this plugin made always has the record unpublish asks for, even if
      // the plugin dies right after mount returns. A record without a mount is dropped at the next unpublish
      // or start-up.
      await this.host.saveRecord(record);
      log.info('mounting', { argv });
      try {
        await this.host.mount(argv, target);
      } catch (error) {
        throw new CsiError(status.INTERNAL, `mounting ${formatSource(spec.source, spec.subdirectory)}: ${errorMessage(error)}`);
      }
      // mount.glusterfs has exited 0 without a mount in some versions; trust the mount table, not the exit code.
      const mounted = mountAt(await this.host.readMounts(), target);
      if (!mounted || !isGlusterMount(mounted)) {
        throw new CsiError(status.INTERNAL, `mount reported success but ${target} is not a glusterfs mount`);
      }
      // Reaching here with a mount found at the start means it was broken, taken away and mounted again.
      if (existing) this.metrics?.mountsRepaired('publish');
      return {};
    });
  }

  /**
   * Only this plugin's own glusterfs mounts are unmounted (unmountRefusal); a target with nothing mounted is
   * success, as the spec asks of a repeated call, and its empty directory is removed (it is under the
   * kubelet's pods/, checked before anything is touched).
   */
  async nodeUnpublishVolume(raw: unknown): Promise<Record<string, never>> {
    const request = parseRequest(unpublishRequestSchema, raw);
    const target = request.targetPath;
    const problem = targetPathProblem(this.kubeletDir, target);
    if (problem !== undefined) throw invalidArgument(`target_path: ${problem}`);
    const log = this.logger.child({ volumeId: request.volumeId, targetPath: target });
    return await this.locks.run(target, async () => {
      await this.confine(target, mountAt(await this.host.readMounts(), target) !== undefined);
      const record = await this.host.readRecord(target);
      await this.removeMounts(target, log, (entry) => unmountRefusal(target, entry, record, request.volumeId));
      try {
        // rmdir, never a recursive delete: if anything is still there, it is data, not ours to remove.
        await rmdir(target);
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') {
          throw new CsiError(status.INTERNAL, `removing ${target}: ${errorMessage(error)}`);
        }
      }
      await this.host.removeRecord(target);
      log.info('unpublished');
      return {};
    });
  }

  /** Before every mount of a TLS volume: the files of its cluster, current for this mount and any other. */
  private async writeTlsFiles(tls: TlsMaterial, log: Logger): Promise<void> {
    if (!this.host.writeTlsFiles) throw failedPrecondition('this plugin cannot write TLS files on this host; the volume needs TLS (volume_context.tlsDir)');
    try {
      // The report names files only; the material itself never reaches a log line or an error.
      log.info('TLS files in place', { tlsDir: tls.dir, ...(await this.host.writeTlsFiles(tls)) });
    } catch (error) {
      throw new CsiError(status.INTERNAL, `writing the TLS files into ${tls.dir}: ${errorMessage(error)}`);
    }
  }

  /** The target must resolve to where its name says (no symlink out of the kubelet directory). */
  private async confine(target: string, isMountPoint: boolean): Promise<void> {
    const problem = await resolvedTargetProblem(this.kubeletDir, target, isMountPoint, this.resolveFs);
    if (problem !== undefined) throw invalidArgument(`target_path: ${problem}`);
  }

  /** Only the last component: kubelet creates the parent (the CSI spec has the CO ensure it exists). */
  private async makeTarget(target: string): Promise<void> {
    try {
      await mkdir(target, { mode: 0o750 });
    } catch (error) {
      if (errnoOf(error) === 'EEXIST') return;
      if (errnoOf(error) === 'ENOENT') throw failedPrecondition(`the parent directory of ${target} does not exist; kubelet creates it before publishing`);
      throw new CsiError(status.INTERNAL, `creating ${target}: ${errorMessage(error)}`);
    }
  }

  /**
   * Unmounts everything mounted on targetPath, each mount only if `refusal` has nothing against it (else
   * FAILED_PRECONDITION, nothing more touched); a broken FUSE mount that refuses a plain umount goes lazily.
   */
  private async removeMounts(targetPath: string, log: Logger, refusal: (entry: MountEntry) => string | undefined): Promise<void> {
    for (let i = 0; i < MAX_STACKED_MOUNTS; i++) {
      const entry = mountAt(await this.host.readMounts(), targetPath);
      if (!entry) return;
      const refused = refusal(entry);
      if (refused !== undefined) throw failedPrecondition(refused);
      try {
        await this.host.unmount(targetPath, false);
      } catch (error) {
        const health = await this.host.checkHealth(targetPath).catch((): MountHealth => ({ state: 'broken', reason: 'unknown' }));
        if (health.state === 'healthy') {
          throw new CsiError(status.INTERNAL, `unmounting ${targetPath}: ${errorMessage(error)}`);
        }
        log.warn('plain unmount of a broken mount failed; detaching it lazily', { error: errorMessage(error) });
        await this.host.unmount(targetPath, true).catch((lazyError: unknown) => {
          throw new CsiError(status.INTERNAL, `unmounting ${targetPath}: ${errorMessage(lazyError)}`);
        });
      }
    }
    throw new CsiError(status.INTERNAL, `${targetPath} still has mounts after ${MAX_STACKED_MOUNTS} unmounts`);
  }

  /**
   * NOT_FOUND (the CSI spec's "volume does not exist on specified volume_path") unless volume_path holds a
   * glusterfs mount this plugin published there for this volume_id. A mount that is broken or does not answer
   * in time is reported, not failed: VOLUME_CONDITION is advertised, and abnormal is what kubelet surfaces as an
   * event on the pod; an UNAVAILABLE would only be logged and retried.
   */
  async nodeGetVolumeStats(raw: unknown): Promise<{
    usage: Array<{ unit: 'BYTES' | 'INODES'; total: string; available: string; used: string }>;
    volume_condition: { abnormal: boolean; message: string };
  }> {
    const request = parseRequest(volumeStatsRequestSchema, raw);
    const path = request.volumePath;
    const absent = (why: string) => notFound(`volume ${request.volumeId} is not published at ${path}: ${why}`);
    const problem = targetPathProblem(this.kubeletDir, path);
    if (problem !== undefined) throw absent(problem);
    const entry = mountAt(await this.host.readMounts(), path);
    if (!entry) {
      // Not a mount point, so lstat stays on the kubelet's own filesystem and cannot hang.
      const exists = await lstat(path).then(() => true, (error: unknown) => errnoOf(error) !== 'ENOENT');
      throw absent(exists ? 'nothing is mounted there' : 'the path does not exist');
    }
    if (!isGlusterMount(entry)) throw absent(`it holds a ${entry.fsType} mount`);
    const record = await this.host.readRecord(path);
    if (!record) throw absent('this plugin has no record of publishing it');
    if (record.volumeId !== request.volumeId) throw absent(`it was published for volume ${record.volumeId}`);
    if (!mountsRecorded(entry.source, record)) throw absent(`the mount there is of ${entry.source}`);
    const health = await this.host.checkHealth(path);
    if (health.state === 'missing') throw absent('the mount point disappeared');
    if (health.state === 'broken') return { usage: [], volume_condition: { abnormal: true, message: `the Gluster FUSE mount is broken: ${health.reason}` } };
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
