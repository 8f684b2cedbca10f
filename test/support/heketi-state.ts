import { randomBytes } from 'node:crypto';
import { eventually, notYet } from './eventually.ts';
import { sshCheck, sshRun } from './ssh.ts';

/**
 * The state heketi would have left on the test bed's Gluster nodes: one replica-3 volume `vol_<id>` whose
 * bricks sit at heketi's layout `mounts/vg_<device id>/brick_<brick id>/brick` (under the suite's brick root
 * here: the test bed has no device-mapper, so the bricks are Directory bricks on the nodes' own /bricks
 * rather than thin LVs mounted at /var/lib/heketi; the import warns that the path is not heketi's), each
 * brick root group-owned by the volume's gid with the setgid bit, as heketi left them, and a heketi database
 * export consistent with it in heketi's real format (Go field names outside, API names inside).
 */

const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];
const id = () => randomBytes(16).toString('hex');

export interface HeketiState {
  clusterId: string;
  volumeId: string;
  volumeName: string;
  gid: number;
  /** `host:path`, in Gluster's order. */
  bricks: string[];
  /** heketi db export JSON. */
  db: string;
  remove(): Promise<void>;
}

export async function createHeketiState(options: { nodes: string[]; disks: string[]; brickRoot: string; gid: number; sizeGiB: number }): Promise<HeketiState> {
  const { nodes, disks, brickRoot, gid, sizeGiB } = options;
  const clusterId = id();
  const volumeId = id();
  const volumeName = `vol_${volumeId}`;
  const heketiNodes = nodes.map((address, i) => ({ id: id(), deviceId: id(), brickId: id(), address, disk: disks[i] ?? `/dev/sd${'bcd'[i]}` }));
  const brickPath = (n: (typeof heketiNodes)[number]) => `${brickRoot}/heketi/mounts/vg_${n.deviceId}/brick_${n.brickId}/brick`;
  const bricks = heketiNodes.map((n) => `${n.address}:${brickPath(n)}`);

  // heketi formed the pool before it made volumes; peers probed here are detached again by remove().
  const probed: string[] = [];
  const remove = async () => {
    await sshRun(nodes[0]!, gluster('volume', 'stop', volumeName, 'force'));
    await sshRun(nodes[0]!, gluster('volume', 'delete', volumeName));
    for (const peer of probed) await sshRun(nodes[0]!, gluster('peer', 'detach', peer));
  };
  try {
    const pool = await sshCheck(nodes[0]!, gluster('pool', 'list'));
    for (const peer of nodes.slice(1)) {
      if (new RegExp(`\\s${peer.replaceAll('.', '\\.')}\\s+Connected`).test(pool)) continue;
      await sshCheck(nodes[0]!, gluster('peer', 'probe', peer));
      probed.push(peer);
    }
    await eventually('the pool of the heketi nodes connected', async () => {
      const list = await sshCheck(nodes[0]!, gluster('pool', 'list'));
      return nodes.slice(1).every((peer) => new RegExp(`\\s${peer.replaceAll('.', '\\.')}\\s+Connected`).test(list)) ? true : notYet(list);
    }, 60_000);
    for (const n of heketiNodes) {
      await sshCheck(n.address, ['mkdir', '-p', brickPath(n)]);
      await sshCheck(n.address, ['chown', `root:${gid}`, brickPath(n)]);
      await sshCheck(n.address, ['chmod', '2775', brickPath(n)]);
    }
    await sshCheck(nodes[0]!, gluster('volume', 'create', volumeName, 'replica', '3', ...bricks, 'force'));
    await sshCheck(nodes[0]!, gluster('volume', 'start', volumeName));
  } catch (error) {
    await remove();
    throw error;
  }

  const sizeKiB = sizeGiB * 1024 * 1024;
  const db = {
    clusterentries: {
      [clusterId]: { Info: { id: clusterId, nodes: heketiNodes.map((n) => n.id), volumes: [volumeId], block: true, file: true, blockvolumes: [] } },
    },
    nodeentries: Object.fromEntries(
      heketiNodes.map((n, i) => [
        n.id,
        { State: 'online', Info: { zone: i + 1, hostnames: { manage: [n.address], storage: [n.address] }, cluster: clusterId, id: n.id }, Devices: [n.deviceId] },
      ]),
    ),
    deviceentries: Object.fromEntries(
      heketiNodes.map((n) => [
        n.deviceId,
        {
          State: 'online',
          Info: { name: n.disk, storage: { total: 4 * sizeKiB, free: 3 * sizeKiB, used: sizeKiB }, id: n.deviceId, paths: [n.disk], pv_uuid: `pv-${n.deviceId.slice(0, 8)}` },
          Bricks: [n.brickId],
          NodeId: n.id,
          ExtentSize: 4096,
        },
      ]),
    ),
    brickentries: Object.fromEntries(
      heketiNodes.map((n) => [
        n.brickId,
        {
          Info: { id: n.brickId, path: brickPath(n), device: n.deviceId, node: n.id, volume: volumeId, size: sizeKiB },
          TpSize: sizeKiB,
          PoolMetadataSize: 8192,
          Pending: { Id: '' },
          LvmThinPool: `tp_${n.brickId}`,
          LvmLv: '',
          SubType: 1,
        },
      ]),
    ),
    volumeentries: {
      [volumeId]: {
        Info: {
          size: sizeGiB,
          name: volumeName,
          durability: { type: 'replicate', replicate: { replica: 3 }, disperse: {} },
          gid,
          snapshot: { enable: false, factor: 1 },
          id: volumeId,
          cluster: clusterId,
          mount: { glusterfs: { hosts: nodes, device: `${nodes[0]}:${volumeName}`, options: { 'backup-volfile-servers': nodes.slice(1).join(',') } } },
          blockinfo: {},
        },
        Bricks: heketiNodes.map((n) => n.brickId),
        GlusterVolumeOptions: ['', ''],
        Pending: { Id: '' },
      },
    },
    blockvolumeentries: {},
    dbattributeentries: {
      DB_BRICK_HAS_SUBTYPE_FIELD: { Key: 'DB_BRICK_HAS_SUBTYPE_FIELD', Value: 'yes' },
      DB_HAS_PENDING_OPS_BUCKET: { Key: 'DB_HAS_PENDING_OPS_BUCKET', Value: 'yes' },
    },
    pendingoperations: {},
  };
  return { clusterId, volumeId, volumeName, gid, bricks, db: JSON.stringify(db, null, 2), remove };
}

/** `sha256  relative/path` of every file under each brick, .glusterfs (Gluster's own bookkeeping) left out. */
export async function brickContents(bricks: string[]): Promise<Map<string, string>> {
  const contents = new Map<string, string>();
  for (const brick of bricks) {
    const colon = brick.lastIndexOf(':');
    const host = brick.slice(0, colon);
    const path = brick.slice(colon + 1);
    const listing = await sshCheck(host, ['sh', '-c', 'cd "$1" && find . -path ./.glusterfs -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum', 'sh', path]);
    contents.set(brick, listing);
  }
  return contents;
}
