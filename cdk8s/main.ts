/**
 * `npm run synth`: regenerates crds/ and manifests/ from the zod API and the cdk8s charts. The test
 * "generated files are current" fails when the committed files differ from what this writes.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesizeFiles } from './synthesize.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = synthesizeFiles();
for (const dir of ['crds', 'manifests']) {
  mkdirSync(join(root, dir), { recursive: true });
  // Files a previous synth wrote but this one does not (a renamed kind) must go; subdirectories such as
  // manifests/samples/ are written by hand and stay.
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (entry.isFile() && !files.has(`${dir}/${entry.name}`)) rmSync(join(root, dir, entry.name));
  }
}
for (const [path, content] of files) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}
console.log(`wrote ${files.size} files to crds/ and manifests/`);
