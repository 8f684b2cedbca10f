import { conditionMessage, isDirectoryVolume, type Condition } from '../../api/index.ts';
import { brickGlusterName, topologyName, type TopologyDatabase } from '../model.ts';
import { glusterNameOrFinding, rebuildTopology, type Finding, type RebuildInputs, type RebuildResult } from './rebuild.ts';

/**
 * The start-up decision, as pure functions: restore the backup, or rebuild from the cluster, or refuse.
 *
 *  * A backup that verifies and is not behind the cluster is restored.
 *  * A backup that is missing, corrupt, or behind (the cluster shows volumes or bricks it does not know, or a
 *    higher generation was recorded elsewhere) is replaced by a rebuild from the live cluster.
 *  * A rebuild that cannot see a cluster's nodes is refused when there is reason to believe volumes exist
 *    (a backup existed, or GlusterVolumes exist): starting empty over existing volumes is how heketi's users
 *    ended up re-formatting disks.
 */

export const TOPOLOGY_CONDITION = 'TopologyRestored';

export type StartupReason = 'RestoredFromBackup' | 'RebuiltFromCluster' | 'RebuildBlocked' | 'BackupTooNew';

/** What the Secret store found, reduced to what the decision needs. */
export type BackupState =
  | { state: 'missing' }
  | { state: 'ok'; db: TopologyDatabase }
  | { state: 'corrupt'; reason: string; generation?: number };

export interface StartupInputs extends Omit<RebuildInputs, 'hint' | 'generation'> {
  backup: BackupState;
  /** Topology generations recorded elsewhere (e.g. a GlusterCluster annotation), with where. */
  recordedGenerations?: readonly { source: string; generation: number }[];
}

export type StartupDecision =
  | { action: 'restore'; db: TopologyDatabase; reason: 'RestoredFromBackup'; message: string; findings: Finding[] }
  | { action: 'rebuild'; db: TopologyDatabase; reason: 'RebuiltFromCluster'; message: string; findings: Finding[]; why: string[] }
  | { action: 'refuse'; reason: 'RebuildBlocked'; message: string; findings: Finding[]; why: string[] };

/**
 * Ways a verified backup lags behind the cluster. Empty means "not behind as far as can be seen"; clusters
 * whose nodes did not answer cannot be checked (and are not counted against the backup).
 */
export function backupLag(db: TopologyDatabase, inputs: Omit<StartupInputs, 'backup'>): string[] {
  const lag: string[] = [];
  for (const recorded of inputs.recordedGenerations ?? []) {
    if (recorded.generation > db.generation) lag.push(`${recorded.source} records generation ${recorded.generation}, the backup has ${db.generation}`);
  }
  const observationOf = new Map(inputs.observations.map((o) => [o.node, o]));
  const liveOf = (cluster: string) => {
    for (const node of inputs.nodes) {
      if (topologyName(node.metadata.namespace, node.spec.cluster) !== cluster) continue;
      const info = observationOf.get(topologyName(node.metadata.namespace, node.metadata.name))?.volumeInfo;
      if (info) return info;
    }
    return undefined;
  };
  // Directories (spec.directoryOf) have no Gluster volume of their own: nothing of theirs is in the database.
  for (const cr of inputs.volumes.filter((volume) => !isDirectoryVolume(volume))) {
    const cluster = topologyName(cr.metadata.namespace, cr.spec.cluster);
    const live = liveOf(cluster);
    const known = db.volumes.find((v) => v.name === topologyName(cr.metadata.namespace, cr.metadata.name) && v.cluster === cluster);
    if (!known) {
      // A name Gluster refuses cannot be a volume the backup misses; the rebuild reports it, if one happens.
      const glusterName = glusterNameOrFinding(cr, () => {});
      if (glusterName === undefined) continue;
      if (cr.status?.glusterVolumeId) lag.push(`GlusterVolume ${cr.metadata.name} reports Gluster volume ${glusterName} created, the backup does not know it`);
      else if (live?.some((v) => v.name === glusterName)) lag.push(`Gluster volume ${glusterName} (GlusterVolume ${cr.metadata.name}) exists, the backup does not know it`);
      continue;
    }
    const info = live?.find((v) => v.name === known.gluster);
    if (!info) continue; // unreachable, or missing in Gluster: a rebuild would not know more
    let bricks: string[];
    try {
      bricks = known.bricks.map((b) => brickGlusterName(db, b));
    } catch {
      lag.push(`the backup's bricks of ${known.name} do not resolve`);
      continue;
    }
    const liveBricks = info.bricks.map((b) => b.name);
    if (bricks.join('\n') !== liveBricks.join('\n')) {
      lag.push(`Gluster volume ${info.name} has bricks ${liveBricks.join(' ')}, the backup has ${bricks.join(' ')}`);
    }
  }
  return lag;
}

/** Clusters whose volumes matter but cannot be seen: any GlusterVolume in them, or (backup unusable) any at all. */
function blindSpots(rebuild: RebuildResult, inputs: StartupInputs): string[] {
  const backupExisted = inputs.backup.state !== 'missing';
  return rebuild.unreachableClusters.filter(
    (cluster) => backupExisted || inputs.volumes.some((v) => topologyName(v.metadata.namespace, v.spec.cluster) === cluster),
  );
}

export function decideStartup(inputs: StartupInputs): StartupDecision {
  const why: string[] = [];
  let hint: TopologyDatabase | undefined;
  let floor = 0;
  for (const recorded of inputs.recordedGenerations ?? []) floor = Math.max(floor, recorded.generation);
  switch (inputs.backup.state) {
    case 'ok': {
      const lag = backupLag(inputs.backup.db, inputs);
      if (lag.length === 0) {
        return {
          action: 'restore',
          db: inputs.backup.db,
          reason: 'RestoredFromBackup',
          message: `restored topology generation ${inputs.backup.db.generation} from the backup`,
          findings: [],
        };
      }
      why.push(`the backup (generation ${inputs.backup.db.generation}) is behind the cluster: ${lag.join('; ')}`);
      hint = inputs.backup.db;
      floor = Math.max(floor, inputs.backup.db.generation);
      break;
    }
    case 'corrupt':
      why.push(`the backup is corrupt: ${inputs.backup.reason}`);
      if (inputs.backup.generation !== undefined) floor = Math.max(floor, inputs.backup.generation);
      break;
    case 'missing':
      why.push('no backup exists');
      break;
  }
  const generation = floor + 1;
  const rebuilt = rebuildTopology({ ...inputs, generation, ...(hint ? { hint } : {}) });
  const blind = blindSpots(rebuilt, inputs);
  if (blind.length > 0) {
    return {
      action: 'refuse',
      reason: 'RebuildBlocked',
      message:
        `${why.join('; ')}, and no node of cluster(s) ${blind.join(', ')} answered: refusing to start with a topology ` +
        'that would not know existing volumes; the backup Secrets are left as they are. Make the nodes reachable and restart.',
      findings: rebuilt.findings,
      why,
    };
  }
  const errors = rebuilt.findings.filter((f) => f.severity === 'error').length;
  return {
    action: 'rebuild',
    db: rebuilt.db,
    reason: 'RebuiltFromCluster',
    message:
      `${why.join('; ')}: rebuilt topology generation ${generation} from the cluster ` +
      `(${rebuilt.db.volumes.length} volumes, ${rebuilt.db.nodes.length} nodes${errors ? `, ${errors} volume(s) could not be rebuilt, see events` : ''})`,
    findings: rebuilt.findings,
    why,
  };
}

/** The status condition the cluster reconciler puts on GlusterClusters. */
export function topologyCondition(
  outcome: { reason: StartupReason; message: string },
  now: Date,
  observedGeneration?: number,
): Condition {
  return {
    type: TOPOLOGY_CONDITION,
    status: outcome.reason === 'RestoredFromBackup' || outcome.reason === 'RebuiltFromCluster' ? 'True' : 'False',
    reason: outcome.reason,
    message: conditionMessage(outcome.message),
    lastTransitionTime: now.toISOString(),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
}
