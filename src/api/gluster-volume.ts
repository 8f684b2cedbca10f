import { z } from 'zod';
import { GROUP_VERSION } from './group.ts';
import { apiserverOnly, cel, conditionsField, immutable, objectMetaSchema, objectName, observedGenerationField, positiveQuantity, stringMap, volumeOptionsMap } from './common.ts';
import { glusterVolumeNameField } from './gluster-volume-name.ts';
import { MAX_VOLUME_SIZE, OPTION_NAME_MAX, OPTIONS_MAX_ENTRIES } from './limits.ts';

const replicateSchema = cel(
  z
    .object({
      replica: z.number().int().min(2).max(16).default(3).describe('Copies of every file (Gluster replica count; heketi replicate:N).'),
      arbiter: z
        .boolean()
        .default(false)
        .describe('Make the third brick of each set an arbiter (metadata only). Needs replica 3.'),
    })
    .describe('Settings when durability.type is Replicate.'),
  { rule: '!self.arbiter || self.replica == 3', message: 'arbiter needs replica 3', fieldPath: '.arbiter' },
);

const disperseSchema = cel(
  z
    .object({
      data: z.number().int().min(2).max(64).describe('Data bricks per set (heketi disperse:D:R, the D).'),
      redundancy: z.number().int().min(1).max(32).describe('Bricks per set that may fail (the R). Must be less than data.'),
    })
    .describe('Settings when durability.type is Disperse (erasure coding).'),
  { rule: 'self.redundancy < self.data', message: 'disperse redundancy must be less than data', fieldPath: '.redundancy' },
);

export const durabilitySchema = cel(
  z
    .object({
      type: z
        .enum(['None', 'Replicate', 'Disperse'])
        .describe('None: plain distribute, no redundancy. Replicate: N copies. Disperse: erasure coding D+R.'),
      replicate: replicateSchema.optional(),
      disperse: disperseSchema.optional(),
    })
    .describe('How data survives brick loss. Immutable: Gluster cannot convert a volume between types.'),
  { rule: "self.type != 'Disperse' || has(self.disperse)", message: 'durability.disperse is required when type is Disperse', fieldPath: '.disperse' },
  { rule: "self.type == 'Disperse' || !has(self.disperse)", message: 'durability.disperse is only allowed when type is Disperse', fieldPath: '.disperse' },
  { rule: "self.type == 'Replicate' || !has(self.replicate)", message: 'durability.replicate is only allowed when type is Replicate', fieldPath: '.replicate' },
  { rule: 'self == oldSelf', message: 'durability is immutable once set' },
);
export type Durability = z.infer<typeof durabilitySchema>;

/** Where a volume's first contents come from (spec.dataSource): exactly one of the two. */
const volumeDataSourceSchema = cel(
  z
    .object({
      snapshot: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be a Gluster snapshot name: letters, digits, _, . and -, at most 128')
        .optional()
        .describe('Gluster snapshot (gluster snapshot list) of a volume of this cluster to restore.'),
      volume: objectName.optional().describe('GlusterVolume of this namespace and cluster to clone, as it is when this volume is created.'),
    })
    .describe('The contents this volume starts with.'),
  { rule: 'has(self.snapshot) != has(self.volume)', message: 'dataSource needs exactly one of snapshot and volume' },
);

export const glusterVolumeSpecSchema = cel(
  z
    .object({
      cluster: immutable(objectName, 'cluster').describe('Name of the GlusterCluster in this namespace that holds the volume.'),
      size: positiveQuantity('size', MAX_VOLUME_SIZE).describe('Usable capacity, e.g. 10Gi, at most 1Pi. May grow (the operator adds or grows bricks), never shrink.'),
      durability: durabilitySchema.default({ type: 'Replicate', replicate: { replica: 3, arbiter: false } }),
      glusterVolumeName: immutable(glusterVolumeNameField, 'glusterVolumeName')
        .optional()
        .describe(
          'Name of the volume inside Gluster: 1 to 64 letters, digits, - and _, starting with a letter or a digit, not a word Gluster ' +
            'reserves (all, volume, force, ...). Defaults to <namespace>_<name> (with dots as - and a hash added when the name has dots or does not fit); set it to ' +
            'adopt an existing name.',
        ),
      options: volumeOptionsMap('options')
        .optional()
        .describe(
          'Gluster volume options (gluster volume set), e.g. performance.cache-size: 64MB; at most 64, and only performance tuning and a short ' +
            'list (see the README, "Volume options"). An option the operator set and this map no longer names is reset to Gluster\'s default.',
        ),
      directoryOf: immutable(objectName, 'directoryOf')
        .optional()
        .describe(
          'Make this volume a directory of another GlusterVolume of this namespace instead of a Gluster volume of its own: the directory ' +
            '/<metadata.name> at the root of that volume\'s Gluster volume, limited to size by Gluster\'s directory quota (features.quota, ' +
            'limit-usage), owned by gid. The provisioner makes these for StorageClasses with claimLayout: directory. durability, ' +
            'glusterVolumeName, options, deviceSelector and adoptExisting do not apply. Deleting it with reclaimPolicy Delete removes the ' +
            'directory and its files; Retain keeps them.',
        ),
      gid: z
        .number()
        .int()
        .min(0)
        .max(2147483647)
        .optional()
        .describe('Group that owns the brick roots (chown :gid, chmod 2775), so pods running with this supplemental group can write.'),
      snapshotFactor: z
        .number()
        .min(1)
        .max(100)
        .default(1)
        .describe('Thin-pool size as a multiple of the brick size, leaving room for Gluster snapshots (heketi snapfactor).'),
      deviceSelector: stringMap.optional().describe('Only place bricks on devices whose tags include all of these.'),
      reclaimPolicy: z
        .enum(['Delete', 'Retain'])
        .default('Retain')
        .describe(
          'On deletion of this object: Delete removes the Gluster volume and its bricks once no PersistentVolume is bound to it and no ' +
            'client mounts it; Retain (the default) leaves both untouched and releases the volume for adoption by another GlusterVolume.',
        ),
      dataSource: immutable(volumeDataSourceSchema, 'dataSource')
        .optional()
        .describe(
          'Start this volume as a copy instead of empty (thin LVM bricks only): snapshot names a Gluster snapshot of this cluster (restored ' +
            'with gluster snapshot clone), volume names a GlusterVolume of this namespace (cloned through a snapshot the operator takes and ' +
            'deletes again). The copy is an independent volume whose bricks are thin LVs in the source bricks\' thin pools; durability must be ' +
            'the source\'s. The provisioner sets it for claims whose dataSource is a VolumeSnapshot or a PersistentVolumeClaim.',
        ),
      adoptExisting: z
        .boolean()
        .optional()
        .describe(
          'Take over the existing Gluster volume named by glusterVolumeName, which no GlusterVolume owns (e.g. one heketi made, or one ' +
            'kept by reclaimPolicy Retain). The operator first checks that Gluster reports the durability this spec asks for and that every ' +
            'brick is on a node of the cluster; it never re-creates or moves the bricks. Without it an existing volume is refused.',
        ),
    })
    .describe('Desired state of one Gluster volume.'),
  {
    rule: 'quantity(self.size).compareTo(quantity(oldSelf.size)) >= 0',
    message: 'size may grow but not shrink',
    fieldPath: '.size',
  },
  {
    rule: '!has(self.adoptExisting) || !self.adoptExisting || has(self.glusterVolumeName)',
    message: 'adoptExisting needs glusterVolumeName: the name of the Gluster volume to take over',
    fieldPath: '.adoptExisting',
  },
  {
    rule: 'has(self.glusterVolumeName) == has(oldSelf.glusterVolumeName)',
    message: 'glusterVolumeName cannot be added or removed after creation',
    fieldPath: '.glusterVolumeName',
  },
  {
    rule: 'has(self.directoryOf) == has(oldSelf.directoryOf)',
    message: 'directoryOf cannot be added or removed after creation',
    fieldPath: '.directoryOf',
  },
  {
    rule: 'has(self.dataSource) == has(oldSelf.dataSource)',
    message: 'dataSource cannot be added or removed after creation',
    fieldPath: '.dataSource',
  },
  {
    rule: '!has(self.dataSource) || !(has(self.directoryOf) || has(self.adoptExisting) && self.adoptExisting)',
    message: 'dataSource makes a new Gluster volume: it does not go with directoryOf or adoptExisting',
    fieldPath: '.dataSource',
  },
  {
    rule: '!has(self.directoryOf) || !(has(self.glusterVolumeName) || has(self.options) || has(self.deviceSelector) || has(self.adoptExisting))',
    message: 'a directory (directoryOf) has no Gluster volume of its own: glusterVolumeName, options, deviceSelector and adoptExisting do not apply',
    fieldPath: '.directoryOf',
  },
);

/** A GlusterVolume that is a quota-limited directory of another one's Gluster volume (spec.directoryOf), not a Gluster volume. */
export function isDirectoryVolume(volume: { spec: Pick<GlusterVolumeSpec, 'directoryOf'> }): boolean {
  return volume.spec.directoryOf !== undefined;
}

export const brickStatusSchema = z.object({
  node: z.string().describe('GlusterNode holding the brick.'),
  path: z.string().describe('Brick as Gluster names it, host:/path.'),
  device: z.string().optional().describe('Device the brick was carved from.'),
  size: z.string().optional().describe('Brick size.'),
  set: z.number().int().min(0).describe('Index of the replica or disperse set.'),
  arbiter: z.boolean().optional().describe('True for an arbiter brick.'),
  online: z.boolean().optional().describe('Brick process running, as gluster volume status reports.'),
});

/** Self-heal backlog as `gluster volume heal VOL info summary` reports it (replicated and dispersed volumes only). */
export const volumeHealStatusSchema = z
  .object({
    pendingEntries: z
      .number()
      .int()
      .min(0)
      .describe(
        'Entries (files, directories) waiting for self-heal or being healed: per replica or disperse set the most any of its bricks ' +
          'lists, summed over the sets. A brick that could not be asked is not counted (the Healing condition names it).',
      ),
    splitBrainEntries: z
      .number()
      .int()
      .min(0)
      .describe('Entries in split-brain, which self-heal cannot resolve alone (counted as pendingEntries is). The Degraded condition says how to resolve them.'),
    checkedAt: z.string().describe('When heal info was last read (RFC 3339). It is read at most once a minute, and after every change the operator makes.'),
  })
  .describe('Self-heal backlog of a replicated or dispersed volume; absent for distribute volumes.');

export const volumeQuorumStatusSchema = z
  .object({
    type: z
      .enum(['auto', 'fixed', 'none'])
      .describe(
        'Client quorum: auto (replicate: more than half of each set, or exactly half including its first brick; disperse: the data bricks ' +
          'of each set), fixed (cluster.quorum-count or disperse.quorum-count bricks of each set) or none (any brick).',
      ),
    met: z.boolean().describe('Every set has the bricks online its quorum needs; when false, writes to the files of a set without quorum fail.'),
  })
  .describe('Whether writes are possible with the bricks online now (replicated and dispersed volumes).');

export const volumeRebalanceStatusSchema = z
  .object({
    state: z.enum(['not-started', 'in-progress', 'stopped', 'completed', 'failed']).describe('Of the whole task, read from every node.'),
    filesScanned: z.number().int().min(0).describe('Files looked up so far, summed over the nodes.'),
    filesRebalanced: z.number().int().min(0).describe('Files moved to other bricks so far.'),
    failures: z.number().int().min(0).describe('Files that failed to move.'),
    checkedAt: z.string().describe('When rebalance status was read (RFC 3339).'),
  })
  .describe('Progress of the last rebalance (started after bricks were added), for volumes with several sets.');

export const glusterVolumeStatusSchema = z
  .object({
    observedGeneration: observedGenerationField.optional(),
    conditions: conditionsField.optional(),
    glusterVolumeName: z.string().optional().describe('Name of the volume inside Gluster.'),
    copiedFrom: z.string().optional().describe('What the volume started as a copy of (spec.dataSource), once the copy is made: snapshot NAME or GlusterVolume NAME.'),
    glusterVolumeId: z.string().optional().describe('UUID Gluster gave the volume.'),
    capacity: z.string().optional().describe('Usable size as created (may exceed spec.size after rounding to brick sizes).'),
    durability: z.string().optional().describe('Layout as Gluster reports it, e.g. "replicate 3" or "disperse 4+2", with the set count.'),
    mountSource: z.string().optional().describe('What to mount: host:volume, e.g. for mount -t glusterfs.'),
    backupVolfileServers: z
      .array(z.string())
      .optional()
      .describe('Other servers to fetch the volume layout from when the first is down (mount option backup-volfile-servers).'),
    bricks: z.array(brickStatusSchema).optional().describe('Bricks of the volume.'),
    bricksOnline: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Bricks gluster volume status reports running, of the bricks gluster lists; absent while not known. Each brick says which in bricks[].online.'),
    heal: volumeHealStatusSchema.optional(),
    quorum: volumeQuorumStatusSchema.optional(),
    rebalance: volumeRebalanceStatusSchema.optional(),
    clients: z.number().int().min(0).optional().describe('FUSE and gfapi clients connected to the volume when last observed (deletion waits while any are).'),
    directory: z
      .string()
      .optional()
      .describe('For a directory (spec.directoryOf): its path inside glusterVolumeName, e.g. /pvc-0b1c...; mountSource and this mount it alone.'),
    tls: z
      .object({
        secretName: z.string().describe('Secret (ca.crt, tls.crt, tls.key) a client presents a certificate from; the PVs of this volume name it as nodePublishSecretRef.'),
        secretNamespace: z.string().describe('Namespace of that Secret: the GlusterCluster\'s.'),
        dir: z.string().describe('Where servers and clients keep the certificate, key and CA (the paths of ssl.own-cert, ssl.private-key and ssl.ca-list).'),
      })
      .optional()
      .describe('Present when the volume\'s I/O is encrypted (client.ssl and server.ssl on, from the GlusterCluster\'s spec.tls); clients then need a certificate of its CA.'),
    appliedOptions: apiserverOnly(z.array(apiserverOnly(z.string(), { maxLength: OPTION_NAME_MAX })), { maxItems: OPTIONS_MAX_ENTRIES })
      .optional()
      .describe(
        'Options the operator has set on the Gluster volume from spec.options or the cluster\'s volumeOptions (recorded before each set), ' +
          'the only ones it resets when the spec no longer names them; options set by hand or by heketi are never reset.',
      ),
  })
  .describe('Observed state of the volume, written only by the operator.');

export const glusterVolumeSchema = z.object({
  apiVersion: z.literal(GROUP_VERSION),
  kind: z.literal('GlusterVolume'),
  metadata: objectMetaSchema,
  spec: glusterVolumeSpecSchema,
  status: glusterVolumeStatusSchema.optional(),
});

export type GlusterVolume = z.infer<typeof glusterVolumeSchema>;
export type GlusterVolumeSpec = z.infer<typeof glusterVolumeSpecSchema>;
