import { ParseError } from '../errors.ts';
import { command, ignoreOutput, type NodeCommand } from './command.ts';
import { assertAbsolutePath } from './fs.ts';

/**
 * Processes on a node, for the one case the operator stops a process itself (orphan-brick-processes.ts): a
 * glusterfsd that serves no brick glusterd knows of and still holds a deleted volume's brick open.
 */
function pidOf(text: string): number {
  if (!/^\d+$/.test(text)) throw new ParseError("pgrep output (a process id a line)", text);
  return Number(text);
}

/** PIDs of processes named exactly `name`; none is exit code 1, not a failure. */
export const processIds = (name: string): NodeCommand<number[]> => {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new Error(`invalid process name "${name}"`);
  return command({
    argv: ['pgrep', '-x', name],
    outcome: 'exit-code',
    mutatesCluster: false,
    okExitCodes: [0, 1],
    parse: (stdout) => stdout.split('\n').map((line) => line.trim()).filter(Boolean).map(pidOf),
  });
};

/**
 * Whether process `pid` has a file open at or under `path` (its /proc/PID/fd links). A process gone
 * meanwhile holds nothing: find then complains on stderr and exits 1.
 */
export const processHoldsPath = (pid: number, path: string): NodeCommand<boolean> => {
  assertAbsolutePath(path);
  // The path goes into find's -lname patterns: ours never carry glob characters, and one that did is refused.
  if (/[*?[\]\\]/.test(path)) throw new Error(`path "${path}" has glob characters`);
  return command({
    argv: ['find', `/proc/${pid}/fd`, '-mindepth', '1', '-maxdepth', '1', '(', '-lname', path, '-o', '-lname', `${path}/*`, ')', '-print', '-quit'],
    outcome: 'exit-code',
    mutatesCluster: false,
    okExitCodes: [0, 1],
    parse: (stdout, exitCode) => exitCode === 0 && stdout.trim() !== '',
  });
};

/** SIGTERM: glusterfsd's handler closes its bricks and exits. */
export const terminateProcess = (pid: number): NodeCommand<void> =>
  command({ argv: ['kill', '-TERM', String(pid)], outcome: 'exit-code', mutatesCluster: false, parse: ignoreOutput });
