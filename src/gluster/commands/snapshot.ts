import { parseCliOkXml, type GlusterCliOk } from '../parsers/cli-result.ts';
import { parseSnapshotCloneXml, parseSnapshotCreateXml, parseSnapshotDeleteXml, parseSnapshotInfoXml, parseSnapshotListXml, type GlusterSnapshotInfo, type GlusterSnapshotRef } from '../parsers/snapshot.ts';
import { command, type NodeCommand } from './command.ts';

/**
 * argv builders for Gluster snapshots (thin LVM bricks only: glusterd refuses others with "Snapshot is
 * supported only for thin provisioned LV"). Names are ours, never a user's free text: `no-timestamp` keeps
 * them as given, so a retried create finds its snapshot by name instead of making a second one.
 */
const GLUSTER = ['gluster', '--mode=script', '--xml'] as const;

/** glusterd's own limit on snapshot names is 255; CSI's names (snapshot-<uuid>) are 45. */
export function assertSnapshotName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) throw new Error(`invalid snapshot name "${name}"`);
}

function assertVolumeName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`invalid volume name "${name}"`);
}

// Taking a snapshot pauses the volume's I/O while every brick's LV is snapshotted: give it longer than a probe.
const SNAPSHOT_TIMEOUT_MS = 120_000;

export function snapshotCreate(name: string, volume: string, description?: string): NodeCommand<GlusterSnapshotRef> {
  assertSnapshotName(name);
  assertVolumeName(volume);
  const describe = description === undefined ? [] : ['description', description];
  return command({
    argv: [...GLUSTER, 'snapshot', 'create', name, volume, 'no-timestamp', ...describe],
    outcome: 'gluster-xml',
    mutatesCluster: true,
    parse: parseSnapshotCreateXml,
    timeoutMs: SNAPSHOT_TIMEOUT_MS,
  });
}

export function snapshotDelete(name: string): NodeCommand<GlusterSnapshotRef> {
  assertSnapshotName(name);
  return command({ argv: [...GLUSTER, 'snapshot', 'delete', name], outcome: 'gluster-xml', mutatesCluster: true, parse: parseSnapshotDeleteXml, timeoutMs: SNAPSHOT_TIMEOUT_MS });
}

/** One snapshot's details; "does not exist" is a failure the caller classifies (not-found). */
export function snapshotInfo(name: string): NodeCommand<GlusterSnapshotInfo[]> {
  assertSnapshotName(name);
  return command({ argv: [...GLUSTER, 'snapshot', 'info', name], outcome: 'gluster-xml', mutatesCluster: false, parse: parseSnapshotInfoXml });
}

export function snapshotList(volume: string): NodeCommand<string[]> {
  assertVolumeName(volume);
  return command({ argv: [...GLUSTER, 'snapshot', 'list', volume], outcome: 'gluster-xml', mutatesCluster: false, parse: parseSnapshotListXml });
}

/** A clone is made from an activated snapshot only. */
export function snapshotActivate(name: string): NodeCommand<GlusterCliOk> {
  assertSnapshotName(name);
  return command({ argv: [...GLUSTER, 'snapshot', 'activate', name], outcome: 'gluster-xml', mutatesCluster: true, parse: parseCliOkXml, timeoutMs: SNAPSHOT_TIMEOUT_MS });
}

/** A new, independent volume on thin snapshots of the snapshot's bricks (in the same thin pools). */
export function snapshotClone(clone: string, snapshot: string): NodeCommand<{ name: string; id: string }> {
  assertVolumeName(clone);
  assertSnapshotName(snapshot);
  return command({ argv: [...GLUSTER, 'snapshot', 'clone', clone, snapshot], outcome: 'gluster-xml', mutatesCluster: true, parse: parseSnapshotCloneXml, timeoutMs: SNAPSHOT_TIMEOUT_MS });
}
