import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { testbedEnv } from './testbed-env.ts';

/**
 * Runs one command on a test-bed node over real SSH. A small test helper: the operator's own transport
 * (connection reuse, host-key pinning, concurrency limits) is built apart from it.
 */
export interface RemoteResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** POSIX single-quoting: the remote shell receives each argument byte for byte. */
export function quoteArg(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export async function sshRun(host: string, argv: string[], timeoutMs = 60_000): Promise<RemoteResult> {
  const env = testbedEnv();
  const client = new Client();
  return await new Promise<RemoteResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end();
      reject(new Error(`ssh ${host} ${argv.join(' ')}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      client.end();
      reject(new Error(`ssh ${host} ${argv.join(' ')}: ${error.message}`));
    };
    client
      .on('ready', () => {
        client.exec(argv.map(quoteArg).join(' '), (error, stream) => {
          if (error) return fail(error);
          let stdout = '';
          let stderr = '';
          stream.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          stream.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          stream.on('close', (code: number | null) => {
            clearTimeout(timer);
            client.end();
            resolve({ code: code ?? -1, stdout, stderr });
          });
        });
      })
      .on('error', fail)
      .connect({
        host,
        port: env.TESTBED_SSH_PORT,
        username: env.TESTBED_SSH_USER,
        privateKey: readFileSync(env.TESTBED_SSH_KEY),
        readyTimeout: 10_000,
      });
  });
}

/** Like sshRun, but a non-zero exit is an error carrying the output. */
export async function sshCheck(host: string, argv: string[], timeoutMs?: number): Promise<string> {
  const result = await sshRun(host, argv, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`ssh ${host} ${argv.join(' ')} exited ${result.code}: ${result.stderr || result.stdout}`);
  }
  return result.stdout;
}
