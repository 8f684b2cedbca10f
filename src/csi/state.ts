import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * What the plugin published, one JSON file per target path, in a directory on the host (under the plugin's
 * kubelet directory) so it survives plugin restarts. The mount table says what is mounted but not with which
 * options or for which volume: a restarted plugin needs this to repair a broken mount as it was made, and
 * unpublish needs it to tell a mount it published from anyone else's.
 *
 * A record holds the fields of the publish request, not a command: whoever can write this directory must not
 * be able to have the plugin run something. Recovery passes the fields through the same schemas and checks as
 * a fresh NodePublishVolume (publish-plan.ts) and builds the argv anew; here they are only typed.
 */
const recordFields = {
  volumeId: z.string().min(1).max(512),
  targetPath: z.string().startsWith('/').max(4096),
  readOnly: z.boolean(),
};
const currentRecordSchema = z.object({
  version: z.literal(2),
  ...recordFields,
  accessMode: z.string().max(64),
  /** volume_capability.mount.mount_flags, split on commas. */
  mountFlags: z.array(z.string().max(4096)).max(64),
  /** The volume_context keys the plugin reads. */
  volumeContext: z.record(z.string().max(256), z.string().max(4096)),
});
export type PublishRecord = z.output<typeof currentRecordSchema>;

/**
 * Records of earlier releases held the mount argv. Read as data only: its source and options become the
 * fields of a request, validated like any other before anything is mounted from them.
 */
const legacyRecordSchema = z
  .object({ ...recordFields, mountArgv: z.array(z.string().max(4096)).min(2).max(16) })
  .transform((legacy): PublishRecord => {
    const optionsAt = legacy.mountArgv.indexOf('-o');
    const options = optionsAt >= 0 ? (legacy.mountArgv[optionsAt + 1] ?? '').split(',') : [];
    const source = legacy.mountArgv.at(-2) ?? '';
    return {
      version: 2,
      volumeId: legacy.volumeId,
      targetPath: legacy.targetPath,
      readOnly: legacy.readOnly,
      accessMode: legacy.readOnly ? 'MULTI_NODE_READER_ONLY' : 'MULTI_NODE_MULTI_WRITER',
      mountFlags: options.filter((option) => option !== '' && option !== 'ro'),
      volumeContext: { mountSource: source, glusterVolumeName: source.slice(source.indexOf(':') + 1).replace(/^\/+/, '') },
    };
  });

export const publishRecordSchema = z.union([currentRecordSchema, legacyRecordSchema]);

export type InvalidRecordHandler = (file: string, error: unknown) => void;

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
    await writeFile(`${file}.tmp`, JSON.stringify(currentRecordSchema.parse(record)), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  async remove(targetPath: string): Promise<void> {
    await rm(this.fileFor(targetPath), { force: true });
  }

  /** The record of one target path; undefined when there is none or it cannot be read (reported). */
  async get(targetPath: string, onInvalid: InvalidRecordHandler = () => undefined): Promise<PublishRecord | undefined> {
    const record = await this.read(this.fileFor(targetPath), onInvalid);
    // The file name is a hash of the path: a record that names another path is not this target's.
    return record?.targetPath === targetPath ? record : undefined;
  }

  /** Every readable record; an unreadable one is reported and skipped, never fatal to start-up. */
  async list(onInvalid: InvalidRecordHandler = () => undefined): Promise<PublishRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: PublishRecord[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const record = await this.read(join(this.dir, name), onInvalid);
      if (record) records.push(record);
    }
    return records;
  }

  private async read(file: string, onInvalid: InvalidRecordHandler): Promise<PublishRecord | undefined> {
    try {
      return publishRecordSchema.parse(JSON.parse(await readFile(file, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onInvalid(file, error);
      return undefined;
    }
  }
}
