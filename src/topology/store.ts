import type { Condition } from '../api/index.ts';
import { BackupTooNewError } from './backup/chunked.ts';
import { CoalescingWriter, type CoalescingWriterOptions } from './backup/coalescing-writer.ts';
import { StaleGenerationError, type LoadResult, type SaveResult } from './backup/secret-store.ts';
import type { TopologyDatabase } from './model.ts';
import { recordClusterEvent, type ClusterObservation, type EventsApi } from './rebuild/observe.ts';
import type { Finding } from './rebuild/rebuild.ts';
import { decideStartup, topologyCondition, type BackupState, type StartupReason } from './rebuild/startup.ts';

/**
 * The operator's one copy of the topology database: the current value in memory, every change committed
 * through here and backed up (coalesced) to Secrets, and at start-up restored from the backup or rebuilt
 * from the cluster. Placement and the reconcilers read `db` and `commit` pure changes; nothing else writes.
 */

/** The Secret store's surface the topology store uses (SecretBackupStore fits). */
export interface BackupBackend {
  load(): Promise<LoadResult<TopologyDatabase>>;
  save(db: TopologyDatabase): Promise<SaveResult>;
  quarantine(secrets: NonNullable<Extract<LoadResult<TopologyDatabase>, { state: 'corrupt' }>['evidence']>, reason: string): Promise<string[]>;
}

export interface StartupOutcome {
  reason: StartupReason;
  message: string;
  /** For GlusterCluster status (type TopologyRestored). */
  condition: Condition;
  findings: Finding[];
  /** Corrupt backup Secrets copied aside before the rebuilt backup replaced them. */
  quarantined: string[];
  generation?: number;
}

/** Start-up could not produce a topology that is safe to act on. Carries the condition to report. */
export class TopologyStartupError extends Error {
  readonly outcome: StartupOutcome;
  constructor(outcome: StartupOutcome, options?: { cause?: unknown }) {
    super(outcome.message, options);
    this.name = 'TopologyStartupError';
    this.outcome = outcome;
  }
}

export interface TopologyStoreOptions {
  backup: BackupBackend;
  /** Custom resources and per-node command output (observeCluster bound to clients). */
  observe: () => Promise<ClusterObservation>;
  /** Where Events go; none when absent. */
  events?: EventsApi;
  now?: () => Date;
  writer?: Omit<CoalescingWriterOptions<TopologyDatabase>, 'save' | 'isFatal'>;
  /** Diagnostics (a winston logger's `log` fits). */
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export class TopologyStore {
  private current: TopologyDatabase | undefined;
  private readonly writer: CoalescingWriter<TopologyDatabase>;
  private readonly options: TopologyStoreOptions;
  private readonly now: () => Date;

  constructor(options: TopologyStoreOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
    const { onError, ...writerOptions } = options.writer ?? {};
    this.writer = new CoalescingWriter<TopologyDatabase>({
      ...writerOptions,
      save: (db) => options.backup.save(db),
      // A newer generation in the Secret means another operator instance is writing: retrying cannot help.
      isFatal: (error) => error instanceof StaleGenerationError,
      onError: (error, db, failures) => {
        options.log?.(error instanceof StaleGenerationError ? 'error' : 'warn', 'topology backup failed', {
          generation: db.generation,
          failures,
          error: String(error),
        });
        onError?.(error, db, failures);
      },
    });
  }

  /** The current database. Throws before start() succeeded. */
  get db(): TopologyDatabase {
    if (!this.current) throw new Error('topology store not started');
    return this.current;
  }

  get started(): boolean {
    return this.current !== undefined;
  }

  /** Backup writes so far, coalesced. */
  get backupStats() {
    return this.writer.stats;
  }

  /**
   * Applies a pure change (the model's update functions) and schedules a backup. The change must move the
   * generation forward; returning the same database is a no-op.
   */
  commit(change: (db: TopologyDatabase) => TopologyDatabase): TopologyDatabase {
    const before = this.db;
    const after = change(before);
    if (after === before) return before;
    if (!(after.generation > before.generation)) {
      throw new Error(`a topology change must raise the generation (was ${before.generation}, got ${after.generation})`);
    }
    this.current = after;
    this.writer.schedule(after);
    return after;
  }

  /** Resolves when the latest committed database is in the backup. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  async stop(): Promise<void> {
    await this.writer.stop();
  }

  /**
   * Restores the backup, or rebuilds from the cluster when the backup is missing, corrupt or behind, or
   * refuses (TopologyStartupError) when the cluster cannot be seen well enough to rebuild safely. Reports the
   * outcome as Events on the GlusterClusters and returns the condition for their status.
   */
  async start(): Promise<StartupOutcome> {
    let loaded: LoadResult<TopologyDatabase>;
    try {
      loaded = await this.options.backup.load();
    } catch (error) {
      if (!(error instanceof BackupTooNewError)) throw error;
      const observation = await this.options.observe().catch(() => undefined);
      const outcome = this.outcome('BackupTooNew', error.message, []);
      await this.announce(observation, 'Warning', 'TopologyBackupTooNew', outcome.message);
      throw new TopologyStartupError(outcome, { cause: error });
    }
    const observation = await this.options.observe();
    const backup: BackupState =
      loaded.state === 'ok'
        ? { state: 'ok', db: loaded.db }
        : loaded.state === 'corrupt'
          ? { state: 'corrupt', reason: loaded.error.message, ...(loaded.generation !== undefined ? { generation: loaded.generation } : {}) }
          : { state: 'missing' };
    const decision = decideStartup({ ...observation, backup });
    const findings = [...observation.findings, ...decision.findings];

    if (decision.action === 'refuse') {
      const outcome = this.outcome(decision.reason, decision.message, findings);
      this.options.log?.('error', 'topology start-up refused', { message: decision.message });
      await this.announce(observation, 'Warning', 'TopologyRebuildBlocked', withFindings(decision.message, findings));
      throw new TopologyStartupError(outcome);
    }

    if (decision.action === 'restore') {
      this.current = decision.db;
      const outcome = this.outcome(decision.reason, decision.message, findings, decision.db.generation);
      await this.announce(observation, 'Normal', 'TopologyRestored', decision.message);
      return outcome;
    }

    // Rebuild: keep the evidence, then write the rebuilt database before acting on it.
    let quarantined: string[] = [];
    if (loaded.state === 'corrupt') quarantined = await this.options.backup.quarantine(loaded.evidence, loaded.error.message);
    await this.options.backup.save(decision.db);
    this.current = decision.db;
    const message = quarantined.length > 0 ? `${decision.message}; the corrupt backup was kept as ${quarantined.join(', ')}` : decision.message;
    const outcome = { ...this.outcome(decision.reason, message, findings, decision.db.generation), quarantined };
    const routine = backup.state === 'missing' && decision.db.volumes.length === 0 && !findings.some((f) => f.severity !== 'info');
    await this.announce(observation, routine ? 'Normal' : 'Warning', 'TopologyRebuilt', withFindings(message, findings));
    this.options.log?.(routine ? 'info' : 'warn', 'topology rebuilt from the cluster', { message, findings });
    return outcome;
  }

  private outcome(reason: StartupReason, message: string, findings: Finding[], generation?: number): StartupOutcome {
    return {
      reason,
      message,
      condition: topologyCondition({ reason, message }, this.now()),
      findings,
      quarantined: [],
      ...(generation !== undefined ? { generation } : {}),
    };
  }

  private async announce(observation: ClusterObservation | undefined, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    if (!this.options.events || !observation) return;
    for (const cluster of observation.clusters) {
      try {
        await recordClusterEvent(this.options.events, cluster, { type, reason, message }, this.now());
      } catch (error) {
        this.options.log?.('warn', 'could not record event', { cluster: cluster.metadata.name, reason, error: String(error) });
      }
    }
  }
}

function withFindings(message: string, findings: readonly Finding[]): string {
  const notable = findings.filter((f) => f.severity !== 'info');
  if (notable.length === 0) return message;
  return `${message}. Findings: ${notable.map((f) => `${f.code}: ${f.message}`).join('; ')}`;
}
