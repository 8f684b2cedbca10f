import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isTlsDir, TLS_ROOT, TLS_SECRET_KEYS } from '../gluster/tls.ts';
import { KeyedLock } from '../runtime/keyed-lock.ts';
import type { Secrets } from './requests.ts';

/**
 * The client side of Gluster I/O TLS: before mounting a volume whose PV names a `tlsDir`, the plugin writes the
 * GlusterCluster's certificate, key and CA (from the PV's nodePublishSecretRef, which kubelet reads with its
 * node credentials and passes as NodePublishVolumeRequest.secrets) into that directory, where the FUSE client
 * finds them through the volume's ssl.own-cert, ssl.private-key and ssl.ca-list options (src/gluster/tls.ts).
 *
 * The directory is shared by every volume of the cluster on the node, and FUSE clients already running read it
 * again whenever they build a new graph (a volume option changed, a brick added). So each file is written to a
 * temporary name in the same directory and renamed over the old one, and a file that already holds the same
 * bytes is not written at all: a reader sees the old file or the new one, never half of one.
 */

/**
 * What one publish writes: the directory and the request's secrets (redacted when logged), which hold every
 * key of TLS_SECRET_KEYS (requests.ts, tlsMaterialOf).
 */
export interface TlsMaterial {
  dir: string;
  secrets: Pick<Secrets, 'get'>;
}

/** Which files a write replaced, and which already held the same bytes (left untouched). */
export interface TlsWriteReport {
  written: string[];
  unchanged: string[];
}

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

export interface TlsFileWriterOptions {
  /** Where TLS_ROOT is on this filesystem: TLS_ROOT itself in the plugin; a temporary directory in tests. */
  root?: string;
}

export class TlsFileWriter {
  readonly root: string;
  /** Publishes of two volumes of one cluster write one directory: one at a time. */
  readonly #locks = new KeyedLock();

  constructor(options: TlsFileWriterOptions = {}) {
    this.root = options.root ?? TLS_ROOT;
  }

  /** Where a tlsDir (a path tlsDirFor makes) lies under this writer's root; throws for any other path. */
  pathOf(dir: string): string {
    if (!isTlsDir(dir)) throw new Error(`${JSON.stringify(dir)} is not a TLS directory under ${TLS_ROOT}`);
    return join(this.root, dir.slice(TLS_ROOT.length));
  }

  async write(material: TlsMaterial): Promise<TlsWriteReport> {
    const dir = this.pathOf(material.dir);
    return await this.#locks.run(dir, async () => {
      await this.makeDir(dir);
      const report: TlsWriteReport = { written: [], unchanged: [] };
      for (const name of TLS_SECRET_KEYS) {
        const content = material.secrets.get(name);
        if (!content) throw new Error(`no ${name} to write`);
        const changed = await writeFileAtomically(join(dir, name), Buffer.from(content, 'utf8'));
        (changed ? report.written : report.unchanged).push(name);
      }
      return report;
    });
  }

  /**
   * mkdir -p, one level at a time (0700): every directory from the root down must be a real directory, so a
   * symlink planted under the root never leads the write elsewhere.
   */
  private async makeDir(dir: string): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: DIR_MODE });
    let path = this.root;
    for (const part of dir.slice(this.root.length).split('/').filter((p) => p !== '')) {
      path = join(path, part);
      await mkdir(path, { mode: DIR_MODE }).catch((error: unknown) => {
        if (errnoOf(error) !== 'EEXIST') throw error;
      });
      const stats = await lstat(path);
      if (!stats.isDirectory()) throw new Error(`${path} is not a directory`);
      if ((stats.mode & 0o777) !== DIR_MODE) await chmod(path, DIR_MODE);
    }
  }
}

/**
 * Writes `content` to `file` (0600) by a temporary file in the same directory renamed over it; leaves a file that
 * already holds exactly these bytes alone (its mode set to 0600 if it was not). Whether it wrote.
 */
export async function writeFileAtomically(file: string, content: Buffer): Promise<boolean> {
  const current = await lstat(file).catch((error: unknown) => {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (current?.isFile() && (await readFile(file)).equals(content)) {
    if ((current.mode & 0o777) !== FILE_MODE) await chmod(file, FILE_MODE);
    return false;
  }
  const slash = file.lastIndexOf('/');
  const temporary = `${file.slice(0, slash)}/.${file.slice(slash + 1)}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', FILE_MODE);
    try {
      await handle.chmod(FILE_MODE);
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return true;
}
