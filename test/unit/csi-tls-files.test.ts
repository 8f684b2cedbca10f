import { expect } from 'chai';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, closeSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secrets } from '../../src/csi/requests.ts';
import { TlsFileWriter, type TlsMaterial } from '../../src/csi/tls-files.ts';

const DIR = '/var/lib/gluster-operator/tls/gluster/prod';
const FILES = { 'ca.crt': 'CA v1\n', 'tls.crt': 'CERT v1\n', 'tls.key': 'KEY v1\n' };
const material = (files: Record<string, string> = FILES, dir = DIR): TlsMaterial => ({ dir, secrets: new Secrets(files) });
const mode = (path: string) => statSync(path).mode & 0o777;

describe('CSI TLS files (tls-files.ts)', () => {
  let root: string;
  let writer: TlsFileWriter;
  let onDisk: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'csi-tls-'));
    writer = new TlsFileWriter({ root });
    onDisk = join(root, 'gluster', 'prod');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('maps a tlsDir under its root, and refuses any path tlsDirFor could not have made, before touching the disk', async () => {
    expect(writer.pathOf(DIR)).to.equal(onDisk);
    for (const dir of ['/etc', '/var/lib/gluster-operator/tls/../x', '/var/lib/gluster-operator/tls/a/b/c', '/var/lib/gluster-operator/tls/a', `${root}/gluster/prod`]) {
      let refused = false;
      await writer.write(material(FILES, dir)).catch(() => (refused = true));
      expect(refused, dir).to.equal(true);
    }
    expect(readdirSync(root)).to.deep.equal([]);
  });

  it('creates the directory (mkdir -p, 0700) and writes ca.crt, tls.crt and tls.key 0600, nothing else left behind', async () => {
    const report = await writer.write(material());
    expect(report).to.deep.equal({ written: ['ca.crt', 'tls.crt', 'tls.key'], unchanged: [] });
    expect(mode(join(root, 'gluster'))).to.equal(0o700);
    expect(mode(onDisk)).to.equal(0o700);
    expect(readdirSync(onDisk).sort()).to.deep.equal(['ca.crt', 'tls.crt', 'tls.key']);
    for (const [name, content] of Object.entries(FILES)) {
      expect(readFileSync(join(onDisk, name), 'utf8')).to.equal(content);
      expect(mode(join(onDisk, name)), name).to.equal(0o600);
    }
  });

  it('leaves a file that already holds the same bytes untouched (same inode and mtime), and replaces only the changed one', async () => {
    await writer.write(material());
    const past = new Date('2020-01-01T00:00:00Z');
    for (const name of Object.keys(FILES)) utimesSync(join(onDisk, name), past, past);
    const before = Object.fromEntries(Object.keys(FILES).map((name) => [name, statSync(join(onDisk, name))]));

    expect(await writer.write(material())).to.deep.equal({ written: [], unchanged: ['ca.crt', 'tls.crt', 'tls.key'] });
    for (const name of Object.keys(FILES)) {
      const now = statSync(join(onDisk, name));
      expect([now.ino, now.mtimeMs], name).to.deep.equal([before[name]!.ino, before[name]!.mtimeMs]);
    }

    expect(await writer.write(material({ ...FILES, 'tls.crt': 'CERT v2\n' }))).to.deep.equal({ written: ['tls.crt'], unchanged: ['ca.crt', 'tls.key'] });
    expect(statSync(join(onDisk, 'tls.crt')).ino).to.not.equal(before['tls.crt']!.ino);
    expect(statSync(join(onDisk, 'tls.key')).ino).to.equal(before['tls.key']!.ino);
    expect(readFileSync(join(onDisk, 'tls.crt'), 'utf8')).to.equal('CERT v2\n');
  });

  it('replaces a file by rename: a reader holding the old file reads it whole; the new one appears complete', async () => {
    await writer.write(material());
    const fd = openSync(join(onDisk, 'tls.key'), 'r');
    try {
      const big = `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(256 * 1024)}\n-----END PRIVATE KEY-----\n`;
      await writer.write(material({ ...FILES, 'tls.key': big }));
      const buffer = Buffer.alloc(64);
      const read = readSync(fd, buffer, 0, 64, 0);
      expect(buffer.subarray(0, read).toString()).to.equal('KEY v1\n');
      expect(readFileSync(join(onDisk, 'tls.key'), 'utf8')).to.equal(big);
    } finally {
      closeSync(fd);
    }
    expect(readdirSync(onDisk).filter((name) => name.endsWith('.tmp'))).to.deep.equal([]);
  });

  it('on a failed write keeps the old files and removes its temporary file', async () => {
    await writer.write(material());
    // A directory where tls.key should be: the rename over it fails.
    rmSync(join(onDisk, 'tls.key'));
    mkdirSync(join(onDisk, 'tls.key'));
    writeFileSync(join(onDisk, 'tls.key', 'keep'), 'x');
    let failed = false;
    await writer.write(material({ 'ca.crt': 'CA v2\n', 'tls.crt': 'CERT v1\n', 'tls.key': 'KEY v2\n' })).catch(() => (failed = true));
    expect(failed).to.equal(true);
    expect(readdirSync(onDisk).sort()).to.deep.equal(['ca.crt', 'tls.crt', 'tls.key']);
    expect(readFileSync(join(onDisk, 'tls.crt'), 'utf8')).to.equal('CERT v1\n');
  });

  it('sets modes back to 0700 and 0600 on a directory and an unchanged file found with others', async () => {
    await writer.write(material());
    chmodSync(onDisk, 0o755);
    chmodSync(join(onDisk, 'ca.crt'), 0o644);
    expect((await writer.write(material())).unchanged).to.have.length(3);
    expect(mode(onDisk)).to.equal(0o700);
    expect(mode(join(onDisk, 'ca.crt'))).to.equal(0o600);
  });

  it('refuses a symlink planted under the root and writes nothing where it leads', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'csi-tls-elsewhere-'));
    try {
      symlinkSync(elsewhere, join(root, 'gluster'));
      let failed = false;
      await writer.write(material()).catch(() => (failed = true));
      expect(failed).to.equal(true);
      expect(readdirSync(elsewhere)).to.deep.equal([]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('serializes writes of one directory: concurrent publishes leave one complete set and no temporary files', async () => {
    const sets = [1, 2, 3, 4].map((n) => ({ 'ca.crt': `CA ${n}\n`, 'tls.crt': `CERT ${n}\n`, 'tls.key': `KEY ${n}\n` }));
    await Promise.all(sets.map((files) => writer.write(material(files))));
    expect(readdirSync(onDisk).sort()).to.deep.equal(['ca.crt', 'tls.crt', 'tls.key']);
    // Queued in order: the last one asked for is what is there.
    expect(Object.keys(FILES).map((name) => readFileSync(join(onDisk, name), 'utf8'))).to.deep.equal(['CA 4\n', 'CERT 4\n', 'KEY 4\n']);
    expect(existsSync(join(root, 'gluster', 'other'))).to.equal(false);
  });
});
