import type { NodeCommand } from '../gluster/commands/command.ts';
import { assertAbsolutePath, mkdirP } from '../gluster/commands/fs.ts';
import type { NodeTarget } from '../gluster/transport.ts';

/**
 * Where bricks live on a node, behind one interface so placement and the reconcile loop do not care.
 * Every step is idempotent: it observes first (lvs, findmnt, losetup, stat) and acts only on what is
 * missing, so a create interrupted half-way (operator restart, node reboot) is finished by running it
 * again, and a delete of something half-gone completes instead of failing (heketi's orphan problem).
 */
export type BrickBackendKind = 'LVM' | 'Directory' | 'LoopFile';

/** Runs one command on one node (ClusterExecutor satisfies it). */
export interface NodeRunner {
  run<T>(node: NodeTarget, cmd: NodeCommand<T>): Promise<T>;
}

export interface DeviceRequest {
  /** LVM: the raw device (/dev/sdb). Directory/LoopFile: the root directory bricks go under. */
  path: string;
  /** Stable id of the device in the topology database; names the VG (vg_<id>). */
  id: string;
  /** Only then are existing signatures erased (`wipefs --all`); otherwise a non-blank device is refused. */
  destroyData?: boolean;
  /** LVM: what earlier passes recorded for this spec entry (GlusterNode status): a disk it no longer is, or wiped already, is refused. */
  recorded?: DeviceRecord;
  /**
   * LVM: told the disk's identity once known, and `wipedIdentity` right after a wipe succeeds; awaited, so the
   * record is kept (status) before anything else happens to the disk.
   */
  record?: (update: DeviceRecord) => Promise<void>;
}

/** Per spec entry: the identity of the disk it names (WWN, serial, by-id link) and the one destroyData wiped. */
export interface DeviceRecord {
  identity?: string;
  wipedIdentity?: string;
}

export interface PreparedDevice {
  /** What createBrick gets as `location`: the VG name (LVM) or the root directory. */
  location: string;
  /** Capacity, when the backend can know it (LVM: the VG). */
  sizeBytes: number | null;
  freeBytes: number | null;
  extentSizeBytes: number | null;
  /** LVM: the identity of the disk prepared (see DeviceRecord). */
  identity?: string;
}

export interface BrickRequest {
  /** Unique brick id (the database's); names every object of the brick, so observation finds them again. */
  id: string;
  sizeBytes: number;
  /** VG (LVM) or root directory (Directory/LoopFile), from PreparedDevice.location. */
  location: string;
  /** Group id owning the brick directory (PV annotation pv.beta.kubernetes.io/gid); chmod 2775 too. */
  gid?: number;
  /** LVM: thin pool = size × snapshot factor (StorageClass snapfactor, 1..100). */
  snapshotFactor?: number;
}

/**
 * Instead of an fstab line (heketi's, which outlived deleted bricks and broke boots), the mount is a record
 * in the topology database; ensureMounted replays it after a node reboot.
 */
export interface MountRecord {
  source: string;
  target: string;
  fstype: string;
  options: string;
}

export interface BrickRecord {
  id: string;
  backend: BrickBackendKind;
  /** The directory given to gluster as host:path. */
  path: string;
  sizeBytes: number;
  location: string;
  mount: MountRecord | null;
  gid: number | null;
  /** LVM only. */
  lvm?: { vg: string; thinPool: string; lv: string; thinPoolSizeBytes: number; poolMetadataSizeBytes: number };
  /** LoopFile only. */
  loopFile?: { file: string };
}

export interface BrickBackend {
  readonly kind: BrickBackendKind;
  prepareDevice(node: NodeTarget, device: DeviceRequest): Promise<PreparedDevice>;
  createBrick(node: NodeTarget, request: BrickRequest): Promise<BrickRecord>;
  /** Removes everything of the brick, tolerating parts already gone. Data is destroyed. */
  deleteBrick(node: NodeTarget, record: BrickRecord): Promise<void>;
  /** Grows to newSizeBytes (never shrinks); returns the updated record. */
  growBrick(node: NodeTarget, record: BrickRecord, newSizeBytes: number): Promise<BrickRecord>;
  /** Re-creates the mount of an existing brick (after a reboot), without formatting anything. */
  ensureMounted(node: NodeTarget, record: BrickRecord): Promise<void>;
}

/** Brick ids become file, LV and directory names: keep them to a safe alphabet. */
export function assertBrickId(id: string): void {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/i.test(id)) throw new Error(`invalid brick id "${id}"`);
}

export function joinPath(root: string, ...parts: string[]): string {
  return [root.replace(/\/+$/, ''), ...parts].join('/');
}

/** LoopFile and Directory bricks share their "device": a root directory, created if missing; no capacity known. */
export async function prepareDirectoryRoot(runner: NodeRunner, node: NodeTarget, device: DeviceRequest): Promise<PreparedDevice> {
  assertAbsolutePath(device.path);
  await runner.run(node, mkdirP(device.path));
  return { location: device.path, sizeBytes: null, freeBytes: null, extentSizeBytes: null };
}
