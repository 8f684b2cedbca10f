/**
 * The one thin pool sizing rule: what the LVM backend creates (lvm.ts) and what the topology model and
 * placement count a brick as taking from its device (src/topology/sizing.ts calls this with the 4 MiB
 * extent every device is set up with). heketi's rule (apps/glusterfs/device_entry.go, SpaceNeeded /
 * poolMetadataSize):
 *   thin pool  = brick size × snapshot factor, rounded up to a whole extent;
 *   metadata   = 0.5% of the thin pool, at most 16 GiB, at least 2 MiB, rounded up to a whole extent.
 *
 * Why this rule and not the byte-wise copy the model had: it is what LVM is actually given. lvcreate takes
 * sizes in KiB (src/gluster/commands/lvm.ts), so the product is truncated to KiB before aligning, as heketi
 * did (sizes on disk then match what heketi created, which adoption of heketi-made bricks compares); the
 * byte-wise product could round up a whole extent more than the backend allocates (a 4056 KiB brick at
 * factor 1.01: 8 MiB of pool counted, 4 MiB created). And lvm2 refuses pool metadata under 2 MiB
 * (DEFAULT_THIN_POOL_MIN_METADATA_SIZE), which the copy did not know.
 */
const KIB = 1024;
/** heketi: poolMetadataSize = 0.5% of the thin pool. */
export const POOL_METADATA_RATIO = 0.005;
/** heketi's maxPoolMetadataSizeMb = 16 * GB (GB in KiB): 16 GiB, lvm2's own maximum too. */
export const POOL_METADATA_MAX_BYTES = 16 * 1024 * 1024 * KIB;
/** lvm2 refuses smaller pool metadata; heketi never hit that with its 1 GiB minimum brick. */
export const POOL_METADATA_MIN_BYTES = 2 * 1024 * KIB;

export interface ThinPoolSizing {
  thinPoolSizeBytes: number;
  poolMetadataSizeBytes: number;
  /** Space the brick takes from the VG. */
  totalBytes: number;
}

function alignUp(value: number, unit: number): number {
  const remainder = value % unit;
  return remainder === 0 ? value : value + unit - remainder;
}

/** Pool metadata for a thin pool of `thinPoolSizeBytes` (see the rule above). */
export function poolMetadataSizeFor(thinPoolSizeBytes: number, extentSizeBytes: number): number {
  const extentKiB = Math.max(1, Math.floor(extentSizeBytes / KIB));
  const ratioKiB = Math.floor((thinPoolSizeBytes / KIB) * POOL_METADATA_RATIO);
  const metadataKiB = Math.max(Math.min(ratioKiB, POOL_METADATA_MAX_BYTES / KIB), POOL_METADATA_MIN_BYTES / KIB);
  return alignUp(metadataKiB, extentKiB) * KIB;
}

/**
 * The rule without input checks, for accounting (the model's free space, placement): never throws, so one
 * odd recorded size cannot stop a reconcile. The backend goes through thinPoolSizing, which checks.
 */
export function thinPoolLayout(brickSizeBytes: number, snapshotFactor: number, extentSizeBytes: number): ThinPoolSizing {
  const extentKiB = Math.max(1, Math.floor(extentSizeBytes / KIB));
  const thinPoolKiB = alignUp(Math.floor((brickSizeBytes / KIB) * snapshotFactor), extentKiB);
  const poolMetadataSizeBytes = poolMetadataSizeFor(thinPoolKiB * KIB, extentSizeBytes);
  return { thinPoolSizeBytes: thinPoolKiB * KIB, poolMetadataSizeBytes, totalBytes: thinPoolKiB * KIB + poolMetadataSizeBytes };
}

export function thinPoolSizing(brickSizeBytes: number, snapshotFactor: number, extentSizeBytes: number): ThinPoolSizing {
  if (!Number.isSafeInteger(brickSizeBytes) || brickSizeBytes <= 0 || brickSizeBytes % KIB !== 0) throw new Error(`brick size ${brickSizeBytes} must be a positive whole number of KiB`);
  if (!(snapshotFactor >= 1 && snapshotFactor <= 100)) throw new Error(`snapshot factor ${snapshotFactor} must be within 1..100`);
  if (!Number.isSafeInteger(extentSizeBytes) || extentSizeBytes <= 0 || extentSizeBytes % KIB !== 0) throw new Error(`invalid extent size ${extentSizeBytes}`);
  return thinPoolLayout(brickSizeBytes, snapshotFactor, extentSizeBytes);
}
