import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, wherever the checkout lives. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
