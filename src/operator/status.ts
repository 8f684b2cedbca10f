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
  await client.patchStatus(object.metadata.namespace ?? 'default', object.metadata.name, { ...fields, observedGeneration: generation, conditions: next });
}
