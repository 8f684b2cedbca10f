import { z } from 'zod';
import { brickStatusSchema, conditionsField, deviceStatusSchema } from '../api/index.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { parseQuantity } from '../topology/sizing.ts';

/**
 * The per-volume and per-device numbers of /metrics, read from GlusterVolume and GlusterNode status as the
 * operator wrote it (the informer caches hold them; nothing runs on a node at scrape time). Pure: objects in,
 * samples out. Objects whose status does not parse are skipped, not guessed at.
 *
 * Cardinality: the `namespace`, `volume`, `node` and `device` label values come from the names of our own
 * custom resources (and the device paths in their spec, at most 256 per node), so the series are bounded by
 * the objects the user made, and a deleted object's series go with the next scrape (gauges are rebuilt).
 * Condition reasons are CamelCase words written by the operator's code; anything else becomes `Other`.
 */

/** Conditions exported as gauges: the standard three every kind writes (src/operator/status.ts). */
export const EXPORTED_CONDITIONS = ['Ready', 'Progressing', 'Degraded'] as const;
export const OTHER_REASON = 'Other';

const count = z.number().int().min(0);

/**
 * Heal backlog, when the status carries it (issue 15 item 2 adds it to GlusterVolume status; until then the
 * heal and split-brain series are absent rather than a made-up 0). The one place that knows where it lives.
 */
const healSchema = z.looseObject({
  pendingEntries: count.optional(),
  splitBrainEntries: count.optional(),
});

const volumeSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().default('default') }),
  status: z
    .looseObject({
      conditions: conditionsField.optional(),
      capacity: z.string().optional(),
      bricks: z.array(brickStatusSchema).optional(),
      heal: healSchema.optional(),
    })
    .optional(),
});

const nodeSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().default('default') }),
  status: z.looseObject({ devices: z.array(deviceStatusSchema).optional() }).optional(),
});

export interface VolumeSample {
  namespace: string;
  volume: string;
  /** Of EXPORTED_CONDITIONS present in status: 1 when True, 0 when False or Unknown. */
  conditions: Array<{ condition: string; reason: string; value: 0 | 1 }>;
  bricks: number;
  /** Bricks gluster reported running. */
  bricksOnline: number;
  /** Bricks gluster reported not running (a brick never asked about is neither). */
  bricksOffline: number;
  capacityBytes?: number;
  healPendingEntries?: number;
  splitBrainEntries?: number;
}

export interface DeviceSample {
  namespace: string;
  node: string;
  device: string;
  sizeBytes?: number;
  freeBytes?: number;
}

export function reasonLabel(reason: string): string {
  return /^[A-Z][A-Za-z0-9]{0,63}$/.test(reason) ? reason : OTHER_REASON;
}

/** A quantity in bytes. One that does not parse (or is absent) leaves its sample out rather than guess a 0. */
const quantityBytes = z.string().transform((quantity, ctx) => {
  try {
    return parseQuantity(quantity);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: errorMessage(error) });
    return z.NEVER;
  }
});
const bytes = (quantity: string | undefined): number | undefined => quantityBytes.safeParse(quantity).data;

export function volumeSample(object: unknown): VolumeSample | undefined {
  const parsed = volumeSchema.safeParse(object);
  if (!parsed.success) return undefined;
  const { metadata, status } = parsed.data;
  const bricks = status?.bricks ?? [];
  const conditions = (status?.conditions ?? [])
    .filter((condition) => (EXPORTED_CONDITIONS as readonly string[]).includes(condition.type))
    .map((condition) => ({ condition: condition.type, reason: reasonLabel(condition.reason), value: condition.status === 'True' ? (1 as const) : (0 as const) }));
  const capacityBytes = bytes(status?.capacity);
  const heal = status?.heal;
  return {
    namespace: metadata.namespace,
    volume: metadata.name,
    conditions,
    bricks: bricks.length,
    bricksOnline: bricks.filter((brick) => brick.online === true).length,
    bricksOffline: bricks.filter((brick) => brick.online === false).length,
    ...(capacityBytes !== undefined ? { capacityBytes } : {}),
    ...(heal?.pendingEntries !== undefined ? { healPendingEntries: heal.pendingEntries } : {}),
    ...(heal?.splitBrainEntries !== undefined ? { splitBrainEntries: heal.splitBrainEntries } : {}),
  };
}

export function deviceSamples(object: unknown): DeviceSample[] {
  const parsed = nodeSchema.safeParse(object);
  if (!parsed.success) return [];
  const { metadata, status } = parsed.data;
  return (status?.devices ?? []).map((device) => {
    const sizeBytes = bytes(device.size);
    const freeBytes = bytes(device.free);
    return {
      namespace: metadata.namespace,
      node: metadata.name,
      device: device.name,
      ...(sizeBytes !== undefined ? { sizeBytes } : {}),
      ...(freeBytes !== undefined ? { freeBytes } : {}),
    };
  });
}
