import { z } from 'zod';
import { intString, parseCliXml, xmlText } from './xml.ts';

/**
 * `gluster --xml volume quota VOL list [PATH...]`: one <limit> per directory asked for (or per directory with a
 * limit, without paths). A directory that exists but has no limit is listed with "N/A" for the limit; its used
 * space is still counted. Bytes throughout (glusterd prints them exact in XML, rounded in the text table).
 */
export interface DirectoryQuota {
  path: string;
  /** The hard limit in bytes; undefined when the directory has none. */
  hardLimitBytes: number | undefined;
  /** What the quota accounting has counted so far (it lags writes by a few seconds: features.hard-timeout). */
  usedBytes: number;
}

const limitSchema = z.object({
  path: xmlText,
  hard_limit: z.union([z.literal('N/A').transform(() => undefined), intString]),
  used_space: intString,
});

const quotaListSchema = z.object({
  opRet: z.literal('0'),
  // `<volQuota/>` (nothing listed) parses to "".
  volQuota: z.union([z.literal('').transform(() => ({ limit: [] })), z.object({ limit: z.array(limitSchema).default([]) })]),
});

export function parseQuotaListXml(xml: string): DirectoryQuota[] {
  const parsed = parseCliXml('gluster volume quota list --xml', xml, quotaListSchema);
  return parsed.volQuota.limit.map((limit) => ({ path: limit.path, hardLimitBytes: limit.hard_limit, usedBytes: limit.used_space }));
}
