import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, notYet } from '../support/eventually.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);
const gluster = (...args: string[]) => ['gluster', '--mode=script', ...args];

describe('Gluster over SSH on the test bed: a replicate-3 volume end to end', function () {
  this.timeout(180_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES;
  const [first, ...others] = nodes as [string, ...string[]];
  const volume = `e2e-r3-${randomBytes(3).toString('hex')}`;
  const brickDir = `${env.TESTBED_BRICK_ROOT}/${volume}`;
  let mountPoint: string | undefined;

  before(() => {
    expect(nodes.length, 'TESTBED_NODES').to.be.greaterThanOrEqual(3);
  });

  after(async () => {
    // Undo in reverse, tolerating steps that never happened; fail loudly only if cleanup itself breaks.
    if (mountPoint) {
      await execFileAsync('umount', [mountPoint]).catch(() => execFileAsync('umount', ['-l', mountPoint!]));
      rmdirSync(mountPoint);
    }
    await sshRun(first, gluster('volume', 'stop', volume, 'force'));
    await sshRun(first, gluster('volume', 'delete', volume));
    for (const node of nodes.slice(0, 3)) await sshRun(node, ['rm', '-rf', brickDir]);
    for (const node of others) await sshRun(first, gluster('peer', 'detach', node));
  });

  it('forms a trusted pool by peer probe over SSH', async () => {
    for (const node of others.slice(0, 2)) {
      // An earlier suite may have formed the pool already; probing a member again is a success too.
      expect(await sshCheck(first, gluster('peer', 'probe', node))).to.match(/peer probe: success|already in peer list/);
    }
    await eventually('all peers connected', async () => {
      const list = await sshCheck(first, gluster('pool', 'list'));
      const connected = list.split('\n').filter((line) => /\bConnected\b/.test(line)).length;
      return connected === 3 ? list : notYet(list);
    });
  });

  it('creates and starts a replica 3 volume across the three nodes', async () => {
    const bricks = nodes.slice(0, 3).map((node) => `${node}:${brickDir}`);
    // The test bed's brick directories sit on the host's root filesystem, which Gluster only takes with force.
    expect(await sshCheck(first, gluster('volume', 'create', volume, 'replica', '3', ...bricks, 'force'))).to.contain('success');
    expect(await sshCheck(first, gluster('volume', 'start', volume))).to.contain('success');
    const info = await sshCheck(first, gluster('volume', 'info', volume));
    expect(info).to.match(/Type: Replicate/).and.to.match(/Number of Bricks: 1 x 3 = 3/).and.to.match(/Status: Started/);
  });

  it('mounts it on the host, writes, reads back, and the data is on every brick', async () => {
    mountPoint = mkdtempSync(join(tmpdir(), 'gluster-e2e-'));
    const backups = others.slice(0, 2).join(':');
    await eventually('FUSE mount', async () => {
      await execFileAsync('mount', ['-t', 'glusterfs', '-o', `backup-volfile-servers=${backups}`, `${first}:/${volume}`, mountPoint!]);
      return true;
    }, 30_000);
    const payload = `written through FUSE ${randomBytes(16).toString('hex')}\n`;
    writeFileSync(join(mountPoint, 'hello.txt'), payload);
    expect(readFileSync(join(mountPoint, 'hello.txt'), 'utf8')).to.equal(payload);
    for (const node of nodes.slice(0, 3)) {
      expect(await sshCheck(node, ['cat', `${brickDir}/hello.txt`]), node).to.equal(payload);
    }
  });

  it('unmounts, stops and deletes the volume', async () => {
    await execFileAsync('umount', [mountPoint!]);
    rmdirSync(mountPoint!);
    mountPoint = undefined;
    expect(await sshCheck(first, gluster('volume', 'stop', volume))).to.contain('success');
    expect(await sshCheck(first, gluster('volume', 'delete', volume))).to.contain('success');
    const list = await sshCheck(first, gluster('volume', 'list'));
    expect(list.split('\n')).to.not.include(volume);
  });
});
