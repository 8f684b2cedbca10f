import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkHealth, MountHealthChecker } from '../../src/csi/mount-health.ts';

/**
 * A statfs that hangs the way one on a hung FUSE mount does: a child blocked in a syscall (open(2) of a FIFO
 * nobody writes to) that never returns by itself. It writes its PID first, so the test can see it killed.
 */
export function hangingStatfs(dir: string): { command: (path: string) => string[]; pid: () => number | undefined } {
  const fifo = join(dir, 'fifo');
  const pidFile = join(dir, 'pid');
  if (!existsSync(fifo)) execFileSync('mkfifo', [fifo]);
  const script = `const fs = require('node:fs'); fs.writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); fs.openSync(${JSON.stringify(fifo)}, 'r');`;
  return {
    command: (path) => [process.execPath, '-e', script, path],
    pid: () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined),
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('CSI mount health (statfs in a child process)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'csi-health-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a healthy filesystem with its sizes and a missing path as missing', async () => {
    const health = await checkHealth(tmpdir());
    expect(health.state).to.equal('healthy');
    if (health.state === 'healthy') expect(health.stats.blocks > 0n && health.stats.blockSize > 0n).to.equal(true);
    expect((await checkHealth('/nonexistent/csi/path')).state).to.equal('missing');
  });

  it('passes the path as an argument, never as code', async () => {
    const hostile = join(dir, "x'); process.exit(3); ('");
    expect((await checkHealth(hostile)).state).to.equal('missing');
  });

  it('answers broken at the timeout for a statfs that hangs, and kills the child', async () => {
    const hang = hangingStatfs(dir);
    const started = Date.now();
    const health = await checkHealth('/some/mount', { timeoutMs: 1_000, command: hang.command });
    expect(health).to.deep.include({ state: 'broken' });
    expect(health.state === 'broken' && health.reason).to.contain('did not answer within 1000 ms');
    expect(Date.now() - started).to.be.lessThan(3_000);
    const pid = hang.pid();
    expect(pid, 'the child started').to.be.a('number');
    for (let i = 0; i < 50 && alive(pid!); i++) await sleep(20);
    expect(alive(pid!), 'the hung child is killed').to.equal(false);
  });

  it('runs one child per path at a time: concurrent checks of a hung path share it', async () => {
    let spawned = 0;
    const hang = hangingStatfs(dir);
    const checker = new MountHealthChecker({
      timeoutMs: 500,
      command: (path) => {
        spawned++;
        return hang.command(path);
      },
    });
    const answers = await Promise.all([checker.check('/a'), checker.check('/a'), checker.check('/a')]);
    expect(answers.map((a) => a.state)).to.deep.equal(['broken', 'broken', 'broken']);
    expect(spawned).to.equal(1);
    // Once answered, the next check runs anew.
    await checker.check('/a');
    expect(spawned).to.equal(2);
  });
});
