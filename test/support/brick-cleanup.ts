import { sshRun } from './ssh.ts';

/**
 * What a suite's after hook removes from the test-bed nodes when the operator could not (a failed run):
 * Gluster volumes of the suite (named `<namespace>_…`) and everything under its brick root — loop-file
 * bricks are unmounted and their loop devices detached first.
 */
const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];

export async function removeLeftoverVolumes(nodes: readonly string[], prefix: string): Promise<void> {
  for (const node of nodes) {
    const list = (await sshRun(node, gluster('volume', 'list'))).stdout.split('\n').filter((name) => name.startsWith(prefix));
    for (const leftover of list) {
      await sshRun(node, gluster('volume', 'stop', leftover, 'force'));
      await sshRun(node, gluster('volume', 'delete', leftover));
    }
  }
}

export async function removeBrickRoot(nodes: readonly string[], brickRoot: string): Promise<void> {
  const script = 'for m in $(findmnt -rn -o TARGET | grep "^$0/"); do umount -l "$m"; done; for f in "$0"/*.img; do [ -e "$f" ] && losetup -j "$f" -O NAME -n | xargs -r -n1 losetup -d; done; rm -rf "$0"';
  for (const node of nodes) await sshRun(node, ['sh', '-c', script, brickRoot]);
}
