import * as fs from '../gluster/commands/fs.ts';
import { NodeCommandError } from '../gluster/errors.ts';
import type { NodeTarget } from '../gluster/transport.ts';
import type { BrickRecord, MountRecord, NodeRunner } from './backend.ts';

/**
 * The steps LVM and loop-file bricks share once a block device exists: XFS if the device has no
 * filesystem yet, the mount, the brick directory inside it, and its group. Each observes before acting.
 */

/** Formats only a blank device; a device with any other signature is refused, never overwritten. */
export async function ensureXfs(runner: NodeRunner, node: NodeTarget, device: string): Promise<void> {
  const signatures = await runner.run(node, fs.wipefsList(device));
  if (signatures.includes('xfs')) return;
  if (signatures.length > 0) {
    throw new NodeCommandError({ errorClass: 'permanent', node: node.name, argv: ['wipefs', '--json', device], message: `brick device ${device} already holds ${signatures.join(', ')}; refusing to format it` });
  }
  await runner.run(node, fs.mkfsXfs(device));
}

export async function ensureMount(runner: NodeRunner, node: NodeTarget, mount: MountRecord): Promise<void> {
  await runner.run(node, fs.mkdirP(mount.target));
  const mounted = await runner.run(node, fs.findmnt(mount.target));
  if (mounted.length > 0) {
    // Something else mounted there would receive the brick's data: refuse rather than stack a mount on it.
    const sourceMatches = mounted.some((entry) => entry.fstype === mount.fstype);
    if (!sourceMatches) {
      throw new NodeCommandError({ errorClass: 'permanent', node: node.name, argv: ['findmnt', mount.target], message: `${mount.target} is already mounted from ${mounted[0]!.source} (${mounted[0]!.fstype})` });
    }
    return;
  }
  await runner.run(node, fs.mount(mount.source, mount.target, { fstype: mount.fstype, options: mount.options }));
}

export async function ensureUnmounted(runner: NodeRunner, node: NodeTarget, target: string): Promise<void> {
  const mounted = await runner.run(node, fs.findmnt(target));
  if (mounted.length > 0) await runner.run(node, fs.umount(target));
}

/** The brick directory (a subdirectory of the mount, so an unmounted brick is an empty dir gluster refuses). */
/** One idempotent command: the brick directory exists, with group gid and mode 2775 when a gid is given. */
export async function ensureBrickDirectory(runner: NodeRunner, node: NodeTarget, path: string, gid: number | null): Promise<void> {
  await runner.run(node, gid === null ? fs.mkdirP(path) : fs.installGroupDirectory(path, gid));
}

export async function removeDirectoryIfPresent(runner: NodeRunner, node: NodeTarget, path: string): Promise<void> {
  if ((await runner.run(node, fs.statPath(path))) !== null) await runner.run(node, fs.rmdir(path));
}

export function brickMountRecord(device: string, target: string): MountRecord {
  return { source: device, target, fstype: 'xfs', options: fs.BRICK_MOUNT_OPTIONS };
}

export type { BrickRecord };
