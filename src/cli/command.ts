import { KubeConfig } from '@kubernetes/client-node';
import type { ParseArgsOptionsConfig } from 'node:util';
import type { ClusterOptions } from '../heketi/convert.ts';
import { errorMessage } from '../runtime/error-message.ts';
import type { Clock } from '../runtime/clock.ts';
import type { CommandOutput } from './output.ts';
import { withPooledConnections } from '../controller/pooled-connections.ts';

/** What every kubectl-gluster command is, and the pieces several commands share. */

export function usageError(message: string, usage: string): CommandOutput {
  return { stdout: '', stderr: `error: ${message}\n\n${usage}`, code: 2 };
}

/** What a command may do besides computing: read files, reach the apiserver (the CLI's own I/O, replaced in tests). */
export interface CommandIo {
  readText(path: string): string;
  /** kubectl's configuration (KUBECONFIG, ~/.kube/config, or the in-cluster account); absent: loaded from there. */
  loadKubeConfig?(): KubeConfig;
  /** Progress lines of long commands, as they happen (stderr); absent: not shown. */
  progress?(line: string): void;
  /** Width of the terminal stdout is (undefined when it is a pipe or a file): long lines are cut to fit. */
  columns?: number;
  /** What "now" is, for ages ("written 3m ago"); absent: the system clock. */
  clock?: Pick<Clock, 'now'>;
  /**
   * Shows `prompt` (stderr) and reads one line of the answer (stdin); undefined when there is none (end of input).
   * Absent: nobody can be asked, so a command that needs a yes refuses unless its flag (--yes) gave one.
   */
  readLine?(prompt: string): Promise<string | undefined>;
}

export function kubeConfigOf(io: CommandIo): KubeConfig {
  if (io.loadKubeConfig) return io.loadKubeConfig();
  const config = withPooledConnections(new KubeConfig());
  config.loadFromDefault();
  return config;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface Command {
  usage: string;
  options: ParseArgsOptionsConfig;
  /** How many words after the command's name it takes (`volume describe NAME`: 1); absent: none. */
  maxArguments?: number;
  run(values: OptionValues, io: CommandIo, args?: string[]): CommandOutput | Promise<CommandOutput>;
}

/** The options both imports take: how the clusters are reached and where new bricks go. */
export const CLUSTER_OPTIONS = {
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
export function importCommand(usage: string, input: string, convert: (text: string, cluster: ClusterOptions, clusterName: string | undefined) => CommandOutput): Command {
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
