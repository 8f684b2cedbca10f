import { posix } from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import { objectName } from '../api/common.ts';
import { isTlsDir, TLS_ROOT, TLS_SECRET_KEYS } from '../gluster/tls.ts';
import { fromZodError, invalidArgument } from './errors.ts';
import { HOST_NAME_PATTERN, mountOptionProblem } from './mount-option-policy.ts';
import type { TlsMaterial } from './tls-files.ts';
import { volumeHandleProblem } from './volume-binding.ts';

/**
 * The boundary between kubelet and the plugin: every field of a request the plugin acts on is parsed here,
 * volume_context included (it comes from a PV anyone with PV write access can edit). proto-loader is run with
 * `defaults: true`, so absent strings arrive as '' and absent maps as {}; "required" means non-empty.
 */

/** Gluster volume names: glusterd accepts letters, digits, `-`, `_` (and `.`), never a leading `-`. */
export const glusterVolumeNameSchema = z.string().regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,127}$/, 'not a Gluster volume name');

export const hostSchema = z.string().regex(HOST_NAME_PATTERN, 'not a host name or IPv4 address');

/** `host:volume` (mount.glusterfs also accepts `host:/volume`; the slash is dropped so both compare equal). */
export const mountSourceSchema = z
  .string()
  .regex(/^[^:]+:\/?[^:/]+$/, 'must be host:volume')
  .transform((value) => {
    const colon = value.indexOf(':');
    return { host: value.slice(0, colon), volume: value.slice(colon + 1).replace(/^\//, '') };
  })
  .pipe(z.object({ host: hostSchema, volume: glusterVolumeNameSchema }));
export type MountSource = z.output<typeof mountSourceSchema>;

/**
 * volume_context.subdirectory, the directory of a directory-mode PV: named after the PV's GlusterVolume, so an
 * object name and one path component. It never holds a `/` (nothing below or beside the directory is
 * reachable through it), and never `.` or `..` (the object name pattern has neither; refused here on their
 * own as well, since they would mount the volume's root or leave it).
 */
export const subdirectorySchema = z.string().refine((name) => name !== '.' && name !== '..' && objectName.safeParse(name).success, {
  message: "must be the name of the PV's GlusterVolume (one directory at the root of the Gluster volume): a lowercase RFC 1123 name of at most 253 characters",
});

/**
 * mount.glusterfs reads `host:/snaps/<x>` as a mount of snapshot <x> (read-only), never as directory <x> of a
 * volume named snaps: such a directory cannot be mounted.
 */
const SNAPSHOT_MOUNT_VOLUME = 'snaps';

/** A Secret's value is at most 1 MiB in all. */
const SECRET_VALUE_MAX = 1024 * 1024;

/** NodePublishVolumeRequest.secrets: read by key; redacted in JSON and util.inspect. */
export class Secrets {
  readonly #data: ReadonlyMap<string, string>;
  constructor(data: Record<string, string>) {
    this.#data = new Map(Object.entries(data));
  }
  get(key: string): string | undefined {
    return this.#data.get(key);
  }
  toJSON(): string {
    return `[${this.#data.size} secret value(s) redacted]`;
  }
  [inspect.custom](): string {
    return this.toJSON();
  }
}

/** What the provisioner writes into the PV's `spec.csi.volumeAttributes`. */
export const volumeContextSchema = z
  .object({
    mountSource: mountSourceSchema,
    backupVolfileServers: z
      .string()
      .optional()
      .transform((value) => (value ?? '').split(':').filter((host) => host !== ''))
      .pipe(z.array(hostSchema)),
    glusterVolumeName: glusterVolumeNameSchema,
    // Set on PVs of directory-mode volumes (spec.directoryOf): the PV is this directory of glusterVolumeName,
    // which many PVs share; absent, the PV is the whole volume.
    subdirectory: subdirectorySchema.optional(),
    // Informational: kubelet adds the PV's pv.beta.kubernetes.io/gid annotation to the pod's groups itself.
    gid: z
      .string()
      .regex(/^\d{1,10}$/, 'must be a decimal group id')
      .transform(Number)
      .pipe(z.number().int().max(2147483647))
      .optional(),
    // Set on PVs of TLS volumes (src/provisioner/pv-builder.ts): where the FUSE client finds the certificate,
    // key and CA, written there from the request's secrets. Only a directory tlsDirFor makes: a PV author must
    // not have the plugin write files anywhere else on the node.
    tlsDir: z
      .string()
      .refine(isTlsDir, { message: `must be ${TLS_ROOT}/<GlusterCluster namespace>/<GlusterCluster name>` })
      .optional(),
  })
  // Keys other components add (e.g. csi.storage.k8s.io/* with podInfoOnMount) are allowed and ignored.
  .loose()
  .superRefine((context, ctx) => {
    if (context.glusterVolumeName !== context.mountSource.volume) {
      ctx.addIssue({
        code: 'custom',
        path: ['glusterVolumeName'],
        message: `"${context.glusterVolumeName}" does not match the volume of mountSource ("${context.mountSource.volume}")`,
      });
    }
    if (context.subdirectory !== undefined && context.mountSource.volume === SNAPSHOT_MOUNT_VOLUME) {
      ctx.addIssue({
        code: 'custom',
        path: ['subdirectory'],
        message: `a directory of a Gluster volume named ${SNAPSHOT_MOUNT_VOLUME} cannot be mounted: mount.glusterfs reads host:/${SNAPSHOT_MOUNT_VOLUME}/<name> as a snapshot`,
      });
    }
  });
export type VolumeContext = z.output<typeof volumeContextSchema>;

/** An absolute, normalized path: `..` or `//` in a path kubelet sends would mean something is badly wrong. */
export const absolutePathSchema = z
  .string()
  .min(1, 'is required')
  .max(4096)
  .refine((path) => path.startsWith('/') && !path.includes('\0') && posix.normalize(path) === path && path !== '/', {
    message: 'must be an absolute normalized path other than /',
  });

/**
 * Any non-empty id: unpublish and stats find what was published by the plugin's own record, and a record an
 * earlier release wrote may carry an id of another shape. Publish checks the id against its context
 * (volume-binding.ts).
 */
const volumeIdSchema = z.string().min(1, 'is required').max(512);

/**
 * Mount options one by one. kubelet passes each PV mountOption as one flag, and a flag may itself be a comma
 * list. Each option is a key or key=value of characters mount.glusterfs (a shell script) handles literally,
 * and one the allow-list takes (mount-option-policy.ts).
 */
export const mountOptionSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:/+=@-]*$/, 'not a plain mount option')
  .superRefine((option, ctx) => {
    const problem = mountOptionProblem(option);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(option)}: ${problem}` });
  });
const MOUNT_OPTIONS_MAX = 32;
const mountFlagsSchema = z
  .array(z.string())
  .transform((flags) => flags.flatMap((flag) => flag.split(',')).filter((option) => option !== ''))
  .pipe(z.array(mountOptionSchema).max(MOUNT_OPTIONS_MAX, `at most ${MOUNT_OPTIONS_MAX} mount options`));

const ACCESS_MODES = [
  'SINGLE_NODE_WRITER',
  'SINGLE_NODE_READER_ONLY',
  'MULTI_NODE_READER_ONLY',
  'MULTI_NODE_SINGLE_WRITER',
  'MULTI_NODE_MULTI_WRITER',
  'SINGLE_NODE_SINGLE_WRITER',
  'SINGLE_NODE_MULTI_WRITER',
] as const;
/** Modes that never write: published read-only whatever the `readonly` flag says. */
const READ_ONLY_MODES: ReadonlySet<string> = new Set(['SINGLE_NODE_READER_ONLY', 'MULTI_NODE_READER_ONLY']);

const volumeCapabilitySchema = z
  .object({
    access_type: z.literal('mount', { error: 'block volumes are not supported; Gluster volumes are filesystems' }),
    mount: z.object({
      // Empty means "the driver's filesystem"; anything but glusterfs is a PV meant for another driver.
      fs_type: z.union([z.literal(''), z.literal('glusterfs')], { error: 'fs_type must be empty or glusterfs' }),
      mount_flags: mountFlagsSchema,
    }),
    access_mode: z.object({ mode: z.enum(ACCESS_MODES, { error: 'access mode is missing or unsupported' }) }),
  })
  .loose();

export const publishRequestSchema = z
  .object({
    volume_id: volumeIdSchema,
    target_path: absolutePathSchema,
    volume_capability: volumeCapabilitySchema,
    readonly: z.boolean().default(false),
    volume_context: volumeContextSchema,
    // kubelet's copy of the PV's nodePublishSecretRef Secret. Never echoed in an error or a log: issues name
    // keys only, and the map is kept as a value that logs redacted (Secrets).
    secrets: z
      .record(z.string().max(253), z.string().max(SECRET_VALUE_MAX, `must be at most ${SECRET_VALUE_MAX} characters`))
      .default({})
      .transform((data) => new Secrets(data)),
  })
  .loose()
  .superRefine((request, ctx) => {
    const { glusterVolumeName, subdirectory } = request.volume_context;
    const problem = volumeHandleProblem(request.volume_id, glusterVolumeName, subdirectory);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['volume_id'], message: problem });
  })
  .transform((request) => ({
    volumeId: request.volume_id,
    targetPath: request.target_path,
    readOnly: request.readonly || READ_ONLY_MODES.has(request.volume_capability.access_mode.mode),
    accessMode: request.volume_capability.access_mode.mode,
    mountFlags: request.volume_capability.mount.mount_flags,
    context: request.volume_context,
    secrets: request.secrets,
  }));
export type PublishRequest = z.output<typeof publishRequestSchema>;

export const unpublishRequestSchema = z
  .object({ volume_id: volumeIdSchema, target_path: absolutePathSchema })
  .loose()
  .transform((request) => ({ volumeId: request.volume_id, targetPath: request.target_path }));
export type UnpublishRequest = z.output<typeof unpublishRequestSchema>;

export const volumeStatsRequestSchema = z
  .object({ volume_id: volumeIdSchema, volume_path: absolutePathSchema })
  .loose()
  .transform((request) => ({ volumeId: request.volume_id, volumePath: request.volume_path }));
export type VolumeStatsRequest = z.output<typeof volumeStatsRequestSchema>;

/**
 * The files a publish writes before mounting: none without volume_context.tlsDir (secrets are then ignored);
 * with it, every key of TLS_SECRET_KEYS non-empty in secrets, else INVALID_ARGUMENT naming the missing keys.
 * Not part of publishRequestSchema: start-up recovery replays a record (which never holds secrets) through that
 * schema, and remounts from the files the original publish wrote.
 */
export function tlsMaterialOf(request: Pick<PublishRequest, 'context' | 'secrets'>): TlsMaterial | undefined {
  const dir = request.context.tlsDir;
  if (dir === undefined) return undefined;
  const missing = TLS_SECRET_KEYS.filter((key) => !request.secrets.get(key));
  if (missing.length > 0) {
    throw invalidArgument(
      `secrets: ${missing.join(', ')} missing or empty; volume_context.tlsDir needs ${TLS_SECRET_KEYS.join(', ')}: ` +
        "the PV's spec.csi.nodePublishSecretRef must name the GlusterCluster's spec.tls Secret",
    );
  }
  return { dir, secrets: request.secrets };
}

/** Parses or throws INVALID_ARGUMENT naming the fields. */
export function parseRequest<S extends z.ZodType>(schema: S, request: unknown): z.output<S> {
  const result = schema.safeParse(request);
  if (!result.success) throw fromZodError(result.error);
  return result.data;
}
