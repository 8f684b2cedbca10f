import type { z } from 'zod';
import { API_GROUP, API_VERSION, CATEGORY } from '../api/group.ts';
import type { CelRule } from '../api/common.ts';
import { glusterClusterRules, glusterClusterSpecSchema, glusterClusterStatusSchema } from '../api/gluster-cluster.ts';
import { glusterNodeRules, glusterNodeSpecSchema, glusterNodeStatusSchema } from '../api/gluster-node.ts';
import { glusterVolumeSpecSchema, glusterVolumeStatusSchema } from '../api/gluster-volume.ts';
import { toStructuralSchema } from './structural-schema.ts';

/** What `kubectl get` shows. JSONPath as the apiserver evaluates it; priority 1 columns appear with -o wide. */
interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

interface KindDefinition {
  kind: string;
  plural: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  /** CEL rules on the whole object, for checks that need spec and status together. */
  rules?: CelRule[];
  columns: PrinterColumn[];
}

const readyColumn: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Status of the Ready condition.',
};
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' };

export const KINDS: KindDefinition[] = [
  {
    kind: 'GlusterCluster',
    plural: 'glusterclusters',
    shortNames: ['gcluster'],
    description:
      'A Gluster trusted storage pool: how its nodes are reached (glusterd DaemonSet in this Kubernetes cluster, or ' +
      'external servers over SSH) and how bricks are placed. Its GlusterNodes and GlusterVolumes name it in spec.cluster.',
    spec: glusterClusterSpecSchema,
    status: glusterClusterStatusSchema,
    rules: glusterClusterRules,
    columns: [
      { name: 'Mode', type: 'string', jsonPath: '.spec.access.mode', description: 'InCluster or External.' },
      { name: 'Nodes', type: 'integer', jsonPath: '.status.nodes.total', description: 'GlusterNodes of the cluster.' },
      { name: 'Ready Nodes', type: 'integer', jsonPath: '.status.nodes.ready', description: 'GlusterNodes that are Ready.' },
      readyColumn,
      { name: 'Capacity', type: 'string', jsonPath: '.status.capacity.total', description: 'Raw device capacity.' },
      { name: 'Free', type: 'string', jsonPath: '.status.capacity.free', description: 'Raw capacity not used by bricks.' },
      { name: 'Volumes', type: 'integer', jsonPath: '.status.volumes', description: 'GlusterVolumes on the cluster.', priority: 1 },
      { name: 'Multiplex', type: 'boolean', jsonPath: '.status.brickMultiplexing.enabled', description: 'cluster.brick-multiplex of the pool.', priority: 1 },
      ageColumn,
    ],
  },
  {
    kind: 'GlusterNode',
    plural: 'glusternodes',
    shortNames: ['gnode'],
    description:
      'One Gluster server of a GlusterCluster: its addresses, zone and the raw devices bricks may be carved from ' +
      '(what a node entry of heketi\'s topology.json held).',
    spec: glusterNodeSpecSchema,
    status: glusterNodeStatusSchema,
    rules: glusterNodeRules,
    columns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster', description: 'GlusterCluster of the node.' },
      { name: 'Storage Address', type: 'string', jsonPath: '.spec.storageAddress', description: 'Address peers and clients use.' },
      { name: 'Zone', type: 'string', jsonPath: '.spec.zone', description: 'Failure domain.' },
      { name: 'State', type: 'string', jsonPath: '.spec.state', description: 'Online, Offline or Failed.' },
      readyColumn,
      { name: 'Devices', type: 'integer', jsonPath: '.status.readyDevices', description: 'Devices ready for bricks.' },
      { name: 'Bricks', type: 'integer', jsonPath: '.status.bricks', description: 'Bricks on the node.' },
      { name: 'Manage Address', type: 'string', jsonPath: '.spec.manageAddress', description: 'Where commands run.', priority: 1 },
      ageColumn,
    ],
  },
  {
    kind: 'GlusterVolume',
    plural: 'glustervolumes',
    shortNames: ['gvol'],
    description:
      'A Gluster volume: size and durability (distribute, replicate N with optional arbiter, disperse D+R), placed ' +
      'on a GlusterCluster by the operator. The provisioner creates one per PersistentVolumeClaim of its StorageClass.',
    spec: glusterVolumeSpecSchema,
    status: glusterVolumeStatusSchema,
    columns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster', description: 'GlusterCluster holding the volume.', priority: 1 },
      { name: 'Size', type: 'string', jsonPath: '.spec.size', description: 'Requested usable size.' },
      { name: 'Durability', type: 'string', jsonPath: '.spec.durability.type', description: 'None, Replicate or Disperse.' },
      { name: 'Layout', type: 'string', jsonPath: '.status.durability', description: 'Layout as Gluster reports it.', priority: 1 },
      readyColumn,
      { name: 'Degraded', type: 'string', jsonPath: '.status.conditions[?(@.type=="Degraded")].status', description: 'Status of the Degraded condition (its reason says what is wrong).' },
      { name: 'Bricks Online', type: 'integer', jsonPath: '.status.bricksOnline', description: 'Brick processes Gluster reports running.' },
      { name: 'Heal', type: 'integer', jsonPath: '.status.heal.pendingEntries', description: 'Entries pending self-heal.' },
      { name: 'Split-Brain', type: 'integer', jsonPath: '.status.heal.splitBrainEntries', description: 'Entries in split-brain.', priority: 1 },
      { name: 'Mount', type: 'string', jsonPath: '.status.mountSource', description: 'host:volume to mount.' },
      { name: 'Gluster Volume', type: 'string', jsonPath: '.status.glusterVolumeName', description: 'Name inside Gluster.', priority: 1 },
      ageColumn,
    ],
  },
];

export function crdName(definition: Pick<KindDefinition, 'plural'>): string {
  return `${definition.plural}.${API_GROUP}`;
}

/** The CustomResourceDefinition of one kind, as plain JSON (apiextensions.k8s.io/v1). */
export function customResourceDefinition(definition: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: crdName(definition),
      labels: { 'app.kubernetes.io/name': 'gluster-operator', 'app.kubernetes.io/part-of': 'gluster-operator' },
    },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular: definition.kind.toLowerCase(),
        shortNames: definition.shortNames,
        categories: [CATEGORY],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: definition.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: definition.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'Versioned schema of this representation of an object.' },
                kind: { type: 'string', description: 'REST resource this object represents.' },
                metadata: { type: 'object' },
                spec: toStructuralSchema(definition.spec),
                status: toStructuralSchema(definition.status),
              },
              ...(definition.rules?.length ? { 'x-kubernetes-validations': definition.rules } : {}),
            },
          },
        },
      ],
    },
  };
}
