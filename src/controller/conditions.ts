import { conditionMessage, type Condition } from '../api/common.ts';

/**
 * Conditions in the metav1.Condition manner: one per type, lastTransitionTime moves only when status
 * changes (so `kubectl wait` and Argo CD see real transitions, not every reconcile), observedGeneration
 * says which spec the condition describes. Messages are cut to the CRD's limit (conditionMessage): a message
 * is often command output or an error's text, and a status the apiserver refuses would never be written. Pure.
 */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime' | 'observedGeneration' | 'message'> & { message?: string };

export function setCondition(conditions: readonly Condition[] | undefined, update: ConditionUpdate, generation: number, now: Date): Condition[] {
  const existing = conditions?.find((condition) => condition.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: conditionMessage(update.message ?? ''),
    observedGeneration: generation,
    lastTransitionTime: existing && existing.status === update.status ? existing.lastTransitionTime : now.toISOString(),
  };
  const others = (conditions ?? []).filter((condition) => condition.type !== update.type);
  return [...others, next].sort((a, b) => CONDITION_ORDER(a.type) - CONDITION_ORDER(b.type) || a.type.localeCompare(b.type));
}

export function setConditions(conditions: readonly Condition[] | undefined, updates: ConditionUpdate[], generation: number, now: Date): Condition[] {
  return updates.reduce<Condition[]>((current, update) => setCondition(current, update, generation, now), [...(conditions ?? [])]);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * An object's own word on why it is not Ready, when it has given up (Ready False and Degraded True):
 * `<reason>: <message>`; undefined while it is Ready or still progressing.
 */
export function givenUpReason(conditions: readonly Condition[] | undefined): string | undefined {
  const ready = findCondition(conditions, 'Ready');
  if (ready?.status !== 'False' || !isConditionTrue(conditions, 'Degraded')) return undefined;
  return `${ready.reason}${ready.message ? `: ${ready.message}` : ''}`;
}

/** Ready first, then the others in a stable order, so status diffs stay small. */
function CONDITION_ORDER(type: string): number {
  return ['Ready', 'Progressing', 'Degraded'].indexOf(type) >>> 0;
}

/** The three conditions every kind reports, from one summary of where a reconcile stands. */
export type Phase =
  | { state: 'ready'; reason: string; message: string }
  | { state: 'progressing'; reason: string; message: string }
  | { state: 'degraded'; reason: string; message: string }
  | { state: 'failed'; reason: string; message: string };

export function standardConditions(phase: Phase): ConditionUpdate[] {
  const { reason, message } = phase;
  switch (phase.state) {
    case 'ready':
      return [
        { type: 'Ready', status: 'True', reason, message },
        { type: 'Progressing', status: 'False', reason, message: '' },
        { type: 'Degraded', status: 'False', reason, message: '' },
      ];
    case 'progressing':
      return [
        { type: 'Ready', status: 'False', reason, message },
        { type: 'Progressing', status: 'True', reason, message },
        { type: 'Degraded', status: 'False', reason, message: '' },
      ];
    case 'degraded':
      return [
        { type: 'Ready', status: 'True', reason, message },
        { type: 'Progressing', status: 'False', reason, message: '' },
        { type: 'Degraded', status: 'True', reason, message },
      ];
    case 'failed':
      return [
        { type: 'Ready', status: 'False', reason, message },
        { type: 'Progressing', status: 'False', reason, message: '' },
        { type: 'Degraded', status: 'True', reason, message },
      ];
  }
}
