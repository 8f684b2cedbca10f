import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * What the plugin published, one JSON file per target path, in a directory on the host (under the plugin's
 * kubelet directory) so it survives plugin restarts. The mount table says what is mounted but not with which
 * options or for which volume: a restarted plugin needs this to repair a broken mount exactly as it was made.
 */
export const publishRecordSchema = z.object({
  volumeId: z.string().min(1),
  targetPath: z.string().startsWith('/'),
  /** The mount argv as built by glusterMountArgv (without any systemd scope). */
  mountArgv: z.array(z.string()).min(2),
  readOnly: z.boolean(),
});
export type PublishRecord = z.infer<typeof publishRecordSchema>;

export class PublishStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  private fileFor(targetPath: string): string {
    return join(this.dir, `${createHash('sha256').update(targetPath).digest('hex').slice(0, 32)}.json`);
  }

  /** Written to a temporary name and renamed: a crash mid-write never leaves a half record. */
  async save(record: PublishRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileFor(record.targetPath);
    await writeFile(`${file}.tmp`, JSON.stringify(publishRecordSchema.parse(record)), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  async remove(targetPath: string): Promise<void> {
    await rm(this.fileFor(targetPath), { force: true });
  }

  /** Every readable record; an unreadable one is reported and skipped, never fatal to start-up. */
  async list(onInvalid: (file: string, error: unknown) => void = () => undefined): Promise<PublishRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: PublishRecord[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const file = join(this.dir, name);
      try {
        records.push(publishRecordSchema.parse(JSON.parse(await readFile(file, 'utf8'))));
      } catch (error) {
        onInvalid(file, error);
      }
    }
    return records;
  }
}
