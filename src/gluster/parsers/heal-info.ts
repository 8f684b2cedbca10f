import { z } from 'zod';
import { optionalIntString, parseCliXml, splitBrickName, xmlList, xmlText } from './xml.ts';

/**
 * `gluster --xml volume heal <name> info`. A brick that cannot be reached reports status
 * "Transport endpoint is not connected" and entries "-": entries is null then (unknown, not zero).
 */
export interface GlusterHealBrick {
  name: string;
  host: string;
  path: string;
  connected: boolean;
  status: string;
  pendingEntries: number | null;
  files: { gfid: string; path: string }[];
}

const fileSchema = z.object({ '#text': z.string(), '@_gfid': z.string() });

const brickSchema = z.object({
  name: xmlText,
  status: xmlText,
  numberOfEntries: optionalIntString,
  file: z.array(fileSchema).default([]),
});

const healInfoSchema = z.object({
  opRet: z.literal('0'),
  healInfo: z.object({ bricks: xmlList('brick', brickSchema) }),
});

export function parseHealInfoXml(xml: string): GlusterHealBrick[] {
  const parsed = parseCliXml('gluster volume heal info --xml', xml, healInfoSchema);
  return parsed.healInfo.bricks.map((brick) => ({
    name: brick.name,
    ...splitBrickName(brick.name),
    connected: brick.status === 'Connected',
    status: brick.status,
    pendingEntries: brick.numberOfEntries,
    files: brick.file.map((file) => ({ gfid: file['@_gfid'], path: file['#text'] })),
  }));
}

/** Entries still to heal across all bricks; null when some brick could not say (treat as "not healed"). */
export function totalPendingHeals(bricks: GlusterHealBrick[]): number | null {
  let total = 0;
  for (const brick of bricks) {
    if (brick.pendingEntries === null) return null;
    total += brick.pendingEntries;
  }
  return total;
}
