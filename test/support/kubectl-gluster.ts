import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './paths.ts';
import { clusterEnv } from './testbed-env.ts';

/** `kubectl gluster ARGS` as a user runs it (the plugin's own entry point, the test bed's kubeconfig), never throwing: its exit code is part of the answer. */
export function kubectlGluster(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'kubectl-gluster.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, KUBECONFIG: clusterEnv().KUBECONFIG },
  }).then(
    (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
    (failed: { code?: number; stdout?: string; stderr?: string }) => ({ code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }),
  );
}
