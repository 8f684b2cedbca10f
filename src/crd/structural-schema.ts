import { z } from 'zod';

/**
 * Turns a zod schema into a Kubernetes structural OpenAPI v3 schema. zod's JSON Schema output is close but
 * not acceptable to the apiserver as is: it writes `additionalProperties: false` beside `properties`, pads
 * integers with JavaScript's safe-integer bounds, and could emit `$ref`s. Anything the apiserver would reject
 * as non-structural throws here, naming the path, so a bad schema fails at generation instead of at install.
 */
export type JsonSchema = { [key: string]: unknown };

const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
const DROPPED_KEYS = new Set(['$schema', 'id', 'propertyNames']);

export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  const raw = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }) as JsonSchema;
  return cleanNode(raw, '');
}

function cleanNode(node: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED_KEYS.has(key)) continue;
    if (key === '$ref' || key === '$defs' || key === 'definitions') {
      throw new Error(`schema at ${path || '.'} uses ${key}; CRD schemas must be fully inlined`);
    }
    if ((key === 'minimum' || key === 'maximum') && SAFE_INTEGER_BOUNDS.has(value as number)) continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, child]) => [name, cleanNode(child, `${path}.${name}`)]),
      );
    } else if (key === 'additionalProperties') {
      // `false` is zod's way of saying "strict"; the apiserver prunes unknown fields anyway and forbids the
      // keyword beside `properties`. A schema-valued one is a map and is kept.
      if (typeof value === 'object' && value !== null) out[key] = cleanNode(value as JsonSchema, `${path}[*]`);
    } else if (key === 'items') {
      out[key] = cleanNode(value as JsonSchema, `${path}[]`);
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf' || key === 'not') {
      throw new Error(`schema at ${path || '.'} uses ${key}; model it with a discriminator field and CEL rules instead`);
    } else {
      out[key] = value;
    }
  }
  if (typeof out.type !== 'string') throw new Error(`schema at ${path || '.'} has no type; structural schemas type every node`);
  if (out.type === 'object' && out.properties && out.additionalProperties) {
    throw new Error(`schema at ${path || '.'} has both properties and additionalProperties`);
  }
  return out;
}
