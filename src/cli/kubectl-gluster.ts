#!/usr/bin/env node
/**
 * kubectl-gluster: the operator's kubectl plugin (`kubectl gluster ...` once on PATH).
 * Commands are functions from parsed options (and the I/O they are handed) to output text and an exit code;
 * this file only parses argv, picks the command, and does the process I/O (stdout/stderr, exit code).
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { ClusterOptions } from '../heketi/convert.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { HEKETI_IMPORT_USAGE, heketiImport } from './heketi-import.ts';
import type { CommandOutput } from './output.ts';
import { IMPORT_USAGE, topologyImport } from './topology-import.ts';

const USAGE = `Usage: kubectl gluster COMMAND

Commands:
  topology import --json FILE   convert a heketi topology file into GlusterCluster and GlusterNode objects
  heketi import --db FILE       convert heketi's database (heketi db export) into GlusterCluster, GlusterNode
                                and GlusterVolume objects that adopt heketi's volumes in place

Run 'kubectl gluster COMMAND --help' for a command's options.
`;

export function usageError(message: string, usage: string): CommandOutput {
  return { stdout: '', stderr: `error: ${message}\n\n${usage}`, code: 2 };
}

/** What a command may do besides computing: read files (the CLI's own I/O, replaced in tests). */
export interface CommandIo {
  readText(path: string): string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface Command {
  usage: string;
  options: ParseArgsOptionsConfig;
  run(values: OptionValues, io: CommandIo): CommandOutput | Promise<CommandOutput>;
}

/** The options both imports take: how the clusters are reached and where new bricks go. */
const CLUSTER_OPTIONS = {
  cluster: { type: 'string' },
  namespace: { type: 'string' },
  mode: { type: 'string', default: 'External' },
  'ssh-secret': { type: 'string', default: 'gluster-ssh' },
  'brick-backend': { type: 'string', default: 'LVM' },
  'directory-root': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

/** The access and brick options checked, or the usage error. */
function clusterOptions(values: OptionValues, usage: string): ClusterOptions | CommandOutput {
  const mode = values.mode;
  if (mode !== 'External' && mode !== 'InCluster') return usageError(`--mode must be InCluster or External, not ${String(mode)}`, usage);
  const backend = values['brick-backend'];
  if (backend !== 'LVM' && backend !== 'LoopFile' && backend !== 'Directory') {
    return usageError(`--brick-backend must be LVM, LoopFile or Directory, not ${String(backend)}`, usage);
  }
  const root = values['directory-root'];
  if (backend !== 'LVM' && typeof root !== 'string') return usageError(`--brick-backend ${backend} needs --directory-root PATH`, usage);
  return {
    namespace: typeof values.namespace === 'string' ? values.namespace : undefined,
    mode,
    sshSecret: String(values['ssh-secret']),
    brickBackend: backend,
    ...(typeof root === 'string' ? { directoryRoot: root } : {}),
  };
}

/** The text of the file named by option `--<option>` (required), or the error to print. */
export function readInput(values: OptionValues, option: string, usage: string, io: CommandIo): string | CommandOutput {
  const file = values[option];
  if (typeof file !== 'string') return usageError(`--${option} FILE is required`, usage);
  try {
    return io.readText(file);
  } catch (error) {
    return { stdout: '', stderr: `error: cannot read ${file}: ${errorMessage(error)}\n`, code: 1 };
  }
}

/** An import: an input file and the cluster options in, YAML out. */
function importCommand(usage: string, input: string, convert: (text: string, cluster: ClusterOptions, clusterName: string | undefined) => CommandOutput): Command {
  return {
    usage,
    options: { ...CLUSTER_OPTIONS, [input]: { type: 'string' } },
    run(values, io) {
      // Usage first: a bad flag is said before a file is read.
      if (typeof values[input] !== 'string') return usageError(`--${input} FILE is required`, usage);
      const cluster = clusterOptions(values, usage);
      if ('code' in cluster) return cluster;
      const text = readInput(values, input, usage, io);
      if (typeof text !== 'string') return text;
      return convert(text, cluster, typeof values.cluster === 'string' ? values.cluster : undefined);
    },
  };
}

const COMMANDS: Record<string, Command> = {
  'topology import': importCommand(IMPORT_USAGE, 'json', (text, cluster, clusterName) => topologyImport({ text, ...cluster, clusterName: clusterName ?? 'gluster' })),
  'heketi import': importCommand(HEKETI_IMPORT_USAGE, 'db', (text, cluster, clusterName) => heketiImport({ text, ...cluster, clusterName })),
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

const output = await run(process.argv.slice(2), { readText: (path) => readFileSync(path === '-' ? 0 : path, 'utf8') });
process.stdout.write(output.stdout);
process.stderr.write(output.stderr);
process.exitCode = output.code;
