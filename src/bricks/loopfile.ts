import * as fs from '../gluster/commands/fs.ts';
import { NodeCommandError } from '../gluster/errors.ts';
import type { NodeTarget } from '../gluster/transport.ts';
import { assertBrickId, joinPath, prepareDirectoryRoot, type BrickBackend, type BrickRecord, type BrickRequest, type DeviceRequest, type NodeRunner, type PreparedDevice } from './backend.ts';
import { brickMountRecord, ensureBrickDirectory, ensureMount, ensureUnmounted, ensureXfs, removeDirectoryIfPresent } from './xfs-mount.ts';

/**
 * Bricks without device-mapper: per brick a sparse file <root>/<id>.img, attached to a loop device,
 * formatted XFS, mounted at <root>/<id>, the gluster brick being <root>/<id>/brick. Each brick gets its own
 * filesystem (sizes are enforced, and gluster sees a dedicated mount, not the root filesystem). Loop
 * devices do not survive a reboot: ensureMounted re-attaches the file and mounts again.
 */

/** mkfs.xfs refuses filesystems under 300 MB. */
export const MIN_LOOP_BRICK_BYTES = 300 * 1024 * 1024;

export class LoopFileBrickBackend implements BrickBackend {
  readonly kind = 'LoopFile' as const;
  readonly #runner: NodeRunner;

  constructor(runner: NodeRunner) {
    this.#runner = runner;
  }

  prepareDevice(node: NodeTarget, device: DeviceRequest): Promise<PreparedDevice> {
    return prepareDirectoryRoot(this.#runner, node, device);
  }

  async createBrick(node: NodeTarget, request: BrickRequest): Promise<BrickRecord> {
    assertBrickId(request.id);
    if (request.sizeBytes < MIN_LOOP_BRICK_BYTES || request.sizeBytes % 512 !== 0) {
      throw new Error(`loop-file brick size ${request.sizeBytes} must be a multiple of 512 and at least ${MIN_LOOP_BRICK_BYTES}`);
    }
    const names = this.#names(request.location, request.id);
    const image = await this.#runner.run(node, fs.statPath(names.file));
    if (image === null) await this.#runner.run(node, fs.truncateFile(names.file, request.sizeBytes));
    else if (image.sizeBytes !== request.sizeBytes) {
      throw new NodeCommandError({ errorClass: 'permanent', node: node.name, argv: ['stat', names.file], message: `${names.file} exists with size ${image.sizeBytes}, expected ${request.sizeBytes}` });
    }
    const device = await this.#attach(node, names.file);
    const record: BrickRecord = {
      id: request.id,
      backend: 'LoopFile',
      path: joinPath(names.mountPoint, 'brick'),
      sizeBytes: request.sizeBytes,
      location: request.location,
      mount: brickMountRecord(device, names.mountPoint),
      gid: request.gid ?? null,
      loopFile: { file: names.file },
    };
    await ensureXfs(this.#runner, node, device);
    await ensureMount(this.#runner, node, record.mount!);
    await ensureBrickDirectory(this.#runner, node, record.path, record.gid);
    return record;
  }

  /** After a reboot the loop device name may differ: the mount record is refreshed with the current one. */
  async ensureMounted(node: NodeTarget, record: BrickRecord): Promise<void> {
    const { file } = this.#loopOf(record);
    const device = await this.#attach(node, file);
    await ensureMount(this.#runner, node, brickMountRecord(device, record.mount?.target ?? this.#names(record.location, record.id).mountPoint));
  }

  async deleteBrick(node: NodeTarget, record: BrickRecord): Promise<void> {
    const { file } = this.#loopOf(record);
    const mountPoint = record.mount?.target ?? this.#names(record.location, record.id).mountPoint;
    await ensureUnmounted(this.#runner, node, mountPoint);
    if ((await this.#runner.run(node, fs.statPath(file))) !== null) {
      for (const loop of await this.#runner.run(node, fs.losetupAssociated(file))) await this.#runner.run(node, fs.losetupDetach(loop.name));
      await this.#runner.run(node, fs.rmFile(file));
    }
    await removeDirectoryIfPresent(this.#runner, node, mountPoint);
  }

  async growBrick(node: NodeTarget, record: BrickRecord, newSizeBytes: number): Promise<BrickRecord> {
    const { file } = this.#loopOf(record);
    if (newSizeBytes < record.sizeBytes || newSizeBytes % 512 !== 0) throw new Error(`brick ${record.id}: cannot resize from ${record.sizeBytes} to ${newSizeBytes}`);
    const image = await this.#runner.run(node, fs.statPath(file));
    if (image === null) throw new NodeCommandError({ errorClass: 'permanent', node: node.name, argv: ['stat', file], message: `${file} is missing` });
    if (image.sizeBytes < newSizeBytes) await this.#runner.run(node, fs.truncateFile(file, newSizeBytes));
    const device = await this.#attach(node, file);
    await this.#runner.run(node, fs.losetupRefreshSize(device));
    await this.ensureMounted(node, record);
    await this.#runner.run(node, fs.xfsGrowfs(record.mount!.target));
    return { ...record, sizeBytes: newSizeBytes, mount: brickMountRecord(device, record.mount!.target) };
  }

  /** The loop device backing `file`, attaching one when none is (by inode, so namespaces do not matter). */
  async #attach(node: NodeTarget, file: string): Promise<string> {
    const [existing] = await this.#runner.run(node, fs.losetupAssociated(file));
    return existing ? existing.name : await this.#runner.run(node, fs.losetupAttach(file));
  }

  #names(root: string, id: string) {
    return { file: joinPath(root, `${id}.img`), mountPoint: joinPath(root, id) };
  }

  #loopOf(record: BrickRecord): NonNullable<BrickRecord['loopFile']> {
    if (record.backend !== 'LoopFile' || !record.loopFile) throw new Error(`brick ${record.id} is not a loop-file brick`);
    return record.loopFile;
  }
}
