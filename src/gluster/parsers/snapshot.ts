import { z } from 'zod';
import { intString, parseCliXml, xmlList, xmlText } from './xml.ts';

/**
 * `gluster --xml snapshot ...` answers (glusterd 10.3, captured in test/fixtures/gluster/snapshot-*.xml). A
 * snapshot has a name (ours: what the CSI request named it) and a UUID; its "snap volume" is the read-only
 * volume glusterd made of thin snapshots of every brick, stopped until activated.
 */
export interface GlusterSnapshotRef {
  name: string;
  uuid: string;
}

export interface GlusterSnapshotInfo extends GlusterSnapshotRef {
  description: string;
  /** When glusterd took it, as an ISO 8601 instant (glusterd prints "2026-12-02 14:09:56 +0000"). */
  createdAt: string;
  /** The volume it is a snapshot of. */
  originVolume: string;
  /** Started (activated) or Stopped. */
  status: string;
}

const refSchema = z.object({ name: xmlText, uuid: z.uuid() });

export function parseSnapshotCreateXml(xml: string): GlusterSnapshotRef {
  return parseCliXml('gluster --xml snapshot create', xml, z.object({ opRet: z.literal('0'), snapCreate: z.object({ snapshot: refSchema }) })).snapCreate.snapshot;
}

/** A clone is a new volume: glusterd answers with the volume's name and id. */
export function parseSnapshotCloneXml(xml: string): { name: string; id: string } {
  const parsed = parseCliXml('gluster --xml snapshot clone', xml, z.object({ opRet: z.literal('0'), CloneCreate: z.object({ volume: refSchema }) }));
  return { name: parsed.CloneCreate.volume.name, id: parsed.CloneCreate.volume.uuid };
}

/** "2026-12-02 14:09:56 +0000" → "2026-12-02T14:09:56+00:00" (what Date and Kubernetes read). */
function isoInstant(glusterTime: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ([+-])(\d{2})(\d{2})$/.exec(glusterTime);
  if (!match) throw new Error(`unexpected snapshot time "${glusterTime}"`);
  return `${match[1]}T${match[2]}${match[3]}${match[4]}:${match[5]}`;
}

const snapVolumeSchema = z.object({ name: xmlText, status: xmlText, originVolume: z.object({ name: xmlText }) });

const infoSchema = z.object({
  opRet: z.literal('0'),
  snapInfo: z.object({
    count: intString,
    snapshots: xmlList(
      'snapshot',
      z.object({
        name: xmlText,
        uuid: z.uuid(),
        description: xmlText.optional(),
        createTime: xmlText.transform(isoInstant),
        snapVolume: z.array(snapVolumeSchema).min(1),
      }),
    ).optional(),
  }),
});

export function parseSnapshotInfoXml(xml: string): GlusterSnapshotInfo[] {
  const parsed = parseCliXml('gluster --xml snapshot info', xml, infoSchema);
  return (parsed.snapInfo.snapshots ?? []).map((snapshot) => ({
    name: snapshot.name,
    uuid: snapshot.uuid,
    description: snapshot.description ?? '',
    createdAt: snapshot.createTime,
    originVolume: snapshot.snapVolume[0]!.originVolume.name,
    status: snapshot.snapVolume[0]!.status,
  }));
}

/** Names of a volume's snapshots (none: `<snapList><count>0</count></snapList>`). */
export function parseSnapshotListXml(xml: string): string[] {
  const parsed = parseCliXml(
    'gluster --xml snapshot list',
    xml,
    z.object({ opRet: z.literal('0'), snapList: z.object({ count: intString, snapshot: z.array(xmlText).optional() }) }),
  );
  return parsed.snapList.snapshot ?? [];
}

export function parseSnapshotDeleteXml(xml: string): GlusterSnapshotRef {
  const parsed = parseCliXml(
    'gluster --xml snapshot delete',
    xml,
    z.object({ opRet: z.literal('0'), snapDelete: z.object({ snapshots: z.object({ snapshot: z.array(z.object({ status: z.literal('Success'), name: xmlText, uuid: z.uuid() })).length(1) }) }) }),
  );
  return { name: parsed.snapDelete.snapshots.snapshot[0]!.name, uuid: parsed.snapDelete.snapshots.snapshot[0]!.uuid };
}
