import { z } from 'zod';
import { invalidArgument } from './errors.ts';
import { formatSource, glusterMountArgv, parseGlusterSource, sameMountedVolume, type GlusterMountSpec, type MountedVolume } from './mount-options.ts';
import { mountSourceSchema, parseRequest, publishRequestSchema, subdirectorySchema, type PublishRequest } from './requests.ts';
import type { PublishRecord } from './state.ts';
import { targetPathProblem } from './target-path.ts';

/**
 * What a publish will do, from a request: every field validated (requests.ts: volume context, mount option
 * allow-list, volume_id against its context), the target under the kubelet directory, and the argv built
 * from those fields. The one way to a mount argv: NodePublishVolume and start-up recovery (from a record)
 * both come here, so a record can never mount what a fresh request could not. Pure; throws INVALID_ARGUMENT.
 */
export interface PublishPlan {
  request: PublishRequest;
  spec: GlusterMountSpec;
  argv: string[];
  record: PublishRecord;
}

export function planPublish(raw: unknown, kubeletDir: string): PublishPlan {
  const request = parseRequest(publishRequestSchema, raw);
  const problem = targetPathProblem(kubeletDir, request.targetPath);
  if (problem !== undefined) throw invalidArgument(`target_path: ${problem}`);
  const spec: GlusterMountSpec = {
    source: request.context.mountSource,
    subdirectory: request.context.subdirectory,
    backupVolfileServers: request.context.backupVolfileServers,
    mountFlags: request.mountFlags,
    readOnly: request.readOnly,
  };
  return { request, spec, argv: glusterMountArgv(spec, request.targetPath), record: recordOfRequest(request) };
}

/** The fields of a validated request, as strings again: what a record keeps (no secrets). */
export function recordOfRequest(request: PublishRequest): PublishRecord {
  const { context } = request;
  const volumeContext: Record<string, string> = { mountSource: formatSource(context.mountSource), glusterVolumeName: context.glusterVolumeName };
  if (context.backupVolfileServers.length > 0) volumeContext.backupVolfileServers = context.backupVolfileServers.join(':');
  // Kept apart from mountSource (which stays host:/volume, as the schema takes it): recovery replays the record
  // through that schema, and must mount the same directory again. Absent for a whole volume, as in the records
  // of earlier releases.
  if (context.subdirectory !== undefined) volumeContext.subdirectory = context.subdirectory;
  if (context.gid !== undefined) volumeContext.gid = String(context.gid);
  // The directory, never the secrets: recovery remounts from the files the publish wrote there.
  if (context.tlsDir !== undefined) volumeContext.tlsDir = context.tlsDir;
  return {
    version: 2,
    volumeId: request.volumeId,
    targetPath: request.targetPath,
    readOnly: request.readOnly,
    accessMode: request.accessMode,
    mountFlags: [...request.mountFlags],
    volumeContext,
  };
}

/** A record as the NodePublishVolumeRequest it came from, for planPublish. */
export function requestOfRecord(record: PublishRecord): Record<string, unknown> {
  return {
    volume_id: record.volumeId,
    target_path: record.targetPath,
    readonly: record.readOnly,
    volume_capability: { access_type: 'mount', mount: { fs_type: 'glusterfs', mount_flags: record.mountFlags }, access_mode: { mode: record.accessMode } },
    volume_context: record.volumeContext,
  };
}

const recordedMountSchema = z.object({ mountSource: mountSourceSchema, subdirectory: subdirectorySchema.optional() });

/**
 * What a record says was mounted: the volume, and the directory of it for a directory-mode PV (none in a record
 * of an earlier release); undefined when the record's fields do not parse.
 */
export function recordedMount(record: PublishRecord): MountedVolume | undefined {
  const parsed = recordedMountSchema.safeParse(record.volumeContext);
  return parsed.success ? { volume: parsed.data.mountSource.volume, subdirectory: parsed.data.subdirectory } : undefined;
}

/**
 * Whether a mount's source shows what the record says was mounted there, from whichever server: the same
 * volume and the same directory of it (a whole volume is not one of its directories, nor one directory another).
 */
export function mountsRecorded(mountSource: string, record: PublishRecord): boolean {
  const recorded = recordedMount(record);
  const mounted = parseGlusterSource(mountSource);
  return recorded !== undefined && mounted !== undefined && sameMountedVolume(mounted, recorded);
}
