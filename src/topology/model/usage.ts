import { brickFootprint } from './bricks.ts';
import { devicePosition } from './lookups.ts';
import type { TopologyDatabase, TopologyDevice, TopologyVolume } from './schema.ts';

// Space accounting. Free space is derived from the bricks, never stored. The per-database usage index is
// computed once (O(bricks)) and then carried forward incrementally by addVolume/removeVolume, so placing
// volume number 10,000 does not rescan 30,000 bricks.

interface DeviceUsage {
  /** The devices array the positions below refer to. */
  readonly devices: readonly TopologyDevice[];
  /** Bytes taken, by position in `devices`. Typed arrays: carrying the index forward is a 10 KB memcpy. */
  readonly used: Float64Array;
  /** Bricks, by position in `devices`. */
  readonly bricks: Int32Array;
}

const usageIndexes = new WeakMap<TopologyDatabase, DeviceUsage>();

function usage(db: TopologyDatabase): DeviceUsage {
  let index = usageIndexes.get(db);
  if (!index || index.devices !== db.devices) {
    index = { devices: db.devices, used: new Float64Array(db.devices.length), bricks: new Int32Array(db.devices.length) };
    for (const volume of db.volumes) applyVolumeUsage(db, index, volume, +1);
    usageIndexes.set(db, index);
  }
  return index;
}

function applyVolumeUsage(db: TopologyDatabase, index: DeviceUsage, volume: TopologyVolume, sign: 1 | -1): void {
  for (const brick of volume.bricks) {
    const position = devicePosition(index.devices, brick.device);
    if (position === undefined) continue; // a dangling brick takes no known device's space; the schema reports it
    index.used[position]! += sign * brickFootprint(db, volume, brick);
    index.bricks[position]! += sign;
  }
}

export function withVolumeUsage(from: TopologyDatabase, to: TopologyDatabase, volume: TopologyVolume, sign: 1 | -1): void {
  const before = usageIndexes.get(from);
  if (!before || before.devices !== to.devices) return;
  const after: DeviceUsage = { devices: before.devices, used: before.used.slice(), bricks: before.bricks.slice() };
  applyVolumeUsage(sign > 0 ? to : from, after, volume, sign);
  usageIndexes.set(to, after);
}

/** Bytes of the device taken by bricks. */
export function deviceUsed(db: TopologyDatabase, device: string): number {
  const position = devicePosition(db.devices, device);
  return position === undefined ? 0 : usage(db).used[position]!;
}

/** Bytes of the device still free for bricks (negative if over-committed, e.g. after a device shrank). */
export function deviceFree(db: TopologyDatabase, device: string): number {
  const position = devicePosition(db.devices, device);
  return position === undefined ? 0 : db.devices[position]!.size - usage(db).used[position]!;
}

/** Free bytes of every device, aligned with db.devices; one pass for callers that need them all (placement). */
export function freeByDevicePosition(db: TopologyDatabase): Float64Array {
  const { used } = usage(db);
  const free = new Float64Array(db.devices.length);
  db.devices.forEach((d, i) => (free[i] = d.size - used[i]!));
  return free;
}

/** Position of a device in db.devices (stable for a given devices array). */
export function devicePositionOf(db: TopologyDatabase, device: string): number | undefined {
  return devicePosition(db.devices, device);
}

export function deviceBrickCount(db: TopologyDatabase, device: string): number {
  const position = devicePosition(db.devices, device);
  return position === undefined ? 0 : usage(db).bricks[position]!;
}

/** Devices whose bricks take more than their size; should never happen, checked by tests and by the operator. */
export function overcommittedDevices(db: TopologyDatabase): string[] {
  const free = freeByDevicePosition(db);
  return db.devices.filter((_, i) => free[i]! < 0).map((d) => d.id);
}

/**
 * Updates that leave volumes alone keep the usage index (clusters are only added, never changed); an index whose
 * devices array is not the database's is rebuilt on first use (usage()).
 */
export function carryUsage(from: TopologyDatabase, to: TopologyDatabase): void {
  const index = usageIndexes.get(from);
  if (!index || from.volumes !== to.volumes) return;
  if (index.devices === to.devices) {
    usageIndexes.set(to, index);
    return;
  }
  // Same devices at the same positions, maybe more appended (addDevice, setDeviceState): extend, keep the sums.
  if (to.devices.length < index.devices.length) return;
  for (let i = 0; i < index.devices.length; i++) if (index.devices[i]!.id !== to.devices[i]!.id) return;
  const used = new Float64Array(to.devices.length);
  used.set(index.used);
  const bricks = new Int32Array(to.devices.length);
  bricks.set(index.bricks);
  usageIndexes.set(to, { devices: to.devices, used, bricks });
}

/** `to` has the volumes of `from` (same content, other arrays): it takes `from`'s usage index as it is. */
export function shareUsage(from: TopologyDatabase, to: TopologyDatabase): void {
  const index = usageIndexes.get(from);
  if (index) usageIndexes.set(to, index);
}
