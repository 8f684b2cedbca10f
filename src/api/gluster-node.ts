import { z } from 'zod';
import { GROUP_VERSION } from './group.ts';
import { cel, conditionsField, hostAddress, immutable, objectMetaSchema, objectName, observedGenerationField, stringMap, type CelRule } from './common.ts';

/**
 * spec.sshHostKey: the host key an External node must show, as an OpenSSH public key line or a SHA256
 * fingerprint. Key types in the order SshTransport asks a server for them (src/transport/ssh.ts); a public
 * key line also makes it ask for that type alone, so an RSA key can be expected of a server that has ed25519.
 */
export const SSH_HOST_KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;
export type SshHostKeyType = (typeof SSH_HOST_KEY_TYPES)[number];
export const SSH_HOST_KEY_MAX = 4096; // an RSA 16384 key line with a comment fits

/** For the CRD (CEL) and for zod: no backslash, so it reads the same in a CEL string literal. */
const SSH_HOST_KEY_PATTERN = `^(SHA256:[A-Za-z0-9+/]{43}|(${SSH_HOST_KEY_TYPES.join('|')}) AAAA[A-Za-z0-9+/]+={0,2}( [^ ].*)?)$`;
const HOW_TO_GET_IT =
  'ssh-keyscan -t ed25519 HOST prints "HOST ssh-ed25519 AAAA..." (take all but the host name, and compare it out of band); on the ' +
  'server, ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub prints the fingerprint (the SHA256:... field)';
export const SSH_HOST_KEY_FORMAT_MESSAGE =
  `spec.sshHostKey must be an OpenSSH public key line (${SSH_HOST_KEY_TYPES.join(', ')}: "ssh-ed25519 AAAA... [comment]") or a ` +
  `SHA256 fingerprint ("SHA256:" and 43 base64 characters); ${HOW_TO_GET_IT}`;

export type SshHostKeySpec = { kind: 'fingerprint'; fingerprint: string } | { kind: 'publicKey'; keyType: SshHostKeyType; blob: Buffer };

/** Length-prefixed strings of an SSH public key blob (RFC 4253 6.6), or undefined when they do not use it up exactly. */
function wireFields(blob: Buffer): Buffer[] | undefined {
  const fields: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(at);
    if (length === 0 || at + 4 + length > blob.length) return undefined;
    fields.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return fields;
}

/** How many fields each key type's blob holds: type and key (ed25519); type, curve and point (ecdsa); type, e and n (rsa). */
const WIRE_FIELD_COUNT: Readonly<Record<SshHostKeyType, number>> = {
  'ssh-ed25519': 2,
  'ecdsa-sha2-nistp256': 3,
  'ecdsa-sha2-nistp384': 3,
  'ecdsa-sha2-nistp521': 3,
  'ssh-rsa': 3,
};

/**
 * spec.sshHostKey read: a fingerprint as given, or a key line's type and decoded blob (whose own type field
 * must agree with the line's). Pure; the transport turns a blob into its fingerprint.
 */
export function parseSshHostKeySpec(value: string): SshHostKeySpec | { problem: string } {
  if (!new RegExp(SSH_HOST_KEY_PATTERN).test(value)) return { problem: SSH_HOST_KEY_FORMAT_MESSAGE };
  if (value.startsWith('SHA256:')) return { kind: 'fingerprint', fingerprint: value };
  const [keyType, encoded] = value.split(' ') as [SshHostKeyType, string];
  const blob = Buffer.from(encoded, 'base64');
  const fields = wireFields(blob);
  // The wire format is length-prefixed strings, the key type first, that use up the blob exactly: a line cut
  // short leaves a field unfinished or too few of them. (A base64 round trip alone is not enough: 1 cut in 16
  // ends on a clean base64 boundary.)
  const embedded = fields?.[0]?.toString('latin1');
  const whole = fields !== undefined && embedded !== undefined && fields.length === (WIRE_FIELD_COUNT[embedded as SshHostKeyType] ?? fields.length);
  if (blob.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '') || !whole || fields.length < 2) {
    return { problem: `spec.sshHostKey: the key after "${keyType}" is not a whole OpenSSH public key (cut short or altered?); ${HOW_TO_GET_IT}` };
  }
  if (embedded !== keyType) return { problem: `spec.sshHostKey says ${keyType} but its key is of type ${embedded}: copy the line whole` };
  return { kind: 'publicKey', keyType, blob };
}

const sshHostKeyField = cel(
  z
    .string()
    .min(1)
    .max(SSH_HOST_KEY_MAX)
    .superRefine((value, ctx) => {
      const parsed = parseSshHostKeySpec(value);
      if ('problem' in parsed) ctx.addIssue({ code: 'custom', message: parsed.problem });
    }),
  { rule: `self.matches('${SSH_HOST_KEY_PATTERN}')`, message: SSH_HOST_KEY_FORMAT_MESSAGE },
);

const deviceSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^\/dev\/.+/, 'must be a device path under /dev')
      .describe('Block device path on the node, e.g. /dev/sdb.'),
    destroyData: z
      .boolean()
      .default(false)
      .describe(
        'Wipe existing signatures (wipefs --all) before use. Without it, a device that is not empty is refused and ' +
          'reported in status; nothing on it is touched.',
      ),
    tags: stringMap.optional().describe('Labels that volumes can select devices by (deviceSelector).'),
  })
  .describe('A raw block device the operator may turn into bricks.');

export const glusterNodeSpecSchema = z
  .object({
    cluster: immutable(objectName, 'cluster').describe('Name of the GlusterCluster in this namespace this node belongs to.'),
    manageAddress: hostAddress.describe(
      'Where the operator runs commands: the SSH host for External clusters, the Kubernetes node name for InCluster ones (heketi: hostnames.manage).',
    ),
    storageAddress: hostAddress.describe(
      'Address Gluster peers and clients use for this node (heketi: hostnames.storage). Brick names derive from it, so it cannot ' +
        'change while bricks are on the node (status.bricks): move them away first.',
    ),
    zone: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a label-like value such as 1 or eu-west-1a')
      .default('1')
      .describe('Failure domain. Bricks of one replica or disperse set are spread over zones (heketi: zone).'),
    devices: z
      .array(deviceSchema)
      .max(256)
      .default([])
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
      .describe('Devices to use for bricks. A device listed twice is refused.'),
    tags: stringMap.optional().describe('Free-form labels of the node (heketi: node tags).'),
    sshHostKey: sshHostKeyField
      .optional()
      .describe(
        'External clusters: the SSH host key this server must show, as an OpenSSH public key line ("ssh-ed25519 AAAA...", also ' +
          'ecdsa-sha2-nistp256/384/521 and ssh-rsa) or a SHA256 fingerprint ("SHA256:..."). When set, only this key is accepted and ' +
          'nothing is trusted on first use; a server showing another is refused (Ready False, reason HostKeyRefused, naming both ' +
          `fingerprints). Unset, the first key seen is pinned in a Secret only the operator writes. Get it from the server: ${HOW_TO_GET_IT}. ` +
          'Ignored for InCluster clusters.',
      ),
    state: z
      .enum(['Online', 'Offline', 'Failed'])
      .default('Online')
      .describe(
        'Online takes new bricks; Offline takes none but keeps its bricks; Failed asks the operator to move its bricks to other nodes ' +
          '(replace-brick, then self-heal), as deleting the node does.',
      ),
    forceRemoval: z
      .boolean()
      .default(false)
      .describe(
        'For a server that is gone for good. Its bricks are still replaced on other nodes, but deletion (or state Failed) does not wait ' +
          'for self-heal to fill them, and the remains of the old bricks are left on the server when it cannot be reached. Never removes ' +
          'a brick that has no replacement, or whose replacement Gluster (asked on another node) does not show in its place: a volume ' +
          'that cannot be moved, or that Gluster says does not exist, keeps the deletion waiting.',
      ),
  })
  .describe('Desired state of one Gluster server.');

export const deviceStatusSchema = z.object({
  name: z.string().describe('Device path.'),
  state: z.enum(['Ready', 'Refused', 'Missing', 'Pending']).describe('Ready: usable; Refused: not empty and destroyData is false, wiped once already, or another disk than recorded; Missing: not found.'),
  size: z.string().optional().describe('Device size.'),
  free: z.string().optional().describe('Space not used by bricks.'),
  bricks: z.number().int().min(0).optional().describe('Bricks on this device.'),
  message: z.string().max(4096).optional().describe('What was found, when Refused or Missing.'),
  identity: z
    .string()
    .max(512)
    .optional()
    .describe('The disk this entry was first prepared on (wwn:, serial:, by-id: or kname:); a path that later names another disk is refused (IdentityChanged).'),
  wipedIdentity: z
    .string()
    .max(512)
    .optional()
    .describe('The disk destroyData wiped, recorded right after the wipe: an entry wipes once (AlreadyWiped); remove the device from the spec and add it back to wipe again.'),
});

export const glusterNodeStatusSchema = z
  .object({
    observedGeneration: observedGenerationField.optional(),
    conditions: conditionsField.optional(),
    peerUUID: z.string().optional().describe('UUID glusterd reports for this node.'),
    sshHostKey: z
      .string()
      .max(1024)
      .optional()
      .describe(
        'Deprecated: where versions before spec.sshHostKey pinned the host key. No longer written and never trusted (anyone ' +
          'who may patch glusternodes/status could set it): pins now live in the Secret gluster-operator-ssh-host-keys of the ' +
          "operator's namespace. Until a node's first connection after the upgrade a value here can only refuse a server showing " +
          'another key; set spec.sshHostKey (or clear this field) to accept a reinstalled server.',
      ),
    devices: z
      .array(deviceStatusSchema)
      .max(256)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
      .describe('Per-device size, free space and brick count.'),
    readyDevices: z.number().int().min(0).optional().describe('Devices in state Ready.'),
    bricks: z.number().int().min(0).optional().describe('Bricks on this node.'),
    evacuation: z
      .object({
        remainingBricks: z.number().int().min(0).describe('Bricks still on this node, including replaced ones whose remains are not removed yet.'),
        healingVolumes: z.array(z.string()).max(4096).optional().describe('Volumes whose new bricks self-heal is still filling.'),
        blockedVolumes: z.array(z.string()).max(4096).optional().describe('Volumes whose bricks cannot be moved; the Ready condition says why.'),
        message: z.string().max(4096).optional().describe('What the evacuation is doing or waiting for.'),
      })
      .optional()
      .describe('Progress of moving this node\'s bricks away (node deleted, or spec.state Failed).'),
  })
  .describe('Observed state of the node, written only by the operator.');

/**
 * Rules on the whole object (the CRD's root schema): a spec change checked against the status the operator
 * last wrote, which the apiserver keeps on an update of the main resource. Cheap on purpose (no lists walked).
 */
export const glusterNodeRules: CelRule[] = [
  {
    rule: '!has(oldSelf.status) || !has(oldSelf.status.bricks) || oldSelf.status.bricks == 0 || self.spec.storageAddress == oldSelf.spec.storageAddress',
    message:
      'spec.storageAddress cannot change while bricks are on this node (status.bricks > 0): brick names derive from it. Move the ' +
      'bricks away first (delete their GlusterVolumes, or evacuate the node with spec.state Failed), then change it',
    fieldPath: '.spec.storageAddress',
    reason: 'FieldValueForbidden',
  },
];

export const glusterNodeSchema = z.object({
  apiVersion: z.literal(GROUP_VERSION),
  kind: z.literal('GlusterNode'),
  metadata: objectMetaSchema,
  spec: glusterNodeSpecSchema,
  status: glusterNodeStatusSchema.optional(),
});

export type GlusterNode = z.infer<typeof glusterNodeSchema>;
export type GlusterNodeSpec = z.infer<typeof glusterNodeSpecSchema>;
