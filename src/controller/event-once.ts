import type { Clock } from '../runtime/clock.ts';
import type { EventRecorder } from './events.ts';

/**
 * Events that do not repeat: an object stuck on the same problem is reconciled again and again (resyncs,
 * requeues), and `kubectl describe` should show the problem once, then again only after a while.
 */
export class EventOnce {
  private readonly sent = new Map<string, number>();
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly repeatAfterMs: number;

  constructor(recorder: EventRecorder, clock: Clock, repeatAfterMs = 10 * 60_000) {
    this.recorder = recorder;
    this.clock = clock;
    this.repeatAfterMs = repeatAfterMs;
  }

  async record(object: Parameters<EventRecorder['normal']>[0], type: 'Normal' | 'Warning', reason: string, note: string): Promise<void> {
    const key = `${object.metadata.uid ?? object.metadata.name}|${type}|${reason}|${note}`;
    const now = this.clock.now();
    const last = this.sent.get(key);
    if (last !== undefined && now - last < this.repeatAfterMs) return;
    this.sent.set(key, now);
    if (this.sent.size > 10_000) {
      for (const [old, at] of this.sent) if (now - at >= this.repeatAfterMs) this.sent.delete(old);
    }
    await (type === 'Normal' ? this.recorder.normal(object, reason, note) : this.recorder.warning(object, reason, note));
  }
}

/**
 * The operator's recorder: Warning Events through EventOnce (a volume refused, a node blocked, a deletion
 * waiting is reconciled every few seconds and would otherwise say so each time), Normal ones as they happen
 * (each reports an action taken once).
 */
export function warningsOnce(recorder: EventRecorder, clock: Clock, repeatAfterMs?: number): EventRecorder {
  const once = new EventOnce(recorder, clock, repeatAfterMs);
  return {
    normal: (object, reason, note) => recorder.normal(object, reason, note),
    warning: (object, reason, note) => once.record(object, 'Warning', reason, note),
  };
}
