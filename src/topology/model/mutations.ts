import { brickAllocation } from '../sizing.ts';
import { deviceId } from './bricks.ts';
import { appendVolume, findCluster, findDevice, findNode, findVolume, requireDevice, requireNode } from './lookups.ts';
import { clusterSchema, deviceSchema, nodeSchema, TopologyError, volumeProblems, type EntityState, type TopologyCluster, type TopologyDatabase, type TopologyDevice, type TopologyNode, type TopologyVolume } from './schema.ts';
import { carryUsage, deviceBrickCount, deviceFree, shareUsage, withVolumeUsage } from './usage.ts';

// Updates: pure, each returns a new database with generation + 1, throws TopologyError on an inconsistent
// change. The input database is never modified.

function next(db: TopologyDatabase, change: Partial<TopologyDatabase>): TopologyDatabase {
  return { ...db, ...change, generation: db.generation + 1 };
}

/** next() for an update that leaves the volumes alone: the usage index is carried over. */
function nextKeepingUsage(db: TopologyDatabase, change: Partial<TopologyDatabase>): TopologyDatabase {
  const result = next(db, change);
  carryUsage(db, result);
  return result;
}

export function addCluster(db: TopologyDatabase, cluster: TopologyCluster): TopologyDatabase {
  if (findCluster(db, cluster.name)) throw new TopologyError(`cluster ${cluster.name} already exists`);
  if (cluster.minBrickSize > cluster.maxBrickSize) throw new TopologyError(`cluster ${cluster.name}: minBrickSize exceeds maxBrickSize`);
  return nextKeepingUsage(db, { clusters: [...db.clusters, clusterSchema.parse(cluster)] });
}

export function addNode(db: TopologyDatabase, node: TopologyNode): TopologyDatabase {
  if (!findCluster(db, node.cluster)) throw new TopologyError(`node ${node.name}: cluster ${node.cluster} does not exist`);
  if (findNode(db, node.name)) throw new TopologyError(`node ${node.name} already exists`);
  return nextKeepingUsage(db, { nodes: [...db.nodes, nodeSchema.parse(node)] });
}

export function setNodeState(db: TopologyDatabase, name: string, state: EntityState): TopologyDatabase {
  requireNode(db, name);
  return nextKeepingUsage(db, { nodes: db.nodes.map((n) => (n.name === name ? { ...n, state } : n)) });
}

/** Removes a node without devices. */
export function removeNode(db: TopologyDatabase, name: string): TopologyDatabase {
  requireNode(db, name);
  if (db.devices.some((d) => d.node === name)) throw new TopologyError(`node ${name} still has devices; remove them first`);
  return nextKeepingUsage(db, { nodes: db.nodes.filter((n) => n.name !== name) });
}

/** Input of addDevice: id and vg default to deviceId(node, name) and vg_<id>. */
export type NewDevice = Omit<TopologyDevice, 'id' | 'vg'> & { id?: string; vg?: string };

export function addDevice(db: TopologyDatabase, device: NewDevice): TopologyDatabase {
  requireNode(db, device.node);
  const id = device.id ?? deviceId(device.node, device.name);
  if (findDevice(db, id)) throw new TopologyError(`device ${id} already exists`);
  if (db.devices.some((d) => d.node === device.node && d.name === device.name)) {
    throw new TopologyError(`node ${device.node} already has device ${device.name}`);
  }
  const entry = deviceSchema.parse({ ...device, id, vg: device.vg ?? `vg_${id}` });
  return nextKeepingUsage(db, { devices: [...db.devices, entry] });
}

export function setDeviceState(db: TopologyDatabase, id: string, state: EntityState): TopologyDatabase {
  requireDevice(db, id);
  return nextKeepingUsage(db, { devices: db.devices.map((d) => (d.id === id ? { ...d, state } : d)) });
}

/** Removes a device without bricks (also without retired bricks whose remains are still on it). */
export function removeDevice(db: TopologyDatabase, id: string): TopologyDatabase {
  requireDevice(db, id);
  if (deviceBrickCount(db, id) > 0) throw new TopologyError(`device ${id} still has ${deviceBrickCount(db, id)} bricks; move them first`);
  const retired = db.volumes.find((v) => v.retiredBricks?.some((b) => b.device === id));
  if (retired) throw new TopologyError(`device ${id} still holds the remains of a replaced brick of volume ${retired.name}`);
  return nextKeepingUsage(db, { devices: db.devices.filter((d) => d.id !== id) });
}

/**
 * Adds a volume with its bricks. Refuses duplicates, unknown devices, devices outside the volume's cluster
 * and bricks that do not fit: the database never holds an over-committed device because of an update.
 */
export function addVolume(db: TopologyDatabase, volume: TopologyVolume): TopologyDatabase {
  if (findVolume(db, volume.name)) throw new TopologyError(`volume ${volume.name} already exists`);
  const cluster = findCluster(db, volume.cluster);
  if (!cluster) throw new TopologyError(`volume ${volume.name}: cluster ${volume.cluster} does not exist`);
  const problems = volumeProblems(volume);
  if (problems.length > 0) throw new TopologyError(`volume ${volume.name}: ${problems.join('; ')}`);
  const taking = new Map<string, number>();
  for (const brick of volume.bricks) {
    const device = requireDevice(db, brick.device);
    if (requireNode(db, device.node).cluster !== volume.cluster) {
      throw new TopologyError(`volume ${volume.name}: brick ${brick.id} is on device ${device.id} outside cluster ${volume.cluster}`);
    }
    taking.set(device.id, (taking.get(device.id) ?? 0) + brickAllocation(brick.size, volume.snapshotFactor, cluster.brickBackend));
  }
  for (const [id, amount] of taking) {
    if (amount > deviceFree(db, id)) throw new TopologyError(`volume ${volume.name}: device ${id} has ${deviceFree(db, id)} bytes free, needs ${amount}`);
  }
  const result = next(db, { volumes: appendVolume(db.volumes, volume) });
  withVolumeUsage(db, result, volume, +1);
  return result;
}

/** Removes a volume and, with it, its bricks (their space becomes free). */
export function removeVolume(db: TopologyDatabase, name: string): TopologyDatabase {
  const volume = findVolume(db, name);
  if (!volume) throw new TopologyError(`volume ${name} is not in the topology`);
  const result = next(db, { volumes: db.volumes.filter((v) => v !== volume) });
  withVolumeUsage(db, result, volume, -1);
  return result;
}

/** Replaces a volume record (e.g. to set glusterId, or after replacing a brick), re-checking space. */
export function replaceVolume(db: TopologyDatabase, volume: TopologyVolume): TopologyDatabase {
  const checked = addVolume(removeVolume(db, volume.name), volume);
  // Same content as `checked`, but the volume keeps its position and the generation moves by one.
  const result = next(db, { volumes: db.volumes.map((v) => (v.name === volume.name ? volume : v)) });
  shareUsage(checked, result);
  return result;
}
