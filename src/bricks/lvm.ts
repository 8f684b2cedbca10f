import * as fs from '../gluster/commands/fs.ts';
import * as lvm from '../gluster/commands/lvm.ts';
import { NodeCommandError } from '../gluster/errors.ts';
import type { NodeTarget } from '../gluster/transport.ts';
import { assertBrickId, joinPath, type BrickBackend, type BrickRecord, type BrickRequest, type DeviceRequest, type NodeRunner, type PreparedDevice } from './backend.ts';
import { decideDevice, deviceIdentity, type DeviceWorld } from './device-decisions.ts';
import type { LogicalVolume } from '../gluster/parsers/lvm.ts';
import { thinPoolSizing, type ThinPoolSizing } from './sizing.ts';
import { brickMountRecord, ensureBrickDirectory, ensureMount, ensureUnmounted, ensureXfs, removeDirectoryIfPresent } from './xfs-mount.ts';

/**
 * heketi's brick layout, production default: one VG per device (vg_<device id>), and per brick a thin pool
 * tp_<id> holding one thin LV brick_<id>, XFS on it, mounted at <mountRoot>/<vg>/brick_<id>, the gluster
 * brick being the "brick" directory inside the mount.
 */
export interface LvmBackendOptions {
  /** heketi: /var/lib/heketi/mounts. */
  mountRoot: string;
  defaultSnapshotFactor?: number;
}

export const vgNameFor = (deviceId: string) => `vg_${deviceId}`;

export class LvmBrickBackend implements BrickBackend {
  readonly kind = 'LVM' as const;
  readonly #runner: NodeRunner;
  readonly #options: Required<LvmBackendOptions>;

  constructor(runner: NodeRunner, options: LvmBackendOptions) {
    this.#runner = runner;
    this.#options = { defaultSnapshotFactor: 1, ...options };
    fs.assertAbsolutePath(options.mountRoot);
  }

  /**
   * The spec path is resolved to the disk behind it and that disk's identity first; every decision
   * (device-decisions.ts) and every command then uses the resolved kernel name, so a by-id link matches the
   * PV pvs lists under /dev/sdX, and a renamed disk is refused before anything touches it.
   */
  async prepareDevice(node: NodeTarget, device: DeviceRequest): Promise<PreparedDevice> {
    assertBrickId(device.id);
    const vg = vgNameFor(device.id);
    const resolved = await this.#runner.run(node, lvm.resolveDevice(device.path));
    const identity = deviceIdentity(device.path, resolved, await this.#runner.run(node, lvm.blockDevice(resolved)));
    const world: DeviceWorld = { specPath: device.path, identity, recorded: device.recorded ?? {}, destroyData: device.destroyData === true, ownVg: vg };
    const pv = (await this.#runner.run(node, lvm.pvs())).find((candidate) => candidate.name === resolved || candidate.name === device.path);
    if (pv) world.pv = { vgName: pv.vgName };
    let step = decideDevice(world);
    if (step.kind === 'observeSignatures') {
      world.signatures = await this.#runner.run(node, fs.wipefsList(resolved));
      step = decideDevice(world);
    }
    if (step.kind === 'refuse') throw this.#refuse(node, ['lsblk', resolved], step.message);
    if (world.recorded.identity === undefined) await device.record?.({ identity });
    if (step.kind === 'wipe') {
      await this.#runner.run(node, fs.wipefs(resolved, { all: true }));
      await device.record?.({ identity, wipedIdentity: identity });
    }
    if (step.kind === 'wipe' || step.kind === 'create') await this.#runner.run(node, lvm.pvcreate(resolved));
    let [group] = (await this.#runner.run(node, lvm.vgs())).filter((candidate) => candidate.name === vg);
    if (!group) {
      await this.#runner.run(node, lvm.vgcreate(vg, [resolved]));
      [group] = await this.#runner.run(node, lvm.vgs(vg));
    }
    if (!group) throw this.#refuse(node, ['vgs', vg], `volume group ${vg} missing right after vgcreate`);
    return { location: vg, sizeBytes: group.sizeBytes, freeBytes: group.freeBytes, extentSizeBytes: group.extentSizeBytes, identity };
  }

  async createBrick(node: NodeTarget, request: BrickRequest): Promise<BrickRecord> {
    assertBrickId(request.id);
    const vg = request.location;
    const [group] = await this.#runner.run(node, lvm.vgs(vg));
    if (!group) throw this.#refuse(node, ['vgs', vg], `volume group ${vg} not found`);
    const sizing = thinPoolSizing(request.sizeBytes, request.snapshotFactor ?? this.#options.defaultSnapshotFactor, group.extentSizeBytes);
    const names = this.#names(vg, request.id);

    const existing = await this.#runner.run(node, lvm.lvs(vg));
    const pool = existing.find((lv) => lv.name === names.thinPool);
    const thin = existing.find((lv) => lv.name === names.lv);
    const grows = thin !== undefined && thin.sizeBytes < request.sizeBytes;
    // A brick whose size grew (the database holds the new size before this runs) is extended here, so an
    // interrupted growth is finished by the next ensure. An existing pool is looked at only for such a brick
    // (or one whose thin LV is still to be made), so a brick at its size is never changed otherwise.
    if (!pool) {
      await this.#runner.run(node, lvm.lvcreateThinPool({ vg, pool: names.thinPool, sizeBytes: sizing.thinPoolSizeBytes, metadataSizeBytes: sizing.poolMetadataSizeBytes }));
    } else if (!thin || grows) {
      await this.#extendPool(node, vg, names.thinPool, pool, sizing);
    }
    if (!thin) {
      await this.#runner.run(node, lvm.lvcreateThinVolume({ vg, pool: names.thinPool, lv: names.lv, virtualSizeBytes: request.sizeBytes }));
    } else if (grows) {
      await this.#runner.run(node, lvm.lvextend(vg, names.lv, request.sizeBytes));
    }
    const record: BrickRecord = {
      id: request.id,
      backend: 'LVM',
      path: joinPath(names.mountPoint, 'brick'),
      sizeBytes: request.sizeBytes,
      location: vg,
      mount: brickMountRecord(names.device, names.mountPoint),
      gid: request.gid ?? null,
      // What the pool is (an existing one may be larger than the rule asks): the rule's sizes at least.
      lvm: { vg, thinPool: names.thinPool, lv: names.lv, ...poolSizesOf(pool, sizing) },
    };
    await ensureXfs(this.#runner, node, names.device);
    await ensureMount(this.#runner, node, record.mount!);
    // The file system follows its LV once mounted (xfs_growfs works on a mounted XFS only).
    if (grows) await this.#runner.run(node, fs.xfsGrowfs(names.mountPoint));
    await ensureBrickDirectory(this.#runner, node, record.path, record.gid);
    return record;
  }

  async ensureMounted(node: NodeTarget, record: BrickRecord): Promise<void> {
    if (!record.mount) throw new Error(`brick ${record.id} has no mount record`);
    await ensureMount(this.#runner, node, record.mount);
  }

  async deleteBrick(node: NodeTarget, record: BrickRecord): Promise<void> {
    const { vg, thinPool, lv } = this.#lvmOf(record);
    const mountPoint = record.mount?.target ?? this.#names(vg, record.id).mountPoint;
    await ensureUnmounted(this.#runner, node, mountPoint);
    let lvsNow = await this.#runner.run(node, lvm.lvs(vg));
    if (lvsNow.some((candidate) => candidate.name === lv)) {
      await this.#runner.run(node, lvm.lvremove(vg, lv));
      lvsNow = await this.#runner.run(node, lvm.lvs(vg));
    }
    // A pool still holding thin LVs (a snapshot, a foreign LV) stays: deleting it would destroy them.
    const pool = lvsNow.find((candidate) => candidate.name === thinPool);
    if (pool && (pool.thinCount ?? 0) === 0) await this.#runner.run(node, lvm.lvremove(vg, thinPool));
    await removeDirectoryIfPresent(this.#runner, node, mountPoint);
  }

  async growBrick(node: NodeTarget, record: BrickRecord, newSizeBytes: number): Promise<BrickRecord> {
    const current = this.#lvmOf(record);
    if (newSizeBytes < record.sizeBytes) throw new Error(`brick ${record.id}: cannot shrink from ${record.sizeBytes} to ${newSizeBytes}`);
    const [group] = await this.#runner.run(node, lvm.vgs(current.vg));
    if (!group) throw this.#refuse(node, ['vgs', current.vg], `volume group ${current.vg} not found`);
    // A record derived from the database carries no pool size (0): the default factor then.
    const factor = current.thinPoolSizeBytes > 0 ? current.thinPoolSizeBytes / record.sizeBytes : this.#options.defaultSnapshotFactor;
    const sizing = thinPoolSizing(newSizeBytes, factor, group.extentSizeBytes);
    const lvsNow = await this.#runner.run(node, lvm.lvs(current.vg));
    const pool = lvsNow.find((candidate) => candidate.name === current.thinPool);
    const thin = lvsNow.find((candidate) => candidate.name === current.lv);
    if (!pool || !thin) throw this.#refuse(node, ['lvs', current.vg], `brick ${record.id}: thin pool or LV missing`);
    await this.#extendPool(node, current.vg, current.thinPool, pool, sizing);
    if (thin.sizeBytes < newSizeBytes) await this.#runner.run(node, lvm.lvextend(current.vg, current.lv, newSizeBytes));
    await this.ensureMounted(node, record);
    await this.#runner.run(node, fs.xfsGrowfs(record.mount!.target));
    return { ...record, sizeBytes: newSizeBytes, lvm: { ...current, ...poolSizesOf(pool, sizing) } };
  }

  /**
   * Pool metadata, then the pool, each only if smaller than the rule wants (lvextend refuses a smaller size, and
   * a resumed extension skips what an interrupted one did). Metadata first: a pool grown past what its metadata
   * can map could run out of metadata space. The thin LV follows, by the caller.
   */
  async #extendPool(node: NodeTarget, vg: string, thinPool: string, pool: LogicalVolume, sizing: ThinPoolSizing): Promise<void> {
    if ((pool.metadataSizeBytes ?? 0) < sizing.poolMetadataSizeBytes) await this.#runner.run(node, lvm.lvextendPoolMetadata(vg, thinPool, sizing.poolMetadataSizeBytes));
    if (pool.sizeBytes < sizing.thinPoolSizeBytes) await this.#runner.run(node, lvm.lvextend(vg, thinPool, sizing.thinPoolSizeBytes));
  }

  #names(vg: string, id: string) {
    const lv = `brick_${id}`;
    return { thinPool: `tp_${id}`, lv, device: `/dev/${vg}/${lv}`, mountPoint: joinPath(this.#options.mountRoot, vg, lv) };
  }

  #lvmOf(record: BrickRecord): NonNullable<BrickRecord['lvm']> {
    if (record.backend !== 'LVM' || !record.lvm) throw new Error(`brick ${record.id} is not an LVM brick`);
    return record.lvm;
  }

  #refuse(node: NodeTarget, argv: string[], message: string): NodeCommandError {
    return new NodeCommandError({ errorClass: 'permanent', node: node.name, argv, message });
  }
}

/** The pool's sizes for a brick record: what lvs observed, or the rule's if larger (extended just now) or not observed. */
function poolSizesOf(pool: LogicalVolume | undefined, sizing: ThinPoolSizing): { thinPoolSizeBytes: number; poolMetadataSizeBytes: number } {
  return {
    thinPoolSizeBytes: Math.max(pool?.sizeBytes ?? 0, sizing.thinPoolSizeBytes),
    poolMetadataSizeBytes: Math.max(pool?.metadataSizeBytes ?? 0, sizing.poolMetadataSizeBytes),
  };
}
