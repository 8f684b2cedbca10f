import type { ParseArgsOptionsConfig } from 'node:util';
import type { NodeCommand } from '../gluster/commands/command.ts';
import { runNodeCommand } from '../gluster/executor.ts';
import { CHECK_OPTIONS, checkTargetOf, failureMessage, type CheckTarget, type OpenLive } from './heketi-check.ts';
import { usageError, type CommandIo, type OptionValues } from './command.ts';
import type { CommandOutput } from './output.ts';

/**
 * `--via ssh:HOST|pod:NS/POD` for commands that read the live cluster as an option (heal-info, backup verify):
 * the same target, flags and access as `heketi import --check` (heketi-check.ts), without its --check switch.
 */

const { check: _check, ...viaOptions } = CHECK_OPTIONS;
export const VIA_OPTIONS = viaOptions satisfies ParseArgsOptionsConfig;

export const VIA_USAGE = `  --via pod:NS/POD      read Gluster live in that glusterd pod (through the exec API)
  --via ssh:HOST        read Gluster live on that server over SSH, with --ssh-key FILE and --known-hosts FILE
                        (and --ssh-user, default root; --ssh-port, default 22); --container for a pod`;

/** The live target, undefined without --via (a flag of --via given alone is a usage error), or the usage error. */
export function viaTargetOf(values: OptionValues, usage: string): CheckTarget | CommandOutput | undefined {
  if (values.via === undefined) {
    const stray = Object.keys(VIA_OPTIONS).find((flag) => values[flag] !== undefined);
    return stray ? usageError(`--${stray} goes with --via`, usage) : undefined;
  }
  return checkTargetOf({ ...values, check: true }, usage);
}

/** Read-only gluster queries on the node of --via: their answer, or the error that says what to fix (exit 1). */
export async function readLive<T>(
  target: CheckTarget,
  io: CommandIo,
  openLive: OpenLive,
  query: (run: <R>(command: NodeCommand<R>) => Promise<R>) => Promise<T>,
): Promise<{ live: T } | { failed: CommandOutput }> {
  let access;
  try {
    access = await openLive(target, io);
    const opened = access;
    return { live: await query((command) => runNodeCommand(opened.transport, opened.node, command)) };
  } catch (error) {
    return { failed: { stdout: '', stderr: `error: ${failureMessage(error, target)}\n`, code: 1 } };
  } finally {
    await access?.transport.close();
  }
}
