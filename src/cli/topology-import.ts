import { stringify } from 'yaml';
import { convertHeketiTopology, type ImportOptions } from '../heketi/convert.ts';
import { HeketiTopologyError, parseHeketiTopology } from '../heketi/topology-file.ts';

/**
 * `kubectl gluster topology import`: heketi topology.json in, a YAML stream of GlusterCluster and GlusterNode
 * objects out. All or nothing: any problem in the file prints no YAML at all, so a pipe into `kubectl apply -f -`
 * never applies half a topology.
 */

export interface CommandOutput {
  stdout: string;
  stderr: string;
  code: number;
}

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

export function toYamlStream(objects: unknown[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

export function topologyImport(options: ImportOptions & { text: string }): CommandOutput {
  try {
    const topology = parseHeketiTopology(options.text);
    const { clusters, nodes, warnings } = convertHeketiTopology(topology, options);
    const stderr =
      warnings.map((w) => `warning: ${w}\n`).join('') +
      `imported ${clusters.length} GlusterCluster${clusters.length === 1 ? '' : 's'} and ${nodes.length} GlusterNode${nodes.length === 1 ? '' : 's'}\n`;
    return { stdout: toYamlStream([...clusters, ...nodes]), stderr, code: 0 };
  } catch (error) {
    if (error instanceof HeketiTopologyError) {
      return { stdout: '', stderr: `error: the topology file is not valid, nothing was printed:\n${error.problems.map((p) => `  ${p}\n`).join('')}`, code: 1 };
    }
    throw error;
  }
}
