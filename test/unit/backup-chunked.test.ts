import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import {
  BackupCorruptError,
  BackupTooNewError,
  DEFAULT_CHUNK_BYTES,
  MAX_CHUNK_BYTES,
  decodeWithSchema,
  encodeWithSchema,
  sha256,
} from '../../src/topology/backup/chunked.ts';

/** A stand-in database: the container format only needs schemaVersion, generation and a zod schema. */
const testSchema = z.object({
  schemaVersion: z.literal(1),
  generation: z.number().int().min(0),
  items: z.array(z.object({ id: z.string(), blob: z.string() })),
});
type TestDb = z.infer<typeof testSchema>;

function db(generation: number, items = 3, blobBytes = 16): TestDb {
  return {
    schemaVersion: 1,
    generation,
    // Random hex does not compress below half its size, so large databases really span several chunks.
    items: Array.from({ length: items }, (_, i) => ({ id: `item-${i}`, blob: randomBytes(blobBytes).toString('hex') })),
  };
}

function corrupt(fn: () => unknown, reason: string): BackupCorruptError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(BackupCorruptError);
    expect((error as BackupCorruptError).reason).to.equal(reason);
    return error as BackupCorruptError;
  }
  expect.fail(`expected a BackupCorruptError (${reason})`);
}

describe('backup codec (chunked json+gzip container)', () => {
  it('round-trips a small database in one chunk, with checksum, generation and schema version', () => {
    const original = db(7);
    const encoded = encodeWithSchema(testSchema, original);
    expect(encoded.chunks).to.have.length(1);
    expect(encoded.generation).to.equal(7);
    expect(encoded.schemaVersion).to.equal(1);
    expect(encoded.checksum).to.equal(sha256(Buffer.concat(encoded.chunks)));
    expect(encoded.meta.chunks[0]!.checksum).to.equal(sha256(encoded.chunks[0]!));
    expect(decodeWithSchema(testSchema, encoded.chunks, encoded.meta)).to.deep.equal(original);
    // Without meta, gzip's CRC and the schema still guard the data.
    expect(decodeWithSchema(testSchema, encoded.chunks)).to.deep.equal(original);
  });

  it('is deterministic: the same database gives the same bytes and checksum', () => {
    const original = db(3, 50);
    expect(encodeWithSchema(testSchema, original).checksum).to.equal(encodeWithSchema(testSchema, structuredClone(original)).checksum);
  });

  it('splits a large database into chunks that fit a Secret (base64 of a chunk + metadata < 1 MiB)', () => {
    const original = db(42, 2_000, 512); // ~2 MiB of hex, ~1 MiB+ compressed
    const encoded = encodeWithSchema(testSchema, original);
    expect(encoded.chunks.length).to.be.greaterThan(1);
    for (const chunk of encoded.chunks) {
      expect(chunk.length).to.be.at.most(DEFAULT_CHUNK_BYTES);
      expect(chunk.toString('base64').length).to.be.lessThan(1024 * 1024 - 64 * 1024);
    }
    expect(decodeWithSchema(testSchema, encoded.chunks, encoded.meta)).to.deep.equal(original);
  });

  it('honours a smaller chunk size and refuses one that cannot fit a Secret', () => {
    const encoded = encodeWithSchema(testSchema, db(1, 100, 64), { chunkBytes: 1024 });
    expect(encoded.chunks.length).to.be.greaterThan(3);
    expect(decodeWithSchema(testSchema, encoded.chunks, encoded.meta).generation).to.equal(1);
    expect(() => encodeWithSchema(testSchema, db(1), { chunkBytes: MAX_CHUNK_BYTES + 1 })).to.throw(RangeError);
  });

  it('refuses to encode an invalid database', () => {
    expect(() => encodeWithSchema(testSchema, { schemaVersion: 1, generation: -1, items: [] })).to.throw(/invalid topology database/);
  });

  describe('never returns a partial or wrong database', () => {
    const original = db(9, 100, 64);
    const encoded = encodeWithSchema(testSchema, original, { chunkBytes: 2048 });

    it('a missing chunk', () => {
      corrupt(() => decodeWithSchema(testSchema, encoded.chunks.slice(0, -1), encoded.meta), 'chunk-count');
    });

    it('chunks out of order', () => {
      const swapped = [encoded.chunks[1]!, encoded.chunks[0]!, ...encoded.chunks.slice(2)];
      const error = corrupt(() => decodeWithSchema(testSchema, swapped, encoded.meta), 'chunk-checksum');
      expect(error.message).to.match(/out of order/);
    });

    it('a flipped byte', () => {
      const flipped = encoded.chunks.map((c) => Buffer.from(c));
      flipped[1]![100] = flipped[1]![100]! ^ 0xff;
      corrupt(() => decodeWithSchema(testSchema, flipped, encoded.meta), 'chunk-checksum');
    });

    it('a truncated chunk', () => {
      const truncated = [...encoded.chunks];
      truncated[2] = truncated[2]!.subarray(0, 100);
      corrupt(() => decodeWithSchema(testSchema, truncated, encoded.meta), 'size');
    });

    it('a wrong checksum in the meta', () => {
      corrupt(() => decodeWithSchema(testSchema, encoded.chunks, { ...encoded.meta, checksum: sha256('other') }), 'checksum');
    });

    it('meta that is not meta', () => {
      corrupt(() => decodeWithSchema(testSchema, encoded.chunks, { format: 99 }), 'meta-invalid');
    });

    it('a flipped byte without meta (gzip CRC)', () => {
      const whole = Buffer.concat(encoded.chunks);
      whole[whole.length - 6] = whole[whole.length - 6]! ^ 0x01;
      corrupt(() => decodeWithSchema(testSchema, [whole]), 'gzip');
    });

    it('a generation that does not match the head', () => {
      // Valid chunks of generation 9 presented with a head that claims generation 10.
      corrupt(() => decodeWithSchema(testSchema, encoded.chunks, { ...encoded.meta, generation: 10 }), 'generation');
    });

    it('valid gzip of something that is not the schema', () => {
      const bogus = gzipSync(Buffer.from(JSON.stringify({ schemaVersion: 1, generation: 'x' })));
      corrupt(() => decodeWithSchema(testSchema, [bogus]), 'schema');
      corrupt(() => decodeWithSchema(testSchema, [gzipSync(Buffer.from('{not json'))]), 'json');
    });

    it('a zip bomb is cut off', () => {
      const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20));
      corrupt(() => decodeWithSchema(testSchema, [bomb], undefined, { maxUncompressedBytes: 1024 * 1024 }), 'gzip');
    });
  });

  it('a backup from a newer schema is not "corrupt": it is refused as too new', () => {
    const v2 = z.object({ schemaVersion: z.literal(2), generation: z.number(), items: z.array(z.unknown()) });
    const encoded = encodeWithSchema(v2, { schemaVersion: 2, generation: 1, items: [] });
    expect(() => decodeWithSchema(testSchema, encoded.chunks, encoded.meta, { supportedSchemaVersion: 1 })).to.throw(BackupTooNewError);
    expect(() => decodeWithSchema(testSchema, encoded.chunks, undefined, { supportedSchemaVersion: 1 })).to.throw(BackupTooNewError);
  });
});
