import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { synthesizeFiles } from '../../cdk8s/synthesize.ts';
import { REPO_ROOT } from '../support/paths.ts';

describe('generated crds/ and manifests/', () => {
  const files = synthesizeFiles();

  it('match what `npm run synth` writes (run it and commit when this fails)', () => {
    for (const [path, content] of files) {
      const full = join(REPO_ROOT, path);
      expect(existsSync(full), `${path} is missing`).to.equal(true);
      expect(readFileSync(full, 'utf8') === content, `${path} is stale`).to.equal(true);
    }
  });

  it('hold no file a synth would delete', () => {
    for (const dir of ['crds', 'manifests']) {
      for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
        if (entry.isFile()) expect(files.has(`${dir}/${entry.name}`), `${dir}/${entry.name} is not generated`).to.equal(true);
      }
    }
  });
});
