import type { z } from 'zod';
import { glusterVolumeNameOf, type GlusterCluster, type GlusterNode, type GlusterVolume } from '../../api/index.ts';
import type { LogicalVolume, PhysicalVolume, VolumeGroup } from '../../gluster/parsers/lvm.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import { topologyName, type TopologyDatabase } from '../model.ts';
import { errorMessage } from '../../runtime/error-message.ts';

/** What a rebuild takes and returns (rebuild.ts), and the small rules its parts share. rebuild.ts re-exports it. */

export type FindingSeverity = 'info' | 'warning' | 'error';

export interface Finding {
  severity: FindingSeverity;
  /** CamelCase, stable: for tests, metrics and Event reasons. */
  code: string;
  message: string;
  cluster?: string;
  volume?: string;
  node?: string;
}

/** What was learned from one Gluster node; absent parts could not be obtained (see `errors`). */
export interface NodeObservation {
  /** GlusterNode metadata.name. */
  node: string;
  /** `gluster volume info` as this node's glusterd reports it (the whole pool's volumes). */
  volumeInfo?: GlusterVolumeInfo[];
  pvs?: PhysicalVolume[];
  vgs?: VolumeGroup[];
  lvs?: LogicalVolume[];
  errors?: string[];
}

export interface RebuildInputs {
  clusters: readonly GlusterCluster[];
  nodes: readonly GlusterNode[];
  volumes: readonly GlusterVolume[];
  observations: readonly NodeObservation[];
  /** A readable but outdated database, consulted only for facts the cluster cannot show. */
  hint?: TopologyDatabase;
  /** Generation of the result: past every generation seen anywhere. */
  generation: number;
}

export interface RebuildResult {
  db: TopologyDatabase;
  findings: Finding[];
  /** Clusters of which no node answered `gluster volume info`: their volumes could not be rebuilt. */
  unreachableClusters: string[];
}

/**
 * The name a GlusterVolume has inside Gluster (glusterVolumeNameOf: spec, else status, else the default), or
 * undefined with a finding when it is not a name Gluster takes.
 */
export function glusterNameOrFinding(volume: GlusterVolume, find: (finding: Finding) => void, cluster?: string): string | undefined {
  try {
    return glusterVolumeNameOf(volume);
  } catch (error) {
    const name = topologyName(volume.metadata.namespace, volume.metadata.name);
    find({ severity: 'error', code: 'InvalidGlusterVolumeName', ...(cluster ? { cluster } : {}), volume: name, message: `${errorMessage(error)}; left out` });
    return undefined;
  }
}

/** Whether a record fits the database's schema; a finding says why not. */
export function fits<T>(schema: z.ZodType<T>, record: T, refuse: (problems: string) => void): boolean {
  const parsed = schema.safeParse(record);
  if (!parsed.success) refuse(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`).join('; '));
  return parsed.success;
}

