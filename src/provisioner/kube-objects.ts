import { z } from 'zod';
import { objectMetaSchema, stringMap } from '../api/common.ts';

/**
 * The parts of core Kubernetes objects the provisioner reads, parsed at the boundary (what the API returns
 * through client-node is trusted for shape, but a missing field must be an error naming it, not a crash).
 * Loose: fields the provisioner does not read pass through untouched.
 */

/**
 * client-node's typed models carry Dates (creationTimestamp...) where the wire has strings; what a watch
 * delivers is wire JSON. A JSON round trip makes both the wire form before parsing.
 */
const wire = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === undefined ? value : JSON.parse(JSON.stringify(value))), schema);

export const storageClassSchema = wire(z.looseObject({
  metadata: objectMetaSchema,
  provisioner: z.string(),
  parameters: stringMap.optional(),
  reclaimPolicy: z.enum(['Delete', 'Retain']).optional(),
  mountOptions: z.array(z.string()).optional(),
  allowVolumeExpansion: z.boolean().optional(),
  volumeBindingMode: z.enum(['Immediate', 'WaitForFirstConsumer']).optional(),
}));
export type StorageClass = z.infer<typeof storageClassSchema>;

const pvcConditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastProbeTime: z.unknown().optional(),
  lastTransitionTime: z.unknown().optional(),
});
export type ClaimCondition = z.infer<typeof pvcConditionSchema>;

export const claimSchema = wire(z.looseObject({
  metadata: objectMetaSchema.extend({ uid: z.string().min(1), namespace: z.string().min(1) }),
  spec: z.looseObject({
    accessModes: z.array(z.string()).optional(),
    storageClassName: z.string().optional(),
    volumeName: z.string().optional(),
    volumeMode: z.string().optional(),
    selector: z.unknown().optional(),
    dataSource: z.unknown().optional(),
    /** What a populator reads (AnyVolumeDataSource): only the kind and group are looked at. */
    dataSourceRef: z.object({ apiGroup: z.string().nullish(), kind: z.string().nullish() }).passthrough().nullish(),
    resources: z.looseObject({ requests: z.record(z.string(), z.unknown()).optional() }).optional(),
  }),
  status: z
    .looseObject({
      phase: z.string().optional(),
      capacity: z.record(z.string(), z.unknown()).optional(),
      conditions: z.array(pvcConditionSchema).optional(),
      allocatedResources: z.record(z.string(), z.unknown()).optional(),
      allocatedResourceStatuses: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
}));
export type Claim = z.infer<typeof claimSchema>;

export const persistentVolumeSchema = wire(z.looseObject({
  metadata: objectMetaSchema,
  spec: z.looseObject({
    capacity: z.record(z.string(), z.unknown()).optional(),
    accessModes: z.array(z.string()).optional(),
    persistentVolumeReclaimPolicy: z.string().optional(),
    storageClassName: z.string().optional(),
    claimRef: z
      .looseObject({ namespace: z.string().optional(), name: z.string().optional(), uid: z.string().optional() })
      .optional(),
    csi: z
      .looseObject({
        driver: z.string(),
        volumeHandle: z.string(),
        volumeAttributes: stringMap.optional(),
      })
      .optional(),
  }),
  status: z.looseObject({ phase: z.string().optional() }).optional(),
}));
export type PersistentVolume = z.infer<typeof persistentVolumeSchema>;

/**
 * client-node turns quantities into strings on the way in, but be lenient: a number is bytes.
 */
export function quantityString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
