import { parseCliOkXml, type GlusterCliOk } from '../parsers/cli-result.ts';
import { parseSnapshotCloneXml, parseSnapshotCreateXml, parseSnapshotDeleteXml, parseSnapshotInfoXml, parseSnapshotListXml, type GlusterSnapshotInfo, type GlusterSnapshotRef } from '../parsers/snapshot.ts';
import type { NodeCommand } from './command.ts';
import { assertName, mutation, query } from './gluster.ts';

/**
 * argv builders for Gluster snapshots (thin LVM bricks only: glusterd refuses others with "Snapshot is
 * supported only for thin provisioned LV"). Names are ours, never a user's free text: `no-timestamp` keeps
 * them as given, so a retried create finds its snapshot by name instead of making a second one.
 */
/** glusterd's own limit on snapshot names is 255; CSI's names (snapshot-<uuid>) are 45. */
export function assertSnapshotName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) throw new Error(`invalid snapshot name "${name}"`);
}

// Taking a snapshot pauses the volume's I/O while every brick's LV is snapshotted: give it longer than a probe.
const SNAPSHOT_TIMEOUT_MS = 120_000;

export function snapshotCreate(name: string, volume: string, description?: string): NodeCommand<GlusterSnapshotRef> {
  assertSnapshotName(name);
  assertName('volume name', volume);
  const describe = description === undefined ? [] : ['description', description];
  return mutation(['snapshot', 'create', name, volume, 'no-timestamp', ...describe], parseSnapshotCreateXml, SNAPSHOT_TIMEOUT_MS);
}

export function snapshotDelete(name: string): NodeCommand<GlusterSnapshotRef> {
  assertSnapshotName(name);
  return mutation(['snapshot', 'delete', name], parseSnapshotDeleteXml, SNAPSHOT_TIMEOUT_MS);
}

/** One snapshot's details; "does not exist" is a failure the caller classifies (not-found). */
export function snapshotInfo(name: string): NodeCommand<GlusterSnapshotInfo[]> {
  assertSnapshotName(name);
  return query(['snapshot', 'info', name], parseSnapshotInfoXml);
}

export function snapshotList(volume: string): NodeCommand<string[]> {
  assertName('volume name', volume);
  return query(['snapshot', 'list', volume], parseSnapshotListXml);
}

/** A clone is made from an activated snapshot only. */
export function snapshotActivate(name: string): NodeCommand<GlusterCliOk> {
  assertSnapshotName(name);
  return mutation(['snapshot', 'activate', name], parseCliOkXml, SNAPSHOT_TIMEOUT_MS);
}

/** A new, independent volume on thin snapshots of the snapshot's bricks (in the same thin pools). */
export function snapshotClone(clone: string, snapshot: string): NodeCommand<{ name: string; id: string }> {
  assertName('volume name', clone);
  assertSnapshotName(snapshot);
  return mutation(['snapshot', 'clone', clone, snapshot], parseSnapshotCloneXml, SNAPSHOT_TIMEOUT_MS);
}
