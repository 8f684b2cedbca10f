import { z } from 'zod';
import { intString, parseCliXml, xmlText } from './xml.ts';

/**
 * Results of gluster mutations in XML mode. The executor has already turned opRet != 0 into an error;
 * these only pull out what callers use (the new volume's id, the task id of a rebalance or remove-brick).
 */
export interface GlusterCliOk {
  opErrno: number;
  /** <output> or a success text in <opErrstr> ("Remove Brick commit successful"), for logs. */
  message: string;
}

const okSchema = z.looseObject({
  opRet: z.literal('0'),
  opErrno: intString,
  opErrstr: xmlText,
  output: xmlText.optional(),
});

export function parseCliOkXml(xml: string): GlusterCliOk {
  const parsed = parseCliXml('gluster --xml result', xml, okSchema);
  return { opErrno: parsed.opErrno, message: parsed.output ?? parsed.opErrstr };
}

const volumeRefSchema = z.object({ name: xmlText, id: z.uuid() });

/** volume create/start/stop/delete answer with the volume's name and id. */
export function parseVolumeRefXml(element: 'volCreate' | 'volStart' | 'volStop' | 'volDelete', xml: string): { name: string; id: string } {
  const schema = z.object({ opRet: z.literal('0'), [element]: z.object({ volume: volumeRefSchema }) });
  const parsed = parseCliXml(`gluster --xml ${element}`, xml, schema) as Record<string, { volume: { name: string; id: string } }>;
  return parsed[element]!.volume;
}

/** rebalance start and remove-brick start answer with the id of the task they started. */
export function parseTaskIdXml(element: 'volRebalance' | 'volRemoveBrick', xml: string): string {
  const schema = z.object({ opRet: z.literal('0'), [element]: z.object({ 'task-id': z.uuid() }) });
  const parsed = parseCliXml(`gluster --xml ${element}`, xml, schema) as Record<string, { 'task-id': string }>;
  return parsed[element]!['task-id'];
}
