import { REQUEUE } from '../context.ts';

/** A step that cannot be done for this object as its spec stands: reported as a failed condition, not retried at once. */
export class StepRefused extends Error {
  readonly reason: string;
  readonly requeueAfterMs: number;
  constructor(reason: string, message: string, requeueAfterMs: number = REQUEUE.unreachable) {
    super(message);
    this.reason = reason;
    this.requeueAfterMs = requeueAfterMs;
  }
}

