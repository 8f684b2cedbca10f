import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHealth, Mounter, runDetached } from '../../src/csi/mounter.ts';
import { PublishStore } from '../../src/csi/state.ts';

describe('CSI mounter process handling', () => {
  it('runs commands in their own session, so signals to the plugin\'s group never reach them', async () => {
    const result = await runDetached(['sh', '-c', 'echo "$$ $(ps -o sid= -p $$)"'], 10_000);
    expect(result.code).to.equal(0);
    const [pid, sid] = result.output.split(/\s+/).map(Number);
    expect(sid).to.equal(pid);
    expect(sid).to.not.equal(process.pid);
  });

  it('captures stdout and stderr through a file and reports the exit code', async () => {
    const result = await runDetached(['sh', '-c', 'echo out; echo err >&2; exit 3'], 10_000);
    expect(result).to.deep.include({ code: 3, signal: null });
    expect(result.output.split('\n').sort()).to.deep.equal(['err', 'out']);
  });

  it('returns when the command exits even if a daemon it started keeps the output open', async () => {
    const started = Date.now();
    const result = await runDetached(['sh', '-c', '(sleep 3 &) ; echo forked'], 10_000);
    expect(result.output).to.equal('forked');
    expect(Date.now() - started).to.be.lessThan(2_500);
  });

  it('kills a command that exceeds the timeout', async () => {
    const result = await runDetached(['sleep', '30'], 200);
    expect(result.signal).to.equal('SIGKILL');
  });

  it('runs mounts with the isolation decided at start-up, none by default', () => {
    expect(new Mounter({ isolation: { mode: 'systemd' } }).mountCommand(['mount', 'x', '/t'], '/t')[0]).to.equal('systemd-run');
    expect(new Mounter({ isolation: { mode: 'host-cgroup', procsFiles: ['/c/cgroup.procs'] } }).mountCommand(['mount', 'x', '/t'], '/t').slice(-4)).to.deep.equal([
      '--', 'mount', 'x', '/t',
    ]);
    expect(new Mounter().mountCommand(['mount', 'x', '/t'], '/t')).to.deep.equal(['mount', 'x', '/t']);
  });

  it('reports a healthy filesystem with its sizes and a missing path as missing', async () => {
    const health = await checkHealth(tmpdir());
    expect(health.state).to.equal('healthy');
    if (health.state === 'healthy') expect(health.stats.blocks > 0n).to.equal(true);
    expect((await checkHealth('/nonexistent/csi/path')).state).to.equal('missing');
  });
});

describe('CSI publish records', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'csi-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves, lists and removes one record per target path; skips unreadable files', async () => {
    const store = new PublishStore(join(dir, 'published'));
    expect(await store.list()).to.deep.equal([]);
    const record = { volumeId: 'ns/v', targetPath: '/t/a', mountArgv: ['mount', '-t', 'glusterfs', 'h:/v', '/t/a'], readOnly: false };
    await store.save(record);
    await store.save({ ...record, readOnly: true });
    await store.save({ ...record, targetPath: '/t/b' });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'published', 'junk.json'), '{"not":"a record"}');
    const skipped: string[] = [];
    const records = await store.list((file) => skipped.push(file));
    expect(records.map((r) => [r.targetPath, r.readOnly]).sort()).to.deep.equal([['/t/a', true], ['/t/b', false]]);
    expect(skipped).to.have.length(1);
    await store.remove('/t/a');
    await store.remove('/t/a');
    expect((await store.list()).map((r) => r.targetPath)).to.deep.equal(['/t/b']);
  });
});
