import { DEFAULT_MAX_BRICK_SIZE, DEFAULT_MIN_BRICK_SIZE, MAX_BRICK_SIZE, QUANTITY_PATTERN } from '../api/limits.ts';
import { POOL_METADATA_MAX_BYTES, poolMetadataSizeFor, thinPoolLayout } from '../bricks/sizing.ts';

/**
 * Size rules for bricks, as heketi applied them (apps/glusterfs/device_entry.go, placer/arbiter.go,
 * volume_entry_allocate.go), in bytes instead of heketi's KiB. Pure arithmetic; placement and the model's
 * free-space accounting both use these, and the thin pool part is the LVM backend's own rule
 * (src/bricks/sizing.ts), so the space a brick takes is computed in exactly one place.
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** LVM extent size: devices are set up with `vgcreate --physicalextentsize=4M`; every LV is a multiple of it. */
export const EXTENT_SIZE = 4 * MiB;

/** The thin pool rule's constants; the rule itself lives in src/bricks/sizing.ts (see there why that one). */
export { POOL_METADATA_RATIO } from '../bricks/sizing.ts';
export const POOL_METADATA_MAX = POOL_METADATA_MAX_BYTES;

/** heketi's default average file size for arbiter volumes (volume option user.heketi.average-file-size, 64 KiB). */
export const DEFAULT_AVERAGE_FILE_SIZE = 64 * KiB;

/**
 * heketi's discountBrickSize returns dataBrickSize / averageFileSize, in KiB: 1 KiB of arbiter per expected
 * file. We add a floor: mkfs.xfs (xfsprogs >= 5.19) refuses file systems smaller than 300 MiB, which heketi,
 * older than that rule, did not need. The arbiter brick never exceeds the data brick.
 */
export const ARBITER_BYTES_PER_FILE = KiB;
export const ARBITER_MIN_SIZE = 300 * MiB;

export type BrickBackend = 'LVM' | 'LoopFile' | 'Directory';

export function alignUp(bytes: number, to: number = EXTENT_SIZE): number {
  const rest = bytes % to;
  return rest === 0 ? bytes : bytes + (to - rest);
}

/** Thin pool holding one brick: brick size × snapshot factor (heketi: tpsize), extent aligned (src/bricks/sizing.ts). */
export function thinPoolSize(brickSize: number, snapshotFactor: number): number {
  return thinPoolLayout(brickSize, snapshotFactor, EXTENT_SIZE).thinPoolSizeBytes;
}

/** Thin-pool metadata LV size for a pool (heketi: 0.5% of the pool, capped at 16 GiB; LVM: at least 2 MiB), extent aligned. */
export function poolMetadataSize(poolSize: number): number {
  return poolMetadataSizeFor(poolSize, EXTENT_SIZE);
}

/**
 * Device space one brick takes. LVM: its own thin pool plus the pool's metadata (heketi creates one pool per
 * brick, so deleting a brick frees all of it), by the rule the LVM backend creates them with. Directory:
 * the brick size, as a quota-like reservation.
 */
export function brickAllocation(brickSize: number, snapshotFactor: number, backend: BrickBackend): number {
  // Loop files and directories take their size from the filesystem under directoryRoot: no thin pool.
  if (backend !== 'LVM') return brickSize;
  return thinPoolLayout(brickSize, snapshotFactor, EXTENT_SIZE).totalBytes;
}

/** Arbiter brick size for data bricks of `dataBrickSize` (see ARBITER_BYTES_PER_FILE for the source). */
export function arbiterBrickSize(dataBrickSize: number, averageFileSize: number = DEFAULT_AVERAGE_FILE_SIZE): number {
  const files = Math.ceil(dataBrickSize / averageFileSize);
  const size = alignUp(Math.max(files * ARBITER_BYTES_PER_FILE, ARBITER_MIN_SIZE));
  return Math.min(size, dataBrickSize);
}

/** Multipliers of the suffixes QUANTITY_PATTERN takes, as exact integers. */
const SUFFIX: Record<string, bigint> = {
  '': 1n,
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
  k: 10n ** 3n,
  M: 10n ** 6n,
  G: 10n ** 9n,
  T: 10n ** 12n,
  P: 10n ** 15n,
  E: 10n ** 18n,
};

/** A size that is not a quantity the API takes, or one above what the caller can honour. */
export class QuantityError extends Error {
  override name = 'QuantityError';
  readonly reason: 'syntax' | 'too-large';
  constructor(reason: 'syntax' | 'too-large', message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * Bytes of a Kubernetes quantity as the API schemas accept it (`10Gi`, `500M`, `1.5Ti`), rounded up to a
 * whole byte as Kubernetes rounds a quantity's value. Exact: the digits are scaled as integers (BigInt), so
 * `1.07G` is 1070000000, not the 1070000001 that 1.07 × 1e9 in floating point rounds up to, and nothing is
 * lost before the result is compared with `max`. Throws QuantityError for other syntax or a value above `max`
 * (at most Number.MAX_SAFE_INTEGER, beyond which a number no longer counts bytes exactly).
 */
export function parseQuantity(quantity: string, max: number = Number.MAX_SAFE_INTEGER): number {
  const match = QUANTITY_PATTERN.exec(quantity);
  if (!match) throw new QuantityError('syntax', `not a size: ${JSON.stringify(quantity)} (expected a quantity such as 10Gi)`);
  const suffix = match[2] ?? '';
  const [whole, fraction = ''] = quantity.slice(0, quantity.length - suffix.length).split('.') as [string, string?];
  const scale = 10n ** BigInt(fraction.length);
  const numerator = BigInt(whole + fraction) * SUFFIX[suffix]!;
  const bytes = (numerator + scale - 1n) / scale;
  const limit = Math.min(max, Number.MAX_SAFE_INTEGER);
  if (bytes > BigInt(limit)) {
    const most = limit === Number.MAX_SAFE_INTEGER ? '2^53 - 1 bytes, the most a number counts exactly' : formatBytes(limit);
    throw new QuantityError('too-large', `size ${quantity} is more than ${most}`);
  }
  return Number(bytes);
}

/** parseQuantity, or undefined when the quantity is absent or does not parse (the caller says what it falls back to). */
export function quantityOrUndefined(quantity: string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  try {
    return parseQuantity(quantity);
  } catch {
    return undefined;
  }
}

/** A GlusterCluster's brick size bounds in bytes, and what had to be changed to get them. */
export interface BrickSizeBounds {
  minBrickSize: number;
  maxBrickSize: number;
  /** One sentence per field that could not be honoured as written, naming it; empty when all could. */
  problems: string[];
}

/**
 * The bounds placement uses for a cluster spec, never throwing. The CRD refuses bounds above MAX_BRICK_SIZE,
 * but a GlusterCluster stored before it did may hold `1Ei`: that one cluster is placed as if it said the
 * maximum, the nearest value the arithmetic honours exactly (src/api/limits.ts), and `problems` says so for its
 * status, Events and rebuild findings. Throwing instead would fail the start-up rebuild for every cluster alike,
 * and every reconcile that syncs this one. Unparsable bounds (only a hand-made object can hold one)
 * fall back to the API's defaults, and a minimum above the maximum to the maximum.
 */
export function brickSizeBounds(spec: { minBrickSize: string; maxBrickSize: string }): BrickSizeBounds {
  const problems: string[] = [];
  const read = (field: string, value: string, fallback: string): number => {
    try {
      return parseQuantity(value, MAX_BRICK_SIZE.bytes);
    } catch (error) {
      if (error instanceof QuantityError && error.reason === 'too-large') {
        problems.push(`spec.${field} ${value} is above ${MAX_BRICK_SIZE.quantity} (${MAX_BRICK_SIZE.what}): bricks are placed as if it were ${MAX_BRICK_SIZE.quantity}`);
        return MAX_BRICK_SIZE.bytes;
      }
      problems.push(`spec.${field} ${JSON.stringify(value)} is not a size: bricks are placed as if it were the default ${fallback}`);
      return parseQuantity(fallback);
    }
  };
  let minBrickSize = read('minBrickSize', spec.minBrickSize, DEFAULT_MIN_BRICK_SIZE);
  const maxBrickSize = read('maxBrickSize', spec.maxBrickSize, DEFAULT_MAX_BRICK_SIZE);
  if (minBrickSize > maxBrickSize) {
    problems.push(`spec.minBrickSize exceeds spec.maxBrickSize: bricks are placed as if it were ${formatBytes(maxBrickSize)}`);
    minBrickSize = maxBrickSize;
  }
  return { minBrickSize, maxBrickSize, problems };
}

/** Binary quantity for messages: `5Gi` when exact, else two decimals in the largest unit (`3.33Ti`). */
export function formatBytes(bytes: number): string {
  for (const [suffix, unit] of [
    ['Pi', 1024 * TiB],
    ['Ti', TiB],
    ['Gi', GiB],
    ['Mi', MiB],
    ['Ki', KiB],
  ] as const) {
    if (Math.abs(bytes) < unit) continue;
    if (bytes % unit === 0) return `${bytes / unit}${suffix}`;
    return `${Number((bytes / unit).toFixed(2))}${suffix}`;
  }
  return `${bytes}`;
}
