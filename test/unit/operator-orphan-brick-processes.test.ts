import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processHoldsPath, processIds, terminateProcess } from '../../src/gluster/commands/process.ts';
import type { NodeCommand } from '../../src/gluster/commands/command.ts';
import { runNodeCommand } from '../../src/gluster/executor.ts';
import type { Transport } from '../../src/gluster/transport.ts';
import { heldPathOf, orphanedBrickProcesses } from '../../src/operator/reconcilers/orphan-brick-processes.ts';
import type { BrickRecord } from '../../src/bricks/backend.ts';

/** This machine as a node: the executor runs the argv here and judges its exit code and output as on any node. */
const here: Transport = {
  run: async (_node, argv) => {
    const run = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    return { exitCode: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
  },
  close: async () => undefined,
};
const runHere = <T>(cmd: NodeCommand<T>): Promise<T> => runNodeCommand(here, { name: 'here', manageAddress: '127.0.0.1' }, cmd);

describe('orphaned brick processes: which glusterfsd may be stopped', () => {
  it('only one that holds the brick open and that glusterd lists for no brick', () => {
    const world = { glusterfsd: [300, 200, 100, 300], serving: new Set([100]), holding: new Set([100, 300]) };
    expect(orphanedBrickProcesses(world)).to.deep.equal([300]);
    // A multiplexed process glusterd lists serves other volumes' bricks: never, even when it holds this one.
    expect(orphanedBrickProcesses({ ...world, serving: new Set([100, 300]) })).to.deep.equal([]);
    // One that serves nothing but does not hold this brick is not this deletion's business.
    expect(orphanedBrickProcesses({ ...world, holding: new Set() })).to.deep.equal([]);
    // Not a glusterfsd (a shell in the brick directory): never.
    expect(orphanedBrickProcesses({ glusterfsd: [100], serving: new Set(), holding: new Set([555]) })).to.deep.equal([]);
  });

  it('looks for the brick\'s mount point when it is mounted, else its path', () => {
    const base = { id: 'b', backend: 'LoopFile', path: '/bricks/x/brick', sizeBytes: 1, location: '/bricks/x.img', gid: null } as const;
    expect(heldPathOf({ ...base, mount: { source: '/dev/loop3', target: '/bricks/x', fstype: 'xfs', options: '' } } as BrickRecord)).to.equal('/bricks/x');
    expect(heldPathOf({ ...base, mount: null } as BrickRecord)).to.equal('/bricks/x/brick');
  });
});

describe('process commands, run for real on this machine', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orphan-brick-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('processHoldsPath: true for a process with a file open under the path, false for the path\'s sibling and for a gone process', async () => {
    const brick = join(dir, 'brick_1');
    spawnSync('mkdir', ['-p', join(brick, '.glusterfs')]);
    writeFileSync(join(brick, '.glusterfs', 'held'), 'x');
    // A process that keeps the file open (fd 3), as the leftover glusterfsd kept the brick's directories.
    const holder = spawn('sh', ['-c', 'exec 3<"$1"; exec sleep 30', 'sh', join(brick, '.glusterfs', 'held')], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await runHere(processHoldsPath(holder.pid!, brick))).to.equal(true);
      expect(await runHere(processHoldsPath(holder.pid!, `${brick}0`))).to.equal(false);
      expect(await runHere(processHoldsPath(holder.pid!, join(dir, 'other')))).to.equal(false);
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((resolve) => holder.once('exit', resolve));
    expect(await runHere(processHoldsPath(holder.pid!, brick))).to.equal(false);
  });

  it('processIds: the PIDs of an exact name, none as an empty list; terminateProcess is SIGTERM by PID', async () => {
    expect(await runHere(processIds('no-such-proc-x'))).to.deep.equal([]);
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await runHere(processIds('sleep'))).to.include(sleeper.pid);
    } finally {
      sleeper.kill('SIGKILL');
    }
    expect(terminateProcess(4242).argv).to.deep.equal(['kill', '-TERM', '4242']);
    expect(() => processIds('a b')).to.throw(/invalid process name/);
    expect(() => processHoldsPath(1, '/bricks/*')).to.throw(/glob characters/);
  });
});
