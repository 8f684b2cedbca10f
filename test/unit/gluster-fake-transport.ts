import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeTarget, RunOptions, RunResult, Transport } from '../../src/gluster/transport.ts';

/**
 * A Transport for unit tests that replays real captured outputs (test/fixtures) and records every argv,
 * so tests can assert exact command sequences. Replies are matched by a predicate on the argv, first
 * match wins; a reply may be used a limited number of times (to fail N times, then succeed).
 */
const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export function fixture(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

export interface FakeReply {
  match: (argv: readonly string[]) => boolean;
  result: RunResult | ((argv: readonly string[]) => RunResult | Promise<RunResult>);
  /** How many times this reply may be used; unlimited when omitted. */
  times?: number;
}

export interface RecordedCall {
  node: string;
  argv: readonly string[];
  options: RunOptions | undefined;
}

export const ok = (stdout = ''): RunResult => ({ exitCode: 0, stdout, stderr: '' });
export const failed = (exitCode: number, stderr: string, stdout = ''): RunResult => ({ exitCode, stdout, stderr });

/** Matches when argv contains the given words in order, contiguously (e.g. 'volume', 'create'). */
export function has(...words: string[]): (argv: readonly string[]) => boolean {
  return (argv) => argv.some((_, i) => words.every((word, j) => argv[i + j] === word));
}

export class FakeTransport implements Transport {
  readonly calls: RecordedCall[] = [];
  readonly replies: FakeReply[] = [];

  reply(match: FakeReply['match'], result: FakeReply['result'], times?: number): this {
    this.replies.push({ match, result, ...(times !== undefined && { times }) });
    return this;
  }

  async run(node: NodeTarget, argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    this.calls.push({ node: node.name, argv: [...argv], options });
    const index = this.replies.findIndex((reply) => reply.match(argv) && (reply.times === undefined || reply.times > 0));
    if (index < 0) throw new Error(`FakeTransport: no reply for ${argv.join(' ')}`);
    const reply = this.replies[index]!;
    if (reply.times !== undefined) reply.times--;
    return typeof reply.result === 'function' ? await reply.result(argv) : reply.result;
  }

  argvs(): string[][] {
    return this.calls.map((call) => [...call.argv]);
  }

  async close(): Promise<void> {}
}

export const node1: NodeTarget = { name: 'node-1', manageAddress: '10.77.0.11' };
