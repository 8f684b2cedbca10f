import { z } from 'zod';
import { API_GROUP } from '../api/group.ts';
import { objectMetaSchema, stringMap } from '../api/common.ts';

/**
 * The objects `kubectl gluster migrate pvs` reads, parsed at the boundary. Loose: what it saves and restores
 * is the object as the apiserver returned it (minus server-owned fields), not only the fields parsed here.
 */

/** client-node's models carry Dates where the wire has strings: a JSON round trip gives the wire form. */
const wire = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === undefined ? value : JSON.parse(JSON.stringify(value))), schema);

const claimRefSchema = z.looseObject({
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
});

/** Any PV; `spec.glusterfs` is what the removed in-tree plugin mounted (endpoints + Gluster volume path). */
export const persistentVolumeSchema = wire(
  z.looseObject({
    metadata: objectMetaSchema,
    spec: z.looseObject({
      capacity: z.record(z.string(), z.unknown()).optional(),
      accessModes: z.array(z.string()).optional(),
      persistentVolumeReclaimPolicy: z.string().optional(),
      storageClassName: z.string().optional(),
      mountOptions: z.array(z.string()).optional(),
      volumeMode: z.string().optional(),
      claimRef: claimRefSchema.optional(),
      glusterfs: z
        .looseObject({ endpoints: z.string(), endpointsNamespace: z.string().optional(), path: z.string(), readOnly: z.boolean().optional() })
        .optional(),
      csi: z.looseObject({ driver: z.string(), volumeHandle: z.string(), volumeAttributes: stringMap.optional() }).optional(),
    }),
    status: z.looseObject({ phase: z.string().optional() }).optional(),
  }),
);
export type PersistentVolume = z.infer<typeof persistentVolumeSchema>;
export type InTreePersistentVolume = PersistentVolume & { spec: { glusterfs: NonNullable<PersistentVolume['spec']['glusterfs']> } };

export function isInTreeGlusterPv(pv: PersistentVolume): pv is InTreePersistentVolume {
  return pv.spec.glusterfs !== undefined;
}

export const claimSchema = wire(
  z.looseObject({
    metadata: objectMetaSchema.extend({ namespace: z.string().min(1), uid: z.string().min(1) }),
    spec: z.looseObject({
      accessModes: z.array(z.string()).optional(),
      storageClassName: z.string().optional(),
      volumeName: z.string().optional(),
      volumeMode: z.string().optional(),
      resources: z.looseObject({ requests: z.record(z.string(), z.unknown()).optional() }).optional(),
    }),
    status: z.looseObject({ phase: z.string().optional() }).optional(),
  }),
);
export type Claim = z.infer<typeof claimSchema>;

/** Only what says whether a pod uses a claim. */
export const podSchema = wire(
  z.looseObject({
    metadata: objectMetaSchema,
    spec: z.looseObject({
      volumes: z.array(z.looseObject({ persistentVolumeClaim: z.looseObject({ claimName: z.string() }).optional() })).optional(),
    }),
    status: z.looseObject({ phase: z.string().optional() }).optional(),
  }),
);
export type Pod = z.infer<typeof podSchema>;

/** The in-tree plugin's per-claim Endpoints and Service (`glusterfs-dynamic-<claim>`): saved whole, restored whole. */
export const namespacedObjectSchema = wire(z.looseObject({ metadata: objectMetaSchema.extend({ namespace: z.string().min(1) }) }));
export type NamespacedObject = z.infer<typeof namespacedObjectSchema>;

/** Labels and annotations of the migration's own objects. */
export const LABEL_MIGRATION = `${API_GROUP}/migration`;
export const MIGRATION_KIND_PV = 'persistentvolume';
/** On the CSI PV and the recreated claim: the in-tree PV they replace. */
export const ANN_MIGRATED_FROM_PV = `${API_GROUP}/migrated-from-pv`;

/** Server-owned metadata: dropped before an object is saved, so a restore creates it afresh. */
const SERVER_FIELDS = ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields', 'selfLink'];

/** The object as it can be created again: metadata without server fields, no status. */
export function restorable<T extends { metadata: Record<string, unknown> }>(object: T): T {
  const metadata = Object.fromEntries(Object.entries(object.metadata).filter(([key]) => !SERVER_FIELDS.includes(key)));
  const { status: _status, ...rest } = object as T & { status?: unknown };
  return { ...rest, metadata } as T;
}
