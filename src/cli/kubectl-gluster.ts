#!/usr/bin/env node
/**
 * kubectl-gluster: the operator's kubectl plugin (`kubectl gluster ...` once on PATH).
 * Commands are functions from arguments and input text to output text and an exit code; this file only does
 * the I/O (argv, files, stdout/stderr, exit code).
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

Run 'kubectl gluster topology import --help' or 'kubectl gluster heketi import --help' for the options.
`;

function usageError(message: string, usage: string): CommandOutput {
  return { stdout: '', stderr: `error: ${message}\n\n${usage}`, code: 2 };
}

/** The options both imports take: how the clusters are reached and where new bricks go. */
const CLUSTER_OPTIONS = {
  cluster: { type: 'string' },
  namespace: { type: 'string' },
  mode: { type: 'string', default: 'External' },
  'ssh-secret': { type: 'string', default: 'gluster-ssh' },
  'brick-backend': { type: 'string', default: 'LVM' },
  'directory-root': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsOptionsConfig;

type Values = { [K in keyof typeof CLUSTER_OPTIONS]?: string | boolean | undefined } & Record<string, string | boolean | undefined>;

interface Command {
  usage: string;
  /** The option naming the input file (--json, --db). */
  input: string;
  run(text: string, cluster: ClusterOptions, clusterName: string | undefined): CommandOutput;
}

const COMMANDS: Record<string, Command> = {
  'topology import': {
    usage: IMPORT_USAGE,
    input: 'json',
    run: (text, cluster, clusterName) => topologyImport({ text, ...cluster, clusterName: clusterName ?? 'gluster' }),
  },
  'heketi import': {
    usage: HEKETI_IMPORT_USAGE,
    input: 'db',
    run: (text, cluster, clusterName) => heketiImport({ text, ...cluster, clusterName }),
  },
};

/** The access and brick options checked, or the usage error. */
function clusterOptions(values: Values, usage: string): ClusterOptions | CommandOutput {
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

export function run(argv: string[], readText: (path: string) => string): CommandOutput {
  const firstOption = argv.findIndex((arg) => arg.startsWith('-'));
  const words = firstOption === -1 ? argv : argv.slice(0, firstOption);
  const name = words.slice(0, 2).join(' ');
  const command = COMMANDS[name];
  if (!command) {
    if (words.length === 0) return { stdout: USAGE, stderr: '', code: argv.includes('--help') || argv.includes('-h') ? 0 : 2 };
    return usageError(`unknown command: ${words.join(' ')}`, USAGE);
  }
  let values: Values;
  try {
    const parsed = parseArgs({
      args: argv.slice(2),
      allowPositionals: false,
      strict: true,
      options: { ...CLUSTER_OPTIONS, [command.input]: { type: 'string' } },
    });
    values = parsed.values as Values;
  } catch (error) {
    return usageError(errorMessage(error), command.usage);
  }
  if (values.help) return { stdout: command.usage, stderr: '', code: 0 };
  const file = values[command.input];
  if (typeof file !== 'string') return usageError(`--${command.input} FILE is required`, command.usage);
  const cluster = clusterOptions(values, command.usage);
  if ('code' in cluster) return cluster;
  let text: string;
  try {
    text = readText(file);
  } catch (error) {
    return { stdout: '', stderr: `error: cannot read ${file}: ${errorMessage(error)}\n`, code: 1 };
  }
  return command.run(text, cluster, typeof values.cluster === 'string' ? values.cluster : undefined);
}

const output = run(process.argv.slice(2), (path) => readFileSync(path === '-' ? 0 : path, 'utf8'));
process.stdout.write(output.stdout);
process.stderr.write(output.stderr);
process.exitCode = output.code;
