import type { Ring } from './ring.ts';

/**
 * The feasibility test that keeps placement from reporting "no space" while space exists (heketi's most
 * complained-about failure): can `sets` more sets, each needing `perSet` bricks of `alloc` bytes on distinct
 * groups (nodes, or zones under strict zone checking), still be placed given the free space per ring entry?
 *
 * A group g can hold slots(g) = Σ floor(free(d) / alloc) bricks over its devices, but at most one per set, so
 * it contributes min(slots(g), sets). The sets fit if and only if Σ min(slots(g), sets) ≥ perSet × sets
 * (necessary: each set takes perSet distinct groups; sufficient: filling each set from the groups with the most
 * remaining slots never gets stuck — the classic argument for scheduling with per-round distinctness).
 */
export interface CapacityView {
  readonly ring: Ring;
  /** 1 where the ring entry may take bricks (Online node and device, matching selector). */
  readonly eligible: Uint8Array;
  /** Zones (true) or nodes (false) must be distinct within a set. */
  readonly groupByZone: boolean;
}

export function groupOf(view: CapacityView, entry: number): number {
  const e = view.ring.entries[entry]!;
  return view.groupByZone ? e.zoneIndex : e.nodeIndex;
}

export function groupCount(view: CapacityView): number {
  return view.groupByZone ? view.ring.zoneCount : view.ring.nodeCount;
}

/** Brick slots per group for bricks taking `alloc` bytes. */
export function slotsPerGroup(view: CapacityView, free: Float64Array, alloc: number): Float64Array {
  const slots = new Float64Array(groupCount(view));
  const { entries } = view.ring;
  for (let i = 0; i < entries.length; i++) {
    const room = free[i]!;
    if (view.eligible[i] === 1 && room >= alloc) slots[groupOf(view, i)]! += Math.floor(room / alloc);
  }
  return slots;
}

export function setsFit(view: CapacityView, free: Float64Array, sets: number, perSet: number, alloc: number): boolean {
  if (sets <= 0) return true;
  const slots = slotsPerGroup(view, free, alloc);
  let usable = 0;
  for (const s of slots) usable += Math.min(s, sets);
  return usable >= perSet * sets;
}
