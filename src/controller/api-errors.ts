import * as k8s from '@kubernetes/client-node';

/** The one home of the apiserver's error codes as this code reads them: which status an API call failed with. */
export function isApiError(error: unknown, ...codes: number[]): boolean {
  return error instanceof k8s.ApiException && codes.includes(error.code);
}

/** What a read gives, or undefined when the object does not exist (404); any other failure goes on. */
export async function unlessNotFound<T>(read: Promise<T> | (() => Promise<T>)): Promise<T | undefined> {
  try {
    return await (typeof read === 'function' ? read() : read);
  } catch (error) {
    if (isApiError(error, 404)) return undefined;
    throw error;
  }
}
