#!/usr/bin/env node
/**
 * kubectl-gluster: the operator's kubectl plugin (`kubectl gluster ...` once on PATH).
 * Commands are functions from arguments and input text to output text and an exit code; this file only does
 * the I/O (argv, files, stdout/stderr, exit code).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IMPORT_USAGE, topologyImport, type CommandOutput } from './topology-import.ts';
import { errorMessage } from '../runtime/error-message.ts';

const USAGE = `Usage: kubectl gluster COMMAND

Commands:
  topology import --json FILE   convert a heketi topology file into GlusterCluster and GlusterNode objects

Run 'kubectl gluster topology import --help' for the options.
`;

function usageError(message: string, usage: string): CommandOutput {
  return { stdout: '', stderr: `error: ${message}\n\n${usage}`, code: 2 };
}

export function run(argv: string[], readText: (path: string) => string): CommandOutput {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'string' },
        cluster: { type: 'string', default: 'gluster' },
        namespace: { type: 'string' },
        mode: { type: 'string', default: 'External' },
        'ssh-secret': { type: 'string', default: 'gluster-ssh' },
        'brick-backend': { type: 'string', default: 'LVM' },
        'directory-root': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usageError(errorMessage(error), argv[0] === 'topology' ? IMPORT_USAGE : USAGE);
  }
  const { values, positionals } = parsed;
  const command = positionals.join(' ');
  if (command === '' || (values.help && command !== 'topology import')) return { stdout: USAGE, stderr: '', code: values.help ? 0 : 2 };
  if (command !== 'topology import') return usageError(`unknown command: ${command}`, USAGE);
  if (values.help) return { stdout: IMPORT_USAGE, stderr: '', code: 0 };
  if (!values.json) return usageError('--json FILE is required', IMPORT_USAGE);
  if (values.mode !== 'External' && values.mode !== 'InCluster') return usageError(`--mode must be InCluster or External, not ${values.mode}`, IMPORT_USAGE);
  const backend = values['brick-backend'];
  if (backend !== 'LVM' && backend !== 'LoopFile' && backend !== 'Directory') {
    return usageError(`--brick-backend must be LVM, LoopFile or Directory, not ${backend}`, IMPORT_USAGE);
  }
  if (backend !== 'LVM' && !values['directory-root']) return usageError(`--brick-backend ${backend} needs --directory-root PATH`, IMPORT_USAGE);
  let text: string;
  try {
    text = readText(values.json);
  } catch (error) {
    return { stdout: '', stderr: `error: cannot read ${values.json}: ${errorMessage(error)}\n`, code: 1 };
  }
  return topologyImport({
    text,
    clusterName: values.cluster,
    namespace: values.namespace,
    mode: values.mode,
    sshSecret: values['ssh-secret'],
    brickBackend: backend,
    ...(values['directory-root'] ? { directoryRoot: values['directory-root'] } : {}),
  });
}

const output = run(process.argv.slice(2), (path) => readFileSync(path === '-' ? 0 : path, 'utf8'));
process.stdout.write(output.stdout);
process.stderr.write(output.stderr);
process.exitCode = output.code;
