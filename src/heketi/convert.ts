import {
  GROUP_VERSION,
  glusterClusterSchema,
  glusterNodeSchema,
  type GlusterCluster,
  type GlusterNode,
} from '../api/index.ts';
import { HeketiTopologyError, devicePathOf, nodeLabel, type HeketiTopology } from './topology-file.ts';

/**
 * heketi topology → GlusterCluster and GlusterNode objects for `kubectl apply -f -`. Pure; every object is
 * validated with the API's zod schema, so what is printed is what the apiserver will accept.
 *
 * The rules both imports share (topology.json here, the database in db-convert.ts) live here once: how a
 * GlusterCluster is reached (clusterObject), and how a heketi node becomes a GlusterNode (nodeObject).
 */

/** How the imported GlusterClusters reach their nodes and where their new bricks go. */
export interface ClusterOptions {
  namespace?: string | undefined;
  mode: 'InCluster' | 'External';
  /** Secret with the SSH private key (External mode). */
  sshSecret: string;
  /** GlusterCluster spec.brickBackend; LVM (heketi's) unless the nodes have no device-mapper. */
  brickBackend?: 'LVM' | 'LoopFile' | 'Directory';
  /** spec.directoryRoot, for the LoopFile and Directory backends. */
  directoryRoot?: string;
}

export interface ImportOptions extends ClusterOptions {
  /** Name of the first GlusterCluster; further clusters in the file become NAME-2, NAME-3, ... */
  clusterName: string;
}

export interface ImportResult {
  clusters: GlusterCluster[];
  nodes: GlusterNode[];
  /** Things the user should know that do not stop the import (extra hostnames ignored, ...). */
  warnings: string[];
}

/** DNS-1123 subdomain from a hostname or address: lowercase, other characters become '-', ends alphanumeric. */
export function objectNameFromHost(host: string): string {
  const name = host
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/\.{2,}/g, '.')
    .slice(0, 240)
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return name || 'node';
}

/** `base`, or `base-2`, `base-3`, ... when taken; records the name as taken. */
export function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

/** `spec.devices[0].name: must be ...` for each issue of a failed schema parse. */
export function issueTexts(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string[] {
  return issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
}

export function objectMetadata(name: string, namespace: string | undefined, annotations?: Record<string, string>) {
  return { name, ...(namespace ? { namespace } : {}), ...(annotations ? { annotations } : {}) };
}

/** A GlusterCluster reached as the options say, or the schema's objections. */
export function clusterObject(
  name: string,
  options: ClusterOptions,
  annotations?: Record<string, string>,
): { cluster: GlusterCluster; problems?: undefined } | { cluster?: undefined; problems: string[] } {
  const access =
    options.mode === 'External'
      ? { mode: 'External' as const, external: { sshSecretRef: { name: options.sshSecret } } }
      : { mode: 'InCluster' as const };
  const parsed = glusterClusterSchema.safeParse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterCluster',
    metadata: objectMetadata(name, options.namespace, annotations),
    spec: {
      access,
      ...(options.brickBackend ? { brickBackend: options.brickBackend } : {}),
      ...(options.directoryRoot ? { directoryRoot: options.directoryRoot } : {}),
    },
  });
  return parsed.success ? { cluster: parsed.data } : { problems: issueTexts(parsed.error.issues) };
}

/** One heketi node, whichever file it came from. */
export interface HeketiNodeInput {
  /** How messages name the node, e.g. `cluster 1, node 2 (kube-node2)` or `node 5f2a... (kube-node2)`. */
  label: string;
  cluster: string;
  manage: readonly string[];
  storage: readonly string[];
  zone?: number | string | undefined;
  tags?: Record<string, string> | undefined;
  devices: { name: string; destroyData: boolean; tags?: Record<string, string> | undefined }[];
  state?: 'Online' | 'Offline';
  annotations?: Record<string, string>;
}

/**
 * A heketi node as a GlusterNode: named after its first manage hostname (unique among `takenNames`), the first
 * manage and storage addresses (more are warned about), zone as a string (1 when heketi had none), tags and
 * devices kept. Problems and warnings name the node by its label.
 */
export function nodeObject(
  input: HeketiNodeInput,
  namespace: string | undefined,
  takenNames: Set<string>,
  report: { problems: string[]; warnings: string[] },
): GlusterNode | undefined {
  const manage = input.manage[0]!;
  if (input.manage.length > 1) report.warnings.push(`${input.label}: using the first of ${input.manage.length} manage hostnames`);
  if (input.storage.length > 1) report.warnings.push(`${input.label}: using the first of ${input.storage.length} storage addresses`);
  const name = uniqueName(objectNameFromHost(manage), takenNames);
  const node = glusterNodeSchema.safeParse({
    apiVersion: GROUP_VERSION,
    kind: 'GlusterNode',
    metadata: objectMetadata(name, namespace, input.annotations),
    spec: {
      cluster: input.cluster,
      manageAddress: manage,
      storageAddress: input.storage[0],
      zone: input.zone === undefined ? '1' : String(input.zone),
      devices: input.devices.map((device) => ({
        name: device.name,
        destroyData: device.destroyData,
        ...(device.tags ? { tags: device.tags } : {}),
      })),
      ...(input.tags ? { tags: input.tags } : {}),
      state: input.state ?? 'Online',
    },
  });
  if (!node.success) {
    for (const text of issueTexts(node.error.issues)) report.problems.push(`${input.label}: ${text}`);
    return undefined;
  }
  return node.data;
}

export function convertHeketiTopology(topology: HeketiTopology, options: ImportOptions): ImportResult {
  const report = { problems: [] as string[], warnings: [] as string[] };
  const clusters: GlusterCluster[] = [];
  const nodes: GlusterNode[] = [];
  const nodeNames = new Set<string>();

  topology.clusters.forEach((heketiCluster, c) => {
    const clusterName = c === 0 ? options.clusterName : `${options.clusterName}-${c + 1}`;
    const cluster = clusterObject(clusterName, options);
    if (!cluster.cluster) {
      report.problems.push(`cluster ${c + 1} (${clusterName}): ${cluster.problems.join('; ')}`);
      return;
    }
    clusters.push(cluster.cluster);
    if (heketiCluster.nodes.length === 0) report.warnings.push(`cluster ${c + 1} (${clusterName}) has no nodes`);

    heketiCluster.nodes.forEach((entry, n) => {
      const { hostnames, zone, tags } = entry.node;
      const node = nodeObject(
        {
          label: nodeLabel(c, n, hostnames.manage[0]),
          cluster: clusterName,
          manage: hostnames.manage,
          storage: hostnames.storage,
          zone,
          tags,
          devices: entry.devices.map((device) => ({
            name: devicePathOf(device),
            destroyData: typeof device === 'string' ? false : (device.destroydata ?? false),
            ...(typeof device !== 'string' && device.tags ? { tags: device.tags } : {}),
          })),
        },
        options.namespace,
        nodeNames,
        report,
      );
      if (node) nodes.push(node);
    });
  });
  if (report.problems.length > 0) throw new HeketiTopologyError(report.problems);
  return { clusters, nodes, warnings: report.warnings };
}
