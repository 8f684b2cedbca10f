import type { NodeTarget } from '../gluster/transport.ts';
import { KeyedLock } from '../runtime/keyed-lock.ts';
import type { BrickBackend, BrickRecord, BrickRequest, DeviceRequest, PreparedDevice } from './backend.ts';

/**
 * One operation at a time per brick (node + brick id). The backends' observe-then-act steps are idempotent
 * only one caller at a time: two LoopFile creates of one brick attached the file twice and ran mkfs.xfs
 * through both loop devices (seen on the test bed, "Metadata CRC error", when node evacuation still created
 * replacement bricks from the node reconciler while the volume's own reconcile created them too). Only a
 * volume's own reconcile changes its bricks now, one reconcile per volume at a time; this stays as the
 * guard that makes a second caller harmless rather than a disk corrupted. Other bricks, and other nodes,
 * still proceed in parallel.
 */
export function serializedPerBrick(backend: BrickBackend): BrickBackend {
  const lock = new KeyedLock();
  const exclusive = <T>(node: NodeTarget, id: string, run: () => Promise<T>): Promise<T> => lock.run(`${node.name}\0${id}`, run);
  return {
    kind: backend.kind,
    prepareDevice: (node: NodeTarget, device: DeviceRequest): Promise<PreparedDevice> => exclusive(node, `device:${device.id}`, () => backend.prepareDevice(node, device)),
    createBrick: (node: NodeTarget, request: BrickRequest): Promise<BrickRecord> => exclusive(node, request.id, () => backend.createBrick(node, request)),
    deleteBrick: (node: NodeTarget, record: BrickRecord): Promise<void> => exclusive(node, record.id, () => backend.deleteBrick(node, record)),
    growBrick: (node: NodeTarget, record: BrickRecord, newSizeBytes: number): Promise<BrickRecord> => exclusive(node, record.id, () => backend.growBrick(node, record, newSizeBytes)),
    ensureMounted: (node: NodeTarget, record: BrickRecord): Promise<void> => exclusive(node, record.id, () => backend.ensureMounted(node, record)),
  };
}
