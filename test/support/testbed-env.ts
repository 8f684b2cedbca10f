import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './paths.ts';

/**
 * The test bed's coordinates, from the environment `hack/testbed up` writes to .testbed/env. The e2e
 * suites fail (never skip) without it: a skipped suite reported as passing would hide a broken test bed.
 */
const spaceList = z
  .string()
  .transform((value) => value.split(/\s+/).filter(Boolean))
  .pipe(z.array(z.string()).min(1));

const testbedEnvSchema = z.object({
  KUBECONFIG: z.string().min(1),
  TESTBED_NODES: spaceList,
  TESTBED_SSH_KEY: z.string().min(1),
  TESTBED_SSH_USER: z.string().min(1),
  TESTBED_SSH_PORT: z.coerce.number().int().default(22),
  TESTBED_BRICK_ROOT: z.string().default('/bricks'),
  TESTBED_BIN_DIR: z.string().min(1),
  /** The host's address on the test bed's bridge: where mounts made by the suites come from. */
  TESTBED_HOST_IP: z.string().min(1),
});

export type TestbedEnv = z.infer<typeof testbedEnvSchema>;

/**
 * What talking to the cluster needs, and no more: the in-cluster suites also run on kind (hack/kind/e2e),
 * which has no external Gluster servers and so none of their variables.
 */
const clusterEnvSchema = testbedEnvSchema.pick({ KUBECONFIG: true, TESTBED_BIN_DIR: true });

export function clusterEnv(): z.infer<typeof clusterEnvSchema> {
  const result = clusterEnvSchema.safeParse(process.env);
  if (!result.success) {
    throw new Error(
      `no cluster to test against (${result.error.issues.map((i) => i.path.join('.')).join(', ')} missing): ` +
        'run `npm test`, or `hack/testbed up && . .testbed/env` (or `. .kind/env`) before mocha',
    );
  }
  return result.data;
}

export function testbedEnv(): TestbedEnv {
  const result = testbedEnvSchema.safeParse(process.env);
  if (!result.success) {
    throw new Error(
      `the test bed is not up (${result.error.issues.map((i) => i.path.join('.')).join(', ')} missing): ` +
        'run `npm test`, or `hack/testbed up && . .testbed/env` before mocha',
    );
  }
  return result.data;
}

/**
 * For benchmarks run without a shell that sourced it: reads .testbed/env by sourcing it exactly as a shell
 * user would, and copies it into process.env. Fails with what to do when the test bed is not up.
 */
export function loadTestbedEnvFile(tool: string): Record<string, string> {
  const file = join(REPO_ROOT, '.testbed', 'env');
  if (!existsSync(file)) {
    console.error(`${tool}: ${file} not found: the test bed is not up. Start it with \`hack/testbed up\` (benchmarks never start or stop it).`);
    process.exit(1);
  }
  const dump = execFileSync('bash', ['-c', 'set -a; . "$1"; env -0', tool, file], { encoding: 'utf8' });
  const env = Object.fromEntries(
    dump
      .split('\0')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  Object.assign(process.env, env);
  return env;
}

const vmEnvSchema = z.object({ TESTBED_VM_NODES: spaceList, TESTBED_VM_DISKS: spaceList });

/**
 * The test bed's VM Gluster nodes (device-mapper: LVM thin bricks, snapshots) and the names of their empty data
 * disks. Like testbedEnv, it fails (never skips) when they are missing: `npm test` starts one.
 */
export function testbedVmEnv(): { nodes: string[]; disks: string[] } {
  const result = vmEnvSchema.safeParse(process.env);
  if (!result.success) {
    throw new Error(
      `the test bed has no VM nodes (${result.error.issues.map((i) => i.path.join('.')).join(', ')} missing or empty): ` +
        'run `npm test`, or `hack/testbed up --vm-nodes 1 && . .testbed/env` before mocha',
    );
  }
  return { nodes: result.data.TESTBED_VM_NODES, disks: result.data.TESTBED_VM_DISKS };
}
