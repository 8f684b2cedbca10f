import type { HeketiBrickEntry, HeketiDb, HeketiDeviceEntry, HeketiNodeEntry, HeketiVolumeEntry } from './db-schema.ts';

/**
 * What makes a heketi database unfit to import, before anything is converted: unfinished operations, block
 * volumes, and references that do not hold (an entry naming one that does not exist, or one that does not name
 * it back). Each problem names the entry by kind and id. Pure; every problem at once.
 */

export const nodeLabel = (id: string, node: HeketiNodeEntry | undefined) => `node ${id}${node ? ` (${node.Info.hostnames.manage[0]})` : ''}`;
export const deviceLabel = (id: string, device: HeketiDeviceEntry | undefined) => `device ${id}${device ? ` (${device.Info.name})` : ''}`;
export const volumeLabel = (id: string, volume: HeketiVolumeEntry | undefined) => `volume ${id}${volume ? ` (${volume.Info.name || `vol_${id}`})` : ''}`;
export const brickLabel = (id: string) => `brick ${id}`;

/** heketi's PendingOperationType, as `heketi-cli server operations info` names them. */
const OPERATION_NAMES = ['unknown', 'create-volume', 'delete-volume', 'expand-volume', 'create-block-volume', 'delete-block-volume', 'remove-device', 'clone-volume', 'evict-brick'];

const PENDING_ADVICE = 'finish or clean it up in heketi (heketi-cli server operations cleanup), then export again';

/** `missing` when `id` is not a key of `map`: "<label>: <what> <id> is not in <map>". */
function reference<T>(problems: string[], label: string, what: string, id: string, map: Record<string, T>, mapName: string): T | undefined {
  const entry = map[id];
  if (entry === undefined) problems.push(`${label}: ${what} ${id || '(empty)'} is not in ${mapName}`);
  return entry;
}

function keysMatchIds(db: HeketiDb, problems: string[]): void {
  const maps: [string, Record<string, { Info: { id: string } }>][] = [
    ['cluster', db.clusterentries],
    ['node', db.nodeentries],
    ['device', db.deviceentries],
    ['brick', db.brickentries],
    ['volume', db.volumeentries],
  ];
  for (const [kind, map] of maps) {
    for (const [key, entry] of Object.entries(map)) {
      if (entry.Info.id !== key) problems.push(`${kind} ${key}: Info.id is ${entry.Info.id}, not the key it is stored under`);
    }
  }
}

function pendingAndBlock(db: HeketiDb, problems: string[]): void {
  for (const [id, op] of Object.entries(db.pendingoperations)) {
    const type = OPERATION_NAMES[op.Type] ?? `type ${op.Type}`;
    const touching = op.Actions.map((action) => action.Id).filter(Boolean);
    problems.push(
      `pending operation ${id} (${type}${op.Status ? `, ${op.Status}` : ''}${touching.length ? `, on ${touching.join(', ')}` : ''}): heketi did not finish it; ${PENDING_ADVICE}`,
    );
  }
  for (const [id, volume] of Object.entries(db.volumeentries)) {
    if (volume.Pending) problems.push(`${volumeLabel(id, volume)}: part of pending operation ${volume.Pending}; ${PENDING_ADVICE}`);
    if (volume.Info.block) problems.push(`${volumeLabel(id, volume)}: hosts gluster-block volumes (Info.block), which this operator does not serve`);
  }
  for (const [id, brick] of Object.entries(db.brickentries)) {
    if (brick.Pending) problems.push(`${brickLabel(id)}: part of pending operation ${brick.Pending}; ${PENDING_ADVICE}`);
  }
  for (const [id, block] of Object.entries(db.blockvolumeentries)) {
    const name = block.Info.name ? ` (${block.Info.name})` : '';
    problems.push(`block volume ${id}${name}: gluster-block volumes cannot be imported; move their data off and delete them in heketi first`);
  }
}

function clusterLinks(db: HeketiDb, problems: string[]): void {
  for (const [id, cluster] of Object.entries(db.clusterentries)) {
    const label = `cluster ${id}`;
    for (const nodeId of cluster.Info.nodes) {
      const node = reference(problems, label, 'node', nodeId, db.nodeentries, 'nodeentries');
      if (node && node.Info.cluster !== id) problems.push(`${label}: lists ${nodeLabel(nodeId, node)}, which says it is in cluster ${node.Info.cluster}`);
    }
    for (const volumeId of cluster.Info.volumes) {
      const volume = reference(problems, label, 'volume', volumeId, db.volumeentries, 'volumeentries');
      if (volume && volume.Info.cluster !== id) problems.push(`${label}: lists ${volumeLabel(volumeId, volume)}, which says it is in cluster ${volume.Info.cluster}`);
    }
  }
}

function nodeAndDeviceLinks(db: HeketiDb, problems: string[]): void {
  for (const [id, node] of Object.entries(db.nodeentries)) {
    const label = nodeLabel(id, node);
    const cluster = reference(problems, label, 'cluster', node.Info.cluster, db.clusterentries, 'clusterentries');
    if (cluster && !cluster.Info.nodes.includes(id)) problems.push(`${label}: cluster ${node.Info.cluster} does not list it`);
    for (const deviceId of node.Devices) {
      const device = reference(problems, label, 'device', deviceId, db.deviceentries, 'deviceentries');
      if (device && device.NodeId !== id) problems.push(`${label}: lists ${deviceLabel(deviceId, device)}, which says it is on node ${device.NodeId}`);
    }
  }
  for (const [id, device] of Object.entries(db.deviceentries)) {
    const label = deviceLabel(id, device);
    const node = reference(problems, label, 'node', device.NodeId, db.nodeentries, 'nodeentries');
    if (node && !node.Devices.includes(id)) problems.push(`${label}: ${nodeLabel(device.NodeId, node)} does not list it`);
    for (const brickId of device.Bricks) {
      const brick = reference(problems, label, 'brick', brickId, db.brickentries, 'brickentries');
      if (brick && brick.Info.device !== id) problems.push(`${label}: lists ${brickLabel(brickId)}, which says it is on device ${brick.Info.device}`);
    }
  }
}

function brickLinks(db: HeketiDb, problems: string[]): void {
  for (const [id, brick] of Object.entries(db.brickentries)) {
    const label = brickLabel(id);
    if (!brick.Info.path) problems.push(`${label}: has no path (heketi never finished creating it)`);
    const device = reference(problems, label, 'device', brick.Info.device, db.deviceentries, 'deviceentries');
    reference(problems, label, 'node', brick.Info.node, db.nodeentries, 'nodeentries');
    const volume = reference(problems, label, 'volume', brick.Info.volume, db.volumeentries, 'volumeentries');
    if (device && device.NodeId !== brick.Info.node) problems.push(`${label}: is on node ${brick.Info.node}, but its ${deviceLabel(brick.Info.device, device)} is on node ${device.NodeId}`);
    if (device && !device.Bricks.includes(id)) problems.push(`${label}: ${deviceLabel(brick.Info.device, device)} does not list it`);
    if (volume && !volume.Bricks.includes(id)) problems.push(`${label}: ${volumeLabel(brick.Info.volume, volume)} does not list it`);
  }
}

function volumeLinks(db: HeketiDb, problems: string[]): void {
  const names = new Map<string, string>();
  for (const [id, volume] of Object.entries(db.volumeentries)) {
    const label = volumeLabel(id, volume);
    const cluster = reference(problems, label, 'cluster', volume.Info.cluster, db.clusterentries, 'clusterentries');
    if (cluster && !cluster.Info.volumes.includes(id)) problems.push(`${label}: cluster ${volume.Info.cluster} does not list it`);
    if (volume.Bricks.length === 0) problems.push(`${label}: has no bricks`);
    for (const brickId of volume.Bricks) {
      const brick: HeketiBrickEntry | undefined = reference(problems, label, 'brick', brickId, db.brickentries, 'brickentries');
      if (!brick) continue;
      if (brick.Info.volume !== id) problems.push(`${label}: lists ${brickLabel(brickId)}, which says it belongs to volume ${brick.Info.volume}`);
      const node = db.nodeentries[brick.Info.node];
      if (node && node.Info.cluster !== volume.Info.cluster) {
        problems.push(`${label}: ${brickLabel(brickId)} is on ${nodeLabel(brick.Info.node, node)} of cluster ${node.Info.cluster}, not the volume's cluster ${volume.Info.cluster}`);
      }
    }
    const name = volume.Info.name || `vol_${id}`;
    const other = names.get(name);
    if (other) problems.push(`${label}: the name ${name} is also the name of volume ${other}`);
    else names.set(name, id);
  }
}

/** Every reason the database cannot be imported as it is; empty when it can. */
export function checkHeketiDb(db: HeketiDb): string[] {
  const problems: string[] = [];
  keysMatchIds(db, problems);
  pendingAndBlock(db, problems);
  clusterLinks(db, problems);
  nodeAndDeviceLinks(db, problems);
  brickLinks(db, problems);
  volumeLinks(db, problems);
  if (Object.keys(db.clusterentries).length === 0) problems.push('clusterentries: the database has no cluster');
  return problems;
}
