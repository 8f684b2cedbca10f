import { SCHEMA_VERSION, topologyDatabaseSchema, type TopologyDatabase } from '../model.ts';
import { decodeWithSchema, encodeWithSchema, type BackupMeta, type DecodeOptions, type EncodeOptions, type EncodeResult } from './chunked.ts';
import type { BackupCodec } from './secret-store.ts';

/**
 * The topology database's backup codec: JSON, gzip, SHA-256, split into Secret-sized chunks (see
 * chunked.ts for the container and its checks). `encodeBackup` / `decodeBackup` are the names the topology
 * benchmark imports.
 */
export {
  BackupCorruptError,
  BackupTooNewError,
  DEFAULT_CHUNK_BYTES,
  MAX_CHUNK_BYTES,
  backupMetaSchema,
  sha256,
  type BackupMeta,
  type CorruptReason,
  type EncodeResult,
} from './chunked.ts';

/** Validates and serializes the database; `chunks` are the gzip payload in order, each <= `chunkBytes`. */
export function encodeBackup(db: TopologyDatabase, options: EncodeOptions = {}): EncodeResult {
  return encodeWithSchema(topologyDatabaseSchema, db, options);
}

/**
 * Verifies and restores the database (checksums, chunk count/order, generation and schema version against
 * `meta` when given, gzip CRC, JSON, the zod schema with its integrity rules). Throws BackupCorruptError, or
 * BackupTooNewError for a backup of a newer schema; never returns a partial database.
 */
export function decodeBackup(chunks: readonly (Buffer | Uint8Array)[], meta?: BackupMeta | unknown, options: DecodeOptions = {}): TopologyDatabase {
  return decodeWithSchema(topologyDatabaseSchema, chunks, meta, { ...options, supportedSchemaVersion: SCHEMA_VERSION });
}

export function topologyCodec(options: EncodeOptions = {}): BackupCodec<TopologyDatabase> {
  return {
    encode: (db) => encodeBackup(db, options),
    decode: (chunks, meta) => decodeBackup(chunks, meta),
  };
}
