import { z } from 'zod';
import { ParseError } from '../errors.ts';
import { intString, parseCliXml, xmlText } from './xml.ts';

/**
 * `gluster --xml volume get VOL KEY|all`: <volGetopts> with a <count> and one <Opt> (<Option>, <Value>) per
 * option. For `volume get all …` these are the pool-wide options (cluster.brick-multiplex,
 * cluster.max-bricks-per-process, cluster.op-version, …). glusterd prints an option nobody set with its
 * default and " (DEFAULT)" after it ("disable (DEFAULT)", "250 (DEFAULT)"); a set one as it was set ("on",
 * "enable", "1", …). The suffix is dropped here and said in `isDefault`.
 */
export interface GlusterOptionValue {
  value: string;
  isDefault: boolean;
}

const DEFAULT_SUFFIX = ' (DEFAULT)';

const optSchema = z.object({ Option: xmlText, Value: xmlText.optional() });

const volumeGetSchema = z.object({
  opRet: z.literal('0'),
  volGetopts: z.object({
    count: intString.optional(),
    Opt: z.array(optSchema).default([]),
  }),
});

export function parseVolumeGetXml(xml: string): Record<string, GlusterOptionValue> {
  const parsed = parseCliXml('gluster volume get --xml', xml, volumeGetSchema);
  const options = parsed.volGetopts.Opt;
  if (parsed.volGetopts.count !== undefined && parsed.volGetopts.count !== options.length) {
    throw new ParseError('gluster volume get --xml', xml, new Error(`count ${parsed.volGetopts.count} but ${options.length} options`));
  }
  return Object.fromEntries(
    options.map((opt) => {
      const raw = (opt.Value ?? '').trim();
      const isDefault = raw.endsWith(DEFAULT_SUFFIX);
      return [opt.Option, { value: isDefault ? raw.slice(0, -DEFAULT_SUFFIX.length).trim() : raw, isDefault }];
    }),
  );
}

/** The words glusterd takes for a boolean option (gf_string2boolean): on/off, enable/disable, yes/no, true/false, 1/0. */
const TRUE_WORDS = new Set(['on', 'enable', 'yes', 'true', '1']);
const FALSE_WORDS = new Set(['off', 'disable', 'no', 'false', '0']);

export function parseGlusterBoolean(what: string, value: string): boolean {
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new ParseError(what, value, new Error(`"${value}" is not a boolean glusterd knows`));
}

export const BRICK_MULTIPLEX_KEY = 'cluster.brick-multiplex';
export const MAX_BRICKS_PER_PROCESS_KEY = 'cluster.max-bricks-per-process';

/** The pool's brick multiplexing as `volume get all` reports it. */
export interface BrickMultiplexSettings {
  enabled: boolean;
  /** 0 means no limit; undefined when the answer did not carry the option (a `volume get all cluster.brick-multiplex`). */
  maxBricksPerProcess: number | undefined;
}

export function brickMultiplexSettings(options: Record<string, GlusterOptionValue>): BrickMultiplexSettings {
  const multiplex = options[BRICK_MULTIPLEX_KEY];
  if (!multiplex) throw new ParseError('gluster volume get all', JSON.stringify(options), new Error(`no ${BRICK_MULTIPLEX_KEY} in the answer`));
  const max = options[MAX_BRICKS_PER_PROCESS_KEY];
  let maxBricksPerProcess: number | undefined;
  if (max) {
    if (!/^\d+$/.test(max.value)) throw new ParseError('gluster volume get all', max.value, new Error(`${MAX_BRICKS_PER_PROCESS_KEY} "${max.value}" is not a count`));
    maxBricksPerProcess = Number(max.value);
  }
  return { enabled: parseGlusterBoolean(BRICK_MULTIPLEX_KEY, multiplex.value), maxBricksPerProcess };
}
