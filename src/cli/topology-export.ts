import { isDeepStrictEqual } from 'node:util';
import { glusterClusterSchema, glusterNodeSchema, type GlusterCluster, type GlusterNode } from '../api/index.ts';
import { clusterObject, objectNameFromHost, type ClusterOptions } from '../heketi/convert.ts';
import { heketiTopologySchema, type HeketiNode, type HeketiTopology } from '../heketi/topology-file.ts';
import { kubeConfigOf, type Command, type CommandIo, type OptionValues } from './command.ts';
import type { CommandOutput } from './output.ts';
import { listKind, namespaceOf, readFailure } from './status.ts';

/**
 * `kubectl gluster topology export`: the GlusterClusters and GlusterNodes of a namespace as heketi's
 * topology.json, the file `topology import --json` reads (src/heketi/topology-file.ts). Import it again with
 * the flags this prints and the same specs come back; what topology.json cannot carry (a node's state, its
 * SSH host key, cluster settings beyond access and bricks) is said on stderr, per object. Pure: exportTopology.
 */

export const TOPOLOGY_EXPORT_USAGE = `Usage: kubectl gluster topology export [-n NAMESPACE] [--cluster NAME]

Prints the GlusterClusters and GlusterNodes of the namespace as heketi's topology.json (clusters, nodes with
manage and storage hostnames, zone, tags, devices), the format topology import --json reads. On stderr: the
topology import flags that give the same GlusterClusters back, and what the file cannot carry.

Options:
  -n, --namespace NS    where the GlusterClusters and GlusterNodes are (default: your kubeconfig context's namespace, else default)
  --cluster NAME        only this GlusterCluster (default: every one in the namespace, by name)
  -h, --help            show this help

Exit code: 0 when printed, 1 when there is nothing to print or the apiserver could not be read, 2 on a usage error.
`;

export interface TopologyExport {
  topology: HeketiTopology;
  /** The topology import flags that rebuild the GlusterClusters (the first's name and settings: one set for the whole file). */
  importFlags: string[];
  warnings: string[];
}

/** The import options that rebuild this cluster's access and brick settings (the rest topology.json cannot say). */
export function importOptionsOf(cluster: GlusterCluster): ClusterOptions {
  const { access, brickBackend, directoryRoot } = cluster.spec;
  return {
    namespace: cluster.metadata.namespace,
    mode: access.mode,
    sshSecret: access.external?.sshSecretRef.name ?? 'gluster-ssh',
    brickBackend,
    ...(directoryRoot !== undefined ? { directoryRoot } : {}),
  };
}

function flagsOf(name: string, options: ClusterOptions): string[] {
  return [
    '--cluster', name,
    ...(options.namespace ? ['--namespace', options.namespace] : []),
    '--mode', options.mode,
    ...(options.mode === 'External' ? ['--ssh-secret', options.sshSecret] : []),
    '--brick-backend', options.brickBackend ?? 'LVM',
    ...(options.directoryRoot !== undefined ? ['--directory-root', options.directoryRoot] : []),
  ];
}

/** heketi's zone is a number where it can be one (heketi itself reads only numbers); anything else stays a string. */
const zoneOf = (zone: string): number | string => (/^(0|[1-9]\d*)$/.test(zone) && Number.isSafeInteger(Number(zone)) ? Number(zone) : zone);

function heketiNodeOf(node: GlusterNode, warnings: string[]): HeketiNode {
  const { spec } = node;
  const label = `GlusterNode ${node.metadata.name}`;
  if (spec.state !== 'Online') warnings.push(`${label}: spec.state ${spec.state} is not in topology.json (an import makes it Online)`);
  if (spec.sshHostKey !== undefined) warnings.push(`${label}: spec.sshHostKey is not in topology.json (set it again after an import)`);
  if (spec.forceRemoval) warnings.push(`${label}: spec.forceRemoval is not in topology.json`);
  const importedName = objectNameFromHost(spec.manageAddress);
  if (importedName !== node.metadata.name) warnings.push(`${label}: an import names it ${importedName} (after its manage address ${spec.manageAddress})`);
  return {
    node: {
      hostnames: { manage: [spec.manageAddress], storage: [spec.storageAddress] },
      zone: zoneOf(spec.zone),
      ...(spec.tags ? { tags: spec.tags } : {}),
    },
    devices: spec.devices.map((device) => ({ name: device.name, destroydata: device.destroyData, ...(device.tags ? { tags: device.tags } : {}) })),
  };
}

/**
 * The topology of the given clusters (in name order) and their nodes (in name order). An import takes one set
 * of flags for the whole file and names its clusters NAME, NAME-2, ...: a later cluster named otherwise or set
 * up otherwise is warned about, as is a cluster setting no import flag gives back (compared against what the
 * import would build).
 */
export function exportTopology(clusters: readonly GlusterCluster[], nodes: readonly GlusterNode[]): TopologyExport {
  const warnings: string[] = [];
  const ordered = [...clusters].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const first = ordered[0];
  const firstOptions = first ? importOptionsOf(first) : undefined;
  ordered.forEach((cluster, index) => {
    const name = cluster.metadata.name;
    const options = importOptionsOf(cluster);
    const expected = index === 0 ? name : `${first!.metadata.name}-${index + 1}`;
    if (expected !== name) warnings.push(`GlusterCluster ${name}: an import of this file names it ${expected} (clusters after the first are NAME-2, NAME-3, ...)`);
    if (index > 0 && !isDeepStrictEqual(options, firstOptions)) warnings.push(`GlusterCluster ${name}: its access or bricks differ from ${first!.metadata.name}'s, and an import gives every cluster the same (export it alone with --cluster ${name})`);
    const rebuilt: Record<string, unknown> = clusterObject(name, options).cluster?.spec ?? {};
    const spec: Record<string, unknown> = cluster.spec;
    const lost = Object.keys({ ...spec, ...rebuilt }).filter((key) => !isDeepStrictEqual(spec[key], rebuilt[key]));
    if (lost.length > 0) warnings.push(`GlusterCluster ${name}: spec.${lost.join(', spec.')} not in topology.json (keep kubectl get gcluster ${name} -o yaml for it)`);
  });
  const topology = heketiTopologySchema.parse({
    clusters: ordered.map((cluster) => ({
      nodes: nodes
        .filter((node) => node.spec.cluster === cluster.metadata.name)
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
        .map((node) => heketiNodeOf(node, warnings)),
    })),
  });
  return { topology, importFlags: first ? flagsOf(first.metadata.name, firstOptions!) : [], warnings };
}

export const topologyExportCommand: Command = {
  usage: TOPOLOGY_EXPORT_USAGE,
  options: { namespace: { type: 'string', short: 'n' }, cluster: { type: 'string' } },
  async run(values: OptionValues, io: CommandIo): Promise<CommandOutput> {
    const config = kubeConfigOf(io);
    const namespace = namespaceOf(values, config);
    const wanted = typeof values.cluster === 'string' ? values.cluster : undefined;
    let clusters: GlusterCluster[];
    let nodes: GlusterNode[];
    const unreadable: string[] = [];
    try {
      const [clusterList, nodeList] = await Promise.all([listKind(config, 'GlusterCluster', glusterClusterSchema, namespace), listKind(config, 'GlusterNode', glusterNodeSchema, namespace)]);
      clusters = clusterList.objects.filter((c) => wanted === undefined || c.metadata.name === wanted);
      nodes = nodeList.objects;
      for (const bad of [...clusterList.unreadable, ...nodeList.unreadable]) unreadable.push(`${bad.kind} ${bad.name} ${bad.problem}; left out`);
      const existing = new Set(clusterList.objects.map((c) => c.metadata.name));
      for (const orphan of nodes.filter((n) => !existing.has(n.spec.cluster))) unreadable.push(`GlusterNode ${orphan.metadata.name}: its GlusterCluster ${orphan.spec.cluster} does not exist; left out`);
    } catch (error) {
      return readFailure(`the GlusterClusters and GlusterNodes in ${namespace}`, error);
    }
    if (clusters.length === 0) {
      const what = wanted === undefined ? 'no GlusterCluster' : `no GlusterCluster ${wanted}`;
      return { stdout: '', stderr: `error: ${what} in namespace ${namespace}; kubectl get gcluster -A lists them (then -n NAMESPACE)\n`, code: 1 };
    }
    const exported = exportTopology(clusters, nodes);
    const stderr =
      [...unreadable, ...exported.warnings].map((w) => `warning: ${w}\n`).join('') +
      `note: the same objects again: kubectl gluster topology import --json FILE ${exported.importFlags.join(' ')}\n`;
    return { stdout: `${JSON.stringify(exported.topology, null, 2)}\n`, stderr, code: 0 };
  },
};
