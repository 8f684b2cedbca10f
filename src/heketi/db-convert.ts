import {
  GROUP_VERSION,
  MAX_VOLUME_SIZE,
  OPTIONS_MAX_ENTRIES,
  glusterVolumeNameProblem,
  glusterVolumeSchema,
  type Durability,
  type GlusterCluster,
  type GlusterNode,
  type GlusterVolume,
} from '../api/index.ts';
import {
  HEKETI_BRICKS_ANNOTATION,
  HEKETI_CLUSTER_ID_ANNOTATION,
  HEKETI_DEVICE_IDS_ANNOTATION,
  HEKETI_NODE_ID_ANNOTATION,
  HEKETI_VOLUME_ID_ANNOTATION,
} from './annotations.ts';
import { clusterObject, issueTexts, nodeObject, objectMetadata, objectNameFromHost, uniqueName, type ClusterOptions } from './convert.ts';
import { brickLabel, checkHeketiDb, deviceLabel, nodeLabel, volumeLabel } from './db-check.ts';
import { BRICK_SUBTYPE_ARBITER, parseHeketiDb, type HeketiBrickEntry, type HeketiDb, type HeketiNodeEntry, type HeketiVolumeEntry } from './db-schema.ts';
import { volumeOptionProblem } from '../gluster/volume-option-policy.ts';
import { HeketiImportError } from './problems.ts';

/**
 * heketi's database → GlusterCluster, GlusterNode and GlusterVolume objects that take heketi's volumes over in
 * place. Pure. Every volume is `adoptExisting: true` with heketi's Gluster volume name and `reclaimPolicy:
 * Retain`: the operator takes it over only once Gluster shows the durability asked for on the cluster's nodes,
 * and never creates, formats, mounts or moves an adopted volume's bricks. heketi's ids are kept in annotations
 * (annotations.ts). All or nothing: any problem throws HeketiImportError listing every one.
 */

export interface DbImportOptions extends ClusterOptions {
  /** Name of the GlusterCluster when the database has exactly one cluster; else `heketi-<first 8 of its id>`. */
  clusterName?: string | undefined;
}

export interface DbImportResult {
  clusters: GlusterCluster[];
  nodes: GlusterNode[];
  volumes: GlusterVolume[];
  warnings: string[];
}

/** heketi's own brick layout (pkg/paths): where its bricks are mounted. */
export const heketiBrickPath = (deviceId: string, brickId: string) => `/var/lib/heketi/mounts/vg_${deviceId}/brick_${brickId}/brick`;

/** The volume heketi keeps its own database on (gk-deploy's setup-openshift-heketi-storage). */
const HEKETI_DB_VOLUME = 'heketidbstorage';

interface Report {
  problems: string[];
  warnings: string[];
}

const byId = <T>(map: Record<string, T>): [string, T][] => Object.entries(map).sort(([a], [b]) => a.localeCompare(b));

/** `10485760` KiB → `10Gi`: the largest binary unit that is exact. */
export function kibQuantity(kib: number): string {
  const units = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let value = kib;
  let unit = 0;
  while (unit < units.length - 1 && value !== 0 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  return `${value}${units[unit]}`;
}

/**
 * heketi's GlusterVolumeOptions, "key value" strings, as a map. heketi keeps empty strings where its
 * pre- and post-request option lists are empty; a later key wins, as in heketi's own reading of them.
 */
export function volumeOptionsOf(volume: HeketiVolumeEntry, label: string, report: Report): Record<string, string> {
  const options: Record<string, string> = {};
  for (const raw of volume.GlusterVolumeOptions ?? volume.Info.glustervolumeoptions ?? []) {
    const text = raw.trim();
    if (!text) continue;
    const match = /^(\S+)\s+(.*)$/s.exec(text);
    if (!match) {
      report.warnings.push(`${label}: option "${text}" has no value; left out`);
      continue;
    }
    const [, key, value] = match as unknown as [string, string, string];
    options[key] = value;
  }
  return options;
}

/**
 * The options a GlusterVolume's spec takes of heketi's: those the volume option policy allows, with values it
 * takes. The others (heketi's own user.heketi.*, security or layout settings such as auth.allow or
 * features.shard) are left out with a warning naming them: they stay on the Gluster volume as they are, since
 * adoption never changes options and the operator resets only options it set itself.
 */
export function specOptionsOf(options: Readonly<Record<string, string>>, label: string, report: Report): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(options)) {
    const problem = volumeOptionProblem(key, value);
    if (problem === undefined) kept[key] = value;
    else report.warnings.push(`${label}: option ${problem}; left out of the GlusterVolume, and left as it is on the Gluster volume`);
  }
  if (Object.keys(kept).length > OPTIONS_MAX_ENTRIES) {
    report.problems.push(`${label}: ${Object.keys(kept).length} options, more than a GlusterVolume takes (${OPTIONS_MAX_ENTRIES})`);
  }
  return kept;
}

const isTrue = (value: string | undefined) => value !== undefined && /^(1|t|true|on|yes)$/i.test(value.trim());

/**
 * heketi's durability as the API's, checked against the bricks heketi recorded: their count must be whole
 * sets, and an arbiter volume (an arbiter brick, SubType 2, or heketi's user.heketi.arbiter option) must be
 * replica 3 with one arbiter brick per set.
 */
export function durabilityOf(
  volume: HeketiVolumeEntry,
  bricks: HeketiBrickEntry[],
  options: Record<string, string>,
  label: string,
  report: Report,
): Durability | undefined {
  const count = volume.Bricks.length;
  const arbiterBricks = bricks.filter((brick) => brick.SubType === BRICK_SUBTYPE_ARBITER).length;
  const { type, replicate, disperse } = volume.Info.durability;
  const fits = (setSize: number, what: string) => {
    if (count === 0) return false; // checkHeketiDb says the volume has no bricks
    if (count % setSize === 0) return true;
    report.problems.push(`${label}: ${count === 1 ? '1 brick does' : `${count} bricks do`} not fit ${what} (a multiple of ${setSize})`);
    return false;
  };
  if (type === 'replicate') {
    const replica = replicate?.replica ?? 0;
    const arbiter = arbiterBricks > 0 || isTrue(options['user.heketi.arbiter']);
    if (replica < 1 || replica > 16) {
      report.problems.push(`${label}: durability.replicate.replica is ${replica}; a GlusterVolume takes 2 to 16 (or 1, imported as None)`);
      return undefined;
    }
    if (arbiter && replica !== 3) {
      report.problems.push(`${label}: an arbiter volume must be replica 3, this one is replica ${replica}`);
      return undefined;
    }
    if (!fits(replica, `replicate ${replica}${arbiter ? ' arbiter' : ''}`)) return undefined;
    if (arbiterBricks > 0 && arbiterBricks !== count / 3) {
      report.problems.push(`${label}: ${arbiterBricks} arbiter bricks (SubType 2) for ${count / 3} replica sets; expected one per set`);
      return undefined;
    }
    if (replica === 1) {
      report.warnings.push(`${label}: replica 1 is plain distribute in Gluster; imported as durability None`);
      return { type: 'None' };
    }
    return { type: 'Replicate', replicate: { replica, arbiter } };
  }
  if (type === 'disperse') {
    const data = disperse?.data ?? 0;
    const redundancy = disperse?.redundancy ?? 0;
    if (data < 2 || data > 64 || redundancy < 1 || redundancy > 32 || redundancy >= data) {
      report.problems.push(`${label}: disperse ${data}+${redundancy} is not one a GlusterVolume takes (data 2 to 64, redundancy 1 to 32 and below data)`);
      return undefined;
    }
    return fits(data + redundancy, `disperse ${data}+${redundancy}`) ? { type: 'Disperse', disperse: { data, redundancy } } : undefined;
  }
  return fits(1, 'distribute') ? { type: 'None' } : undefined;
}

function clusterNames(db: HeketiDb, options: DbImportOptions, report: Report): Map<string, string> {
  const ids = byId(db.clusterentries).map(([id]) => id);
  const names = new Map<string, string>();
  const taken = new Set<string>();
  if (options.clusterName && ids.length > 1) {
    report.problems.push(`--cluster ${options.clusterName} names one GlusterCluster, but the database has ${ids.length} clusters; leave it out to name them heketi-<first 8 of the id>`);
  }
  for (const id of ids) {
    const name = options.clusterName && ids.length === 1 ? options.clusterName : `heketi-${objectNameFromHost(id.slice(0, 8))}`;
    names.set(id, uniqueName(name, taken));
  }
  return names;
}

const STATES = { online: 'Online', offline: 'Offline', failed: 'Offline', '': 'Online' } as const;

function convertNode(
  db: HeketiDb,
  id: string,
  node: HeketiNodeEntry,
  cluster: string,
  options: DbImportOptions,
  takenNames: Set<string>,
  report: Report,
): GlusterNode | undefined {
  const label = nodeLabel(id, node);
  if (node.State === 'failed') report.warnings.push(`${label}: removed in heketi (state failed); imported Offline, delete the GlusterNode if the server is gone`);
  const devices: { name: string; destroyData: boolean; tags?: Record<string, string> }[] = [];
  const deviceIds: Record<string, string> = {};
  for (const deviceId of node.Devices) {
    const device = db.deviceentries[deviceId];
    if (!device) continue;
    if (device.State === 'failed' && device.Bricks.length === 0) {
      report.warnings.push(`${deviceLabel(deviceId, device)}: removed in heketi (state failed) and empty; left out`);
      continue;
    }
    devices.push({ name: device.Info.name, destroyData: false, ...(device.Info.tags ? { tags: device.Info.tags } : {}) });
    deviceIds[device.Info.name] = deviceId;
  }
  return nodeObject(
    {
      label,
      cluster,
      manage: node.Info.hostnames.manage,
      storage: node.Info.hostnames.storage,
      zone: node.Info.zone,
      tags: node.Info.tags ?? undefined,
      devices,
      state: STATES[node.State],
      annotations: { [HEKETI_NODE_ID_ANNOTATION]: id, [HEKETI_DEVICE_IDS_ANNOTATION]: JSON.stringify(deviceIds) },
    },
    options.namespace,
    takenNames,
    report,
  );
}

function brickRecords(db: HeketiDb, volume: HeketiVolumeEntry, nodeNames: Map<string, string>, label: string, report: Report) {
  return volume.Bricks.flatMap((brickId) => {
    const brick = db.brickentries[brickId];
    if (!brick) return [];
    const node = db.nodeentries[brick.Info.node];
    const device = db.deviceentries[brick.Info.device];
    if (brick.Info.path && brick.Info.path !== heketiBrickPath(brick.Info.device, brickId)) {
      report.warnings.push(`${label}: ${brickLabel(brickId)} is at ${brick.Info.path}, not where heketi puts bricks (${heketiBrickPath(brick.Info.device, brickId)})`);
    }
    return [
      {
        id: brickId,
        node: nodeNames.get(brick.Info.node) ?? brick.Info.node,
        brick: `${node?.Info.hostnames.storage[0] ?? '?'}:${brick.Info.path}`,
        device: device?.Info.name ?? brick.Info.device,
        vg: `vg_${brick.Info.device}`,
        thinPool: brick.LvmThinPool || `tp_${brickId}`,
        lv: brick.LvmLv || `brick_${brickId}`,
        size: kibQuantity(brick.Info.size),
        ...(brick.SubType === BRICK_SUBTYPE_ARBITER ? { arbiter: true } : {}),
      },
    ];
  });
}

function convertVolume(
  db: HeketiDb,
  id: string,
  volume: HeketiVolumeEntry,
  cluster: string,
  nodeNames: Map<string, string>,
  options: DbImportOptions,
  takenNames: Set<string>,
  report: Report,
): GlusterVolume | undefined {
  const label = volumeLabel(id, volume);
  const glusterName = volume.Info.name || `vol_${id}`;
  const nameProblem = glusterVolumeNameProblem(glusterName);
  if (nameProblem) report.problems.push(`${label}: Info.name ${glusterName} ${nameProblem}`);
  if (glusterName === HEKETI_DB_VOLUME) report.warnings.push(`${label}: holds heketi's own database; imported like the others (Retain)`);
  const { size, gid, snapshot } = volume.Info;
  if (size < 1 || size * 2 ** 30 > MAX_VOLUME_SIZE.bytes) report.problems.push(`${label}: Info.size is ${size} GiB; a GlusterVolume takes 1 GiB to ${MAX_VOLUME_SIZE.quantity}`);
  if (gid < 0 || gid > 2147483647) report.problems.push(`${label}: Info.gid ${gid} is outside 0 to 2147483647`);
  if (snapshot.enable && (snapshot.factor < 1 || snapshot.factor > 100)) report.problems.push(`${label}: Info.snapshot.factor ${snapshot.factor} is outside 1 to 100`);
  const bricks = volume.Bricks.map((brickId) => db.brickentries[brickId]).filter((brick) => brick !== undefined);
  const volumeOptions = volumeOptionsOf(volume, label, report);
  const durability = durabilityOf(volume, bricks, volumeOptions, label, report);
  const specOptions = specOptionsOf(volumeOptions, label, report);
  if (!durability || nameProblem) return undefined;
  const object = {
    apiVersion: GROUP_VERSION,
    kind: 'GlusterVolume' as const,
    metadata: objectMetadata(uniqueName(objectNameFromHost(glusterName), takenNames), options.namespace, {
      [HEKETI_VOLUME_ID_ANNOTATION]: id,
      [HEKETI_BRICKS_ANNOTATION]: JSON.stringify(brickRecords(db, volume, nodeNames, label, report)),
    }),
    spec: {
      cluster,
      size: `${size}Gi`,
      durability,
      glusterVolumeName: glusterName,
      adoptExisting: true,
      reclaimPolicy: 'Retain' as const,
      ...(Object.keys(specOptions).length > 0 ? { options: specOptions } : {}),
      ...(gid !== 0 ? { gid } : {}),
      ...(snapshot.enable ? { snapshotFactor: snapshot.factor } : {}),
    },
  };
  const parsed = glusterVolumeSchema.safeParse(object);
  if (!parsed.success) {
    for (const text of issueTexts(parsed.error.issues)) report.problems.push(`${label}: ${text}`);
    return undefined;
  }
  // What was built, not what parsed: defaults (snapshotFactor 1, ...) stay the apiserver's to fill in.
  return object as GlusterVolume;
}

export function convertHeketiDb(db: HeketiDb, options: DbImportOptions): DbImportResult {
  const report: Report = { problems: checkHeketiDb(db), warnings: [] };
  const names = clusterNames(db, options, report);
  const clusters: GlusterCluster[] = [];
  const nodes: GlusterNode[] = [];
  const volumes: GlusterVolume[] = [];
  const nodeNames = new Map<string, string>();
  const takenNodeNames = new Set<string>();
  const takenVolumeNames = new Set<string>();

  for (const [id, name] of names) {
    const cluster = clusterObject(name, options, { [HEKETI_CLUSTER_ID_ANNOTATION]: id });
    if (cluster.cluster) clusters.push(cluster.cluster);
    else report.problems.push(`cluster ${id} (${name}): ${cluster.problems.join('; ')}`);
  }
  const heketiNodes = byId(db.nodeentries).sort(([, a], [, b]) => a.Info.hostnames.manage[0]!.localeCompare(b.Info.hostnames.manage[0]!));
  for (const [id, node] of heketiNodes) {
    const cluster = names.get(node.Info.cluster);
    if (cluster === undefined) continue; // reported by checkHeketiDb
    const object = convertNode(db, id, node, cluster, options, takenNodeNames, report);
    if (!object) continue;
    nodes.push(object);
    nodeNames.set(id, object.metadata.name);
  }
  const heketiVolumes = byId(db.volumeentries).sort(([ia, a], [ib, b]) => (a.Info.name || `vol_${ia}`).localeCompare(b.Info.name || `vol_${ib}`));
  for (const [id, volume] of heketiVolumes) {
    const cluster = names.get(volume.Info.cluster);
    if (cluster === undefined) continue;
    const object = convertVolume(db, id, volume, cluster, nodeNames, options, takenVolumeNames, report);
    if (object) volumes.push(object);
  }
  for (const [id, cluster] of byId(db.clusterentries)) {
    if (cluster.Info.nodes.length === 0) report.warnings.push(`cluster ${id} (${names.get(id)}) has no nodes`);
  }
  if (report.problems.length > 0) throw new HeketiImportError(report.problems);
  return { clusters, nodes, volumes, warnings: report.warnings };
}

/** Text of an export in, objects out; throws HeketiImportError naming every problem. */
export function importHeketiDb(text: string, options: DbImportOptions): DbImportResult {
  return convertHeketiDb(parseHeketiDb(text), options);
}
