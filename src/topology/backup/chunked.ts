import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { z } from 'zod';
import { errorMessage } from '../../runtime/error-message.ts';

/**
 * The topology database as bytes that fit in Kubernetes Secrets, and back.
 *
 * heketi's users lost their topology because its backup was best effort, unconditional and silently over the
 * 1 MiB Secret limit. This codec is the part that makes a backup trustworthy:
 *
 *  * JSON, gzip, then split into chunks of at most `chunkBytes` raw bytes. A whole Secret must stay <= 1 MiB
 *    and `data` is base64 (4/3 larger), so the default 700 KiB chunk becomes ~933 KiB of base64 plus metadata.
 *  * A SHA-256 over the whole compressed payload and one per chunk; the schema version and the generation
 *    travel beside the chunks (in the head Secret) and inside the JSON, and must agree.
 *  * Decoding verifies everything (chunk count and order, checksums, gzip's own CRC, JSON, the zod schema,
 *    generation and schema version agreement) and either returns a whole valid database or throws
 *    {@link BackupCorruptError}. There is no partial result.
 *
 * The codec is pure (no I/O, no clock): the Secret store decides names, labels and timestamps.
 */

/** Raw bytes per chunk. 700 KiB → 933 KiB of base64, leaving ~90 KiB for the rest of the Secret object. */
export const DEFAULT_CHUNK_BYTES = 700 * 1024;
/** Hard ceiling on a chunk: 768 KiB is 1 MiB of base64 and nothing left for metadata. */
export const MAX_CHUNK_BYTES = 760 * 1024;
/** Refuse to inflate more than this: a corrupt or hostile Secret must not exhaust the operator's memory. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024;
/** Refuse to assemble more chunks than this (256 × 700 KiB ≈ 175 MiB compressed, far beyond any real topology). */
export const MAX_CHUNKS = 256;
/** Version of this container format (not of the database schema, which the database carries itself). */
export const BACKUP_FORMAT = 1;
export const BACKUP_ENCODING = 'json+gzip';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');

/** What must travel beside the chunks to verify them: stored as JSON in the head Secret. */
export const backupMetaSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  encoding: z.literal(BACKUP_ENCODING),
  schemaVersion: z.number().int().min(1),
  generation: z.number().int().min(0),
  /** SHA-256 of the whole compressed payload (the concatenation of the chunks, in order). */
  checksum: sha256Hex,
  compressedBytes: z.number().int().min(1),
  uncompressedBytes: z.number().int().min(1),
  chunks: z
    .array(
      z.object({
        checksum: sha256Hex,
        bytes: z.number().int().min(1),
      }),
    )
    .min(1)
    .max(MAX_CHUNKS),
});
export type BackupMeta = z.infer<typeof backupMetaSchema>;

/**
 * What encoding returns: `chunks` as Buffers (the name the topology benchmark imports), the figures that
 * identify the backup, and `meta`, the same metadata as a plain object for the head Secret.
 */
export interface EncodeResult {
  chunks: Buffer[];
  checksum: string;
  generation: number;
  schemaVersion: number;
  compressedBytes: number;
  uncompressedBytes: number;
  meta: BackupMeta;
}

export type CorruptReason =
  | 'meta-invalid'
  | 'chunk-count'
  | 'chunk-checksum'
  | 'checksum'
  | 'size'
  | 'gzip'
  | 'json'
  | 'schema'
  | 'schema-version'
  | 'generation';

/** The backup cannot be trusted. Carries what was wrong, so a restore can say why in an Event. */
export class BackupCorruptError extends Error {
  readonly reason: CorruptReason;
  constructor(reason: CorruptReason, message: string, options?: { cause?: unknown }) {
    super(`topology backup is corrupt (${reason}): ${message}`, options);
    this.name = 'BackupCorruptError';
    this.reason = reason;
  }
}

/**
 * The backup was written by a newer operator with a database schema this one does not understand. Not
 * corrupt: rebuilding over it would throw away what the newer operator knew. Start-up refuses instead.
 */
export class BackupTooNewError extends Error {
  readonly schemaVersion: number;
  readonly supported: number;
  constructor(schemaVersion: number, supported: number) {
    super(
      `topology backup has schema version ${schemaVersion}, this operator understands up to ${supported}: ` +
        'run the newer operator (or restore an older backup by hand); refusing to rebuild over it',
    );
    this.name = 'BackupTooNewError';
    this.schemaVersion = schemaVersion;
    this.supported = supported;
  }
}

export function sha256(data: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface EncodeOptions {
  /** Raw bytes per chunk; default {@link DEFAULT_CHUNK_BYTES}. */
  chunkBytes?: number;
}

interface Versioned {
  schemaVersion: number;
  generation: number;
}

/**
 * Serializes a database validated by `schema` (any object carrying schemaVersion and generation). Validates it
 * first: a backup of an invalid database would be refused on restore, so it is refused here, where the bug is.
 */
export function encodeWithSchema<S extends z.ZodType<Versioned>>(schema: S, db: unknown, options: EncodeOptions = {}): EncodeResult {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(`chunkBytes must be an integer in 1..${MAX_CHUNK_BYTES}, got ${chunkBytes}`);
  }
  const parsed = schema.safeParse(db);
  if (!parsed.success) {
    throw new Error(`refusing to back up an invalid topology database: ${z.prettifyError(parsed.error)}`);
  }
  const valid = parsed.data;
  const json = Buffer.from(JSON.stringify(valid), 'utf8');
  // Level 6 and no timestamp (Node's gzip writes mtime 0): the same database always gives the same bytes,
  // so an unchanged database has an unchanged checksum.
  const payload = gzipSync(json, { level: zlibConstants.Z_DEFAULT_COMPRESSION });
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < payload.length; offset += chunkBytes) {
    chunks.push(payload.subarray(offset, Math.min(payload.length, offset + chunkBytes)));
  }
  if (chunks.length > MAX_CHUNKS) {
    throw new Error(`topology database too large: ${payload.length} compressed bytes need ${chunks.length} chunks (max ${MAX_CHUNKS})`);
  }
  const meta: BackupMeta = {
    format: BACKUP_FORMAT,
    encoding: BACKUP_ENCODING,
    schemaVersion: valid.schemaVersion,
    generation: valid.generation,
    checksum: sha256(payload),
    compressedBytes: payload.length,
    uncompressedBytes: json.length,
    chunks: chunks.map((chunk) => ({ checksum: sha256(chunk), bytes: chunk.length })),
  };
  return {
    chunks,
    checksum: meta.checksum,
    generation: meta.generation,
    schemaVersion: meta.schemaVersion,
    compressedBytes: meta.compressedBytes,
    uncompressedBytes: meta.uncompressedBytes,
    meta,
  };
}

export interface DecodeOptions {
  maxUncompressedBytes?: number;
}

/**
 * Restores a database from its chunks, in order. With `meta` (what the head Secret holds) every chunk and
 * the whole payload are checked against their SHA-256, and the database must carry meta's generation and
 * schema version. Without it only gzip's CRC-32 and the schema protect the data. Throws
 * {@link BackupCorruptError} on any mismatch, {@link BackupTooNewError} for a schema this operator does not know.
 */
export function decodeWithSchema<S extends z.ZodType<Versioned>>(
  schema: S,
  chunks: readonly (Buffer | Uint8Array)[],
  meta?: unknown,
  options: DecodeOptions & { supportedSchemaVersion?: number } = {},
): z.output<S> {
  const maxUncompressed = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
  let verified: BackupMeta | undefined;
  if (meta !== undefined) {
    const parsedMeta = backupMetaSchema.safeParse(meta);
    if (!parsedMeta.success) throw new BackupCorruptError('meta-invalid', z.prettifyError(parsedMeta.error));
    verified = parsedMeta.data;
    if (options.supportedSchemaVersion !== undefined && verified.schemaVersion > options.supportedSchemaVersion) {
      throw new BackupTooNewError(verified.schemaVersion, options.supportedSchemaVersion);
    }
    if (chunks.length !== verified.chunks.length) {
      throw new BackupCorruptError('chunk-count', `expected ${verified.chunks.length} chunks, got ${chunks.length}`);
    }
    for (const [index, chunk] of chunks.entries()) {
      const expected = verified.chunks[index]!;
      if (chunk.length !== expected.bytes) {
        throw new BackupCorruptError('size', `chunk ${index} has ${chunk.length} bytes, expected ${expected.bytes} (truncated?)`);
      }
      const actual = sha256(chunk);
      if (actual !== expected.checksum) {
        // A chunk that matches another position's checksum is there, but out of order.
        const elsewhere = verified.chunks.findIndex((c) => c.checksum === actual);
        throw new BackupCorruptError(
          'chunk-checksum',
          elsewhere >= 0
            ? `chunk ${index} holds the bytes of chunk ${elsewhere} (chunks out of order)`
            : `chunk ${index} SHA-256 ${actual} does not match ${expected.checksum}`,
        );
      }
    }
  } else if (chunks.length === 0) {
    throw new BackupCorruptError('chunk-count', 'no chunks');
  }
  if (chunks.length > MAX_CHUNKS) throw new BackupCorruptError('chunk-count', `${chunks.length} chunks (max ${MAX_CHUNKS})`);
  const payload = Buffer.concat(chunks.map((c) => (Buffer.isBuffer(c) ? c : Buffer.from(c))));
  if (verified) {
    if (payload.length !== verified.compressedBytes) {
      throw new BackupCorruptError('size', `payload has ${payload.length} bytes, expected ${verified.compressedBytes}`);
    }
    const actual = sha256(payload);
    if (actual !== verified.checksum) throw new BackupCorruptError('checksum', `SHA-256 ${actual} does not match ${verified.checksum}`);
  }
  let json: Buffer;
  try {
    json = gunzipSync(payload, { maxOutputLength: maxUncompressed });
  } catch (error) {
    throw new BackupCorruptError('gzip', errorMessage(error), { cause: error });
  }
  if (verified && json.length !== verified.uncompressedBytes) {
    throw new BackupCorruptError('size', `inflated to ${json.length} bytes, expected ${verified.uncompressedBytes}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(json.toString('utf8'));
  } catch (error) {
    throw new BackupCorruptError('json', errorMessage(error), { cause: error });
  }
  const declaredVersion = (document as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (
    options.supportedSchemaVersion !== undefined &&
    typeof declaredVersion === 'number' &&
    declaredVersion > options.supportedSchemaVersion
  ) {
    throw new BackupTooNewError(declaredVersion, options.supportedSchemaVersion);
  }
  const parsed = schema.safeParse(document);
  if (!parsed.success) throw new BackupCorruptError('schema', z.prettifyError(parsed.error));
  const db = parsed.data;
  if (verified) {
    if (db.generation !== verified.generation) {
      throw new BackupCorruptError('generation', `database generation ${db.generation} but the head says ${verified.generation}`);
    }
    if (db.schemaVersion !== verified.schemaVersion) {
      throw new BackupCorruptError('schema-version', `database schema version ${db.schemaVersion} but the head says ${verified.schemaVersion}`);
    }
  }
  return db;
}
