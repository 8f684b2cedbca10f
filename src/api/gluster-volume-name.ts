import { createHash } from 'node:crypto';
import { z } from 'zod';
import { cel } from './common.ts';

/**
 * The one rule for names of Gluster volumes, and the names the operator makes up. The CRD enforces it on
 * spec.glusterVolumeName; the generators (the default below, the provisioner's `pvc-<uid>` and
 * `volumenameprefix` names) produce only names it accepts, which test/unit/gluster-volume-name.test.ts checks.
 *
 * What glusterd's CLI refuses (cli/src/cli-cmd-parser.c, cli_validate_volname): a name starting with `-`,
 * one holding `/`, anything but ASCII letters, digits, `-` and `_`, more than GD_VOLUME_NAME_MAX (256)
 * characters, and the words it reserves below (compared case-sensitively, so `All` is a valid name). `all` in
 * particular is how `gluster volume info all` and `volume status all` mean every volume: a GlusterVolume named
 * so was reported Ready on the test bed with another volume's state.
 *
 * Two rules of ours on top:
 *  * at most 64 characters, not 256: a brick process fetches its volfile by the id
 *    `<volume>.<host>.<brick path with / as ->`, which glusterd refuses beyond 255 characters (NAME_MAX, in
 *    glusterd-handshake.c's __server_getspec), and our brick paths take about 100 of those and the host up to
 *    a DNS name's 253; glusterd also derives socket paths from the name. 64 was this API's limit from the start;
 *  * a letter or digit first, not `_`: src/gluster/commands refuses any other first character in argv.
 */

export const GLUSTER_VOLUME_NAME_MAX = 64;

/** cli_validate_volname's invalid_volnames. */
export const RESERVED_GLUSTER_VOLUME_NAMES = [
  'volume',
  'type',
  'subvolumes',
  'option',
  'end-volume',
  'all',
  'volume_not_in_ring',
  'description',
  'force',
  'snap-max-hard-limit',
  'snap-max-soft-limit',
  'auto-delete',
  'activate-on-create',
] as const;

const CHARSET_MESSAGE = 'must be letters, digits, - and _ (Gluster volume name rules)';
const FIRST_MESSAGE = 'must start with a letter or a digit';
const RESERVED_MESSAGE = `must not be a word Gluster reserves (${RESERVED_GLUSTER_VOLUME_NAMES.join(', ')})`;

/** The rule in words, for messages: what is allowed. */
export const GLUSTER_VOLUME_NAME_RULE =
  `1 to ${GLUSTER_VOLUME_NAME_MAX} letters, digits, - and _, starting with a letter or a digit, ` +
  `and not a word Gluster reserves (${RESERVED_GLUSTER_VOLUME_NAMES.join(', ')})`;

const isReserved = (name: string) => (RESERVED_GLUSTER_VOLUME_NAMES as readonly string[]).includes(name);

/** The whole rule, as zod: what every generated name must pass, and what the operator acts on. */
export const glusterVolumeNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(GLUSTER_VOLUME_NAME_MAX, `must be at most ${GLUSTER_VOLUME_NAME_MAX} characters`)
  .regex(/^[A-Za-z0-9_-]*$/, CHARSET_MESSAGE)
  .regex(/^[A-Za-z0-9]/, FIRST_MESSAGE)
  .refine((name) => !isReserved(name), RESERVED_MESSAGE);

/**
 * spec.glusterVolumeName. zod keeps the length and alphabet the field always had (objects stored under them
 * must still parse, see apiserverOnly in common.ts); the first character and the reserved words were added
 * later and are CEL, so the apiserver refuses new ones and glusterVolumeNameOf refuses old ones per object.
 */
export const glusterVolumeNameField = cel(
  z.string().min(1).max(GLUSTER_VOLUME_NAME_MAX).regex(/^[A-Za-z0-9_][A-Za-z0-9_-]*$/, CHARSET_MESSAGE),
  { rule: "self.matches('^[A-Za-z0-9]')", message: `glusterVolumeName ${FIRST_MESSAGE}` },
  { rule: `!(self in [${RESERVED_GLUSTER_VOLUME_NAMES.map((word) => `'${word}'`).join(', ')}])`, message: `glusterVolumeName ${RESERVED_MESSAGE}` },
);

/** Why a name breaks the rule, or undefined when it is a valid Gluster volume name. */
export function glusterVolumeNameProblem(name: string): string | undefined {
  const parsed = glusterVolumeNameSchema.safeParse(name);
  return parsed.success ? undefined : parsed.error.issues.map((issue) => issue.message).join('; ');
}

/**
 * The two parts of a name cut to `budget` characters together: unchanged when they fit; else the shorter
 * keeps its length if it needs no more than half, and the longer is cut; else both are cut to half.
 */
export function fitParts(first: string, second: string, budget: number): [string, string] {
  if (first.length + second.length <= budget) return [first, second];
  const half = Math.floor(budget / 2);
  if (first.length <= half) return [first, second.slice(0, budget - first.length)];
  if (second.length <= budget - half) return [first.slice(0, budget - second.length), second];
  return [first.slice(0, half), second.slice(0, budget - half)];
}

const NAME_HASH_LENGTH = 10;
/** A namespace (RFC 1123 label) or object name (subdomain) part that needs no change: no `.`, no `_`. */
const PLAIN_PART = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/**
 * The Gluster name of a GlusterVolume that sets none: `<namespace>_<name>` while that is a valid name, which
 * is every object name without a dot whose namespace and name take 63 characters or fewer together.
 *
 * Otherwise `<namespace>_<name>_<hash>`: dots become `-`, the two parts are cut to fit (fitParts), and the hash
 * is the first 10 hex digits of SHA-256 over `<namespace>/<name>`. Neither a namespace nor an object name holds
 * `_`, so a plain name has exactly one `_` and a hashed one exactly two: `a.b` and `a-b` in one namespace
 * (which earlier releases both named `<ns>_a-b`), or two long names that are alike once cut, differ unless
 * 40 bits of SHA-256 collide. Nor can they meet the provisioner's names (`pvc-<uid>`: no `_`;
 * `<prefix>_<ns>_<claim>_<id>`: three) or a reserved word (`volume_not_in_ring` has three).
 */
export function defaultGlusterVolumeName(namespace: string, name: string): string {
  const plain = `${namespace}_${name}`;
  if (PLAIN_PART.test(namespace) && PLAIN_PART.test(name) && plain.length <= GLUSTER_VOLUME_NAME_MAX) return plain;
  const hash = createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, NAME_HASH_LENGTH);
  const clean = (part: string) => part.replace(/[^A-Za-z0-9-]/g, '-');
  const [ns, object] = fitParts(clean(namespace), clean(name), GLUSTER_VOLUME_NAME_MAX - NAME_HASH_LENGTH - 2);
  return `${ns}_${object}_${hash}`;
}

/** A GlusterVolume name refused by the rule, e.g. `all` on an object stored before the CRD refused it. */
export class InvalidGlusterVolumeNameError extends Error {
  override name = 'InvalidGlusterVolumeNameError';
}

/** The parts of a GlusterVolume its Gluster name comes from. */
export interface NamedGlusterVolume {
  metadata: { name: string; namespace?: string };
  spec: { glusterVolumeName?: string };
  status?: { glusterVolumeName?: string };
}

/**
 * The name a GlusterVolume has inside Gluster: spec.glusterVolumeName; else the name status records (what the
 * operator named it when it was created, which keeps volumes named under an earlier default rule on their
 * name); else defaultGlusterVolumeName. Throws InvalidGlusterVolumeNameError for a name the rule refuses: acting
 * on `all` would read every volume's state as this one's, and no command can act on the others.
 */
export function glusterVolumeNameOf(volume: NamedGlusterVolume): string {
  const namespace = volume.metadata.namespace ?? 'default';
  const [field, name] =
    volume.spec.glusterVolumeName !== undefined
      ? ['spec.glusterVolumeName', volume.spec.glusterVolumeName]
      : volume.status?.glusterVolumeName !== undefined
        ? ['status.glusterVolumeName', volume.status.glusterVolumeName]
        : ['the default name', defaultGlusterVolumeName(namespace, volume.metadata.name)];
  const problem = glusterVolumeNameProblem(name);
  if (problem !== undefined) {
    throw new InvalidGlusterVolumeNameError(
      `GlusterVolume ${namespace}/${volume.metadata.name}: ${field} ${JSON.stringify(name)} is not a name Gluster takes (${problem}); ` +
        `allowed: ${GLUSTER_VOLUME_NAME_RULE}. Create a new GlusterVolume with a valid name.`,
    );
  }
  return name;
}
