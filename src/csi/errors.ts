import { status } from '@grpc/grpc-js';
import type { z } from 'zod';

/** An error that answers an RPC with a specific gRPC code: kubelet's retry behaviour depends on the code. */
export class CsiError extends Error {
  readonly code: status;
  constructor(code: status, message: string) {
    super(message);
    this.name = 'CsiError';
    this.code = code;
  }
}

export const invalidArgument = (message: string) => new CsiError(status.INVALID_ARGUMENT, message);

/** zod issues as one INVALID_ARGUMENT naming every offending field, e.g. `volume_context.mountSource: ...`. */
export function fromZodError(error: z.ZodError): CsiError {
  const parts = error.issues.map((issue) => `${issue.path.map(String).join('.') || '(request)'}: ${issue.message}`);
  return invalidArgument(parts.join('; '));
}

export const notFound = (message: string) => new CsiError(status.NOT_FOUND, message);
export const failedPrecondition = (message: string) => new CsiError(status.FAILED_PRECONDITION, message);
