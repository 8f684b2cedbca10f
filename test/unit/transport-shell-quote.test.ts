import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { quoteShellArg, quoteShellArgv } from '../../src/transport/shell-quote.ts';
import { HOSTILE_ARGS } from '../support/transport-hostile-args.ts';

/** Runs `printf '%s\0' args...` through a real shell and returns the argv printf received. */
function argvThroughShell(shell: string, args: readonly string[]): string[] {
  const script = quoteShellArgv(['printf', '%s\\0', ...args]);
  const result = spawnSync(shell, ['-c', script], { encoding: 'buffer' });
  expect(result.status, `${shell} exited ${result.status}: ${result.stderr.toString()}`).to.equal(0);
  const out = result.stdout.toString('utf8');
  expect(out.endsWith('\0'), 'output ends with a NUL').to.equal(true);
  return out.slice(0, -1).split('\0');
}

describe('transport: shell quoting', () => {
  const shells = ['/bin/sh', '/bin/dash', '/bin/bash', '/bin/zsh', '/bin/ksh'].filter((shell) => existsSync(shell));

  for (const shell of shells) {
    it(`${shell} receives every hostile argument byte for byte, all at once`, () => {
      expect(argvThroughShell(shell, HOSTILE_ARGS)).to.deep.equal([...HOSTILE_ARGS]);
    });

    it(`${shell} receives each hostile argument alone as exactly one argument`, () => {
      for (const arg of HOSTILE_ARGS) expect(argvThroughShell(shell, [arg]), JSON.stringify(arg)).to.deep.equal([arg]);
    });
  }

  it('runs under bash as a login-like shell with history expansion on (set -H)', () => {
    // Interactive bash expands "!"; sshd runs commands with -c (no history expansion), but prove quoting holds
    // even with it forced on.
    const script = `set -H; ${quoteShellArgv(['printf', '%s\\0', '!!', '!$', 'a!b'])}`;
    const result = spawnSync('/bin/bash', ['-c', script], { encoding: 'utf8' });
    expect(result.stdout.split('\0').slice(0, -1)).to.deep.equal(['!!', '!$', 'a!b']);
  });

  it('leaves plain words bare so logged commands stay readable', () => {
    expect(quoteShellArgv(['gluster', '--mode=script', 'volume', 'create', 'v1', 'replica', '3', '10.0.0.1:/bricks/b1'])).to.equal(
      'gluster --mode=script volume create v1 replica 3 10.0.0.1:/bricks/b1',
    );
  });

  it('quotes the empty string, so it stays an argument', () => {
    expect(quoteShellArg('')).to.equal("''");
  });

  it('quotes single quotes as close-escape-reopen', () => {
    expect(quoteShellArg("it's")).to.equal(`'it'\\''s'`);
  });

  it('quotes characters a shell would expand', () => {
    for (const arg of ['*', '$x', '`x`', '~', '=ls', 'a b', 'a\nb', '{a,b}', '!', '#', '&', ';', '|', '<', '>', '(', ')', '\\']) {
      expect(quoteShellArg(arg), JSON.stringify(arg)).to.match(/^'.*'$/s);
    }
  });

  it('refuses a NUL byte instead of silently truncating the argument', () => {
    expect(() => quoteShellArg('a\0b')).to.throw(TypeError, /NUL/);
  });

  it('refuses an empty argv', () => {
    expect(() => quoteShellArgv([])).to.throw(TypeError, /empty argv/);
  });
});
