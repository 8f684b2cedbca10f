import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { z } from 'zod';
import { BackupCorruptError, backupMetaSchema, type BackupMeta, type EncodeResult } from './chunked.ts';
import { errorMessage } from '../../runtime/error-message.ts';

/**
 * What the topology backup's Secrets hold and are called (secret-store.ts writes and reads them): names,
 * labels, the head's meta.json, the store's results and errors, and the pure parts of reading and building
 * the Secrets. secret-store.ts re-exports all of it.
 */

export const DEFAULT_BACKUP_NAME = 'gluster-operator-topology';
export const LABEL_BACKUP = 'storage.gluster-operator.dev/topology-backup';
export const LABEL_ROLE = 'storage.gluster-operator.dev/topology-role';
export const LABEL_GENERATION = 'storage.gluster-operator.dev/topology-generation';
export const LABEL_QUARANTINED = 'storage.gluster-operator.dev/quarantined';
export const ANNOTATION_ORIGINAL = 'storage.gluster-operator.dev/original-name';
export const ANNOTATION_REASON = 'storage.gluster-operator.dev/quarantine-reason';
export const META_KEY = 'meta.json';
export const CHUNK_KEY = 'chunk';
export const inlineKey = (index: number) => `chunk-${index}`;

/** The calls the store makes; a real `CoreV1Api` fits, and tests can wrap one. */
export type SecretsApi = Pick<
  CoreV1Api,
  'readNamespacedSecret' | 'createNamespacedSecret' | 'replaceNamespacedSecret' | 'deleteNamespacedSecret' | 'listNamespacedSecret'
>;

/** What the head Secret's `meta.json` holds: the codec's meta plus where the chunks are. */
export const headMetaSchema = backupMetaSchema.extend({
  writtenAt: z.string(),
  writer: z.string().max(253).optional(),
  /** Names of the chunk Secrets, in order. Absent: the single chunk is inline in the head. */
  chunkSecrets: z.array(z.string().min(1).max(253)).optional(),
});
export type HeadMeta = z.infer<typeof headMetaSchema>;

/** The codec the store needs; `store.ts` binds the topology database's. */
export interface BackupCodec<T> {
  encode(db: T): EncodeResult;
  decode(chunks: Buffer[], meta: BackupMeta): T;
}

export type LoadResult<T> =
  | { state: 'missing' }
  | { state: 'ok'; db: T; meta: HeadMeta; resourceVersion: string }
  | {
      state: 'corrupt';
      error: BackupCorruptError;
      /** The generation the head claims, when its meta was readable: a rebuild must go past it. */
      generation?: number;
      /** Every Secret of this backup that was read, for {@link SecretBackupStore.quarantine}. */
      evidence: V1Secret[];
    };

export interface SaveResult {
  written: boolean;
  generation: number;
  chunks: number;
  /** Head writes attempted (1 without conflicts). */
  attempts: number;
  /** Secrets copied aside because the head found was unreadable. */
  quarantined: string[];
}

/** A backup with a higher generation is stored: writing this one would go backwards. */
export class StaleGenerationError extends Error {
  readonly stored: number;
  readonly attempted: number;
  constructor(stored: number, attempted: number, detail = '') {
    super(`refusing to write topology backup generation ${attempted}: generation ${stored} is already stored${detail}`);
    this.name = 'StaleGenerationError';
    this.stored = stored;
    this.attempted = attempted;
  }
}

export class BackupConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupConflictError';
  }
}

export interface SecretStoreOptions<T> {
  core: SecretsApi;
  namespace: string;
  codec: BackupCodec<T>;
  /** Name of the head Secret and prefix of the others; default {@link DEFAULT_BACKUP_NAME}. */
  name?: string;
  /** Who writes (pod name), recorded in the head. */
  writer?: string;
  now?: () => Date;
  /** Head write attempts on 409 before giving up; default 8. */
  maxAttempts?: number;
  /** Extra labels for every Secret (e.g. part-of). */
  labels?: Record<string, string>;
}

/** HTTP status of a client-node `ApiException` (or anything shaped like one). */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function decodeData(secret: V1Secret, key: string): Buffer | undefined {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64');
}

/** `2025-11-21T23:22:00.123Z` → `20251121t232200z`: sortable and valid in names and label values. */
export function compactTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '')
    .toLowerCase();
}

/** The head's meta.json, verified; a BackupCorruptError (never a throw) when it cannot be trusted. */
export function parseHeadMeta(head: V1Secret): { success: true; data: HeadMeta } | { success: false; error: BackupCorruptError } {
  const raw = decodeData(head, META_KEY);
  if (!raw) return { success: false, error: new BackupCorruptError('meta-invalid', `head Secret has no ${META_KEY}`) };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    return { success: false, error: new BackupCorruptError('meta-invalid', `${META_KEY} is not JSON: ${errorMessage(error)}`) };
  }
  const parsed = headMetaSchema.safeParse(json);
  if (!parsed.success) return { success: false, error: new BackupCorruptError('meta-invalid', z.prettifyError(parsed.error)) };
  return { success: true, data: parsed.data };
}

/** The head Secret of a backup: meta.json (with the chunk Secrets' names) and, for one chunk, the chunk inline. */
export function headSecretBody(input: {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  encoded: EncodeResult;
  chunkNames: string[] | undefined;
  resourceVersion: string | undefined;
  writtenAt: Date;
  writer: string | undefined;
}): V1Secret {
  const { name, namespace, labels, encoded, chunkNames, resourceVersion, writer } = input;
  const meta: HeadMeta = {
    ...encoded.meta,
    writtenAt: input.writtenAt.toISOString(),
    ...(writer ? { writer } : {}),
    ...(chunkNames ? { chunkSecrets: chunkNames } : {}),
  };
  const data: Record<string, string> = { [META_KEY]: Buffer.from(JSON.stringify(meta)).toString('base64') };
  if (!chunkNames) data[inlineKey(0)] = encoded.chunks[0]!.toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name,
      namespace,
      labels,
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    data,
  };
}
