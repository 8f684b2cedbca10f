import { LV_FIELDS, PV_FIELDS, VG_FIELDS, parseLvsJson, parsePvsJson, parseVgsJson, type LogicalVolume, type PhysicalVolume, type VolumeGroup } from '../parsers/lvm.ts';
import { LSBLK_COLUMNS, parseLsblkJson, type BlockDevice } from '../parsers/lsblk.ts';
import { command, ignoreOutput, type NodeCommand } from './command.ts';

/**
 * LVM argv builders. Reports are JSON in bytes without suffixes, with explicit field lists so a changed
 * LVM default never changes what we parse. Sizes passed to LVM are KiB with a "k" suffix: heketi's unit,
 * and exact for extent-aligned sizes.
 */
const REPORT = ['--reportformat', 'json', '--units', 'b', '--nosuffix'] as const;

function assertDevice(device: string): void {
  if (!/^\/dev\/[A-Za-z0-9_./-]+$/.test(device) || device.includes('..')) throw new Error(`invalid device path "${device}"`);
}

function assertLvmName(what: string, name: string): void {
  // LVM names: letters, digits, + _ . - and not starting with "-".
  if (!/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/.test(name)) throw new Error(`invalid ${what} "${name}"`);
}

function kib(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % 1024 !== 0) throw new Error(`size ${bytes} is not a positive whole number of KiB`);
  return `${bytes / 1024}k`;
}

const query = <T>(argv: string[], parse: (stdout: string) => T): NodeCommand<T> =>
  command({ argv, outcome: 'exit-code', mutatesCluster: false, parse });
const action = (argv: string[], timeoutMs?: number): NodeCommand<void> =>
  command({ argv, outcome: 'exit-code', mutatesCluster: false, parse: ignoreOutput, ...(timeoutMs && { timeoutMs }) });

export const pvs = (device?: string): NodeCommand<PhysicalVolume[]> => {
  if (device !== undefined) assertDevice(device);
  return query(['pvs', ...REPORT, '-o', PV_FIELDS.join(','), ...(device ? [device] : [])], parsePvsJson);
};

export const vgs = (vg?: string): NodeCommand<VolumeGroup[]> => {
  if (vg !== undefined) assertLvmName('volume group', vg);
  return query(['vgs', ...REPORT, '-o', VG_FIELDS.join(','), ...(vg ? [vg] : [])], parseVgsJson);
};

/** All LVs of one VG: observing "is my LV there" by listing avoids lvs' non-zero exit for a missing LV. */
export const lvs = (vg: string): NodeCommand<LogicalVolume[]> => {
  assertLvmName('volume group', vg);
  return query(['lvs', ...REPORT, '-o', LV_FIELDS.join(','), vg], parseLvsJson);
};

/**
 * The kernel name a device path points to now (/dev/disk/by-id/wwn-… → /dev/sdc): what pvs reports and what
 * gets wiped, so both are compared and acted on under the same name.
 */
export const resolveDevice = (device: string): NodeCommand<string> => {
  assertDevice(device);
  return query(['readlink', '-f', device], (stdout) => {
    const resolved = stdout.trim();
    assertDevice(resolved);
    return resolved;
  });
};

/** The identity of the disk behind a path (WWN, serial), which survives /dev/sdX reordering. */
export const blockDevice = (device: string): NodeCommand<BlockDevice> => {
  assertDevice(device);
  return query(['lsblk', '--json', '--bytes', '--nodeps', '-o', LSBLK_COLUMNS.join(','), device], parseLsblkJson);
};

/** heketi's PV layout: room for many metadata copies, data aligned to a RAID-friendly 256 KiB. */
export const pvcreate = (device: string): NodeCommand<void> => {
  assertDevice(device);
  return action(['pvcreate', '--metadatasize=128M', '--dataalignment=256K', device]);
};

export const vgcreate = (vg: string, devices: readonly string[]): NodeCommand<void> => {
  assertLvmName('volume group', vg);
  devices.forEach(assertDevice);
  if (devices.length === 0) throw new Error('vgcreate needs a device');
  return action(['vgcreate', '--autobackup=n', '--physicalextentsize=4M', vg, ...devices]);
};

export const vgremove = (vg: string): NodeCommand<void> => {
  assertLvmName('volume group', vg);
  return action(['vgremove', '--yes', vg]);
};

export const pvremove = (device: string): NodeCommand<void> => {
  assertDevice(device);
  return action(['pvremove', '--yes', device]);
};

export interface ThinPoolSpec {
  vg: string;
  pool: string;
  sizeBytes: number;
  metadataSizeBytes: number;
}

/** One thin pool per brick, as heketi did: deleting a brick frees its space without fragmenting a shared pool. */
export const lvcreateThinPool = (spec: ThinPoolSpec): NodeCommand<void> => {
  assertLvmName('volume group', spec.vg);
  assertLvmName('thin pool', spec.pool);
  return action(
    ['lvcreate', '--autobackup=n', '--yes', '--poolmetadatasize', kib(spec.metadataSizeBytes), '--chunksize', '256K', '--size', kib(spec.sizeBytes), '--thin', `${spec.vg}/${spec.pool}`],
    120_000,
  );
};

export interface ThinVolumeSpec {
  vg: string;
  pool: string;
  lv: string;
  virtualSizeBytes: number;
}

export const lvcreateThinVolume = (spec: ThinVolumeSpec): NodeCommand<void> => {
  assertLvmName('volume group', spec.vg);
  assertLvmName('thin pool', spec.pool);
  assertLvmName('logical volume', spec.lv);
  return action(['lvcreate', '--autobackup=n', '--yes', '--thin', '--virtualsize', kib(spec.virtualSizeBytes), '--name', spec.lv, `${spec.vg}/${spec.pool}`], 120_000);
};

/** Grows an LV (thin pool or thin volume) to an absolute size; never shrinks (LVM refuses a smaller size). */
export const lvextend = (vg: string, lv: string, sizeBytes: number): NodeCommand<void> => {
  assertLvmName('volume group', vg);
  assertLvmName('logical volume', lv);
  return action(['lvextend', '--autobackup=n', '--size', kib(sizeBytes), `${vg}/${lv}`], 120_000);
};

/** Grows a thin pool's metadata to an absolute size (heketi's 0.5% rule applied to the new pool size). */
export const lvextendPoolMetadata = (vg: string, pool: string, metadataSizeBytes: number): NodeCommand<void> => {
  assertLvmName('volume group', vg);
  assertLvmName('thin pool', pool);
  return action(['lvextend', '--autobackup=n', '--poolmetadatasize', kib(metadataSizeBytes), `${vg}/${pool}`], 120_000);
};

export const lvremove = (vg: string, lv: string): NodeCommand<void> => {
  assertLvmName('volume group', vg);
  assertLvmName('logical volume', lv);
  return action(['lvremove', '--autobackup=n', '--force', `${vg}/${lv}`], 120_000);
};
