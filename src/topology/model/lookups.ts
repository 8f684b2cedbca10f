import { TopologyError, type TopologyCluster, type TopologyDatabase, type TopologyDevice, type TopologyNode, type TopologyVolume } from './schema.ts';

// Lookups. Indexes are cached per array (arrays are never mutated, updates replace them), so lookups are O(1)
// after the first one and an update that leaves `nodes` alone keeps the node index.

const nodeIndexes = new WeakMap<readonly TopologyNode[], Map<string, TopologyNode>>();
const deviceIndexes = new WeakMap<readonly TopologyDevice[], Map<string, TopologyDevice>>();

function indexBy<T>(cache: WeakMap<readonly T[], Map<string, T>>, items: readonly T[], key: (item: T) => string): Map<string, T> {
  let index = cache.get(items);
  if (!index) {
    index = new Map(items.map((item) => [key(item), item]));
    cache.set(items, index);
  }
  return index;
}

export function findCluster(db: TopologyDatabase, name: string): TopologyCluster | undefined {
  return db.clusters.find((c) => c.name === name);
}

export function findNode(db: TopologyDatabase, name: string): TopologyNode | undefined {
  return indexBy(nodeIndexes, db.nodes, (n) => n.name).get(name);
}

export function findDevice(db: TopologyDatabase, id: string): TopologyDevice | undefined {
  return indexBy(deviceIndexes, db.devices, (d) => d.id).get(id);
}

/**
 * Volume by name. The name → position index is shared along a line of appends (addVolume extends it instead of
 * rebuilding it), so each hit is verified against this database's array; a miss in the index is certain
 * because every name ever appended to an ancestor is in it, and a failed verification falls back to a scan.
 */
export function findVolume(db: TopologyDatabase, name: string): TopologyVolume | undefined {
  const position = volumeIndex(db.volumes).get(name);
  if (position === undefined) return undefined;
  const candidate = db.volumes[position];
  if (candidate?.name === name) return candidate;
  for (const volume of db.volumes) if (volume.name === name) return volume;
  return undefined;
}

const volumeIndexes = new WeakMap<readonly TopologyVolume[], Map<string, number>>();

function volumeIndex(volumes: readonly TopologyVolume[]): Map<string, number> {
  let index = volumeIndexes.get(volumes);
  if (!index) {
    index = new Map(volumes.map((v, i) => [v.name, i]));
    volumeIndexes.set(volumes, index);
  }
  return index;
}

export function appendVolume(volumes: readonly TopologyVolume[], volume: TopologyVolume): TopologyVolume[] {
  const result = volumes.concat([volume]);
  const index = volumeIndexes.get(volumes);
  if (index) {
    index.set(volume.name, volumes.length);
    volumeIndexes.set(result, index);
  }
  return result;
}

/** Position of each device in db.devices, cached per devices array. */
const devicePositions = new WeakMap<readonly TopologyDevice[], Map<string, number>>();

export function devicePosition(devices: readonly TopologyDevice[], id: string): number | undefined {
  let index = devicePositions.get(devices);
  if (!index) {
    index = new Map(devices.map((d, i) => [d.id, i]));
    devicePositions.set(devices, index);
  }
  return index.get(id);
}

export function requireNode(db: TopologyDatabase, name: string): TopologyNode {
  const node = findNode(db, name);
  if (!node) throw new TopologyError(`node ${name} is not in the topology`);
  return node;
}

export function requireDevice(db: TopologyDatabase, id: string): TopologyDevice {
  const device = findDevice(db, id);
  if (!device) throw new TopologyError(`device ${id} is not in the topology`);
  return device;
}
