#!/usr/bin/env node
/**
 * kubectl-gluster: the operator's kubectl plugin (`kubectl gluster ...` once on PATH).
 * Commands are functions from parsed options (and the I/O they are handed) to output text and an exit code;
 * this file only parses argv, picks the command, and does the process I/O (stdout/stderr, exit code).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { errorMessage } from '../runtime/error-message.ts';
import { usageError, type Command, type CommandIo, type OptionValues } from './command.ts';
import { heketiImportCommand } from './heketi-import.ts';
import { migratePvsCommand } from './migrate-pvs.ts';
import type { CommandOutput } from './output.ts';
import { topologyImportCommand } from './topology-import.ts';

const USAGE = `Usage: kubectl gluster COMMAND

Commands:
  topology import --json FILE   convert a heketi topology file into GlusterCluster and GlusterNode objects
  heketi import --db FILE       convert heketi's database (heketi db export) into GlusterCluster, GlusterNode
                                and GlusterVolume objects that adopt heketi's volumes in place
  migrate pvs                   move claims bound to in-tree glusterfs PVs onto CSI PVs of the same
                                Gluster volumes (plan by default; --apply, --rollback)

Run 'kubectl gluster COMMAND --help' for a command's options.
`;

/** Every command, by its two words; each lives in a file of its own. */
const COMMANDS: Record<string, Command> = {
  'topology import': topologyImportCommand,
  'heketi import': heketiImportCommand,
  'migrate pvs': migratePvsCommand,
};

export async function run(argv: string[], io: CommandIo): Promise<CommandOutput> {
  const firstOption = argv.findIndex((arg) => arg.startsWith('-'));
  const words = firstOption === -1 ? argv : argv.slice(0, firstOption);
  const name = words.slice(0, 2).join(' ');
  const command = COMMANDS[name];
  if (!command) {
    if (words.length === 0) return { stdout: USAGE, stderr: '', code: argv.includes('--help') || argv.includes('-h') ? 0 : 2 };
    return usageError(`unknown command: ${words.join(' ')}`, USAGE);
  }
  let values: OptionValues;
  try {
    const parsed = parseArgs({
      args: argv.slice(2),
      allowPositionals: false,
      strict: true,
      options: { ...command.options, help: { type: 'boolean', short: 'h', default: false } },
    });
    values = parsed.values as OptionValues;
  } catch (error) {
    return usageError(errorMessage(error), command.usage);
  }
  if (values.help) return { stdout: command.usage, stderr: '', code: 0 };
  return command.run(values, io);
}

const output = await run(process.argv.slice(2), {
  readText: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(output.stdout);
process.stderr.write(output.stderr);
process.exitCode = output.code;
