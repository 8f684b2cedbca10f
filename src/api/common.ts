import { z } from 'zod';

/**
 * Building blocks shared by the three custom resources. Every schema here is also the source of the CRD's
 * OpenAPI schema (see src/crd), so descriptions are written for `kubectl explain` readers.
 */

/** A CEL rule as the apiserver takes it in `x-kubernetes-validations`. */
export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** Attaches CEL rules to a schema; they land verbatim in the CRD. */
export function cel<T extends z.ZodType>(schema: T, ...rules: CelRule[]): T {
  return schema.meta({ 'x-kubernetes-validations': rules }) as T;
}

/** A field the apiserver refuses to change once set (transition rule; needs the field to be set on create). */
export function immutable<T extends z.ZodType>(schema: T, field: string): T {
  return cel(schema, { rule: 'self == oldSelf', message: `${field} is immutable once set` });
}

/**
 * A Kubernetes resource quantity such as `10Gi` or `500M`. The apiserver checks it with CEL's quantity
 * library, so `ten gigs` or `-1Gi` are refused at `kubectl apply` time with a message naming the field.
 */
export const positiveQuantity = (what: string) =>
  cel(
    z
      .string()
      .min(1)
      .max(32)
      .regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/, `${what} must be a positive quantity such as 10Gi`),
    { rule: 'isQuantity(self) && quantity(self).isGreaterThan(quantity("0"))', message: `${what} must be a positive quantity such as 10Gi` },
  );

/** DNS name or IPv4/IPv6 address; what heketi called a hostname in its topology file. */
export const hostAddress = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*|[0-9a-fA-F:]+)$/,
    'must be a DNS name or an IP address',
  );

/** Name of another object in the same namespace. */
export const objectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 name');

export const stringMap = z.record(z.string(), z.string());

/** metav1.Condition, the shape `kubectl wait --for=condition=Ready` and Argo CD health checks read. */
export const conditionSchema = z
  .object({
    type: z.string().min(1).max(316).describe('Kind of condition, e.g. Ready, Progressing, Degraded.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('One CamelCase word for machines, e.g. VolumeStarted.'),
    message: z.string().max(32768).describe('What happened, for humans.').default(''),
    lastTransitionTime: z.string().describe('When status last changed (RFC 3339).'),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('The metadata.generation this condition was computed from; older means stale.'),
  })
  .describe('A status condition, in the standard metav1.Condition shape.');
export type Condition = z.infer<typeof conditionSchema>;

export const conditionsField = z
  .array(conditionSchema)
  .max(16)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .describe('Current state as conditions: Ready, Progressing and Degraded.');

export const observedGenerationField = z
  .number()
  .int()
  .min(0)
  .describe('The metadata.generation the operator last acted on.');

/** The parts of ObjectMeta the operator reads. The apiserver owns its validation. */
export const objectMetaSchema = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  finalizers: z.array(z.string()).optional(),
});
export type ObjectMeta = z.infer<typeof objectMetaSchema>;
