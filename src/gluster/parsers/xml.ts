import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { ParseError } from '../errors.ts';

/**
 * The one place gluster's `--xml` output is turned into plain objects. Everything stays a string here
 * (parseTagValue off): numbers are converted by zod schemas, so "N/A" or "-" never silently becomes NaN
 * or 0. Elements that repeat are listed by path, so a volume with one brick still yields an array.
 */
const REPEATED_PATHS = new Set([
  'cliOutput.volInfo.volumes.volume',
  'cliOutput.volInfo.volumes.volume.bricks.brick',
  'cliOutput.volInfo.volumes.volume.options.option',
  'cliOutput.peerStatus.peer',
  'cliOutput.peerStatus.peer.hostnames.hostname',
  'cliOutput.volStatus.volumes.volume',
  'cliOutput.volStatus.volumes.volume.node',
  'cliOutput.volStatus.volumes.volume.tasks.task',
  'cliOutput.healInfo.bricks.brick',
  'cliOutput.healInfo.bricks.brick.file',
  'cliOutput.volRebalance.node',
  'cliOutput.volRemoveBrick.node',
  'cliOutput.volGetopts.Opt',
  'cliOutput.snapInfo.snapshots.snapshot',
  'cliOutput.snapInfo.snapshots.snapshot.snapVolume',
  'cliOutput.snapList.snapshot',
  'cliOutput.snapDelete.snapshots.snapshot',
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  jPath: true,
  isArray: (_tag, jPath) => REPEATED_PATHS.has(String(jPath)),
});

/** A decimal integer as gluster prints it; anything else ("N/A", "", "-") is a parse error, not 0. */
export const intString = z
  .string()
  .regex(/^-?\d+$/, 'expected an integer')
  .transform((value) => Number(value));

/** Gluster prints "N/A" (ports, pids of offline bricks) or "-" for "not known". */
export const optionalIntString = z.union([
  z.literal('N/A').transform(() => null),
  z.literal('-').transform(() => null),
  intString,
]);

/**
 * A container element holding repeated `key` elements (`<bricks><brick/>...</bricks>`), as an array. An empty
 * container (`<bricks/>`, `<tasks/>`) parses to "": that is an empty list, not a missing one.
 */
export function xmlList<T extends z.ZodType>(key: string, item: T) {
  return z
    .preprocess((value) => (value === '' ? { [key]: [] } : value), z.object({ [key]: z.array(item) }))
    .transform((container) => container[key] as z.output<T>[]);
}

/** Empty elements (`<opErrstr/>`) parse to ""; a text element may also carry attributes. */
export const xmlText = z.preprocess(
  (value) => (value !== null && typeof value === 'object' && '#text' in value ? (value as { '#text': unknown })['#text'] : value),
  z.string(),
);

/** The envelope every `gluster --xml` answer has. opRet is the real outcome: gluster exits 0 on failure in XML mode. */
export const cliEnvelopeSchema = z.looseObject({
  opRet: intString,
  opErrno: intString,
  opErrstr: xmlText,
});

export type CliEnvelope = z.output<typeof cliEnvelopeSchema>;

export function parseXmlDocument(what: string, xml: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = parser.parse(xml, true);
  } catch (error) {
    throw new ParseError(what, xml, error);
  }
  const root = (document as { cliOutput?: unknown } | undefined)?.cliOutput;
  if (root === null || typeof root !== 'object') throw new ParseError(what, xml, new Error('no <cliOutput> element'));
  return root as Record<string, unknown>;
}

/** Parses `xml` as a cliOutput document and validates it with `schema`; any mismatch is a ParseError with the raw text. */
export function parseCliXml<T extends z.ZodType>(what: string, xml: string, schema: T): z.output<T> {
  const root = parseXmlDocument(what, xml);
  const result = schema.safeParse(root);
  if (!result.success) throw new ParseError(what, xml, new Error(z.prettifyError(result.error)));
  return result.data;
}

/** Just the envelope: used by the executor to find out whether an XML command failed. */
export function parseCliEnvelope(xml: string): CliEnvelope {
  return parseCliXml('gluster --xml envelope', xml, cliEnvelopeSchema);
}

/** Splits "host:/path" (gluster's brick name) at the first ":/", so IPv6-free hostnames and paths with colons work. */
export function splitBrickName(name: string): { host: string; path: string } {
  const at = name.indexOf(':/');
  if (at <= 0) throw new ParseError('brick name', name, new Error(`"${name}" is not host:/path`));
  return { host: name.slice(0, at), path: name.slice(at + 1) };
}
