import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mounter, runDetached } from '../../src/csi/mounter.ts';
import { PublishStore, type PublishRecord } from '../../src/csi/state.ts';

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
});

describe('CSI publish records', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'csi-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const record: PublishRecord = {
    version: 2, volumeId: 'ns/v', targetPath: '/t/a', readOnly: false, accessMode: 'MULTI_NODE_MULTI_WRITER', mountFlags: ['acl'],
    volumeContext: { mountSource: 'h:/v', glusterVolumeName: 'v' },
  };

  it('saves, lists, gets and removes one record per target path; skips unreadable files', async () => {
    const store = new PublishStore(join(dir, 'published'));
    expect(await store.list()).to.deep.equal([]);
    await store.save(record);
    await store.save({ ...record, readOnly: true });
    await store.save({ ...record, targetPath: '/t/b' });
    writeFileSync(join(dir, 'published', 'junk.json'), '{"not":"a record"}');
    const skipped: string[] = [];
    const records = await store.list((file) => skipped.push(file));
    expect(records.map((r) => [r.targetPath, r.readOnly]).sort()).to.deep.equal([['/t/a', true], ['/t/b', false]]);
    expect(skipped).to.have.length(1);
    expect(await store.get('/t/b')).to.deep.equal({ ...record, targetPath: '/t/b' });
    expect(await store.get('/t/none')).to.equal(undefined);
    await store.remove('/t/a');
    await store.remove('/t/a');
    expect((await store.list()).map((r) => r.targetPath)).to.deep.equal(['/t/b']);
  });

  it('never saves a command: the argv of an earlier release\'s record is read back as request fields', async () => {
    const store = new PublishStore(join(dir, 'published'));
    await store.save(record);
    const [file] = readdirSync(join(dir, 'published'));
    expect(JSON.parse(readFileSync(join(dir, 'published', file!), 'utf8'))).to.not.have.property('mountArgv');
    // What 0.1.0 wrote: the argv as it was run.
    const legacy = { volumeId: 'ns/v', targetPath: '/t/a', readOnly: true, mountArgv: ['mount', '-t', 'glusterfs', '-o', 'backup-volfile-servers=h2,log-level=WARNING,ro', 'h:/v', '/t/a'] };
    writeFileSync(join(dir, 'published', file!), JSON.stringify(legacy));
    expect(await store.get('/t/a')).to.deep.equal({
      version: 2, volumeId: 'ns/v', targetPath: '/t/a', readOnly: true, accessMode: 'MULTI_NODE_READER_ONLY',
      mountFlags: ['backup-volfile-servers=h2', 'log-level=WARNING'], volumeContext: { mountSource: 'h:/v', glusterVolumeName: 'v' },
    });
  });

  it('does not take a record filed under one path for another path', async () => {
    const store = new PublishStore(join(dir, 'published'));
    await store.save(record);
    const [file] = readdirSync(join(dir, 'published'));
    writeFileSync(join(dir, 'published', file!), JSON.stringify({ ...record, targetPath: '/t/elsewhere' }));
    expect(await store.get('/t/a')).to.equal(undefined);
  });
});
