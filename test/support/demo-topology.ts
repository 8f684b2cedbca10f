import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';

const execFileAsync = promisify(execFile);

/**
 * A heketi topology.json for the test bed's nodes (one zone each, their loop disks as devices), the file a
 * heketi user would already have, turned into GlusterCluster + GlusterNode YAML by the project's own
 * `kubectl gluster topology import`.
 */
export function testbedHeketiTopology(nodes: string[], disks: string[]): string {
  return JSON.stringify({
    clusters: [
      {
        nodes: nodes.map((address, i) => ({
          node: { hostnames: { manage: [address], storage: [address] }, zone: i + 1 },
          devices: [{ name: disks[i] ?? '/dev/null', destroydata: false }],
        })),
      },
    ],
  });
}

export async function importTopology(topologyJson: string, args: string[]): Promise<string> {
  const child = execFileAsync(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'kubectl-gluster.ts'), 'topology', 'import', '--json', '-', ...args], { cwd: REPO_ROOT });
  child.child.stdin!.end(topologyJson);
  const { stdout } = await child;
  return stdout;
}
