import { z } from 'zod';
import { GROUP_VERSION } from './group.ts';
import { conditionsField, hostAddress, immutable, objectMetaSchema, objectName, observedGenerationField, stringMap, type CelRule } from './common.ts';

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
  state: z.enum(['Ready', 'Refused', 'Missing', 'Pending']).describe('Ready: usable; Refused: not empty and destroyData is false; Missing: not found.'),
  size: z.string().optional().describe('Device size.'),
  free: z.string().optional().describe('Space not used by bricks.'),
  bricks: z.number().int().min(0).optional().describe('Bricks on this device.'),
  message: z.string().max(4096).optional().describe('What was found, when Refused or Missing.'),
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
        'SSH host key fingerprint pinned at first contact (External clusters). A server offering another key is refused; ' +
          'clear this field to accept a reinstalled server.',
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
