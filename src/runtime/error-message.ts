/**
 * The message of anything thrown, for logs, Events and conditions: an Error's message, the `message` of an
 * error-like object (ws hands an ErrorEvent, not an Error, to onerror), else its string form. The one home
 * of this rule; src/controller/manager.ts re-exports it under the same name.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}
