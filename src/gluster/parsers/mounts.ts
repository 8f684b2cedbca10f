import { z } from 'zod';
import { ParseError } from '../errors.ts';

/**
 * Observations the brick backends make before acting: what is mounted where (findmnt), which loop
 * device backs which file (losetup), and what a path is (stat). Empty output is meaningful for findmnt
 * and losetup (nothing matched) and is handled by the command, not papered over here.
 */
export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  options: string;
}

export interface LoopDevice {
  name: string;
  backingFile: string | null;
}

function parseJson<T extends z.ZodType>(what: string, schema: T, raw: string): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ParseError(what, raw, error);
  }
  const result = schema.safeParse(json);
  if (!result.success) throw new ParseError(what, raw, new Error(z.prettifyError(result.error)));
  return result.data;
}

const findmntSchema = z.object({
  filesystems: z.array(z.object({ source: z.string(), target: z.string(), fstype: z.string(), options: z.string() })),
});

/** `findmnt --json -o SOURCE,TARGET,FSTYPE,OPTIONS ...`; findmnt prints nothing (exit 1) when nothing matches. */
export function parseFindmntJson(raw: string): MountEntry[] {
  if (raw.trim() === '') return [];
  return parseJson('findmnt --json', findmntSchema, raw).filesystems;
}

const losetupSchema = z.object({
  loopdevices: z.array(z.object({ name: z.string().min(1), 'back-file': z.string().nullable() })),
});

/** `losetup --list --json --output NAME,BACK-FILE`; prints nothing when no loop device is set up. */
export function parseLosetupJson(raw: string): LoopDevice[] {
  if (raw.trim() === '') return [];
  return parseJson('losetup --json', losetupSchema, raw).loopdevices.map((loop) => ({
    name: loop.name,
    // losetup appends " (deleted)" when the backing file was removed under it.
    backingFile: loop['back-file'],
  }));
}

export interface PathStat {
  type: 'directory' | 'regular file' | 'regular empty file' | 'symbolic link' | 'block special file' | 'other';
  uid: number;
  gid: number;
  /** Octal permission bits as stat prints them, e.g. "2775". */
  mode: string;
  sizeBytes: number;
}

/** The format string the stat command uses; the parser depends on it. */
export const STAT_FORMAT = '%F|%u|%g|%a|%s';

export function parseStat(raw: string): PathStat {
  const match = /^([^|]+)\|(\d+)\|(\d+)\|([0-7]+)\|(\d+)\n?$/.exec(raw);
  if (!match) throw new ParseError('stat', raw);
  const known = ['directory', 'regular file', 'regular empty file', 'symbolic link', 'block special file'] as const;
  const type = (known as readonly string[]).includes(match[1]!) ? (match[1] as PathStat['type']) : 'other';
  return { type, uid: Number(match[2]), gid: Number(match[3]), mode: match[4]!, sizeBytes: Number(match[5]) };
}

const wipefsSchema = z.object({
  signatures: z.array(z.object({ type: z.string().nullable().optional() }).loose()),
});

/** `wipefs --json <device>`: the signature types on a device (xfs, LVM2_member, ...); [] when blank. */
export function parseWipefsJson(raw: string): string[] {
  if (raw.trim() === '') return [];
  return parseJson('wipefs --json', wipefsSchema, raw).signatures.map((signature) => signature.type ?? 'unknown');
}
