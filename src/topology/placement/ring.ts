import type { TopologyDatabase, TopologyDevice, TopologyNode } from '../model.ts';

/**
 * heketi's device ring (apps/glusterfs/allocator_simple_ring.go): the devices of a cluster listed so that
 * consecutive entries alternate zones, then nodes within a zone, then devices within a node. Walking it from a
 * random offset spreads bricks over zones and nodes without sorting by free space on every placement.
 *
 * The ring depends only on nodes and devices, so it is cached per (nodes array, devices array): placing volume
 * after volume (which replaces only `volumes`) reuses it.
 */

export interface RingEntry {
  readonly device: TopologyDevice;
  readonly node: TopologyNode;
  /** Position of the device in db.devices (the arrays the ring is cached for). */
  readonly position: number;
  /** Dense indexes, for cheap "already used in this set" checks. */
  readonly nodeIndex: number;
  readonly zoneIndex: number;
}

export interface Ring {
  readonly entries: readonly RingEntry[];
  readonly nodeCount: number;
  readonly zoneCount: number;
  /** Zone name per zoneIndex, node per nodeIndex. */
  readonly zones: readonly string[];
  readonly nodes: readonly TopologyNode[];
}

const rings = new WeakMap<readonly TopologyNode[], WeakMap<readonly TopologyDevice[], Map<string, Ring>>>();

export function clusterRing(db: TopologyDatabase, cluster: string): Ring {
  let byDevices = rings.get(db.nodes);
  if (!byDevices) rings.set(db.nodes, (byDevices = new WeakMap()));
  let byCluster = byDevices.get(db.devices);
  if (!byCluster) byDevices.set(db.devices, (byCluster = new Map()));
  let ring = byCluster.get(cluster);
  if (!ring) byCluster.set(cluster, (ring = buildRing(db, cluster)));
  return ring;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function buildRing(db: TopologyDatabase, cluster: string): Ring {
  const nodes = db.nodes.filter((n) => n.cluster === cluster).sort((a, b) => compare(a.name, b.name));
  const devicesByNode = new Map<string, TopologyDevice[]>(nodes.map((n) => [n.name, []]));
  for (const device of db.devices) devicesByNode.get(device.node)?.push(device);
  for (const list of devicesByNode.values()) list.sort((a, b) => compare(a.name, b.name));

  const positions = new Map(db.devices.map((d, i) => [d.id, i]));
  const zones = [...new Set(nodes.map((n) => n.zone))].sort(compare);
  const zoneIndex = new Map(zones.map((z, i) => [z, i]));
  const nodeIndex = new Map(nodes.map((n, i) => [n.name, i]));
  // Per zone, a queue of nodes; per node, a queue of devices. Round-robin zones, taking from each zone its next
  // node (round-robin) and from that node its next device, until every device is in the ring.
  const zoneNodes = zones.map((z) => nodes.filter((n) => n.zone === z && (devicesByNode.get(n.name)?.length ?? 0) > 0));
  const zoneCursor = zones.map(() => 0);
  const deviceCursor = new Map(nodes.map((n) => [n.name, 0]));
  const entries: RingEntry[] = [];
  let remaining = db.devices.filter((d) => nodeIndex.has(d.node)).length;
  while (remaining > 0) {
    zones.forEach((zone, z) => {
      const candidates = zoneNodes[z] ?? [];
      for (let tries = 0; tries < candidates.length; tries++) {
        const node = candidates[(zoneCursor[z] ?? 0) % candidates.length]!;
        zoneCursor[z] = (zoneCursor[z] ?? 0) + 1;
        const devices = devicesByNode.get(node.name) ?? [];
        const cursor = deviceCursor.get(node.name) ?? 0;
        if (cursor >= devices.length) continue;
        deviceCursor.set(node.name, cursor + 1);
        entries.push({ device: devices[cursor]!, node, position: positions.get(devices[cursor]!.id)!, nodeIndex: nodeIndex.get(node.name)!, zoneIndex: zoneIndex.get(zone)! });
        remaining--;
        return;
      }
    });
  }
  return { entries, nodeCount: nodes.length, zoneCount: zones.length, zones, nodes };
}
