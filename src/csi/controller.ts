import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import type { CsiMetrics } from '../metrics/csi-metrics.ts';
import type { Logger } from '../runtime/logger.ts';
import { CsiError, fromZodError } from './errors.ts';
import type { IdentityService } from './identity.ts';
import { addIdentityService, bindUnixSocket, loadCsiPackage, socketPath, unary } from './server.ts';

/**
 * The CSI Controller service, snapshots only, as the csi-snapshotter sidecar calls it: CreateSnapshot,
 * DeleteSnapshot, ListSnapshots and the capabilities that announce them. The operator serves it (it holds the
 * access to every Gluster cluster); what a snapshot is on Gluster lives behind SnapshotBackend
 * (src/operator/snapshots.ts). This module owns the CSI side: request validation, idempotency rules of the
 * specification, and the answers' shapes.
 */
export interface SnapshotRecord {
  snapshotId: string;
  sourceVolumeId: string;
  /** The size a volume restored from it needs: the source volume's size when it was taken. */
  sizeBytes: number;
  /** ISO 8601 instant. */
  createdAt: string;
  readyToUse: boolean;
}

export interface SnapshotBackend {
  /** Takes snapshot `name` of the volume, or returns it if it exists for that volume (the spec's idempotency); ALREADY_EXISTS if it exists for another. */
  create(sourceVolumeId: string, name: string): Promise<SnapshotRecord>;
  /** Deletes it; one that does not exist (any more) is success. */
  delete(snapshotId: string): Promise<void>;
  /** One snapshot by id, undefined when it does not exist. */
  get(snapshotId: string): Promise<SnapshotRecord | undefined>;
  /** Every snapshot, or those of one volume, in a stable order. */
  list(sourceVolumeId?: string): Promise<SnapshotRecord[]>;
}

// Identifiers are ours ("<namespace>/<name>" volumes, "<namespace>/<cluster>/<snapshot>" snapshots): bounded
// and printable, so a hostile id never reaches a command line as anything but a refused request.
const id = z.string().min(1, 'is required').max(512).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

const createSchema = z.object({ source_volume_id: id, name: z.string().min(1, 'is required').max(128) });
const deleteSchema = z.object({ snapshot_id: id });
const listSchema = z.object({
  max_entries: z.number().int().min(0, 'must not be negative'),
  starting_token: z.string().regex(/^\d*$/, 'is not a token this plugin returned'),
  source_volume_id: z.string().max(512),
  snapshot_id: z.string().max(512),
});

function parse<T extends z.ZodType>(schema: T, request: unknown): z.output<T> {
  const result = schema.safeParse(request);
  if (!result.success) throw fromZodError(result.error);
  return result.data;
}

function timestamp(iso: string): { seconds: string; nanos: number } {
  const ms = Date.parse(iso);
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

function toCsi(record: SnapshotRecord) {
  return {
    size_bytes: String(record.sizeBytes),
    snapshot_id: record.snapshotId,
    source_volume_id: record.sourceVolumeId,
    creation_time: timestamp(record.createdAt),
    ready_to_use: record.readyToUse,
    group_snapshot_id: '',
  };
}

export class ControllerService {
  readonly #backend: SnapshotBackend;
  constructor(backend: SnapshotBackend) {
    this.#backend = backend;
  }

  controllerGetCapabilities() {
    return { capabilities: ['CREATE_DELETE_SNAPSHOT', 'LIST_SNAPSHOTS'].map((type) => ({ rpc: { type } })) };
  }

  async createSnapshot(request: unknown) {
    const { source_volume_id, name } = parse(createSchema, request);
    return { snapshot: toCsi(await this.#backend.create(source_volume_id, name)) };
  }

  async deleteSnapshot(request: unknown) {
    const { snapshot_id } = parse(deleteSchema, request);
    await this.#backend.delete(snapshot_id);
    return {};
  }

  /** Filters as the spec gives them: by snapshot id (zero or one entry), by source volume, or all; paged by index. */
  async listSnapshots(request: unknown) {
    const { max_entries, starting_token, source_volume_id, snapshot_id } = parse(listSchema, request);
    let records: SnapshotRecord[];
    if (snapshot_id !== '') {
      const found = await this.#backend.get(snapshot_id);
      records = found && (source_volume_id === '' || found.sourceVolumeId === source_volume_id) ? [found] : [];
    } else {
      records = await this.#backend.list(source_volume_id === '' ? undefined : source_volume_id);
    }
    const start = starting_token === '' ? 0 : Number(starting_token);
    // The spec: a token that does not match a position gives ABORTED.
    if (start > records.length) throw new CsiError(grpc.status.ABORTED, `starting_token ${starting_token} is past the ${records.length} snapshots`);
    const end = max_entries === 0 ? records.length : Math.min(records.length, start + max_entries);
    return { entries: records.slice(start, end).map((record) => ({ snapshot: toCsi(record) })), next_token: end < records.length ? String(end) : '' };
  }
}

/**
 * The snapshot backend of the replica that leads. The operator serves its controller endpoint for the whole
 * life of the process, leader or standby, because the csi-snapshotter sidecar in the same pod gives up (and
 * the container restarts, on and on) when no socket answers within 30 s. A standby has no access to the
 * clusters, so until it leads every call is UNAVAILABLE, which the sidecar retries; its Probe answers "not
 * ready" meanwhile, so the sidecar never gets that far.
 */
export class LeaderSnapshotBackend implements SnapshotBackend {
  readonly #current: () => SnapshotBackend | undefined;
  constructor(current: () => SnapshotBackend | undefined) {
    this.#current = current;
  }

  #backend(): SnapshotBackend {
    const backend = this.#current();
    if (!backend) throw new CsiError(grpc.status.UNAVAILABLE, 'this operator replica is not leading (or is still starting); the call is retried');
    return backend;
  }

  create(sourceVolumeId: string, name: string): Promise<SnapshotRecord> {
    return this.#backend().create(sourceVolumeId, name);
  }

  delete(snapshotId: string): Promise<void> {
    return this.#backend().delete(snapshotId);
  }

  get(snapshotId: string): Promise<SnapshotRecord | undefined> {
    return this.#backend().get(snapshotId);
  }

  list(sourceVolumeId?: string): Promise<SnapshotRecord[]> {
    return this.#backend().list(sourceVolumeId);
  }
}

export interface ControllerServerOptions {
  endpoint: string;
  identity: IdentityService;
  controller: ControllerService;
  logger: Logger;
  metrics?: CsiMetrics;
}

/** Identity (announcing CONTROLLER_SERVICE) and Controller on the endpoint the csi-snapshotter sidecar dials. */
export async function startControllerServer(options: ControllerServerOptions): Promise<grpc.Server> {
  const csi = loadCsiPackage();
  const server = new grpc.Server();
  const { identity, controller, logger, metrics } = options;
  const rpc = (method: string, handler: (request: unknown) => unknown) => unary(logger, method, handler, metrics);
  addIdentityService(server, csi, identity, rpc);
  server.addService(csi.Controller.service, {
    ControllerGetCapabilities: rpc('ControllerGetCapabilities', () => controller.controllerGetCapabilities()),
    CreateSnapshot: rpc('CreateSnapshot', (request) => controller.createSnapshot(request)),
    DeleteSnapshot: rpc('DeleteSnapshot', (request) => controller.deleteSnapshot(request)),
    ListSnapshots: rpc('ListSnapshots', (request) => controller.listSnapshots(request)),
  });
  await bindUnixSocket(server, socketPath(options.endpoint));
  return server;
}
