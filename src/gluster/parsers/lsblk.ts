import { z } from 'zod';
import { ParseError } from '../errors.ts';

/**
 * `lsblk --json --bytes --nodeps -o NAME,WWN,SERIAL,KNAME,SIZE <device>` (util-linux 2.38): the identity of a
 * disk that survives /dev/sdX renaming. lsblk prints JSON null for a column the device lacks (loop devices have
 * no WWN nor serial); older releases printed sizes as strings, newer ones as numbers: both are accepted.
 */
export const LSBLK_COLUMNS = ['NAME', 'WWN', 'SERIAL', 'KNAME', 'SIZE'] as const;

const text = z.string().nullable().optional().transform((value) => (value === undefined || value === null || value.trim() === '' ? null : value.trim()));
const size = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number), z.null()])
  .optional()
  .transform((value) => value ?? null);
const row = z.object({ name: z.string().min(1), wwn: text, serial: text, kname: z.string().min(1), size });
const report = z.object({ blockdevices: z.array(row).length(1) });

export interface BlockDevice {
  name: string;
  kname: string;
  wwn: string | null;
  serial: string | null;
  sizeBytes: number | null;
}

export function parseLsblkJson(raw: string): BlockDevice {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ParseError('lsblk --json', raw, error);
  }
  const result = report.safeParse(json);
  if (!result.success) throw new ParseError('lsblk --json', raw, new Error(z.prettifyError(result.error)));
  const [device] = result.data.blockdevices;
  return { name: device!.name, kname: device!.kname, wwn: device!.wwn, serial: device!.serial, sizeBytes: device!.size };
}
