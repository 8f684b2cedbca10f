import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { kubectl } from './kube.ts';
import { REPO_ROOT } from './paths.ts';
import { testbedEnv } from './testbed-env.ts';

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
  return withTestHostAsClient(stdout);
}

/**
 * The suites mount from the test host (the CSI plugin runs there as a process, and some tests mount a volume
 * directly), where a cluster would have its Kubernetes nodes: the host is listed as a client in each imported
 * GlusterCluster's spec.clientAccess, beside the Kubernetes nodes the operator adds itself. Without it the
 * bricks refuse those mounts, as they should (client-access e2e).
 */
export function withTestHostAsClient(yaml: string): string {
  const hostIp = testbedEnv().TESTBED_HOST_IP;
  return parseAllDocuments(yaml)
    .map((document) => {
      const object = document.toJS() as { kind?: string; spec?: Record<string, unknown> } | null;
      if (object?.kind === 'GlusterCluster' && object.spec) object.spec.clientAccess = { addresses: [hostIp] };
      return stringify(object);
    })
    .join('---\n');
}

/**
 * What an operator suite starts from: the SSH key Secret and the test bed's nodes imported and applied as
 * GlusterCluster `cluster` + GlusterNodes in `namespace`, bricks of `backend` under `directoryRoot`.
 */
export async function applyTestbedTopology(
  namespace: string,
  nodes: string[],
  options: { cluster: string; backend: 'LoopFile' | 'Directory'; directoryRoot: string; sshKey: string },
): Promise<void> {
  await kubectl(['-n', namespace, 'create', 'secret', 'generic', 'gluster-ssh', `--from-file=ssh-privatekey=${options.sshKey}`]);
  const yaml = await importTopology(testbedHeketiTopology(nodes, (process.env.TESTBED_DISKS ?? '').split(' ')), [
    '--cluster', options.cluster, '--namespace', namespace, '--brick-backend', options.backend, '--directory-root', options.directoryRoot,
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'topology-'));
  try {
    writeFileSync(join(dir, 'topology.yaml'), yaml);
    await kubectl(['apply', '-f', join(dir, 'topology.yaml')]);
  } finally {
    rmSync(dir, { recursive: true });
  }
}
