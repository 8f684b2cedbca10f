import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_GROUP } from '../../src/api/group.ts';
import { REPO_ROOT } from './paths.ts';

export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [key: string]: unknown };

/** The sample custom resources under manifests/samples/ (the StorageClass sample aside), in file order. */
export function readSamples(): KubeObject[] {
  const dir = join(REPO_ROOT, 'manifests', 'samples');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .flatMap((name) => parseAllDocuments(readFileSync(join(dir, name), 'utf8')).map((doc) => doc.toJS() as KubeObject))
    .filter((object) => object.apiVersion.startsWith(`${API_GROUP}/`));
}
