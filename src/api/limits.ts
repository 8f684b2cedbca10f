/**
 * The bounds the API promises, in one place: the CRD refuses values beyond them (src/api schemas → crds/),
 * and the code that acts on specs is written to honour every value within them exactly.
 *
 * Why these numbers: sizes are byte counts in JavaScript numbers, exact only up to 2^53 (8 PiB). The largest
 * figure placement computes is one brick's thin pool, brick × snapshotFactor (≤ 100) plus its metadata
 * (≤ 16 GiB) (src/topology/sizing.ts). A 64 TiB brick gives 64 TiB × 100 + 16 GiB ≈ 7.04e15 < 2^53 ≈ 9.007e15,
 * so every size placement adds, compares or rounds stays an exact integer; 128 TiB would not. Volumes are only
 * ever divided into bricks (their capacity, sets × brick × data bricks, stays below twice the size), so 1 PiB
 * per volume keeps the same exactness with room to spare, and is larger than any single Gluster volume we know
 * of. Both are far above heketi's 4 TiB default brick.
 */

/**
 * The quantities the API takes: a plain decimal number and an optional suffix, binary (Ki..Ei) or decimal
 * (k..E). A subset of Kubernetes' syntax (no exponents, signs or milli-units), so the CRD's pattern, CEL's
 * quantity() and src/topology/sizing.ts parseQuantity agree on every accepted value.
 */
export const QUANTITY_PATTERN = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

/** A size limit, as the CRD's CEL rules spell it and in bytes for the code. */
export interface QuantityLimit {
  readonly quantity: string;
  readonly bytes: number;
  /** Why, for the refusal message: "the largest ... this operator places". */
  readonly what: string;
}

export const MAX_VOLUME_SIZE: QuantityLimit = { quantity: '1Pi', bytes: 2 ** 50, what: 'the largest volume this operator places' };
export const MAX_BRICK_SIZE: QuantityLimit = { quantity: '64Ti', bytes: 2 ** 46, what: 'the largest brick this operator places' };

/** heketi's defaults, which GlusterCluster keeps. */
export const DEFAULT_MIN_BRICK_SIZE = '1Gi';
/** xfsprogs 5.19 and later (Debian 12 has 6.1) refuse to make an XFS smaller than 300 MiB: LVM and LoopFile bricks are XFS. */
export const MIN_XFS_BRICK_SIZE = '300Mi';
export const DEFAULT_MAX_BRICK_SIZE = '4Ti';

/**
 * Gluster volume options per map (GlusterVolume spec.options, GlusterCluster spec.volumeOptions). Each one is
 * a `gluster volume set` the reconciler runs, so the count bounds a reconcile's work; glusterd has a few
 * hundred options in all. Option names are dotted words (`performance.cache-size`, under 40 characters);
 * values are short, except lists such as `auth.allow`, for which 4096 characters are ample.
 */
export const OPTIONS_MAX_ENTRIES = 64;
export const OPTION_NAME_MAX = 128;
export const OPTION_VALUE_MAX = 4096;

/** metav1.Condition's limit on message, which our CRDs declare too; the operator cuts what it writes to it. */
export const CONDITION_MESSAGE_MAX = 32768;

/** The words a GlusterCluster's spec.cleanupPolicy.confirmation must hold before a namespace deletion destroys data. */
export const DESTROY_DATA_CONFIRMATION = 'yes-really-destroy-data';
