import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { REPO_ROOT } from './paths.ts';

const execFileAsync = promisify(execFile);

/**
 * The test bed's Kubernetes nodes (hack/lib/kube-nodes.sh), from .testbed/env: their names and addresses, the
 * images imported into them, and ways into a node that a real machine offers too (a shell on the node, the
 * CRI, a shutdown and a boot).
 */
const spaceList = z
  .string()
  .transform((value) => value.split(/\s+/).filter(Boolean))
  .pipe(z.array(z.string()).min(1));

const kubeNodesEnvSchema = z.object({
  TESTBED_KUBE_NODES: spaceList,
  TESTBED_KUBE_NODE_IPS: spaceList,
  TESTBED_OPERATOR_IMAGE: z.string().min(1),
  TESTBED_GLUSTERD_IMAGE: z.string().min(1),
});

export interface KubeNode {
  /** 1-based, as `hack/testbed kube-node ... I` takes it. */
  index: number;
  name: string;
  ip: string;
}

export interface KubeNodesEnv {
  nodes: KubeNode[];
  operatorImage: string;
  glusterdImage: string;
}

export function kubeNodesEnv(): KubeNodesEnv {
  const result = kubeNodesEnvSchema.safeParse(process.env);
  if (!result.success) {
    throw new Error(
      `the test bed has no Kubernetes nodes (${result.error.issues.map((i) => i.path.join('.')).join(', ')} missing): ` +
        'run `npm test`, or `hack/testbed up && . .testbed/env` before mocha',
    );
  }
  const env = result.data;
  const nodes = env.TESTBED_KUBE_NODES.map((name, i) => ({ index: i + 1, name, ip: env.TESTBED_KUBE_NODE_IPS[i]! }));
  return { nodes, operatorImage: env.TESTBED_OPERATOR_IMAGE, glusterdImage: env.TESTBED_GLUSTERD_IMAGE };
}

const TESTBED = join(REPO_ROOT, 'hack', 'testbed');

/**
 * How a node is entered, stopped and started: `hack/testbed kube-node ...` on the test bed; on a kind
 * cluster (TESTBED_KIND_CLUSTER set, see hack/kind/) the node is a container, entered with `docker exec`.
 */
function nodeCommand(node: KubeNode, action: 'exec' | 'stop' | 'start', argv: string[] = []): [string, string[]] {
  if (process.env.TESTBED_KIND_CLUSTER) {
    if (action === 'exec') return ['docker', ['exec', node.name, ...argv]];
    return ['docker', [action, node.name]];
  }
  return [TESTBED, ['kube-node', action, String(node.index), ...(action === 'exec' ? ['--', ...argv] : [])]];
}

export interface NodeCommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv on the node itself (its mount, network and PID namespaces), as root on a real node would. */
export async function onNode(node: KubeNode, argv: string[], options: { allowFailure?: boolean; timeoutMs?: number } = {}): Promise<NodeCommandResult> {
  try {
    const [command, args] = nodeCommand(node, 'exec', argv);
    const { stdout, stderr } = await execFileAsync(command, args, {
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    const result = { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
    if (options.allowFailure) return result;
    throw new Error(`on ${node.name}: ${argv.join(' ')} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/** crictl against the node's containerd, as an administrator on the node would run it. */
export async function crictl(node: KubeNode, args: string[], options: { allowFailure?: boolean } = {}): Promise<NodeCommandResult> {
  return onNode(node, ['crictl', '--runtime-endpoint', 'unix:///run/containerd/containerd.sock', ...args], options);
}

/** Targets of the Gluster FUSE mounts on the node. */
export async function glusterMountsOnNode(node: KubeNode): Promise<string[]> {
  const { stdout } = await onNode(node, ['findmnt', '-rn', '-t', 'fuse.glusterfs', '-o', 'TARGET'], { allowFailure: true });
  return stdout.split('\n').filter(Boolean);
}

/** Shuts the node down (kubelet, then containerd, then every process and mount of the node) and boots it again. */
export async function stopKubeNode(node: KubeNode): Promise<void> {
  const [command, args] = nodeCommand(node, 'stop');
  await execFileAsync(command, args, { timeout: 60_000 });
}

export async function startKubeNode(node: KubeNode): Promise<void> {
  const [command, args] = nodeCommand(node, 'start');
  await execFileAsync(command, args, { timeout: 60_000 });
}
