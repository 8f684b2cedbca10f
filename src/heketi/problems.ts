import { errorMessage } from '../runtime/error-message.ts';

/**
 * What an import found wrong in a heketi file, every problem at once, each naming the entry (node, device,
 * brick, volume, ...) and the field. The CLI prints them and no YAML: an import is all or nothing.
 */
export class HeketiImportError extends Error {
  override name = 'HeketiImportError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/** The file's JSON, or the refusal `not valid JSON: ...` made by `refuse` (so each file keeps its error class). */
export function readJson(text: string, refuse: (problems: string[]) => HeketiImportError): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw refuse([`not valid JSON: ${errorMessage(error)}`]);
  }
}
