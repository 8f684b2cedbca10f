import type { GlusterCluster, GlusterNode } from '../api/index.ts';
import {
  addCluster,
  addDevice,
  addNode,
  deviceId,
  findCluster,
  findDevice,
  findNode,
  topologyName,
  type TopologyCluster,
  type TopologyDatabase,
  type TopologyNode,
} from '../topology/model.ts';
import { clusterRecordOf } from '../topology/rebuild/cluster-record.ts';

/**
 * Keeps the topology database's clusters, nodes and devices in line with the custom resources (the spec
 * is the user's word; sizes are what the node reported). Pure: returns the same database object when
 * nothing changed, so a steady-state reconcile commits nothing and writes no backup.
 *
 * A cluster spec value out of the API's bounds (stored before the CRD refused it) never throws here: the
 * record takes the nearest value placement honours, as the start-up rebuild records it (clusterRecordOf), and
 * clusterSpecProblems says what was changed, for that cluster's status and Events.
 */
export function clusterRecord(cluster: GlusterCluster): TopologyCluster {
  return clusterRecordOf(cluster).record;
}

/** What of a cluster's spec the topology record could not take as written, naming each field; empty when all. */
export function clusterSpecProblems(cluster: GlusterCluster): string[] {
  return clusterRecordOf(cluster).problems;
}

export function nodeRecord(node: GlusterNode): TopologyNode {
  return {
    name: topologyName(node.metadata.namespace, node.metadata.name),
    cluster: topologyName(node.metadata.namespace, node.spec.cluster),
    zone: node.spec.zone,
    manage: node.spec.manageAddress,
    storage: node.spec.storageAddress,
    state: node.spec.state,
    ...(node.spec.tags ? { tags: node.spec.tags } : {}),
  };
}

export function syncCluster(db: TopologyDatabase, cluster: GlusterCluster): TopologyDatabase {
  const wanted = clusterRecord(cluster);
  const existing = findCluster(db, wanted.name);
  if (existing && sameJson(existing, wanted)) return db;
  if (!existing) return addCluster(db, wanted);
  return { ...db, generation: db.generation + 1, clusters: db.clusters.map((c) => (c.name === wanted.name ? wanted : c)) };
}

export function syncNode(db: TopologyDatabase, node: GlusterNode): TopologyDatabase {
  const wanted = nodeRecord(node);
  const existing = findNode(db, wanted.name);
  if (existing && sameJson(existing, wanted)) return db;
  if (!existing) return addNode(db, wanted);
  return { ...db, generation: db.generation + 1, nodes: db.nodes.map((n) => (n.name === wanted.name ? wanted : n)) };
}

/** A device the node prepared, with the capacity it reported. Tags and state follow the spec. */
export interface PreparedDeviceReport {
  path: string;
  sizeBytes: number;
  tags?: Record<string, string>;
}

export function syncDevice(db: TopologyDatabase, nodeName: string, report: PreparedDeviceReport): TopologyDatabase {
  const id = deviceId(nodeName, report.path);
  const existing = findDevice(db, id);
  if (!existing) {
    return addDevice(db, { id, node: nodeName, name: report.path, size: report.sizeBytes, state: 'Online', ...(report.tags ? { tags: report.tags } : {}) });
  }
  const updated = { ...existing, size: report.sizeBytes, ...(report.tags ? { tags: report.tags } : {}) };
  if (!report.tags) delete (updated as { tags?: unknown }).tags;
  if (sameJson(existing, updated)) return db;
  return { ...db, generation: db.generation + 1, devices: db.devices.map((d) => (d.id === id ? updated : d)) };
}

/** Deep equality of plain JSON values, ignoring key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
