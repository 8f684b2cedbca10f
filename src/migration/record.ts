import { z } from 'zod';
import { objectNameOf } from './names.ts';
import { claimSchema, LABEL_MIGRATION, MIGRATION_KIND_PV, namespacedObjectSchema, persistentVolumeSchema, type Claim, type NamespacedObject, type PersistentVolume } from './objects.ts';

/**
 * What `migrate pvs` saves before it changes anything for a PV: the in-tree PV, its claim, and the claim's
 * Endpoints and Service, as they were, in one ConfigMap next to the GlusterVolume. The first save wins (a
 * rerun never overwrites it with objects it has already changed); `--rollback` restores from it.
 */
export interface MigrationRecord {
  /** ConfigMap namespace/name. */
  namespace: string;
  name: string;
  phase: 'Saved' | 'Migrated';
  /** `<namespace>/<name>` of the GlusterVolume the CSI PV mounts. */
  glusterVolume: string;
  persistentVolume: PersistentVolume;
  claim?: Claim;
  endpoints?: NamespacedObject;
  service?: NamespacedObject;
}

export function recordName(persistentVolume: string): string {
  return objectNameOf('migration', persistentVolume);
}

const json = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const configMapSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string() }),
  data: z.object({
    phase: z.enum(['Saved', 'Migrated']),
    glusterVolume: z.string(),
    'persistentVolume.json': json(persistentVolumeSchema),
    'claim.json': json(claimSchema).optional(),
    'endpoints.json': json(namespacedObjectSchema).optional(),
    'service.json': json(namespacedObjectSchema).optional(),
  }),
});

/** A ConfigMap read back; a record that does not parse is an error naming it (never guessed around). */
export function parseRecord(configMap: unknown): MigrationRecord {
  const parsed = configMapSchema.safeParse(JSON.parse(JSON.stringify(configMap)));
  if (!parsed.success) {
    const name = (configMap as { metadata?: { namespace?: string; name?: string } }).metadata;
    throw new Error(`migration record ConfigMap ${name?.namespace}/${name?.name} is damaged: ${z.prettifyError(parsed.error)}`);
  }
  const { metadata, data } = parsed.data;
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    phase: data.phase,
    glusterVolume: data.glusterVolume,
    persistentVolume: data['persistentVolume.json'],
    ...(data['claim.json'] ? { claim: data['claim.json'] } : {}),
    ...(data['endpoints.json'] ? { endpoints: data['endpoints.json'] } : {}),
    ...(data['service.json'] ? { service: data['service.json'] } : {}),
  };
}

export function recordConfigMap(record: MigrationRecord) {
  const data: Record<string, string> = {
    phase: record.phase,
    glusterVolume: record.glusterVolume,
    'persistentVolume.json': JSON.stringify(record.persistentVolume),
  };
  if (record.claim) data['claim.json'] = JSON.stringify(record.claim);
  if (record.endpoints) data['endpoints.json'] = JSON.stringify(record.endpoints);
  if (record.service) data['service.json'] = JSON.stringify(record.service);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: record.name, namespace: record.namespace, labels: { [LABEL_MIGRATION]: MIGRATION_KIND_PV } },
    data,
  };
}
