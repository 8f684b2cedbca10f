/**
 * `npm run synth`: regenerates crds/ and manifests/ from the zod API and the cdk8s charts. The test
 * "generated files are current" fails when the committed files differ from what this writes.
 *
 * `npm run synth -- --out DIR [--operator-image REF] [--glusterd-image REF] [--snapshotter-image REF] [--gluster-namespaces NS,NS]` writes
 * the same files to DIR/crds and DIR/manifests with other image references (a private registry, images loaded
 * into kind) or other namespaces where GlusterClusters are served (each gets the operator's namespaceGrants,
 * and the operator its GLUSTER_NAMESPACES; those namespaces must exist before the manifests are applied);
 * nothing else differs. The repository's own files always carry the release's defaults.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { glusterNamespacesSetting } from '../src/operator/config.ts';
import { DEFAULT_GLUSTER_NAMESPACES, DEFAULT_IMAGES } from './charts.ts';
import { GENERATED_HEADER, synthesizeFiles } from './synthesize.ts';

/** A reference as it goes into `image:`; loose on purpose (registries differ), but never blank or YAML-breaking. */
const imageReference = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._\-/:@+]*$/, 'must be an image reference like host/name:tag or name@sha256:...').max(512);
const argsSchema = z
  .object({
    out: z.string().min(1).optional(),
    'operator-image': imageReference.optional(),
    'glusterd-image': imageReference.optional(),
    'snapshotter-image': imageReference.optional(),
    'gluster-namespaces': glusterNamespacesSetting.optional(),
  })
  .refine((a) => a.out !== undefined || (a['operator-image'] === undefined && a['glusterd-image'] === undefined && a['snapshotter-image'] === undefined && a['gluster-namespaces'] === undefined), {
    message: 'other images or namespaces need --out DIR: the repository\'s crds/ and manifests/ keep the defaults',
  });

const parsed = argsSchema.safeParse(
  parseArgs({
    options: { out: { type: 'string' }, 'operator-image': { type: 'string' }, 'glusterd-image': { type: 'string' }, 'snapshotter-image': { type: 'string' }, 'gluster-namespaces': { type: 'string' } },
    strict: true,
  }).values,
);
if (!parsed.success) {
  console.error(`synth: ${z.prettifyError(parsed.error)}`);
  process.exit(2);
}
const args = parsed.data;

const root = args.out !== undefined ? resolve(args.out) : join(dirname(fileURLToPath(import.meta.url)), '..');
const namespaces = args['gluster-namespaces'];
const files = synthesizeFiles(
  {
    operatorImage: args['operator-image'] ?? DEFAULT_IMAGES.operatorImage,
    glusterdImage: args['glusterd-image'] ?? DEFAULT_IMAGES.glusterdImage,
    snapshotterImage: args['snapshotter-image'] ?? DEFAULT_IMAGES.snapshotterImage,
  },
  namespaces !== undefined && namespaces.length > 0 ? namespaces : DEFAULT_GLUSTER_NAMESPACES,
);
for (const dir of ['crds', 'manifests']) {
  mkdirSync(join(root, dir), { recursive: true });
  // Files a previous synth wrote but this one does not (a renamed kind) must go; subdirectories such as
  // manifests/samples/ are written by hand and stay, and so does any file a synth did not write (--out may
  // name a directory that holds other things).
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(root, dir, entry.name);
    if (entry.isFile() && !files.has(`${dir}/${entry.name}`) && readFileSync(path, 'utf8').startsWith(GENERATED_HEADER)) rmSync(path);
  }
}
for (const [path, content] of files) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}
console.log(`wrote ${files.size} files to ${join(root, 'crds')}/ and ${join(root, 'manifests')}/`);
