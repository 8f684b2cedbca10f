import { convertHeketiTopology, type ImportOptions } from '../heketi/convert.ts';
import { HeketiTopologyError, parseHeketiTopology } from '../heketi/topology-file.ts';
import { importCommand, type Command } from './command.ts';
import { importOutput, refusal, type CommandOutput } from './output.ts';

/**
 * `kubectl gluster topology import`: heketi topology.json in, a YAML stream of GlusterCluster and GlusterNode
 * objects out. All or nothing: any problem in the file prints no YAML at all, so a pipe into `kubectl apply -f -`
 * never applies half a topology.
 */

export const IMPORT_USAGE = `Usage: kubectl gluster topology import --json FILE [options]

Converts a heketi topology file (heketi-cli topology load --json, gk-deploy's topology.json) into
GlusterCluster and GlusterNode objects, printed as YAML for kubectl apply -f -.

Options:
  --json FILE          heketi topology file; - reads standard input (required)
  --cluster NAME       name of the GlusterCluster (default: gluster); further clusters in the
                       file become NAME-2, NAME-3, ...
  --namespace NS       metadata.namespace of every object (default: none, kubectl's namespace)
  --mode MODE          External (default): reach the nodes over SSH, as heketi's ssh executor did;
                       InCluster: run glusterd in the operator's DaemonSet on Kubernetes nodes
  --ssh-secret NAME    Secret with the SSH private key for External mode (default: gluster-ssh)
  --brick-backend B    LVM (default, as heketi), LoopFile or Directory (for nodes without device-mapper)
  --directory-root P   where LoopFile or Directory bricks go on every node
  -h, --help           show this help

Example:
  kubectl gluster topology import --json topology.json --namespace gluster | kubectl apply -f -
`;

export function topologyImport(options: ImportOptions & { text: string }): CommandOutput {
  try {
    const topology = parseHeketiTopology(options.text);
    const { clusters, nodes, warnings } = convertHeketiTopology(topology, options);
    return importOutput([...clusters, ...nodes], warnings);
  } catch (error) {
    if (error instanceof HeketiTopologyError) return refusal('the topology file', error.problems);
    throw error;
  }
}

export const topologyImportCommand: Command = importCommand(IMPORT_USAGE, 'json', (text, cluster, clusterName) => topologyImport({ text, ...cluster, clusterName: clusterName ?? 'gluster' }));
