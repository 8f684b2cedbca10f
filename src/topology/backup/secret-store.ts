import type { V1Secret } from '@kubernetes/client-node';
import { operatorMetrics } from '../../metrics/operator-metrics.ts';
import { BackupCorruptError, BackupTooNewError } from './chunked.ts';
import {
  ANNOTATION_ORIGINAL,
  ANNOTATION_REASON,
  apiStatus,
  BackupConflictError,
  CHUNK_KEY,
  compactTimestamp,
  decodeData,
  DEFAULT_BACKUP_NAME,
  headSecretBody,
  inlineKey,
  LABEL_BACKUP,
  LABEL_GENERATION,
  LABEL_QUARANTINED,
  LABEL_ROLE,
  parseHeadMeta,
  StaleGenerationError,
  type BackupCodec,
  type LoadResult,
  type SaveResult,
  type SecretsApi,
  type HeadMeta,
  type SecretStoreOptions,
} from './secret-objects.ts';

/**
 * What the Secret holds now, for the backup's generation, size and age in /metrics: reported after a read
 * that verified and after a write (or a save that found the same backup stored), never for a failed one.
 */
function reportStored(meta: Pick<HeadMeta, 'generation' | 'compressedBytes' | 'writtenAt'>): void {
  operatorMetrics.observeTopologyBackup({ generation: meta.generation, bytes: meta.compressedBytes, writtenAt: new Date(meta.writtenAt) });
}

/**
 * The topology backup in Secrets of the operator's namespace.
 *
 *  * One **head** Secret (`<base>`, default `gluster-operator-topology`) holds `meta.json`: generation, schema
 *    version, SHA-256 of the payload and of each chunk, and the names of the chunk Secrets. A backup that fits
 *    one chunk (the usual case) sits inline in the head as `chunk-0`: one Secret write per backup.
 *  * Larger backups go to **chunk** Secrets `<base>-g<generation>-<checksum>-<i>`, one chunk each. New chunk
 *    names never collide with the ones the current head references, and chunks are written before the head:
 *    a crash half-way leaves the previous backup whole. Stale chunks are deleted after the head moved on.
 *  * The head is written with the resourceVersion it was read at (create when absent): a 409 means someone
 *    else wrote in between, so the head is re-read and the generation rule applied again. A backup never
 *    replaces one with a higher generation (and a different database never replaces the same generation).
 *  * A head or chunk that cannot be trusted is **copied aside** (`<base>-corrupt-<ts>-…`, labelled with the
 *    role `corrupt`) before anything overwrites it: the evidence outlives the repair.
 */

export {
  ANNOTATION_ORIGINAL,
  ANNOTATION_REASON,
  apiStatus,
  BackupConflictError,
  compactTimestamp,
  DEFAULT_BACKUP_NAME,
  headMetaSchema,
  LABEL_BACKUP,
  LABEL_GENERATION,
  LABEL_QUARANTINED,
  LABEL_ROLE,
  StaleGenerationError,
  type BackupCodec,
  type HeadMeta,
  type LoadResult,
  type SaveResult,
  type SecretsApi,
  type SecretStoreOptions,
} from './secret-objects.ts';

export class SecretBackupStore<T> {
  readonly name: string;
  readonly namespace: string;
  private readonly core: SecretsApi;
  private readonly codec: BackupCodec<T>;
  private readonly writer: string | undefined;
  private readonly now: () => Date;
  private readonly maxAttempts: number;
  private readonly extraLabels: Record<string, string>;

  constructor(options: SecretStoreOptions<T>) {
    this.core = options.core;
    this.namespace = options.namespace;
    this.codec = options.codec;
    this.name = options.name ?? DEFAULT_BACKUP_NAME;
    this.writer = options.writer;
    this.now = options.now ?? (() => new Date());
    this.maxAttempts = options.maxAttempts ?? 8;
    this.extraLabels = options.labels ?? { 'app.kubernetes.io/part-of': 'gluster-operator', 'app.kubernetes.io/managed-by': 'gluster-operator' };
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(this.name) || this.name.length > 180) {
      throw new Error(`backup name ${JSON.stringify(this.name)} must be a DNS label of at most 180 characters`);
    }
  }

  /** Reads and verifies the backup. Never throws for a bad backup (that is `corrupt`); throws on API errors and for a too-new schema. */
  async load(): Promise<LoadResult<T>> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.loadOnce();
      if (result.state !== 'corrupt' || attempt >= 3) return result;
      // A writer may have moved the head on (and deleted its old chunks) while we read: if so, read again.
      const head = await this.readSecret(this.name);
      if (head?.metadata?.resourceVersion === result.evidence[0]?.metadata?.resourceVersion) return result;
    }
  }

  private async loadOnce(): Promise<LoadResult<T>> {
    const head = await this.readSecret(this.name);
    if (!head) return { state: 'missing' };
    const evidence: V1Secret[] = [head];
    const meta = parseHeadMeta(head);
    if (!meta.success) return { state: 'corrupt', error: meta.error, evidence };
    const chunks: Buffer[] = [];
    if (meta.data.chunkSecrets) {
      if (meta.data.chunkSecrets.length !== meta.data.chunks.length) {
        const error = new BackupCorruptError('chunk-count', `head names ${meta.data.chunkSecrets.length} chunk Secrets for ${meta.data.chunks.length} chunks`);
        return { state: 'corrupt', error, generation: meta.data.generation, evidence };
      }
      for (const [index, chunkName] of meta.data.chunkSecrets.entries()) {
        const secret = await this.readSecret(chunkName);
        if (secret) evidence.push(secret);
        const chunk = secret && decodeData(secret, CHUNK_KEY);
        if (!chunk) {
          const error = new BackupCorruptError('chunk-count', `chunk ${index} (Secret ${chunkName}) is ${secret ? 'empty' : 'missing'}`);
          return { state: 'corrupt', error, generation: meta.data.generation, evidence };
        }
        chunks.push(chunk);
      }
    } else {
      for (let index = 0; index < meta.data.chunks.length; index++) {
        const chunk = decodeData(head, inlineKey(index));
        if (!chunk) {
          const error = new BackupCorruptError('chunk-count', `inline chunk ${index} is missing from the head Secret`);
          return { state: 'corrupt', error, generation: meta.data.generation, evidence };
        }
        chunks.push(chunk);
      }
    }
    try {
      const db = this.codec.decode(chunks, meta.data);
      reportStored(meta.data);
      return { state: 'ok', db, meta: meta.data, resourceVersion: head.metadata?.resourceVersion ?? '' };
    } catch (error) {
      if (error instanceof BackupTooNewError) throw error;
      if (error instanceof BackupCorruptError) return { state: 'corrupt', error, generation: meta.data.generation, evidence };
      throw error;
    }
  }

  /**
   * Writes a backup of `db` unless the same or a newer one is stored. Conflicts (409) are re-read and retried;
   * a higher stored generation throws {@link StaleGenerationError}.
   */
  async save(db: T): Promise<SaveResult> {
    const encoded = this.codec.encode(db);
    const { generation } = encoded;
    const inline = encoded.chunks.length === 1;
    const chunkNames = inline ? undefined : encoded.chunks.map((_, i) => this.chunkName(generation, encoded.checksum, i));
    const created: string[] = [];
    const quarantined: string[] = [];
    let chunksWritten = false;
    let committed = false;
    try {
      for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
        const head = await this.readSecret(this.name);
        if (head) {
          const stored = parseHeadMeta(head);
          if (stored.success) {
            if (stored.data.generation > generation) throw new StaleGenerationError(stored.data.generation, generation);
            if (stored.data.generation === generation) {
              if (stored.data.checksum === encoded.checksum) {
                committed = true;
                reportStored(stored.data);
                return { written: false, generation, chunks: encoded.chunks.length, attempts: attempt - 1, quarantined };
              }
              throw new StaleGenerationError(stored.data.generation, generation, ' with different contents (two writers?)');
            }
          } else {
            // Unreadable head: keep it as evidence, then replace it (with its resourceVersion, still).
            quarantined.push(...(await this.quarantine([head], `unreadable head before writing generation ${generation}: ${stored.error.message}`)));
          }
        }
        if (chunkNames && !chunksWritten) {
          for (const [index, chunk] of encoded.chunks.entries()) {
            if (await this.writeChunk(chunkNames[index]!, chunk, generation, index)) created.push(chunkNames[index]!);
          }
          chunksWritten = true;
        }
        const writtenAt = this.now();
        const body = headSecretBody({
          name: this.name,
          namespace: this.namespace,
          labels: this.labels('head', generation),
          encoded,
          chunkNames,
          resourceVersion: head?.metadata?.resourceVersion,
          writtenAt,
          writer: this.writer,
        });
        try {
          if (head) await this.core.replaceNamespacedSecret({ name: this.name, namespace: this.namespace, body });
          else await this.core.createNamespacedSecret({ namespace: this.namespace, body });
          committed = true;
          reportStored({ ...encoded.meta, writtenAt: writtenAt.toISOString() });
        } catch (error) {
          // 409: changed (replace) or created (create) since we read it. Read again and decide again.
          if (apiStatus(error) === 409) continue;
          throw error;
        }
        await this.deleteStaleChunks(generation, new Set(chunkNames ?? []));
        return { written: true, generation, chunks: encoded.chunks.length, attempts: attempt, quarantined };
      }
      throw new BackupConflictError(`topology backup head ${this.namespace}/${this.name} kept changing: gave up after ${this.maxAttempts} attempts`);
    } finally {
      // Chunks of a backup whose head never landed would only be garbage.
      if (!committed) for (const name of created) await this.deleteSecret(name).catch(() => undefined);
    }
  }

  /**
   * Copies Secrets aside as `<base>-corrupt-<ts>-<n>` (same data, role `corrupt`, original name and reason in
   * annotations), so that repairing the backup never destroys the evidence. Returns the copies' names.
   */
  async quarantine(secrets: readonly V1Secret[], reason: string): Promise<string[]> {
    const stamp = compactTimestamp(this.now());
    const names: string[] = [];
    for (const [index, secret] of secrets.entries()) {
      const original = secret.metadata?.name ?? 'unknown';
      const suffix = original === this.name ? 'head' : String(index);
      const name = `${this.name}-corrupt-${stamp}-${suffix}`;
      const body: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: {
          name,
          namespace: this.namespace,
          labels: {
            ...this.extraLabels,
            [LABEL_BACKUP]: this.name,
            [LABEL_ROLE]: 'corrupt',
            [LABEL_QUARANTINED]: `corrupt-${stamp}`,
          },
          annotations: { [ANNOTATION_ORIGINAL]: original, [ANNOTATION_REASON]: reason.slice(0, 4096) },
        },
        data: { ...(secret.data ?? {}) },
      };
      try {
        await this.core.createNamespacedSecret({ namespace: this.namespace, body });
      } catch (error) {
        if (apiStatus(error) !== 409) throw error; // already copied in this second: keep the first copy
      }
      names.push(name);
    }
    return names;
  }

  /** Deletes the head and all chunk Secrets of this backup (not the quarantined copies). For tests and uninstall. */
  async deleteAll(): Promise<void> {
    for (const secret of await this.listOwn()) {
      if (secret.metadata?.labels?.[LABEL_ROLE] !== 'corrupt') await this.deleteSecret(secret.metadata!.name!);
    }
    await this.deleteSecret(this.name);
  }

  /** Quarantined copies of this backup, oldest first. */
  async listQuarantined(): Promise<V1Secret[]> {
    const all = await this.listOwn();
    return all.filter((s) => s.metadata?.labels?.[LABEL_ROLE] === 'corrupt').sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
  }

  chunkName(generation: number, checksum: string, index: number): string {
    return `${this.name}-g${generation}-${checksum.slice(0, 10)}-${index}`;
  }

  private labels(role: 'head' | 'chunk', generation: number): Record<string, string> {
    return { ...this.extraLabels, [LABEL_BACKUP]: this.name, [LABEL_ROLE]: role, [LABEL_GENERATION]: String(generation) };
  }

  /** Creates a chunk Secret; an existing one of the same name is reused when its bytes match. Returns true if created. */
  private async writeChunk(name: string, chunk: Buffer, generation: number, index: number): Promise<boolean> {
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      immutable: true,
      metadata: { name, namespace: this.namespace, labels: { ...this.labels('chunk', generation), 'storage.gluster-operator.dev/topology-chunk': String(index) } },
      data: { [CHUNK_KEY]: chunk.toString('base64') },
    };
    try {
      await this.core.createNamespacedSecret({ namespace: this.namespace, body });
      return true;
    } catch (error) {
      if (apiStatus(error) !== 409) throw error;
    }
    // Same name = same generation and checksum prefix: normally an earlier attempt of this very backup.
    const existing = await this.readSecret(name);
    if (existing && decodeData(existing, CHUNK_KEY)?.equals(chunk)) return false;
    if (existing) await this.deleteSecret(name);
    await this.core.createNamespacedSecret({ namespace: this.namespace, body });
    return true;
  }

  /** Deletes chunk Secrets older than `generation` that the new head does not reference. Best effort. */
  private async deleteStaleChunks(generation: number, keep: Set<string>): Promise<void> {
    let secrets: V1Secret[];
    try {
      secrets = await this.listOwn(`${LABEL_ROLE}=chunk`);
    } catch {
      return; // garbage for the next write to collect; the backup itself is complete
    }
    for (const secret of secrets) {
      const name = secret.metadata?.name;
      const chunkGeneration = Number(secret.metadata?.labels?.[LABEL_GENERATION]);
      // Chunks of a higher generation belong to a writer that is about to move the head past ours: leave them.
      if (!name || keep.has(name) || !(chunkGeneration <= generation)) continue;
      await this.deleteSecret(name).catch(() => undefined);
    }
  }

  private async listOwn(extraSelector?: string): Promise<V1Secret[]> {
    const labelSelector = [`${LABEL_BACKUP}=${this.name}`, ...(extraSelector ? [extraSelector] : [])].join(',');
    const list = await this.core.listNamespacedSecret({ namespace: this.namespace, labelSelector });
    return list.items;
  }

  private async readSecret(name: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ name, namespace: this.namespace });
    } catch (error) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  }

  private async deleteSecret(name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ name, namespace: this.namespace });
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
    }
  }
}
