import { isDeepStrictEqual } from 'node:util';
import type { Condition } from '../api/common.ts';
import { setConditions, standardConditions, type ConditionUpdate, type Phase } from '../controller/conditions.ts';
import type { CustomResourceClient } from '../controller/custom-objects.ts';
import type { Clock } from '../runtime/clock.ts';

type WithStatus = {
  metadata: { name: string; namespace?: string; generation?: number };
  status?: { conditions?: Condition[] } & Record<string, unknown>;
};

/**
 * Writes a reconcile's outcome through /status: the Ready/Progressing/Degraded conditions of `phase` plus
 * any others, observedGeneration, and the kind's own fields. The same for all three kinds.
 */
export async function writeStatus<T extends WithStatus>(
  client: CustomResourceClient<T>,
  clock: Clock,
  object: T,
  phase: Phase,
  fields: Partial<NonNullable<T['status']>> = {},
  conditions: ConditionUpdate[] = [],
): Promise<void> {
  const generation = object.metadata.generation ?? 0;
  const next = setConditions(object.status?.conditions, [...standardConditions(phase), ...conditions], generation, new Date(clock.now()));
  const patch: Record<string, unknown> = { ...fields, observedGeneration: generation, conditions: next };
  if (statusUnchanged(object.status, patch)) return;
  await client.patchStatus(object.metadata.namespace ?? 'default', object.metadata.name, patch);
}

/**
 * True when merging `patch` would leave `status` as it is. A steady reconcile then writes nothing: a restart
 * with thousands of Ready objects costs no request per object (the apiserver drops no-op patches too, but
 * only after the round trip). Merge-patch semantics: null removes a field, undefined is not sent.
 */
export function statusUnchanged(status: Record<string, unknown> | undefined, patch: Record<string, unknown>): boolean {
  return Object.entries(patch).every(([key, value]) => {
    if (value === undefined) return true;
    const current = status?.[key];
    return value === null ? current === undefined || current === null : isDeepStrictEqual(stripUndefined(value), stripUndefined(current));
  });
}

/** As JSON would carry it (a patch drops undefined properties), so `{a: 1, b: undefined}` equals `{a: 1}`. */
function stripUndefined(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
