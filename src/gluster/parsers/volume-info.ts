import { z } from 'zod';
import { ParseError } from '../errors.ts';
import { intString, parseCliXml, splitBrickName, xmlList, xmlText } from './xml.ts';

/**
 * `gluster --xml volume info [name]`: what Gluster itself says a volume is. The topology database's
 * "rebuild from the live cluster" depends on this, so every field is validated and nothing is defaulted.
 */
export interface GlusterBrickInfo {
  /** host:/path, exactly as gluster names the brick. */
  name: string;
  host: string;
  path: string;
  /** glusterd UUID of the peer hosting the brick. */
  hostUuid: string;
  isArbiter: boolean;
}

export type GlusterVolumeStatus = 'Created' | 'Started' | 'Stopped';
/** Durability family derived from the counts: gluster's typeStr adds "Distributed-" when there are several sets. */
export type GlusterDurability = 'distribute' | 'replicate' | 'disperse';

export interface GlusterVolumeInfo {
  name: string;
  id: string;
  /** gluster's typeStr: Distribute, Replicate, Distributed-Replicate, Disperse, Distributed-Disperse. */
  type: string;
  durability: GlusterDurability;
  status: GlusterVolumeStatus;
  brickCount: number;
  /** Number of replica/disperse sets (distribute: one per brick). */
  distCount: number;
  /** Bricks per replica set, arbiter included (1 when not replicated). */
  replicaCount: number;
  arbiterCount: number;
  /** Bricks per disperse set (0 when not dispersed). */
  disperseCount: number;
  redundancyCount: number;
  snapshotCount: number;
  bricks: GlusterBrickInfo[];
  options: Record<string, string>;
}

const brickSchema = z.object({
  name: xmlText,
  hostUuid: xmlText,
  isArbiter: z.enum(['0', '1']),
});

const optionSchema = z.object({ name: xmlText, value: xmlText });

const volumeSchema = z.object({
  name: xmlText,
  id: z.uuid(),
  statusStr: z.enum(['Created', 'Started', 'Stopped']),
  snapshotCount: intString,
  brickCount: intString,
  distCount: intString,
  replicaCount: intString,
  arbiterCount: intString,
  disperseCount: intString,
  redundancyCount: intString,
  typeStr: z.string().min(1),
  bricks: xmlList('brick', brickSchema),
  optCount: intString,
  options: xmlList('option', optionSchema).optional(),
});

const volumeInfoSchema = z.object({
  opRet: z.literal('0'),
  volInfo: z.object({
    volumes: z.object({
      volume: z.array(volumeSchema).optional(),
      count: intString,
    }),
  }),
});

function durabilityOf(volume: z.output<typeof volumeSchema>): GlusterDurability {
  if (volume.disperseCount > 0) return 'disperse';
  if (volume.replicaCount > 1) return 'replicate';
  return 'distribute';
}

export function parseVolumeInfoXml(xml: string): GlusterVolumeInfo[] {
  const parsed = parseCliXml('gluster volume info --xml', xml, volumeInfoSchema);
  const volumes = parsed.volInfo.volumes.volume ?? [];
  if (volumes.length !== parsed.volInfo.volumes.count) {
    throw new ParseError('gluster volume info --xml', xml, new Error(`count ${parsed.volInfo.volumes.count} but ${volumes.length} volumes`));
  }
  return volumes.map((volume) => {
    const bricks = volume.bricks.map((brick) => ({
      name: brick.name,
      ...splitBrickName(brick.name),
      hostUuid: brick.hostUuid,
      isArbiter: brick.isArbiter === '1',
    }));
    // Cross-checks: a mismatch means we misread the document, and a wrong brick list must never reach the database.
    if (bricks.length !== volume.brickCount) {
      throw new ParseError('gluster volume info --xml', xml, new Error(`${volume.name}: brickCount ${volume.brickCount} but ${bricks.length} bricks`));
    }
    const options = Object.fromEntries((volume.options ?? []).map((option) => [option.name, option.value]));
    if (Object.keys(options).length !== volume.optCount) {
      throw new ParseError('gluster volume info --xml', xml, new Error(`${volume.name}: optCount ${volume.optCount} but ${Object.keys(options).length} options`));
    }
    return {
      name: volume.name,
      id: volume.id,
      type: volume.typeStr,
      durability: durabilityOf(volume),
      status: volume.statusStr,
      brickCount: volume.brickCount,
      distCount: volume.distCount,
      replicaCount: volume.replicaCount,
      arbiterCount: volume.arbiterCount,
      disperseCount: volume.disperseCount,
      redundancyCount: volume.redundancyCount,
      snapshotCount: volume.snapshotCount,
      bricks,
      options,
    };
  });
}
