import type { BrickBackend, NodeRunner } from './backend.ts';
import { DirectoryBrickBackend } from './directory.ts';
import { LoopFileBrickBackend } from './loopfile.ts';
import { LvmBrickBackend } from './lvm.ts';

export type { BrickBackend, BrickBackendKind, BrickRecord, BrickRequest, DeviceRequest, MountRecord, NodeRunner, PreparedDevice } from './backend.ts';
export { DirectoryBrickBackend } from './directory.ts';
export { LoopFileBrickBackend, MIN_LOOP_BRICK_BYTES } from './loopfile.ts';
export { LvmBrickBackend, vgNameFor } from './lvm.ts';
export { thinPoolSizing } from './sizing.ts';

/**
 * The backend of a cluster, from `spec.brickBackend` (src/api/gluster-cluster.ts: 'LVM' | 'Directory').
 * 'LoopFile' is the Directory flavour that gives every brick its own XFS filesystem without device-mapper;
 * the API has no field for it yet, so callers pick it explicitly.
 */
export function selectBrickBackend(kind: 'LVM' | 'Directory' | 'LoopFile', runner: NodeRunner, options: { mountRoot?: string } = {}): BrickBackend {
  switch (kind) {
    case 'LVM':
      return new LvmBrickBackend(runner, { mountRoot: options.mountRoot ?? '/var/lib/heketi/mounts' });
    case 'Directory':
      return new DirectoryBrickBackend(runner);
    case 'LoopFile':
      return new LoopFileBrickBackend(runner);
  }
}
