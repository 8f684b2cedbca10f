import * as fs from '../gluster/commands/fs.ts';
import type { NodeTarget } from '../gluster/transport.ts';
import { assertBrickId, joinPath, prepareDirectoryRoot, type BrickBackend, type BrickRecord, type BrickRequest, type DeviceRequest, type NodeRunner, type PreparedDevice } from './backend.ts';
import { ensureBrickDirectory } from './xfs-mount.ts';

/**
 * Bricks as plain directories <root>/<id> on a filesystem the admin mounted (spec.directoryRoot). No
 * device-mapper, no formatting; sizes are not enforced (bricks share the filesystem), so placement must
 * account for it. If the root sits on the node's root filesystem gluster needs `force` on create.
 */
export class DirectoryBrickBackend implements BrickBackend {
  readonly kind = 'Directory' as const;
  readonly #runner: NodeRunner;

  constructor(runner: NodeRunner) {
    this.#runner = runner;
  }

  prepareDevice(node: NodeTarget, device: DeviceRequest): Promise<PreparedDevice> {
    return prepareDirectoryRoot(this.#runner, node, device);
  }

  async createBrick(node: NodeTarget, request: BrickRequest): Promise<BrickRecord> {
    assertBrickId(request.id);
    const path = joinPath(request.location, request.id);
    await ensureBrickDirectory(this.#runner, node, path, request.gid ?? null);
    return { id: request.id, backend: 'Directory', path, sizeBytes: request.sizeBytes, location: request.location, mount: null, gid: request.gid ?? null };
  }

  async ensureMounted(): Promise<void> {}

  async deleteBrick(node: NodeTarget, record: BrickRecord): Promise<void> {
    if (record.backend !== 'Directory') throw new Error(`brick ${record.id} is not a directory brick`);
    if ((await this.#runner.run(node, fs.statPath(record.path))) !== null) await this.#runner.run(node, fs.rmRf(record.path));
  }

  async growBrick(_node: NodeTarget, record: BrickRecord, newSizeBytes: number): Promise<BrickRecord> {
    // Nothing to resize: the directory can use whatever its filesystem has. Only the accounting changes.
    return { ...record, sizeBytes: newSizeBytes };
  }
}
