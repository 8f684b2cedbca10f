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
import { brickCountOnNode } from '../topology/evacuation.ts';

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

/**
 * A spec change the database does not take: brick names and paths derive from the value in use (a brick is
 * `<storageAddress>:<path>`, its path from brickBackend and directoryRoot), so taking the new value while bricks
 * exist would misname them and orphan their data. The CRD refuses such a change once status.bricks says bricks
 * exist; this covers bricks placed since that status was written. The reconcilers report it (condition and
 * Event); the database, and so the bricks and the trusted pool, keep the old value.
 */
export interface HeldChange {
  /** The spec field, as the user writes it (spec.storageAddress). */
  field: string;
  from: string;
  to: string;
  bricks: number;
}

export function describeHeldChange(change: HeldChange, holder: string): string {
  return (
    `${change.field} cannot change from ${change.from} to ${change.to} while ${change.bricks} brick(s) ${holder} depend on it ` +
    `(brick names derive from it); the operator keeps ${change.from}. Move the bricks away first (delete their GlusterVolumes, ` +
    `or evacuate the nodes with spec.state Failed), or set ${change.field} back to ${change.from}`
  );
}

export function heldNodeChanges(db: TopologyDatabase, node: GlusterNode): HeldChange[] {
  const name = topologyName(node.metadata.namespace, node.metadata.name);
  const existing = findNode(db, name);
  if (!existing || existing.storage === node.spec.storageAddress) return [];
  const bricks = brickCountOnNode(db, name);
  return bricks > 0 ? [{ field: 'spec.storageAddress', from: existing.storage, to: node.spec.storageAddress, bricks }] : [];
}

export function heldClusterChanges(db: TopologyDatabase, cluster: GlusterCluster): HeldChange[] {
  const wanted = clusterRecord(cluster);
  const existing = findCluster(db, wanted.name);
  if (!existing) return [];
  const bricks = brickCountInCluster(db, wanted.name);
  if (bricks === 0) return [];
  const show = (value: string | undefined) => value ?? '(unset)';
  return [
    { field: 'spec.brickBackend', from: existing.brickBackend, to: wanted.brickBackend },
    { field: 'spec.directoryRoot', from: show(existing.directoryRoot), to: show(wanted.directoryRoot) },
  ]
    .filter((change) => change.from !== change.to)
    .map((change) => ({ ...change, bricks }));
}

/** Bricks of the cluster's volumes, with replaced ones whose remains are still on their node. */
export function brickCountInCluster(db: TopologyDatabase, cluster: string): number {
  return db.volumes.filter((volume) => volume.cluster === cluster).reduce((sum, volume) => sum + volume.bricks.length + (volume.retiredBricks?.length ?? 0), 0);
}

export function syncCluster(db: TopologyDatabase, cluster: GlusterCluster): TopologyDatabase {
  const spec = clusterRecord(cluster);
  const existing = findCluster(db, spec.name);
  // Held changes keep the recorded value (see HeldChange); the rest of the spec is taken.
  const wanted: TopologyCluster =
    existing && heldClusterChanges(db, cluster).length > 0
      ? { ...withoutDirectoryRoot(spec), brickBackend: existing.brickBackend, ...(existing.directoryRoot ? { directoryRoot: existing.directoryRoot } : {}) }
      : spec;
  if (existing && sameJson(existing, wanted)) return db;
  if (!existing) return addCluster(db, wanted);
  return { ...db, generation: db.generation + 1, clusters: db.clusters.map((c) => (c.name === wanted.name ? wanted : c)) };
}

function withoutDirectoryRoot(record: TopologyCluster): TopologyCluster {
  const { directoryRoot: _, ...rest } = record;
  return rest;
}

export function syncNode(db: TopologyDatabase, node: GlusterNode): TopologyDatabase {
  const existing = findNode(db, topologyName(node.metadata.namespace, node.metadata.name));
  const spec = nodeRecord(node);
  const wanted = existing && heldNodeChanges(db, node).length > 0 ? { ...spec, storage: existing.storage } : spec;
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
