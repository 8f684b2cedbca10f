#!/usr/bin/env node
/**
 * kubectl-gluster: the operator's kubectl plugin (`kubectl gluster ...` once on PATH).
 * Commands are functions from parsed options (and the I/O they are handed) to output text and an exit code;
 * this file only parses argv, picks the command, and does the process I/O (stdout/stderr, exit code).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { errorMessage } from '../runtime/error-message.ts';
import { backupVerifyCommand } from './backup-verify.ts';
import { usageError, type Command, type CommandIo, type OptionValues } from './command.ts';
import { healInfoCommand } from './heal-info.ts';
import { heketiImportCommand } from './heketi-import.ts';
import { migratePvsCommand } from './migrate-pvs.ts';
import { nodeDrainCommand } from './node-drain.ts';
import type { CommandOutput } from './output.ts';
import { statusCommand } from './status.ts';
import { topologyExportCommand } from './topology-export.ts';
import { topologyImportCommand } from './topology-import.ts';
import { volumeDescribeCommand } from './volume-describe.ts';

const USAGE = `Usage: kubectl gluster COMMAND

Commands:
  status [-n NS | -A]           what is wrong first (GlusterClusters, GlusterNodes, GlusterVolumes not Ready or
                                Degraded), then counts per kind and the topology backup's age; exit code 1 when
                                something is wrong
  volume describe NAME | pvc:NS/NAME
                                one GlusterVolume (or the one a claim is bound to): conditions, bricks, heal,
                                mount source, and the PVs, claims and pods using it
  heal-info NAME | pvc:NS/NAME  self-heal of one GlusterVolume: entries pending and in split-brain, per brick,
                                and what to do (--via reads Gluster live); exit code 1 when anything is pending
  node drain NODE               set a GlusterNode's spec.state to Failed (after asking) and follow the operator
                                moving its bricks away
  topology import --json FILE   convert a heketi topology file into GlusterCluster and GlusterNode objects
  topology export               the GlusterClusters and GlusterNodes as heketi's topology.json
  backup verify                 check the operator's topology backup and compare it with the GlusterNodes and
                                GlusterVolumes (and with --via, the live cluster)
  heketi import --db FILE       convert heketi's database (heketi db export) into GlusterCluster, GlusterNode
                                and GlusterVolume objects that adopt heketi's volumes in place
  migrate pvs                   move claims bound to in-tree glusterfs PVs onto CSI PVs of the same
                                Gluster volumes (plan by default; --apply, --rollback)

Run 'kubectl gluster COMMAND --help' for a command's options.
`;

/** Every command, by its words (one or two); each lives in a file of its own. */
const COMMANDS: Record<string, Command> = {
  status: statusCommand,
  'volume describe': volumeDescribeCommand,
  'heal-info': healInfoCommand,
  'node drain': nodeDrainCommand,
  'topology import': topologyImportCommand,
  'topology export': topologyExportCommand,
  'backup verify': backupVerifyCommand,
  'heketi import': heketiImportCommand,
  'migrate pvs': migratePvsCommand,
};

/** The command the leading words name (two words first: `volume describe`, then one: `status`), and the argv after its name. */
function findCommand(words: string[], argv: string[]): { command: Command; rest: string[] } | undefined {
  for (const length of [2, 1]) {
    const name = words.slice(0, length).join(' ');
    if (words.length >= length && Object.hasOwn(COMMANDS, name)) return { command: COMMANDS[name]!, rest: argv.slice(length) };
  }
  return undefined;
}

export async function run(argv: string[], io: CommandIo): Promise<CommandOutput> {
  const firstOption = argv.findIndex((arg) => arg.startsWith('-'));
  const words = firstOption === -1 ? argv : argv.slice(0, firstOption);
  const found = findCommand(words, argv);
  if (!found) {
    if (words.length === 0) return { stdout: USAGE, stderr: '', code: argv.includes('--help') || argv.includes('-h') ? 0 : 2 };
    return usageError(`unknown command: ${words.join(' ')}`, USAGE);
  }
  const { command, rest } = found;
  const maxArguments = command.maxArguments ?? 0;
  let values: OptionValues;
  let args: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      allowPositionals: maxArguments > 0,
      strict: true,
      options: { ...command.options, help: { type: 'boolean', short: 'h', default: false } },
    });
    values = parsed.values as OptionValues;
    args = parsed.positionals;
  } catch (error) {
    return usageError(errorMessage(error), command.usage);
  }
  if (values.help) return { stdout: command.usage, stderr: '', code: 0 };
  if (args.length > maxArguments) return usageError(`unexpected argument${args.length - maxArguments === 1 ? '' : 's'}: ${args.slice(maxArguments).join(' ')}`, command.usage);
  return command.run(values, io, args);
}

/**
 * One line of the terminal after a prompt on stderr (stdout stays the command's output); undefined at end of
 * input. Only offered when stdin is a terminal: a script's stdin may stay open and never answer, and a yes
 * meant for a script is said with --yes.
 */
async function readLine(prompt: string): Promise<string | undefined> {
  const lines = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    const ended = new Promise<undefined>((done) => lines.once('close', () => done(undefined)));
    return await Promise.race([lines.question(prompt), ended]);
  } finally {
    lines.close();
  }
}

const output = await run(process.argv.slice(2), {
  readText: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
  progress: (line) => process.stderr.write(`${line}\n`),
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  ...(process.stdin.isTTY ? { readLine } : {}),
});
process.stdout.write(output.stdout);
process.stderr.write(output.stderr);
process.exitCode = output.code;
