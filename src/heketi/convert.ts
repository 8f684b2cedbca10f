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
 */

export interface ImportOptions {
  /** Name of the first GlusterCluster; further clusters in the file become NAME-2, NAME-3, ... */
  clusterName: string;
  namespace?: string | undefined;
  mode: 'InCluster' | 'External';
  /** Secret with the SSH private key (External mode). */
  sshSecret: string;
  /** GlusterCluster spec.brickBackend; LVM (heketi's) unless the nodes have no device-mapper. */
  brickBackend?: 'LVM' | 'LoopFile' | 'Directory';
  /** spec.directoryRoot, for the LoopFile and Directory backends. */
  directoryRoot?: string;
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

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

export function convertHeketiTopology(topology: HeketiTopology, options: ImportOptions): ImportResult {
  const warnings: string[] = [];
  const problems: string[] = [];
  const clusters: GlusterCluster[] = [];
  const nodes: GlusterNode[] = [];
  const nodeNames = new Set<string>();
  const metadata = (name: string) => ({ name, ...(options.namespace ? { namespace: options.namespace } : {}) });

  topology.clusters.forEach((heketiCluster, c) => {
    const clusterName = c === 0 ? options.clusterName : `${options.clusterName}-${c + 1}`;
    const access =
      options.mode === 'External'
        ? { mode: 'External' as const, external: { sshSecretRef: { name: options.sshSecret } } }
        : { mode: 'InCluster' as const };
    const cluster = glusterClusterSchema.safeParse({
      apiVersion: GROUP_VERSION,
      kind: 'GlusterCluster',
      metadata: metadata(clusterName),
      spec: {
        access,
        ...(options.brickBackend ? { brickBackend: options.brickBackend } : {}),
        ...(options.directoryRoot ? { directoryRoot: options.directoryRoot } : {}),
      },
    });
    if (!cluster.success) {
      problems.push(`cluster ${c + 1} (${clusterName}): ${cluster.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return;
    }
    clusters.push(cluster.data);
    if (heketiCluster.nodes.length === 0) warnings.push(`cluster ${c + 1} (${clusterName}) has no nodes`);

    heketiCluster.nodes.forEach((entry, n) => {
      const { hostnames, zone, tags } = entry.node;
      const manage = hostnames.manage[0]!;
      const label = nodeLabel(c, n, manage);
      if (hostnames.manage.length > 1) warnings.push(`${label}: using the first of ${hostnames.manage.length} manage hostnames`);
      if (hostnames.storage.length > 1) warnings.push(`${label}: using the first of ${hostnames.storage.length} storage addresses`);
      const name = uniqueName(objectNameFromHost(manage), nodeNames);
      const node = glusterNodeSchema.safeParse({
        apiVersion: GROUP_VERSION,
        kind: 'GlusterNode',
        metadata: metadata(name),
        spec: {
          cluster: clusterName,
          manageAddress: manage,
          storageAddress: hostnames.storage[0],
          zone: zone === undefined ? '1' : String(zone),
          devices: entry.devices.map((device) => ({
            name: devicePathOf(device),
            destroyData: typeof device === 'string' ? false : (device.destroydata ?? false),
            ...(typeof device !== 'string' && device.tags ? { tags: device.tags } : {}),
          })),
          ...(tags ? { tags } : {}),
          state: 'Online',
        },
      });
      if (!node.success) {
        for (const issue of node.error.issues) problems.push(`${label}: ${issue.path.join('.')}: ${issue.message}`);
        return;
      }
      nodes.push(node.data);
    });
  });
  if (problems.length > 0) throw new HeketiTopologyError(problems);
  return { clusters, nodes, warnings };
}
