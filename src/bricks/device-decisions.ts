import type { BlockDevice } from '../gluster/parsers/lsblk.ts';

/**
 * Which disk a spec entry means, and whether destroyData may erase it. A /dev/sdX name is not a disk: after a
 * reboot that reorders controllers it can name another one, so a spec entry is tied to the identity of the disk
 * it was first prepared on, and destroyData erases one identity once. Pure; test/unit/device-identity.test.ts.
 */

import type { DeviceRecord } from './backend.ts';

export type { DeviceRecord };

/**
 * The most stable name the disk has: WWN (burnt into the disk), else its serial, else the by-id link the spec
 * named, else (loop devices of a test bed, with neither) the kernel name and size it resolves to now.
 */
export function deviceIdentity(specPath: string, resolvedPath: string, block: BlockDevice): string {
  if (block.wwn) return `wwn:${block.wwn}`;
  if (block.serial) return `serial:${block.serial}`;
  if (specPath.startsWith('/dev/disk/by-id/')) return `by-id:${specPath}`;
  return `kname:${resolvedPath}:${block.sizeBytes ?? 'unknown'}`;
}

export type DeviceRefusal = 'IdentityChanged' | 'ForeignVolumeGroup' | 'NotBlank' | 'AlreadyWiped';

export type DeviceStep =
  | { kind: 'use' } // a PV in the operator's VG, or in none (a prepare interrupted before vgcreate): no pvcreate
  | { kind: 'observeSignatures' }
  | { kind: 'create' } // blank: pvcreate
  | { kind: 'wipe' } // wipefs --all, record wipedIdentity, then pvcreate
  | { kind: 'refuse'; reason: DeviceRefusal; message: string };

export interface DeviceWorld {
  specPath: string;
  identity: string;
  recorded: DeviceRecord;
  destroyData: boolean;
  ownVg: string;
  /** The PV on the resolved device: undefined when there is none; vgName null for a PV in no VG. */
  pv?: { vgName: string | null };
  /** wipefs --json of a device that is no PV; undefined until observed. */
  signatures?: readonly string[];
}

export function decideDevice(world: DeviceWorld): DeviceStep {
  const { specPath, identity, recorded } = world;
  if (recorded.identity !== undefined && recorded.identity !== identity) {
    return refuse('IdentityChanged', `${specPath} was disk ${recorded.identity} and is now disk ${identity} (renamed or reordered): nothing is done; put the path of the disk meant in the spec, or remove the device and add it back`);
  }
  if (world.pv) {
    // Recognised by the PV on the disk the path resolves to, whatever the spec calls it (a by-id link).
    if (world.pv.vgName === world.ownVg || world.pv.vgName === null) return { kind: 'use' };
    return refuse('ForeignVolumeGroup', `${specPath} already belongs to volume group ${world.pv.vgName}`);
  }
  if (world.signatures === undefined) return { kind: 'observeSignatures' };
  if (world.signatures.length === 0) return { kind: 'create' };
  const found = world.signatures.join(', ');
  if (!world.destroyData) return refuse('NotBlank', `${specPath} is not blank (${found}); set destroyData to erase it`);
  if (recorded.wipedIdentity !== undefined) {
    return refuse(
      'AlreadyWiped',
      `destroyData already wiped identity ${recorded.wipedIdentity} once; this device (identity ${identity}) holds data (${found}); to wipe again, remove the device from the spec and add it back`,
    );
  }
  return { kind: 'wipe' };
}

function refuse(reason: DeviceRefusal, message: string): DeviceStep {
  return { kind: 'refuse', reason, message: `${reason}: ${message}` };
}

type RecordedEntry = { name: string; identity?: string; wipedIdentity?: string };

/**
 * What a pass starts from for a spec entry: the last status's record, whatever that pass found (Refused
 * included). Losing it would let a renamed disk, or one wiped already, pass as new. An entry removed from the
 * spec drops out of status, so adding it back starts over: the documented way to wipe again.
 */
export function carriedRecord(statuses: readonly RecordedEntry[] | undefined, name: string): DeviceRecord {
  const previous = statuses?.find((entry) => entry.name === name);
  return {
    ...(previous?.identity !== undefined ? { identity: previous.identity } : {}),
    ...(previous?.wipedIdentity !== undefined ? { wipedIdentity: previous.wipedIdentity } : {}),
  };
}

/** The status devices list to write right after a wipe: every other entry as written, this one with its record. */
export function statusesAfterWipe<T extends RecordedEntry>(written: readonly T[], name: string, record: DeviceRecord, pending: T): T[] {
  const previous = written.find((entry) => entry.name === name) ?? pending;
  return [...written.filter((entry) => entry.name !== name), { ...previous, ...record }];
}
