import { z } from 'zod';
import { ALLOWED_OPTION_KEYS } from '../gluster/volume-option-policy.ts';
import { CONDITION_MESSAGE_MAX, OPTION_NAME_MAX, OPTION_VALUE_MAX, OPTIONS_MAX_ENTRIES, QUANTITY_PATTERN, type QuantityLimit } from './limits.ts';

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

/** Attaches CEL rules to a schema, after any it has already; they land verbatim in the CRD. */
export function cel<T extends z.ZodType>(schema: T, ...rules: CelRule[]): T {
  // zod's metadata replaces a key rather than appending to it: without this, immutable(cel(x, ...)) would
  // drop cel's rules from the CRD.
  const existing = (schema.meta()?.['x-kubernetes-validations'] as CelRule[] | undefined) ?? [];
  return schema.meta({ 'x-kubernetes-validations': [...existing, ...rules] }) as T;
}

/**
 * Schema keywords for the CRD alone: the apiserver enforces them on every create and update, zod does not
 * check them. On purpose, for limits added after objects may have been stored without them: zod parses every
 * object the operator reads, lists included, and one object stored before a limit existed must still parse,
 * or it would make every list of its namespace throw and stop the reconcilers of all the others. CEL rules
 * (cel()) are apiserver-only in the same way. The code that acts on such a value refuses it for that object.
 */
export function apiserverOnly<T extends z.ZodType>(schema: T, keywords: { maxLength?: number; maxProperties?: number; maxItems?: number }): T {
  return schema.meta(keywords) as T;
}

/** A field the apiserver refuses to change once set (transition rule; needs the field to be set on create). */
export function immutable<T extends z.ZodType>(schema: T, field: string): T {
  return cel(schema, { rule: 'self == oldSelf', message: `${field} is immutable once set` });
}

/**
 * A Kubernetes resource quantity such as `10Gi` or `500M`, at most `limit`. The apiserver checks it with
 * CEL's quantity library, so `ten gigs`, `-1Gi` or `1Ei` are refused at `kubectl apply` time with a message
 * naming the field. The upper bound is CEL only (see apiserverOnly): objects stored before it still parse, and
 * src/topology/sizing.ts refuses or clamps their values for that object alone.
 */
export const positiveQuantity = (what: string, limit: QuantityLimit) =>
  cel(
    z
      .string()
      .min(1)
      .max(32)
      .regex(QUANTITY_PATTERN, `${what} must be a positive quantity such as 10Gi`),
    { rule: 'isQuantity(self) && quantity(self).isGreaterThan(quantity("0"))', message: `${what} must be a positive quantity such as 10Gi` },
    {
      rule: `!isQuantity(self) || quantity(self).compareTo(quantity('${limit.quantity}')) <= 0`,
      message: `${what} must be at most ${limit.quantity} (${limit.what})`,
    },
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

/** The allow-list as a CEL list literal (the keys are dotted words: nothing in them needs escaping). */
const ALLOWED_OPTIONS_CEL = `[${ALLOWED_OPTION_KEYS.map((key) => `'${key}'`).join(', ')}]`;

/**
 * Gluster volume options (`gluster volume set VOLUME NAME VALUE`), bounded as src/api/limits.ts says, and only
 * the options src/gluster/volume-option-policy.ts allows: the apiserver refuses any other name at `kubectl
 * apply`, naming it. Values are checked by the operator (the same policy), which reports a bad one as Ready
 * False, reason InvalidOption. The bounds and the allow-list are apiserver-only (see apiserverOnly): an object
 * stored before them still parses, and the reconciler refuses its options for that object alone.
 */
export const volumeOptionsMap = (what: string) =>
  cel(
    apiserverOnly(z.record(z.string(), apiserverOnly(z.string(), { maxLength: OPTION_VALUE_MAX })), { maxProperties: OPTIONS_MAX_ENTRIES }),
    { rule: `self.all(name, size(name) <= ${OPTION_NAME_MAX})`, message: `${what}: option names must be at most ${OPTION_NAME_MAX} characters` },
    {
      rule: `self.all(name, name in ${ALLOWED_OPTIONS_CEL})`,
      message: `${what}: only the allowed Gluster options may be set (performance tuning and a short list; see the README, "Volume options")`,
      // The first name refused, not all of them: join() over names of unbounded length would cost more than
      // the apiserver's estimate allows a rule.
      messageExpression:
        `'${what}: ' + self.filter(name, !(name in ${ALLOWED_OPTIONS_CEL}))[0] + ` +
        `' is not an option that may be set: only performance tuning and a short list are (see the README, "Volume options")'`,
    },
  );

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
    message: z.string().max(CONDITION_MESSAGE_MAX).describe('What happened, for humans.').default(''),
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

/**
 * A condition message cut to what the CRD takes (CONDITION_MESSAGE_MAX characters), ending in `…` when cut.
 * Messages carry command output and error text of any length, and a status patch the apiserver refuses would
 * leave the object's status stale for good. The apiserver counts characters (code points), as this does.
 */
export function conditionMessage(message: string, max: number = CONDITION_MESSAGE_MAX): string {
  if (message.length <= max) return message; // UTF-16 units ≥ code points: short enough either way
  const points = Array.from(message);
  return points.length <= max ? message : `${points.slice(0, max - 1).join('')}…`;
}

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
