import { z } from 'zod';
import { GROUP_VERSION } from './group.ts';
import { cel, conditionsField, objectMetaSchema, objectName, observedGenerationField, positiveQuantity, stringMap, volumeOptionsMap, type CelRule } from './common.ts';
import { DESTROY_DATA_CONFIRMATION, DEFAULT_MAX_BRICK_SIZE, DEFAULT_MIN_BRICK_SIZE, MAX_BRICK_SIZE, MIN_XFS_BRICK_SIZE } from './limits.ts';

/**
 * In-cluster mode: glusterd runs in the operator's DaemonSet on labelled Kubernetes nodes (what gk-deploy did).
 * Only where it runs and, from an allow-list the operator holds, its image come from here: the pod's privileges,
 * host paths and tolerations are the operator's (src/deploy/glusterd-daemonset.ts). The image keeps no pattern
 * or enum in the schema on purpose: an object stored with an image no longer allowed must still parse (see
 * apiserverOnly in common.ts), and is refused for that cluster alone (ImageNotAllowed).
 */
const inClusterAccess = z
  .object({
    nodeSelector: stringMap
      .default({ storagenode: 'glusterfs' })
      .describe('Kubernetes nodes that run glusterd. gk-deploy labelled them storagenode=glusterfs; that is the default.'),
    image: z
      .string()
      .max(512)
      .optional()
      .describe(
        'glusterd image of the privileged DaemonSet: the operator\'s own (GLUSTERD_IMAGE, the image pinned by its release) when unset. ' +
          'Another is used only if the operator\'s administrator listed it in the GLUSTERD_IMAGES setting; otherwise the cluster is ' +
          'Ready=False with reason ImageNotAllowed and nothing is deployed for it.',
      ),
  })
  .describe('How the glusterd DaemonSet is placed when access.mode is InCluster.');

/** External mode: standalone Gluster servers reached over SSH (heketi's "ssh" executor). */
const externalAccess = z
  .object({
    sshSecretRef: z
      .object({
        name: objectName.describe('Secret in this namespace holding the private key.'),
        key: z.string().max(253).default('ssh-privatekey').describe('Key of the Secret holding the private key.'),
      })
      .describe('Secret with the SSH private key (kubernetes.io/ssh-auth Secrets use the key ssh-privatekey).'),
    user: z.string().min(1).max(32).default('root').describe('Login user on the Gluster servers.'),
    port: z.number().int().min(1).max(65535).default(22).describe('SSH port on the Gluster servers.'),
    sudo: z.boolean().default(false).describe('Run every command through sudo (for a non-root user).'),
    connectTimeoutSeconds: z.number().int().min(1).max(300).default(10).describe('SSH connect timeout.'),
  })
  .describe('How Gluster servers are reached when access.mode is External.');

/**
 * One entry of a volume's auth.allow, in the forms glusterd 10.3 matches (tried on the test bed): an IPv4
 * address, an IPv4 network in CIDR form, an IPv4 pattern with `*` for whole octets, or an IPv6 address. A lone
 * `*` is not an entry: mode Open says that. Commas would split one entry into several, so they cannot appear.
 */
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
export const CLIENT_ADDRESS_PATTERN = new RegExp(
  `^((${OCTET}|\\*)\\.){3}(${OCTET}|\\*)$|^(${OCTET}\\.){3}${OCTET}/([0-9]|[12][0-9]|3[0-2])$|^[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}$`,
);
export const CLIENT_ADDRESSES_MAX = 256;

const clientAccessSchema = z
  .object({
    mode: z
      .enum(['Restricted', 'Open'])
      .default('Restricted')
      .describe(
        'Restricted: each volume\'s auth.allow lists only the Kubernetes nodes (kubernetesNodes) and addresses, kept current as nodes come ' +
          'and go; a client elsewhere is refused by the bricks, and one dropped from the list is disconnected. Open: auth.allow is * ' +
          '(Gluster\'s default), anyone who reaches the servers\' ports may mount any volume.',
      ),
    kubernetesNodes: z
      .boolean()
      .default(true)
      .describe(
        'Include the InternalIP addresses of every Kubernetes node (the CSI plugin mounts from the node\'s own address). Set false when the ' +
          'Gluster servers see the nodes behind NAT, and list what they see in addresses.',
      ),
    addresses: z
      .array(z.string().max(64).regex(CLIENT_ADDRESS_PATTERN, 'must be an IPv4 address, an IPv4 CIDR network, an IPv4 pattern with * octets, or an IPv6 address'))
      .max(CLIENT_ADDRESSES_MAX)
      .default([])
      .describe('More clients that may mount: IPv4 addresses (10.0.0.5), networks (10.0.0.0/24), patterns (10.0.0.*), IPv6 addresses.'),
    adoptedVolumes: z
      .enum(['Unchanged', 'Restricted'])
      .default('Unchanged')
      .describe(
        'Volumes taken over with adoptExisting (heketi\'s, for example) keep the auth.allow they had unless this is Restricted: adoption ' +
          'never cuts off clients the operator does not know about unless told to.',
      ),
  })
  .describe('Which clients may mount the volumes of this cluster.');

/** Gluster's own default for cluster.max-bricks-per-process (glusterd 10), and the operator's. */
export const DEFAULT_MAX_BRICKS_PER_PROCESS = 250;
/** glusterd refuses 1 while multiplexing is on ("set this option to a value other than 1"); 0 (no limit) is not offered. */
export const MIN_MAX_BRICKS_PER_PROCESS = 2;
export const MAX_MAX_BRICKS_PER_PROCESS = 1000;

const brickMultiplexingSchema = z
  .object({
    mode: z
      .enum(['Auto', 'Enabled', 'Disabled', 'Unmanaged'])
      .default('Auto')
      .describe(
        'Auto (default): the operator turns cluster.brick-multiplex on for a pool that has no Gluster volume yet when it first finds ' +
          'it (a pool it forms), and leaves a pool that already has volumes exactly as it found it. The choice is made once and ' +
          'recorded in status.brickMultiplexing.decidedBy; later passes keep it, and Auto never switches a pool that has volumes. ' +
          'Enabled / Disabled: cluster.brick-multiplex on / off on the pool, whatever it has. glusterd applies the setting to bricks ' +
          'started afterwards: bricks already running keep their own processes until their volume is restarted (volume stop and start). ' +
          'Unmanaged: the operator never changes it and only reports it.',
      ),
    maxBricksPerProcess: z
      .number()
      .int()
      .min(MIN_MAX_BRICKS_PER_PROCESS)
      .max(MAX_MAX_BRICKS_PER_PROCESS)
      .default(DEFAULT_MAX_BRICKS_PER_PROCESS)
      .describe(
        `cluster.max-bricks-per-process while multiplexing is on (Gluster's default, and this one, is ${DEFAULT_MAX_BRICKS_PER_PROCESS}). ` +
          'Higher: fewer glusterfsd processes and less memory (an unmultiplexed brick process took about 20 MiB on the test bed). ' +
          'Lower: one process crashing, being killed by the OOM killer or hung takes fewer bricks down with it, and glusterd 10 ' +
          'restarts all bricks of a process together. Set on pools the operator multiplexes (Enabled, or Auto on a pool it formed); ' +
          'glusterd refuses it while multiplexing is off and refuses 1 while it is on.',
      ),
  })
  .describe(
    'Brick multiplexing: one glusterfsd process per node serving many bricks instead of one process per brick. Unset: mode Auto ' +
      `with maxBricksPerProcess ${DEFAULT_MAX_BRICKS_PER_PROCESS}.`,
  );

export type BrickMultiplexingSpec = z.output<typeof brickMultiplexingSchema>;

/** The cluster's brick multiplexing settings with their defaults filled in (the field is optional). */
export function brickMultiplexingOf(spec: { brickMultiplexing?: BrickMultiplexingSpec | undefined }): BrickMultiplexingSpec {
  return spec.brickMultiplexing ?? { mode: 'Auto', maxBricksPerProcess: DEFAULT_MAX_BRICKS_PER_PROCESS };
}

const accessSchema = cel(
  z
    .object({
      mode: z
        .enum(['InCluster', 'External'])
        .describe('InCluster runs glusterd in a DaemonSet on Kubernetes nodes; External reaches existing Gluster servers over SSH.'),
      inCluster: inClusterAccess.optional(),
      external: externalAccess.optional(),
    })
    .describe('How the operator reaches the Gluster nodes of this cluster.'),
  { rule: "self.mode != 'External' || has(self.external)", message: 'access.external is required when access.mode is External', fieldPath: '.external' },
  { rule: "self.mode != 'InCluster' || !has(self.external)", message: 'access.external must not be set when access.mode is InCluster', fieldPath: '.external' },
  { rule: "self.mode != 'External' || !has(self.inCluster)", message: 'access.inCluster must not be set when access.mode is External', fieldPath: '.inCluster' },
  { rule: 'self.mode == oldSelf.mode', message: 'access.mode is immutable; create a new GlusterCluster instead' },
);

export const glusterClusterSpecSchema = cel(
  z
    .object({
      access: accessSchema,
      brickBackend: z
        .enum(['LVM', 'LoopFile', 'Directory'])
        .default('LVM')
        .describe(
          'Where bricks live. LVM (default, production): a thin pool per device and a thin LV + XFS per brick, as heketi did. ' +
            'LoopFile: one XFS-formatted sparse file per brick under directoryRoot, mounted through a loop device (no device-mapper ' +
            'needed; sizes enforced). Directory: bricks as plain directories under directoryRoot on an already-mounted filesystem.',
        ),
      directoryRoot: z
        .string()
        .max(1024)
        .regex(/^\/.*/, 'must be an absolute path')
        .optional()
        .describe(
          'Parent directory of bricks when brickBackend is LoopFile or Directory; devices are not used then. Neither it nor brickBackend ' +
            'can change while the cluster has bricks (status.bricks).',
        ),
      zoneChecking: z
        .enum(['None', 'Strict'])
        .default('None')
        .describe('Strict refuses to place two bricks of one replica or disperse set in the same zone; None only prefers spreading.'),
      minBrickSize: positiveQuantity('minBrickSize', MAX_BRICK_SIZE)
        .default(DEFAULT_MIN_BRICK_SIZE)
        .describe('Smallest brick placement will create (heketi: 1Gi).'),
      maxBrickSize: positiveQuantity('maxBrickSize', MAX_BRICK_SIZE)
        .default(DEFAULT_MAX_BRICK_SIZE)
        .describe('Largest brick placement will create, at most 64Ti; larger volumes get more replica sets (heketi: 4Ti).'),
      volumeOptions: volumeOptionsMap('volumeOptions')
        .optional()
        .describe('Gluster options applied to every volume of this cluster unless the volume sets its own value.'),
      clientAccess: clientAccessSchema
        .optional()
        .describe(
          'Who may mount this cluster\'s volumes (Gluster\'s auth.allow, set on every volume the operator creates). Unset: mode Restricted ' +
            'with kubernetesNodes true, so only the Kubernetes nodes (where the CSI plugin mounts) can; the servers\' own self-heal and ' +
            'heal-info clients are trusted by Gluster and need no entry.',
        ),
      brickMultiplexing: brickMultiplexingSchema.optional(),
      tls: z
        .object({
          secretName: objectName.describe(
            'Secret in this namespace with ca.crt, tls.crt and tls.key (as cert-manager writes them). Servers and clients present a certificate ' +
              'this CA signed, and the bricks take any such certificate; a client without one is refused.',
          ),
        })
        .optional()
        .describe(
          'Encrypt the I/O of volumes created from now on (Gluster\'s client.ssl and server.ssl). The operator copies the Secret to every server ' +
            'holding their bricks, and their PVs hand it to the CSI plugin (nodePublishSecretRef). Volumes created before keep running without ' +
            'TLS (turning it on needs their bricks restarted); glusterd\'s own management traffic is not encrypted.',
        ),
      cleanupPolicy: z
        .object({
          confirmation: z
            .literal(DESTROY_DATA_CONFIRMATION)
            .optional()
            .describe(
              `Set to "${DESTROY_DATA_CONFIRMATION}" to let the deletion of a whole namespace destroy the Gluster volumes (reclaimPolicy Delete) ` +
                'of the GlusterVolumes in it. Without it those volumes are kept (as with Retain) when their namespace is deleted.',
            ),
        })
        .optional()
        .describe('What the operator may destroy when GlusterVolumes go away together with their namespace (compare Rook\'s cleanupPolicy).'),
    })
    .describe('Desired state of a Gluster trusted storage pool.'),
  {
    rule: "self.brickBackend == 'LVM' || has(self.directoryRoot)",
    message: 'directoryRoot is required when brickBackend is LoopFile or Directory',
    fieldPath: '.directoryRoot',
  },
  {
    rule: 'quantity(self.minBrickSize).compareTo(quantity(self.maxBrickSize)) <= 0',
    message: 'minBrickSize must not exceed maxBrickSize',
    fieldPath: '.minBrickSize',
  },
  {
    // Found on the VM node: a 256Mi brick failed mkfs forever ("Filesystem must be larger than 300MB", xfsprogs 5.19+).
    rule: `self.brickBackend == 'Directory' || quantity(self.minBrickSize).compareTo(quantity('${MIN_XFS_BRICK_SIZE}')) >= 0`,
    message: `minBrickSize must be at least ${MIN_XFS_BRICK_SIZE} with brickBackend LVM or LoopFile: mkfs.xfs refuses smaller file systems`,
    fieldPath: '.minBrickSize',
  },
);

export const glusterClusterStatusSchema = z
  .object({
    observedGeneration: observedGenerationField.optional(),
    conditions: conditionsField.optional(),
    nodes: z
      .object({
        total: z.number().int().min(0).describe('GlusterNodes that belong to this cluster.'),
        ready: z.number().int().min(0).describe('GlusterNodes that are Ready.'),
      })
      .optional()
      .describe('Node counts.'),
    peers: z.number().int().min(0).optional().describe('Peers in the Gluster trusted pool, as glusterd reports.'),
    capacity: z
      .object({
        total: z.string().describe('Raw capacity of all devices.'),
        free: z.string().describe('Raw capacity not used by bricks.'),
      })
      .optional()
      .describe('Raw device capacity of the cluster.'),
    volumes: z.number().int().min(0).optional().describe('GlusterVolumes placed on this cluster.'),
    bricks: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Bricks of the cluster\'s volumes, replaced ones not yet removed included; while any exist, brickBackend and directoryRoot cannot change.'),
    brickMultiplexing: z
      .object({
        enabled: z.boolean().describe('cluster.brick-multiplex of the pool, as glusterd last reported it (or as the operator just set it).'),
        maxBricksPerProcess: z.number().int().min(0).optional().describe('cluster.max-bricks-per-process of the pool, as glusterd last reported it (0: no limit).'),
        decidedBy: z
          .enum(['Operator', 'Found'])
          .describe(
            'Operator: the operator keeps the setting (mode Enabled or Disabled, or Auto on a pool that had no volume when it was first ' +
              'found). Found: the pool is left as the operator found it (Auto on a pool that already had volumes, or Unmanaged). ' +
              'Auto reads this instead of deciding again.',
          ),
      })
      .optional()
      .describe('Brick multiplexing of the pool (spec.brickMultiplexing), and whose choice it is.'),
  })
  .describe('Observed state of the cluster, written only by the operator.');

/** status.bricks as the operator last wrote it says no brick depends on the spec's brick layout. */
const NO_BRICKS = '!has(oldSelf.status) || !has(oldSelf.status.bricks) || oldSelf.status.bricks == 0';
const MOVE_FIRST = 'brick paths derive from it. Move the bricks away first (delete the GlusterVolumes of this cluster), then change it';

/** Rules on the whole object (the CRD's root schema), against the status the apiserver keeps on a main-resource update. */
export const glusterClusterRules: CelRule[] = [
  {
    rule: `${NO_BRICKS} || self.spec.brickBackend == oldSelf.spec.brickBackend`,
    message: `spec.brickBackend cannot change while the cluster has bricks (status.bricks > 0): ${MOVE_FIRST}`,
    fieldPath: '.spec.brickBackend',
    reason: 'FieldValueForbidden',
  },
  {
    rule:
      `${NO_BRICKS} || (has(self.spec.directoryRoot) ? has(oldSelf.spec.directoryRoot) && self.spec.directoryRoot == oldSelf.spec.directoryRoot ` +
      ': !has(oldSelf.spec.directoryRoot))',
    message: `spec.directoryRoot cannot change while the cluster has bricks (status.bricks > 0): ${MOVE_FIRST}`,
    fieldPath: '.spec.directoryRoot',
    reason: 'FieldValueForbidden',
  },
];

export const glusterClusterSchema = z.object({
  apiVersion: z.literal(GROUP_VERSION),
  kind: z.literal('GlusterCluster'),
  metadata: objectMetaSchema,
  spec: glusterClusterSpecSchema,
  status: glusterClusterStatusSchema.optional(),
});

export type GlusterCluster = z.infer<typeof glusterClusterSchema>;
export type GlusterClusterSpec = z.infer<typeof glusterClusterSpecSchema>;
