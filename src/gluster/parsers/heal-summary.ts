import { z } from 'zod';
import { optionalIntString, parseCliXml, splitBrickName, xmlList, xmlText } from './xml.ts';

/**
 * `gluster --xml volume heal <name> info summary`: per brick, how many entries its index holds, split by what
 * self-heal makes of them, without listing the entries (`heal info` prints every path, which on a big backlog is
 * a long crawl and a long document). glfsheal writes, per brick, <name>, <status> and four counts:
 * totalNumberOfEntries, numberOfEntriesInHealPending, numberOfEntriesInSplitBrain,
 * numberOfEntriesPossiblyHealing. A brick it cannot reach has status "Transport endpoint is not connected" and
 * "-" counts; one it could only partly crawl has a "Failed to process entries completely" status and no
 * per-kind counts. Both read as null here: unknown, never 0.
 */
export interface GlusterHealSummaryBrick {
  name: string;
  host: string;
  path: string;
  connected: boolean;
  status: string;
  total: number | null;
  healPending: number | null;
  splitBrain: number | null;
  possiblyHealing: number | null;
}

const count = optionalIntString.optional().transform((value) => value ?? null);

const brickSchema = z.object({
  name: xmlText,
  status: xmlText,
  totalNumberOfEntries: count,
  numberOfEntriesInHealPending: count,
  numberOfEntriesInSplitBrain: count,
  numberOfEntriesPossiblyHealing: count,
});

const healSummarySchema = z.object({
  opRet: z.literal('0'),
  healInfo: z.object({ bricks: xmlList('brick', brickSchema) }),
});

export function parseHealSummaryXml(xml: string): GlusterHealSummaryBrick[] {
  const parsed = parseCliXml('gluster volume heal info summary --xml', xml, healSummarySchema);
  return parsed.healInfo.bricks.map((brick) => ({
    name: brick.name,
    ...splitBrickName(brick.name),
    connected: brick.status === 'Connected',
    status: brick.status,
    total: brick.totalNumberOfEntries,
    healPending: brick.numberOfEntriesInHealPending,
    splitBrain: brick.numberOfEntriesInSplitBrain,
    possiblyHealing: brick.numberOfEntriesPossiblyHealing,
  }));
}
