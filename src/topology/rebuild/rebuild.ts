import { markedOwner, OWNER_OPTION } from '../../gluster/owner-mark.ts';
import { isDirectoryVolume, type GlusterNode } from '../../api/index.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import {
  SCHEMA_VERSION,
  clusterSchema,
  deviceId,
  deviceSchema,
  nodeSchema,
  topologyDatabaseSchema,
  volumeSchema,
  type TopologyCluster,
  type TopologyDevice,
  type TopologyNode,
  type TopologyVolume,
  topologyName,
} from '../model.ts';
import { clusterRecordOf } from './cluster-record.ts';
import { fits, glusterNameOrFinding, type Finding, type RebuildInputs, type RebuildResult } from './inputs.ts';
import { quantityOrUndefined } from '../sizing.ts';
import { rebuildVolume } from './volume.ts';
import { errorMessage } from '../../runtime/error-message.ts';

/**
 * Rebuilding the topology database from what the cluster itself shows, for when the backup is missing,
 * corrupt or behind. Pure: the caller gathers the custom resources and each node's command output
 * (`gluster volume info --xml`, `pvs`/`vgs`/`lvs --reportformat json`, already parsed) and passes them in.
 *
 * Sources, by trust:
 *  1. The live Gluster volumes: which bricks exist, on which host and path, in which order (= which set),
 *     which are arbiters, the volume's durability and UUID. This is the truth about data.
 *  2. LVM on the nodes: brick LV sizes and thin pools, which VG (device) holds a brick, VG sizes.
 *  3. The custom resources: clusters, nodes, devices, zones, volume names, requested sizes and options;
 *     GlusterVolume status (bricks' devices and sizes as last reported).
 *  4. A backup that is readable but behind (`hint`): only for facts 1-3 cannot show (brick sizes of the
 *     Directory backend, device sizes of unreachable nodes).
 *  5. Otherwise an estimate, reported as a finding.
 *
 * Only volumes that a GlusterVolume names are taken: the pool may hold volumes someone else made, and
 * adopting them silently would let the operator place bricks over them or delete them.
 *
 * One object the rebuild cannot take (a size or name out of the API's bounds, stored before the CRD refused
 * it; a record the database schema refuses) is a finding naming it, never an exception: start-up depends on
 * the rebuild, so one bad object would otherwise keep the operator from starting for everyone.
 */

export { glusterNameOrFinding, type Finding, type FindingSeverity, type NodeObservation, type RebuildInputs, type RebuildResult } from './inputs.ts';
export { adoptedBrickId, durabilityFromGluster, rebuildVolume, type VolumeContext } from './volume.ts';

export function rebuildTopology(inputs: RebuildInputs): RebuildResult {
  const findings: Finding[] = [];
  const find = (f: Finding) => findings.push(f);
  const observationOf = new Map(inputs.observations.map((o) => [o.node, o]));
  const hint = inputs.hint;

  // Clusters ----------------------------------------------------------------------------------------------
  const clusters: TopologyCluster[] = [];
  const clusterNames = new Set<string>();
  for (const cr of inputs.clusters) {
    const name = topologyName(cr.metadata.namespace, cr.metadata.name);
    if (clusterNames.has(name)) {
      find({ severity: 'warning', code: 'DuplicateCluster', cluster: name, message: `GlusterCluster ${name} is listed twice; only the first is used` });
      continue;
    }
    const { record, problems } = clusterRecordOf(cr);
    if (!fits(clusterSchema, record, (why) => find({ severity: 'error', code: 'InvalidCluster', cluster: name, message: `GlusterCluster ${name} cannot be recorded (${why}); it, its nodes and its volumes are left out` }))) {
      continue;
    }
    for (const problem of problems) find({ severity: 'warning', code: 'ClusterSpecOutOfRange', cluster: name, message: `GlusterCluster ${name}: ${problem}` });
    clusterNames.add(name);
    clusters.push(record);
  }

  // Nodes and devices ---------------------------------------------------------------------------------------
  const nodes: TopologyNode[] = [];
  const devices: TopologyDevice[] = [];
  const nodeCrs = new Map<string, GlusterNode>();
  for (const cr of inputs.nodes) {
    const name = topologyName(cr.metadata.namespace, cr.metadata.name);
    const clusterName = topologyName(cr.metadata.namespace, cr.spec.cluster);
    if (!clusterNames.has(clusterName)) {
      find({ severity: 'warning', code: 'NodeWithoutCluster', node: name, message: `GlusterNode ${name} names cluster ${cr.spec.cluster}, which does not exist; left out` });
      continue;
    }
    if (nodeCrs.has(name)) continue;
    const node: TopologyNode = {
      name,
      cluster: clusterName,
      zone: cr.spec.zone,
      manage: cr.spec.manageAddress,
      storage: cr.spec.storageAddress,
      state: cr.spec.state,
      ...(cr.spec.tags && Object.keys(cr.spec.tags).length > 0 ? { tags: cr.spec.tags } : {}),
    };
    if (!fits(nodeSchema, node, (why) => find({ severity: 'error', code: 'InvalidNode', node: name, message: `GlusterNode ${name} cannot be recorded (${why}); left out` }))) continue;
    nodeCrs.set(name, cr);
    nodes.push(node);
    const observation = observationOf.get(name);
    for (const device of cr.spec.devices) {
      const id = deviceId(name, device.name);
      const hinted = hint?.devices.find((d) => d.id === id);
      const pv = observation?.pvs?.find((p) => p.name === device.name);
      const vgName = pv?.vgName ?? hinted?.vg ?? `vg_${id}`;
      const vg = observation?.vgs?.find((v) => v.name === vgName);
      let size = vg?.sizeBytes;
      if (size === undefined) size = quantityOrUndefined(cr.status?.devices?.find((d) => d.name === device.name)?.size);
      if (size === undefined) size = hinted?.size;
      if (size === undefined) {
        size = 0;
        find({ severity: 'warning', code: 'DeviceSizeUnknown', node: name, message: `size of ${name}:${device.name} unknown (no vgs output, status or backup); recorded as 0, no bricks will be placed on it until it is measured` });
      }
      const record: TopologyDevice = {
        id,
        node: name,
        name: device.name,
        size,
        state: hinted?.state ?? 'Online',
        vg: vgName,
        ...(device.tags && Object.keys(device.tags).length > 0 ? { tags: device.tags } : {}),
      };
      const refuse = (why: string) => find({ severity: 'error', code: 'InvalidDevice', node: name, message: `device ${name}:${device.name} cannot be recorded (${why}); left out` });
      if (fits(deviceSchema, record, refuse)) devices.push(record);
    }
  }
  const nodeByAddress = (cluster: string, host: string, hostUuid: string): TopologyNode | undefined =>
    nodes.find((n) => n.cluster === cluster && (n.storage === host || n.manage === host)) ??
    nodes.find((n) => n.cluster === cluster && nodeCrs.get(n.name)?.status?.peerUUID === hostUuid);

  // Live volumes per cluster: the first node that answered speaks for the pool --------------------------------
  const unreachableClusters: string[] = [];
  const liveByCluster = new Map<string, { from: string; volumes: GlusterVolumeInfo[] }>();
  for (const cluster of clusters) {
    const answering = nodes.filter((n) => n.cluster === cluster.name && observationOf.get(n.name)?.volumeInfo);
    const first = answering[0];
    if (!first) {
      unreachableClusters.push(cluster.name);
      find({ severity: 'error', code: 'ClusterUnreachable', cluster: cluster.name, message: `no node of cluster ${cluster.name} answered gluster volume info; its volumes cannot be rebuilt` });
      continue;
    }
    liveByCluster.set(cluster.name, { from: first.name, volumes: observationOf.get(first.name)!.volumeInfo! });
    for (const other of answering.slice(1)) {
      const mine = new Set(observationOf.get(first.name)!.volumeInfo!.map((v) => `${v.name}=${v.bricks.map((b) => b.name).join(',')}`));
      const theirs = observationOf.get(other.name)!.volumeInfo!.map((v) => `${v.name}=${v.bricks.map((b) => b.name).join(',')}`);
      if (theirs.length !== mine.size || theirs.some((v) => !mine.has(v))) {
        find({ severity: 'warning', code: 'PeersDisagree', cluster: cluster.name, node: other.name, message: `${other.name} reports other volumes or bricks than ${first.name}; using ${first.name}'s view` });
      }
    }
  }

  // Volumes --------------------------------------------------------------------------------------------------
  const volumes: TopologyVolume[] = [];
  const claimed = new Set<string>();
  // Directories (spec.directoryOf) have no Gluster volume of their own: nothing of theirs is in the database.
  for (const cr of inputs.volumes.filter((volume) => !isDirectoryVolume(volume))) {
    const name = topologyName(cr.metadata.namespace, cr.metadata.name);
    const cluster = clusters.find((c) => c.name === topologyName(cr.metadata.namespace, cr.spec.cluster));
    if (!cluster) {
      find({ severity: 'warning', code: 'VolumeWithoutCluster', volume: name, message: `GlusterVolume ${name} names cluster ${cr.spec.cluster}, which does not exist; left out` });
      continue;
    }
    const live = liveByCluster.get(cluster.name);
    if (!live) continue; // ClusterUnreachable already says so
    const glusterName = glusterNameOrFinding(cr, find, cluster.name);
    if (glusterName === undefined) continue;
    const info = live.volumes.find((v) => v.name === glusterName) ?? (cr.status?.glusterVolumeId ? live.volumes.find((v) => v.id === cr.status!.glusterVolumeId) : undefined);
    if (!info) {
      if (cr.status?.glusterVolumeId) {
        find({ severity: 'warning', code: 'VolumeMissingInGluster', cluster: cluster.name, volume: name, message: `GlusterVolume ${name} says Gluster volume ${glusterName} (${cr.status.glusterVolumeId}) exists, but glusterd does not know it` });
      }
      continue; // never created: the volume reconciler places it
    }
    if (claimed.has(info.name)) {
      find({ severity: 'error', code: 'VolumeClaimedTwice', cluster: cluster.name, volume: name, message: `Gluster volume ${info.name} is named by more than one GlusterVolume; left to the first` });
      continue;
    }
    // Gluster's own record of the owner decides (src/gluster/owner-mark.ts). An unmarked volume is taken only
    // by the object whose status reported it (made before marks existed, or marked a moment later); any
    // other is left to the volume reconciler, which refuses or adopts it as the spec says.
    const owner = markedOwner(info.options);
    if (owner !== undefined && owner !== name) {
      find({ severity: 'error', code: 'VolumeOwnedByAnother', cluster: cluster.name, volume: name, message: `GlusterVolume ${name} names Gluster volume ${info.name}, which belongs to GlusterVolume ${owner} (its ${OWNER_OPTION} option); left out` });
      continue;
    }
    if (owner === undefined && cr.status?.glusterVolumeId !== info.id) {
      find({ severity: 'info', code: 'VolumeNotOwned', cluster: cluster.name, volume: name, message: `GlusterVolume ${name} names Gluster volume ${info.name}, which carries no owner mark and was never reported as its own; left to the volume reconciler` });
      continue;
    }
    claimed.add(info.name);
    let volume: TopologyVolume | undefined;
    try {
      volume = rebuildVolume(cr, info, cluster, { nodes, devices, nodeByAddress, observationOf, hint, find });
    } catch (error) {
      // A fact shaped as nothing here expects; the volume is reported and left out, the others go on.
      find({ severity: 'error', code: 'VolumeNotRebuilt', cluster: cluster.name, volume: name, message: `GlusterVolume ${name} (Gluster volume ${info.name}) could not be rebuilt: ${errorMessage(error)}; left out` });
      continue;
    }
    const refuse = (why: string) => find({ severity: 'error', code: 'VolumeNotRebuilt', cluster: cluster.name, volume: name, message: `GlusterVolume ${name} (Gluster volume ${info.name}) cannot be recorded (${why}); left out` });
    if (volume && fits(volumeSchema, volume, refuse)) volumes.push(volume);
  }
  for (const [cluster, live] of liveByCluster) {
    const unmanaged = live.volumes.filter((v) => !claimed.has(v.name)).map((v) => v.name);
    if (unmanaged.length > 0) {
      find({ severity: 'info', code: 'UnmanagedVolumes', cluster, message: `Gluster volumes no GlusterVolume names, left alone: ${unmanaged.slice(0, 20).join(', ')}${unmanaged.length > 20 ? ` and ${unmanaged.length - 20} more` : ''}` });
    }
  }

  const candidate = { schemaVersion: SCHEMA_VERSION, generation: inputs.generation, clusters, nodes, devices, volumes };
  const parsed = topologyDatabaseSchema.safeParse(candidate);
  if (!parsed.success) {
    // Each volume was checked on its own, so this is a cross-volume conflict (e.g. one brick in two volumes).
    throw new Error(`rebuilt topology is inconsistent: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  return { db: parsed.data, findings, unreachableClusters };
}
