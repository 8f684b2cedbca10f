import { z } from 'zod';
import { hostAddress } from '../api/common.ts';
import { HeketiImportError, readJson } from './problems.ts';
import { fieldPath } from './topology-file.ts';

/**
 * heketi's database as `heketi db export --dbfile heketi.db --jsonfile db.json` (or `heketi-cli db dump`)
 * writes it: Go's encoding/json of heketi's bolt buckets, one map per bucket keyed by id:
 *
 *   {"clusterentries": {"<id>": {"Info": {"id", "nodes", "volumes", "block", "file", "blockvolumes"}}},
 *    "nodeentries":    {"<id>": {"State": "online", "Info": {"zone", "hostnames": {"manage", "storage"},
 *                                 "cluster", "tags"?, "id"}, "Devices": ["<device id>", ...]}},
 *    "deviceentries":  {"<id>": {"State", "Info": {"name", "tags"?, "storage": {"total", "free", "used"}, "id",
 *                                 "paths"?, "pv_uuid"?}, "Bricks": [...], "NodeId", "ExtentSize"}},
 *    "brickentries":   {"<id>": {"Info": {"id", "path", "device", "node", "volume", "size"}, "TpSize",
 *                                 "PoolMetadataSize", "Pending": {"Id"}, "LvmThinPool", "LvmLv", "SubType"}},
 *    "volumeentries":  {"<id>": {"Info": {"size", "name", "durability": {"type", "replicate": {"replica"},
 *                                 "disperse": {"data", "redundancy"}}, "gid"?, "block"?, "snapshot": {"enable",
 *                                 "factor"}, "id", "cluster", "mount": {...}, "blockinfo": {...}},
 *                                 "Bricks": [...], "GlusterVolumeOptions": ["key value", ...], "Pending": {"Id"}}},
 *    "blockvolumeentries": {...}, "dbattributeentries": {"<key>": {"Key", "Value"}},
 *    "pendingoperations": {"<id>": {"Id", "Timestamp", "Type", "Actions": [{"Change", "Id", "Delta"}], "Status"}}}
 *
 * Go field names outside (the entry structs have no JSON tags), heketi's API names inside Info. Sizes of
 * devices and bricks are KiB, of volumes GiB. A nil Go slice or map is `null`; heketi releases before pending
 * operations and block volumes have no such buckets. Unknown fields are kept (loose objects): newer heketi
 * releases added fields, and none of those this import reads changed meaning.
 */

/** A list heketi may write as null (a nil Go slice). */
const idList = z
  .array(z.string())
  .nullish()
  .transform((list) => list ?? []);
const stringMap = z.record(z.string(), z.string());
/** A bucket heketi may write as null (a nil Go map), or leave out (older releases). */
const bucket = <T extends z.ZodType>(entry: T) =>
  z
    .record(z.string(), entry)
    .nullish()
    .transform((map) => map ?? {});
/** heketi's link from an entry to the unfinished operation that made, changes or removes it. */
const pendingItem = z
  .looseObject({ Id: z.string().default('') })
  .nullish()
  .transform((pending) => pending?.Id ?? '');
const entryState = z.enum(['online', 'offline', 'failed', '']).default('');
const kib = z.number().int().min(0);

export const heketiClusterEntrySchema = z.looseObject({
  Info: z.looseObject({
    id: z.string().min(1),
    nodes: idList,
    volumes: idList,
    blockvolumes: idList,
    block: z.boolean().optional(),
    file: z.boolean().optional(),
  }),
});

export const heketiNodeEntrySchema = z.looseObject({
  State: entryState,
  Info: z.looseObject({
    id: z.string().min(1),
    cluster: z.string(),
    zone: z.number().int().min(0),
    hostnames: z.looseObject({
      manage: z.array(hostAddress).min(1, 'needs at least one hostname'),
      storage: z.array(hostAddress).min(1, 'needs at least one address'),
    }),
    tags: stringMap.nullish(),
  }),
  Devices: idList,
});

export const heketiDeviceEntrySchema = z.looseObject({
  State: entryState,
  Info: z.looseObject({
    id: z.string().min(1),
    name: z.string().regex(/^\/dev\/.+/, 'must be a device path under /dev, e.g. /dev/sdb'),
    tags: stringMap.nullish(),
    storage: z.looseObject({ total: kib, free: kib, used: kib }),
    paths: z.array(z.string()).nullish(),
    pv_uuid: z.string().optional(),
  }),
  Bricks: idList,
  NodeId: z.string(),
  ExtentSize: kib.optional(),
});

/** heketi's BrickSubType: 0 for bricks made before heketi recorded it, 1 a data brick, 2 an arbiter brick. */
export const BRICK_SUBTYPE_ARBITER = 2;

export const heketiBrickEntrySchema = z.looseObject({
  Info: z.looseObject({
    id: z.string().min(1),
    path: z.string(),
    device: z.string(),
    node: z.string(),
    volume: z.string(),
    size: kib,
  }),
  TpSize: kib.default(0),
  PoolMetadataSize: kib.default(0),
  Pending: pendingItem,
  LvmThinPool: z.string().default(''),
  LvmLv: z.string().default(''),
  SubType: z.number().int().min(0).default(0),
});

export const heketiVolumeEntrySchema = z.looseObject({
  Info: z.looseObject({
    id: z.string().min(1),
    name: z.string(),
    cluster: z.string(),
    /** GiB */
    size: z.number().int(),
    durability: z
      .looseObject({
        type: z.enum(['replicate', 'disperse', 'none', '']).default(''),
        replicate: z.looseObject({ replica: z.number().int().optional() }).nullish(),
        disperse: z.looseObject({ data: z.number().int().optional(), redundancy: z.number().int().optional() }).nullish(),
      })
      .default({ type: '' }),
    gid: z.number().int().default(0),
    block: z.boolean().default(false),
    snapshot: z
      .looseObject({ enable: z.boolean().default(false), factor: z.number().default(1) })
      .nullish()
      .transform((snapshot) => snapshot ?? { enable: false, factor: 1 }),
    glustervolumeoptions: z.array(z.string()).nullish(),
  }),
  Bricks: idList,
  GlusterVolumeOptions: z.array(z.string()).nullish(),
  Pending: pendingItem,
});

export const heketiBlockVolumeEntrySchema = z.looseObject({
  Info: z.looseObject({ id: z.string().optional(), name: z.string().optional(), blockhostingvolume: z.string().optional() }),
  Pending: pendingItem,
});

export const heketiPendingOperationSchema = z.looseObject({
  Id: z.string().default(''),
  Type: z.number().int().default(0),
  Actions: z
    .array(z.looseObject({ Change: z.number().int().default(0), Id: z.string().default('') }))
    .nullish()
    .transform((actions) => actions ?? []),
  Status: z.string().default(''),
});

const requiredBucket = <T extends z.ZodType>(name: string, entry: T) =>
  z
    .record(z.string(), entry, {
      error: (issue) => (issue.input === undefined ? `is missing: not a heketi database export (heketi db export writes ${name})` : 'must be an object keyed by id'),
    })
    .nullable()
    .transform((map) => map ?? {});

export const heketiDbSchema = z.looseObject({
  clusterentries: requiredBucket('clusterentries', heketiClusterEntrySchema),
  nodeentries: requiredBucket('nodeentries', heketiNodeEntrySchema),
  deviceentries: requiredBucket('deviceentries', heketiDeviceEntrySchema),
  brickentries: requiredBucket('brickentries', heketiBrickEntrySchema),
  volumeentries: requiredBucket('volumeentries', heketiVolumeEntrySchema),
  blockvolumeentries: bucket(heketiBlockVolumeEntrySchema),
  dbattributeentries: bucket(z.looseObject({ Key: z.string().optional(), Value: z.string().optional() })),
  pendingoperations: bucket(heketiPendingOperationSchema),
});

export type HeketiDb = z.infer<typeof heketiDbSchema>;
export type HeketiClusterEntry = z.infer<typeof heketiClusterEntrySchema>;
export type HeketiNodeEntry = z.infer<typeof heketiNodeEntrySchema>;
export type HeketiDeviceEntry = z.infer<typeof heketiDeviceEntrySchema>;
export type HeketiBrickEntry = z.infer<typeof heketiBrickEntrySchema>;
export type HeketiVolumeEntry = z.infer<typeof heketiVolumeEntrySchema>;

/** The map names as messages call an entry of each: `volume 5f2a...`, `brick 09cd...`. */
export const ENTRY_KINDS: Record<string, string> = {
  clusterentries: 'cluster',
  nodeentries: 'node',
  deviceentries: 'device',
  brickentries: 'brick',
  volumeentries: 'volume',
  blockvolumeentries: 'block volume',
  dbattributeentries: 'db attribute',
  pendingoperations: 'pending operation',
};

/**
 * Parses an export's text. Throws HeketiImportError listing every shape problem, each naming the entry by
 * kind and id and the field, e.g. `volume 5f2a...: Info.size: expected number, received string`.
 */
export function parseHeketiDb(text: string): HeketiDb {
  const result = heketiDbSchema.safeParse(readJson(text, (problems) => new HeketiImportError(problems)));
  if (result.success) return result.data;
  throw new HeketiImportError(
    result.error.issues.map((issue) => {
      const [map, id, ...rest] = issue.path;
      const kind = typeof map === 'string' ? ENTRY_KINDS[map] : undefined;
      if (kind && typeof id === 'string') return `${kind} ${id}: ${fieldPath(rest) || 'entry'}: ${issue.message}`;
      return `${fieldPath(issue.path) || 'file'}: ${issue.message}`;
    }),
  );
}
