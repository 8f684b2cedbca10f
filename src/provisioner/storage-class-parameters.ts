import { z } from 'zod';
import { MAX_VOLUME_SIZE, objectName, type Durability } from '../api/index.ts';
import { volumeOptionsProblems } from '../gluster/volume-option-policy.ts';
import { parseQuantity } from '../topology/sizing.ts';

/**
 * StorageClass `parameters` of the removed in-tree `kubernetes.io/glusterfs` provisioner, parsed so users can
 * keep the StorageClasses they have (as they are: classes whose provisioner is still `kubernetes.io/glusterfs` are
 * served too, claim-class.ts). Keys are matched case-insensitively, as the
 * in-tree plugin did (`gidMin` and `gidmin` are the same key). heketi's connection parameters mean nothing
 * here: they are accepted and reported back as ignored, so the user gets a Warning Event instead of a failure.
 * Anything else unknown is an error naming the parameter: a typo must not silently provision the wrong volume.
 */

export const DEFAULT_GID_MIN = 2000;
export const DEFAULT_GID_MAX = 2147483647;
/** Room left for `_<ns>_<pvc>_<8 hex>` in Gluster's 64 characters. */
export const MAX_VOLUME_NAME_PREFIX = 32;

/** heketi's REST connection and auth, and the in-tree per-PVC Endpoints prefix: nothing to do with them any more. */
export const HEKETI_ONLY_PARAMETERS = [
  'resturl',
  'restuser',
  'restuserkey',
  'secretname',
  'secretnamespace',
  'restauthenabled',
  'customepnameprefix',
] as const;

/** heketi-private volume options: `user.heketi.arbiter true` maps to durability; the rest are dropped with a warning. */
const HEKETI_ARBITER_OPTION = 'user.heketi.arbiter';

export interface ProvisioningParameters {
  /**
   * `clusterid` as a list, in its order: each a GlusterCluster name or a heketi cluster id (hex) that
   * `kubectl gluster heketi import` recorded on a GlusterCluster. Empty when not given: the only GlusterCluster
   * of the namespace is meant. Which cluster it is needs the API: cluster-resolution.ts.
   */
  clusterIds: string[];
  /**
   * Namespace of that GlusterCluster (`clusternamespace`), where the claims' GlusterVolumes are created:
   * a GlusterVolume names a cluster of its own namespace. Absent: the provisioner's default.
   */
  clusterNamespace?: string;
  durability: Durability;
  gidMin: number;
  gidMax: number;
  options: Record<string, string>;
  volumeNamePrefix?: string;
  snapshotFactor: number;
  /**
   * `claimLayout`: `volume` (the default) gives each claim a Gluster volume of its own; `directory` gives it a
   * directory of a shared Gluster volume of the class, sized by Gluster's directory quota (many small claims
   * without a brick process each).
   */
  claimLayout: ClaimLayout;
  /** `sharedVolumeSize`, bytes as written: the size of each shared volume a directory class makes (default 100Gi). */
  sharedVolumeSize: string;
}

export type ClaimLayout = 'volume' | 'directory';
export const DEFAULT_SHARED_VOLUME_SIZE = '100Gi';

export interface ParameterError {
  /** The key as the StorageClass spells it. */
  parameter: string;
  message: string;
}

export type ParseParametersResult =
  | { success: true; parameters: ProvisioningParameters; warnings: string[] }
  | { success: false; errors: ParameterError[] };

const integerString = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^[0-9]+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

function parseVolumeType(raw: string, ctx: z.RefinementCtx): Durability | typeof z.NEVER {
  const value = raw.trim().toLowerCase();
  const parts = value.split(':').map((part) => part.trim());
  const count = (part: string | undefined, what: string, min: number, max: number): number | undefined => {
    if (part === undefined || !/^[0-9]+$/.test(part)) {
      ctx.addIssue({ code: 'custom', message: `${what} must be a whole number in ${JSON.stringify(raw)}` });
      return undefined;
    }
    const n = Number(part);
    if (n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${what} must be within ${min}..${max}, got ${n}` });
      return undefined;
    }
    return n;
  };
  switch (parts[0]) {
    case 'none':
      if (parts.length === 1) return { type: 'None' };
      break;
    case 'replicate': {
      if (parts.length === 1) return { type: 'Replicate', replicate: { replica: 3, arbiter: false } };
      if (parts.length !== 2) break;
      if (parts[1] === '1') {
        ctx.addIssue({ code: 'custom', message: 'replicate:1 keeps one copy; use "none" for a volume without redundancy' });
        return z.NEVER;
      }
      const replica = count(parts[1], 'the replica count', 2, 16);
      return replica === undefined ? z.NEVER : { type: 'Replicate', replicate: { replica, arbiter: false } };
    }
    case 'disperse': {
      if (parts.length !== 3) {
        ctx.addIssue({ code: 'custom', message: `disperse needs data and redundancy counts, e.g. disperse:4:2; got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
      const data = count(parts[1], 'the disperse data count', 2, 64);
      const redundancy = count(parts[2], 'the disperse redundancy count', 1, 32);
      if (data === undefined || redundancy === undefined) return z.NEVER;
      if (redundancy >= data) {
        ctx.addIssue({ code: 'custom', message: `disperse redundancy (${redundancy}) must be less than data (${data})` });
        return z.NEVER;
      }
      return { type: 'Disperse', disperse: { data, redundancy } };
    }
  }
  ctx.addIssue({ code: 'custom', message: `must be replicate:N, disperse:D:R or none; got ${JSON.stringify(raw)}` });
  return z.NEVER;
}

const OPTION_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `"performance.cache-size 64MB, performance.quick-read on"`: comma-separated `key value` pairs, as heketi took
 * them. Only their syntax here; what may be set is the volume option policy's to say (parseStorageClassParameters).
 */
function parseVolumeOptions(raw: string, ctx: z.RefinementCtx): Record<string, string> {
  const options: Record<string, string> = {};
  for (const entry of raw.split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const match = /^(\S+)\s+(.+)$/.exec(trimmed);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(trimmed)} is not "key value"` });
      continue;
    }
    const key = match[1]!;
    const value = match[2]!.trim();
    if (!OPTION_KEY.test(key)) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(key)} is not a Gluster option name` });
      continue;
    }
    if (key in options) {
      ctx.addIssue({ code: 'custom', message: `option ${key} is set twice` });
      continue;
    }
    options[key] = value;
  }
  return options;
}

/** Every known key, lowercase, and the schema of its value. Unknown keys are refused (strict). */
const parametersSchema = z.strictObject({
  // Empty entries are no entry, and an empty value no clusterid, as the in-tree plugin read it.
  clusterid: z
    .string()
    .transform((value) => value.split(',').map((id) => id.trim()).filter(Boolean))
    .pipe(z.array(objectName.describe('GlusterCluster name or heketi cluster id'))),
  clusternamespace: objectName.describe('namespace of the GlusterCluster'),
  volumetype: z.string().transform(parseVolumeType),
  gidmin: integerString(DEFAULT_GID_MIN, DEFAULT_GID_MAX),
  gidmax: integerString(DEFAULT_GID_MIN, DEFAULT_GID_MAX),
  volumeoptions: z.string().transform(parseVolumeOptions),
  volumenameprefix: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_VOLUME_NAME_PREFIX, `must be at most ${MAX_VOLUME_NAME_PREFIX} characters`)
    .refine((value) => !value.includes('_'), "must not contain '_' (it separates the parts of the volume name)")
    .pipe(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, 'must be letters, digits and -, starting with a letter or digit')),
  snapfactor: integerString(1, 100),
  claimlayout: z.enum(['volume', 'directory'], { error: 'must be volume (a Gluster volume per claim) or directory (a directory of a shared volume per claim)' }),
  sharedvolumesize: z
    .string()
    .trim()
    .refine((value) => {
      try {
        return parseQuantity(value, MAX_VOLUME_SIZE.bytes) > 0;
      } catch {
        return false;
      }
    }, 'must be a size such as 100Gi, at most 1Pi'),
  resturl: z.string(),
  restuser: z.string(),
  restuserkey: z.string(),
  secretname: z.string(),
  secretnamespace: z.string(),
  restauthenabled: z.string(),
  customepnameprefix: z.string(),
}).partial();

/**
 * Pure: StorageClass parameters in, provisioning parameters (or errors naming each bad parameter) out.
 * `clusterid` is optional: without it the only GlusterCluster of the namespace is meant (cluster-resolution.ts).
 */
export function parseStorageClassParameters(parameters: Record<string, string> | undefined): ParseParametersResult {
  const errors: ParameterError[] = [];
  const originalKey = new Map<string, string>();
  const normalized: Record<string, string> = {};
  for (const [key, value] of Object.entries(parameters ?? {})) {
    const lower = key.toLowerCase();
    const previous = originalKey.get(lower);
    if (previous !== undefined) {
      errors.push({ parameter: key, message: `duplicates ${previous} (parameter names are case-insensitive)` });
      continue;
    }
    originalKey.set(lower, key);
    normalized[lower] = value;
  }
  const nameOf = (lower: string) => originalKey.get(lower) ?? lower;

  const result = parametersSchema.safeParse(normalized);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) errors.push({ parameter: nameOf(key), message: 'is not a parameter of this provisioner' });
      } else {
        const key = String(issue.path[0] ?? '');
        errors.push({ parameter: nameOf(key), message: issue.message });
      }
    }
    return { success: false, errors };
  }
  const value = result.data;
  const gidMin = value.gidmin ?? DEFAULT_GID_MIN;
  const gidMax = value.gidmax ?? DEFAULT_GID_MAX;
  if (gidMin > gidMax) errors.push({ parameter: nameOf('gidmax'), message: `must not be less than gidMin (${gidMin} > ${gidMax})` });

  const warnings: string[] = [];
  const ignored = HEKETI_ONLY_PARAMETERS.filter((key) => originalKey.has(key)).map(nameOf);
  if (ignored.length > 0) {
    warnings.push(`StorageClass parameters ${ignored.join(', ')} were for heketi and are ignored: the operator places volumes itself`);
  }

  let durability: Durability = value.volumetype ?? { type: 'Replicate', replicate: { replica: 3, arbiter: false } };
  const options: Record<string, string> = {};
  const droppedOptions: string[] = [];
  for (const [key, optionValue] of Object.entries(value.volumeoptions ?? {})) {
    if (key === HEKETI_ARBITER_OPTION) {
      const on = /^(true|yes|on|1)$/i.test(optionValue);
      if (!on) continue;
      if (durability.type !== 'Replicate' || durability.replicate?.replica !== 3) {
        errors.push({ parameter: nameOf('volumeoptions'), message: `${HEKETI_ARBITER_OPTION} needs volumetype replicate:3` });
        continue;
      }
      durability = { type: 'Replicate', replicate: { replica: 3, arbiter: true } };
    } else if (key.startsWith('user.heketi.')) {
      droppedOptions.push(key);
    } else {
      options[key] = optionValue;
    }
  }
  if (droppedOptions.length > 0) warnings.push(`volume options ${droppedOptions.join(', ')} were heketi's own and are ignored`);
  // The rules a GlusterVolume's spec.options follows, so a class can never ask for what the CRD or the volume
  // reconciler would refuse: the claim fails at once with a ProvisioningFailed Event naming the option.
  for (const problem of volumeOptionsProblems(options)) errors.push({ parameter: nameOf('volumeoptions'), message: problem });

  const claimLayout = value.claimlayout ?? 'volume';
  if (value.sharedvolumesize !== undefined && claimLayout !== 'directory') {
    errors.push({ parameter: nameOf('sharedvolumesize'), message: 'applies only with claimLayout: directory' });
  }
  if (claimLayout === 'directory' && value.volumenameprefix !== undefined) {
    errors.push({ parameter: nameOf('volumenameprefix'), message: 'does not apply with claimLayout: directory (claims are directories named like their PV)' });
  }
  if (errors.length > 0) return { success: false, errors };
  return {
    success: true,
    warnings,
    parameters: {
      clusterIds: value.clusterid ?? [],
      ...(value.clusternamespace !== undefined ? { clusterNamespace: value.clusternamespace } : {}),
      durability,
      gidMin,
      gidMax,
      options,
      ...(value.volumenameprefix !== undefined ? { volumeNamePrefix: value.volumenameprefix } : {}),
      snapshotFactor: value.snapfactor ?? 1,
      claimLayout,
      sharedVolumeSize: value.sharedvolumesize ?? DEFAULT_SHARED_VOLUME_SIZE,
    },
  };
}

/** One line for an Event: `invalid StorageClass parameter volumetype: must be ...; ...`. */
export function formatParameterErrors(errors: readonly ParameterError[]): string {
  return errors.map((error) => `invalid StorageClass parameter ${error.parameter}: ${error.message}`).join('; ');
}
