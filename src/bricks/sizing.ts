/**
 * heketi's thin pool sizing (apps/glusterfs/device_entry.go, SpaceNeeded / poolMetadataSize):
 *   thin pool  = brick size × snapshot factor, rounded up to a whole extent;
 *   metadata   = 0.5% of the thin pool, at most 16 GiB, rounded up to a whole extent.
 * heketi works in KiB and truncates the products before aligning; this does the same so sizes on disk
 * match what heketi created (adoption of heketi-made bricks compares them).
 */
const KIB = 1024;
const MAX_POOL_METADATA_KIB = 16 * 1024 * 1024; // heketi's maxPoolMetadataSizeMb = 16 * GB, GB in KiB

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

export function thinPoolSizing(brickSizeBytes: number, snapshotFactor: number, extentSizeBytes: number): ThinPoolSizing {
  if (!Number.isSafeInteger(brickSizeBytes) || brickSizeBytes <= 0 || brickSizeBytes % KIB !== 0) throw new Error(`brick size ${brickSizeBytes} must be a positive whole number of KiB`);
  if (!(snapshotFactor >= 1 && snapshotFactor <= 100)) throw new Error(`snapshot factor ${snapshotFactor} must be within 1..100`);
  if (!Number.isSafeInteger(extentSizeBytes) || extentSizeBytes <= 0 || extentSizeBytes % KIB !== 0) throw new Error(`invalid extent size ${extentSizeBytes}`);
  const extentKiB = extentSizeBytes / KIB;
  const thinPoolKiB = alignUp(Math.floor((brickSizeBytes / KIB) * snapshotFactor), extentKiB);
  // LVM refuses pool metadata under 2 MiB; heketi never hit that with its 1 GiB minimum brick.
  const metadataKiB = alignUp(Math.max(Math.min(Math.floor(thinPoolKiB * 0.005), MAX_POOL_METADATA_KIB), 2048), extentKiB);
  return { thinPoolSizeBytes: thinPoolKiB * KIB, poolMetadataSizeBytes: metadataKiB * KIB, totalBytes: (thinPoolKiB + metadataKiB) * KIB };
}
