import { addCluster, addDevice, addNode, emptyDatabase, type TopologyCluster, type TopologyDatabase, type EntityState } from '../model.ts';
import { randomInt, type Random } from '../random.ts';
import { GiB, TiB } from '../sizing.ts';

/**
 * Generated topologies for property tests and the topology benchmark. Deterministic for a given Random.
 */

export interface SyntheticShape {
  cluster?: string;
  nodes: number;
  zones: number;
  devicesPerNode: number | [min: number, max: number];
  /** Device size in bytes, or a range to draw from. */
  deviceSize: number | [min: number, max: number];
  zoneChecking?: TopologyCluster['zoneChecking'];
  minBrickSize?: number;
  maxBrickSize?: number;
  /** Probability that a node is Offline / Failed, and that a device is Offline. */
  offlineNodes?: number;
  offlineDevices?: number;
  /** Tags drawn for devices: each device gets {class: one of these} when given. */
  deviceClasses?: string[];
}

function draw(random: Random, value: number | [number, number]): number {
  if (typeof value === 'number') return value;
  return value[0] + randomInt(random, value[1] - value[0] + 1);
}

export function syntheticTopology(shape: SyntheticShape, random: Random): TopologyDatabase {
  const cluster = shape.cluster ?? 'main';
  let db = addCluster(emptyDatabase(), {
    name: cluster,
    zoneChecking: shape.zoneChecking ?? 'None',
    minBrickSize: shape.minBrickSize ?? 1 * GiB,
    maxBrickSize: shape.maxBrickSize ?? 4 * TiB,
    brickBackend: 'LVM',
  });
  for (let n = 0; n < shape.nodes; n++) {
    const name = `node-${String(n).padStart(4, '0')}`;
    const roll = random();
    const state: EntityState = roll < (shape.offlineNodes ?? 0) / 2 ? 'Failed' : roll < (shape.offlineNodes ?? 0) ? 'Offline' : 'Online';
    db = addNode(db, {
      name,
      cluster,
      zone: String(1 + (n % Math.max(1, shape.zones))),
      manage: `${name}.example.com`,
      storage: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      state,
    });
    const devices = draw(random, shape.devicesPerNode);
    for (let d = 0; d < devices; d++) {
      const device = {
        node: name,
        name: `/dev/sd${String.fromCharCode(98 + d)}`,
        size: draw(random, shape.deviceSize),
        state: (random() < (shape.offlineDevices ?? 0) ? 'Offline' : 'Online') as EntityState,
      };
      const classes = shape.deviceClasses;
      db = addDevice(db, classes && classes.length > 0 ? { ...device, tags: { class: classes[randomInt(random, classes.length)]! } } : device);
    }
  }
  return db;
}
