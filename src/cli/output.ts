import { stringify } from 'yaml';

/** What a command returns: the CLI's only I/O is writing these and exiting with the code. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
  code: number;
}

export function toYamlStream(objects: unknown[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

const plural = (count: number, kind: string) => `${count} ${kind}${count === 1 ? '' : 's'}`;

/** The YAML stream on stdout; warnings and `imported 1 GlusterCluster, 3 GlusterNodes ...` on stderr. */
export function importOutput(objects: { kind: string }[], warnings: string[]): CommandOutput {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  const parts = [...counts].map(([kind, count]) => plural(count, kind));
  const summary = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : (parts[0] ?? 'nothing');
  const stderr = warnings.map((w) => `warning: ${w}\n`).join('') + `imported ${summary}\n`;
  return { stdout: toYamlStream(objects), stderr, code: 0 };
}

/** All or nothing: no YAML, every problem listed, exit code 1. */
export function refusal(what: string, problems: string[]): CommandOutput {
  return { stdout: '', stderr: `error: ${what} is not valid, nothing was printed:\n${problems.map((p) => `  ${p}\n`).join('')}`, code: 1 };
}
