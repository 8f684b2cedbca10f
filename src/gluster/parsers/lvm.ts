import { z } from 'zod';
import { ParseError } from '../errors.ts';

/**
 * LVM JSON reports (`pvs|vgs|lvs --reportformat json --units b --nosuffix -o <fields>`). Sizes arrive as
 * byte strings; empty strings mean "not applicable" for a field on that row (pool_lv of a thin pool,
 * data_percent of a plain LV) and become null, never 0.
 */
export const PV_FIELDS = ['pv_name', 'vg_name', 'pv_uuid', 'pv_size', 'pv_free'] as const;
export const VG_FIELDS = ['vg_name', 'vg_uuid', 'vg_size', 'vg_free', 'vg_extent_size', 'vg_extent_count', 'vg_free_count', 'pv_count', 'lv_count'] as const;
export const LV_FIELDS = ['lv_name', 'vg_name', 'lv_uuid', 'lv_attr', 'lv_size', 'pool_lv', 'data_percent', 'metadata_percent', 'lv_metadata_size', 'thin_count', 'lv_dm_path'] as const;

const bytes = z.string().regex(/^\d+$/, 'expected a byte count').transform(Number);
const optionalBytes = z.union([z.literal('').transform(() => null), bytes]);
const optionalPercent = z.union([z.literal('').transform(() => null), z.string().regex(/^\d+(\.\d+)?$/).transform(Number)]);
const optionalText = z.string().transform((value) => (value === '' ? null : value));

const pvRow = z.object({
  pv_name: z.string().min(1),
  vg_name: optionalText,
  pv_uuid: z.string().min(1),
  pv_size: bytes,
  pv_free: bytes,
});
const vgRow = z.object({
  vg_name: z.string().min(1),
  vg_uuid: z.string().min(1),
  vg_size: bytes,
  vg_free: bytes,
  vg_extent_size: bytes,
  vg_extent_count: bytes,
  vg_free_count: bytes,
  pv_count: bytes,
  lv_count: bytes,
});
const lvRow = z.object({
  lv_name: z.string().min(1),
  vg_name: z.string().min(1),
  lv_uuid: z.string().min(1),
  lv_attr: z.string().min(1),
  lv_size: bytes,
  pool_lv: optionalText,
  data_percent: optionalPercent,
  metadata_percent: optionalPercent,
  lv_metadata_size: optionalBytes,
  thin_count: optionalBytes,
  lv_dm_path: optionalText,
});

function report<K extends string, T extends z.ZodType>(key: K, row: T) {
  return z.object({ report: z.array(z.object({ [key]: z.array(row) })).length(1) });
}

function parseReport<T extends z.ZodType>(what: string, key: string, row: T, raw: string): z.output<T>[] {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ParseError(what, raw, error);
  }
  const result = report(key, row).safeParse(json);
  if (!result.success) throw new ParseError(what, raw, new Error(z.prettifyError(result.error)));
  return (result.data.report[0] as Record<string, z.output<T>[]>)[key]!;
}

export interface PhysicalVolume {
  name: string;
  vgName: string | null;
  uuid: string;
  sizeBytes: number;
  freeBytes: number;
}

export interface VolumeGroup {
  name: string;
  uuid: string;
  sizeBytes: number;
  freeBytes: number;
  extentSizeBytes: number;
  extentCount: number;
  freeExtentCount: number;
  pvCount: number;
  lvCount: number;
}

export interface LogicalVolume {
  name: string;
  vgName: string;
  uuid: string;
  /** lv_attr[0]: 't' thin pool, 'V' thin volume, '-' plain. */
  attr: string;
  isThinPool: boolean;
  isThinVolume: boolean;
  sizeBytes: number;
  poolLv: string | null;
  dataPercent: number | null;
  metadataPercent: number | null;
  metadataSizeBytes: number | null;
  thinCount: number | null;
  dmPath: string | null;
}

export function parsePvsJson(raw: string): PhysicalVolume[] {
  return parseReport('pvs --reportformat json', 'pv', pvRow, raw).map((pv) => ({
    name: pv.pv_name,
    vgName: pv.vg_name,
    uuid: pv.pv_uuid,
    sizeBytes: pv.pv_size,
    freeBytes: pv.pv_free,
  }));
}

export function parseVgsJson(raw: string): VolumeGroup[] {
  return parseReport('vgs --reportformat json', 'vg', vgRow, raw).map((vg) => ({
    name: vg.vg_name,
    uuid: vg.vg_uuid,
    sizeBytes: vg.vg_size,
    freeBytes: vg.vg_free,
    extentSizeBytes: vg.vg_extent_size,
    extentCount: vg.vg_extent_count,
    freeExtentCount: vg.vg_free_count,
    pvCount: vg.pv_count,
    lvCount: vg.lv_count,
  }));
}

export function parseLvsJson(raw: string): LogicalVolume[] {
  return parseReport('lvs --reportformat json', 'lv', lvRow, raw).map((lv) => ({
    name: lv.lv_name,
    vgName: lv.vg_name,
    uuid: lv.lv_uuid,
    attr: lv.lv_attr,
    isThinPool: lv.lv_attr.startsWith('t'),
    isThinVolume: lv.lv_attr.startsWith('V'),
    sizeBytes: lv.lv_size,
    poolLv: lv.pool_lv,
    dataPercent: lv.data_percent,
    metadataPercent: lv.metadata_percent,
    metadataSizeBytes: lv.lv_metadata_size,
    thinCount: lv.thin_count,
    dmPath: lv.lv_dm_path,
  }));
}
