/**
 * The topology database: what heketi kept in BoltDB (clusters, nodes, devices, volumes, bricks), as one
 * immutable, versioned, zod-validated value. The operator keeps it in memory, backs it up to Secrets
 * (src/topology/backup) and rebuilds it from the live cluster when the backup is lost.
 *
 * Design choices, because part of this value travels in Secrets (1 MiB each) at 10,000+ volumes:
 * - Arrays, not records keyed by name: an immutable update copies an array of references (fast) where
 *   spreading a 10,000-key object takes milliseconds.
 * - Bricks live inside their volume: the owning volume is implicit and removing a volume removes its bricks.
 * - Nothing derivable is stored: a brick's node comes from its device, its LV, thin-pool and path from its
 *   id (overrides only for adopted bricks whose names differ), device free space from the bricks on it.
 * - Optional fields are omitted when empty, so a typical brick is `{"id":…,"device":…,"size":…,"set":…}`.
 */

/**
 * The model in parts: schemas, types, names and the integrity rules the schema checks (model/schema.ts),
 * derived values of bricks and volumes (model/bricks.ts), lookups (model/lookups.ts), space accounting
 * (model/usage.ts) and updates (model/mutations.ts). Import from here.
 */
export {
  BRICK_MOUNT_ROOT,
  brickSchema,
  clusterSchema,
  dataBricksPerSet,
  deviceSchema,
  durabilitySchema,
  emptyDatabase,
  nodeSchema,
  objectNameOf,
  parseDatabase,
  retiredBrickSchema,
  SCHEMA_VERSION,
  setSize,
  topologyDatabaseSchema,
  TopologyError,
  topologyName,
  volumeSchema,
  type EntityState,
  type RetiredBrick,
  type TopologyBrick,
  type TopologyCluster,
  type TopologyDatabase,
  type TopologyDevice,
  type TopologyDurability,
  type TopologyNode,
  type TopologyVolume,
} from './model/schema.ts';
export { brickFootprint, brickGlusterName, brickLvName, brickNode, brickPath, brickThinPoolName, deviceId, volumeCapacity } from './model/bricks.ts';
export { findCluster, findDevice, findNode, findVolume } from './model/lookups.ts';
export { deviceBrickCount, deviceFree, deviceUsed, devicePositionOf, freeByDevicePosition, overcommittedDevices } from './model/usage.ts';
export {
  addCluster,
  addDevice,
  addNode,
  addVolume,
  removeDevice,
  removeNode,
  removeVolume,
  replaceVolume,
  setDeviceState,
  setNodeState,
  type NewDevice,
} from './model/mutations.ts';
