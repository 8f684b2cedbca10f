import type * as k8s from '@kubernetes/client-node';
import type { GlusterVolume } from '../api/index.ts';
import { isVolumeMountable, volumeHandleFor } from '../provisioner/pv-builder.ts';
import { HEKETI_VOLUME_ID_ANNOTATION } from '../heketi/annotations.ts';
import { buildCsiPersistentVolume, rebuiltClaim } from './build.ts';
import { csiPersistentVolumeName } from './names.ts';
import { ANN_MIGRATED_FROM_PV, restorable, type Claim, type InTreePersistentVolume, type NamespacedObject, type PersistentVolume } from './objects.ts';
import { recordName, type MigrationRecord } from './record.ts';

/**
 * `kubectl gluster migrate pvs`, decided: for one in-tree PV, what it and its claim look like now (the
 * world), and the steps left to move the claim onto a CSI PV of the same Gluster volume (or, with
 * --rollback, back). Pure: the command observes, asks here, does the first step, and asks again, so a run
 * killed at any point is finished by running it again. Every step is safe to repeat.
 */

const HEKETI_PV_VOLUME_ID = 'gluster.kubernetes.io/heketi-volume-id';

export interface PvWorld {
  old: InTreePersistentVolume;
  record: MigrationRecord | undefined;
  /** Where the record goes: the namespace of the GlusterVolume (read from the record once saved). */
  /** Every GlusterVolume whose Gluster volume is the PV's `spec.glusterfs.path`. */
  volumes: GlusterVolume[];
  /** The PV named csiPersistentVolumeName(old), if any. */
  csiPv: PersistentVolume | undefined;
  /** The claim now at the claim's namespace/name (the saved one's, else the PV's claimRef). */
  claim: Claim | undefined;
  /** Pods not Succeeded or Failed whose volumes name that claim, as `namespace/name`. */
  podsUsingClaim: string[];
  /** The PV's `spec.glusterfs.endpoints` Endpoints and the Service of the same name, if they exist. */
  endpoints: NamespacedObject | undefined;
  service: NamespacedObject | undefined;
}

export type Step =
  | { kind: 'save'; record: MigrationRecord }
  | { kind: 'setReclaimPolicy'; persistentVolume: string; policy: string; was: string }
  | { kind: 'createPersistentVolume'; persistentVolume: k8s.V1PersistentVolume }
  | { kind: 'deleteClaim'; namespace: string; name: string; uid: string; boundTo: string }
  | { kind: 'waitClaimGone'; namespace: string; name: string }
  | { kind: 'createClaim'; claim: k8s.V1PersistentVolumeClaim }
  | { kind: 'waitBound'; namespace: string; name: string; volumeName: string }
  /** Drops claimRef.uid and resourceVersion, so the PV (Released) binds the claim recreated under that name. */
  | { kind: 'unbindPersistentVolume'; persistentVolume: string; uid: string }
  | { kind: 'deletePersistentVolume'; persistentVolume: string; uid: string }
  | { kind: 'deleteObject'; resource: 'endpoints' | 'services'; namespace: string; name: string; uid: string }
  | { kind: 'restoreObject'; resource: 'endpoints' | 'services'; object: NamespacedObject }
  | { kind: 'markMigrated' }
  | { kind: 'forget'; namespace: string; name: string };

export type Plan = { outcome: 'refused'; problems: string[] } | { outcome: 'steps'; steps: Step[] };

export const isWait = (step: Step) => step.kind === 'waitBound' || step.kind === 'waitClaimGone';

const claimKey = (claim: { metadata: { namespace?: string; name: string } }) => `${claim.metadata.namespace}/${claim.metadata.name}`;
const refused = (...problems: string[]): Plan => ({ outcome: 'refused', problems });

/** The IPs an Endpoints object lists (the in-tree plugin's way of naming the Gluster servers). */
function endpointAddresses(endpoints: NamespacedObject): string[] {
  const subsets = (endpoints as { subsets?: { addresses?: { ip?: string }[] }[] }).subsets ?? [];
  return subsets.flatMap((subset) => (subset.addresses ?? []).map((address) => address.ip ?? '')).filter(Boolean);
}

function brickHosts(volume: GlusterVolume): string[] {
  return [...new Set((volume.status?.bricks ?? []).map((brick) => brick.path.slice(0, brick.path.lastIndexOf(':'))))];
}

/** Why `volume` is not the one to mount in place of `old`, or undefined when it is. */
export function volumeMismatch(old: InTreePersistentVolume, volume: GlusterVolume, endpoints: NamespacedObject | undefined): string | undefined {
  const ref = `GlusterVolume ${volumeHandleFor(volume)}`;
  if (!isVolumeMountable(volume)) return `${ref} is not Ready (adopt the Gluster volume first: kubectl gluster heketi import, then wait for Ready)`;
  const pvId = old.metadata.annotations?.[HEKETI_PV_VOLUME_ID];
  const volumeId = volume.metadata.annotations?.[HEKETI_VOLUME_ID_ANNOTATION];
  if (pvId !== undefined && volumeId !== undefined && pvId !== volumeId) {
    return `PersistentVolume ${old.metadata.name} names heketi volume ${pvId}, but ${ref} was imported from heketi volume ${volumeId}`;
  }
  if (endpoints) {
    const addresses = endpointAddresses(endpoints);
    const hosts = brickHosts(volume);
    if (addresses.length > 0 && hosts.length > 0 && !addresses.some((address) => hosts.includes(address))) {
      return `Endpoints ${claimKey(endpoints)} list ${addresses.join(', ')}, but the bricks of ${ref} are on ${hosts.join(', ')}: the PV names another Gluster cluster`;
    }
  }
  return undefined;
}

/** The one GlusterVolume to mount, or why there is none. */
function chooseVolume(world: PvWorld): GlusterVolume | string {
  const path = world.old.spec.glusterfs.path;
  if (world.volumes.length === 0) return `no GlusterVolume manages Gluster volume ${path} (import it first: kubectl gluster heketi import)`;
  if (world.volumes.length > 1) return `several GlusterVolumes name Gluster volume ${path}: ${world.volumes.map(volumeHandleFor).join(', ')}`;
  const volume = world.volumes[0]!;
  return volumeMismatch(world.old, volume, world.endpoints) ?? volume;
}

/** The saved objects that are still the ones saved (same uid): only those are removed at the end. */
function sameObject(live: NamespacedObject | undefined, saved: NamespacedObject | undefined): live is NamespacedObject {
  return live !== undefined && saved !== undefined && live.metadata.uid !== undefined && live.metadata.uid === saved.metadata.uid;
}

export function planMigration(world: PvWorld): Plan {
  const { old, record, csiPv, claim } = world;
  const csiName = csiPersistentVolumeName(old.metadata.name);
  if (csiPv && csiPv.metadata.annotations?.[ANN_MIGRATED_FROM_PV] !== old.metadata.name) {
    return refused(`PersistentVolume ${csiName} exists and was not made from ${old.metadata.name} by migrate pvs; rename or remove it`);
  }
  const steps: Step[] = [];
  let savedClaim = record?.claim;
  if (!record) {
    const ref = old.spec.claimRef;
    if (!ref?.name || !ref.namespace) return refused(`PersistentVolume ${old.metadata.name} is ${old.status?.phase ?? 'not bound'} with no claim: migrate pvs moves bound claims`);
    if (!claim || claim.metadata.uid !== ref.uid) return refused(`PersistentVolume ${old.metadata.name} is bound to claim ${ref.namespace}/${ref.name} (uid ${ref.uid}), which no longer exists`);
    if (claim.spec.volumeName !== old.metadata.name) return refused(`claim ${claimKey(claim)} names PersistentVolume ${claim.spec.volumeName ?? '(none)'}, not ${old.metadata.name}`);
    const volume = chooseVolume(world);
    if (typeof volume === 'string') return refused(volume);
    if (world.podsUsingClaim.length > 0) return refused(podsProblem(claim, world.podsUsingClaim));
    savedClaim = claim;
    steps.push({
      kind: 'save',
      record: {
        namespace: volume.metadata.namespace!,
        name: recordName(old.metadata.name),
        phase: 'Saved',
        glusterVolume: volumeHandleFor(volume),
        persistentVolume: old,
        claim,
        ...(world.endpoints ? { endpoints: world.endpoints } : {}),
        ...(world.service ? { service: world.service } : {}),
      },
    });
  }
  if (!savedClaim) return refused(`the migration record of ${old.metadata.name} holds no claim`);

  const policy = old.spec.persistentVolumeReclaimPolicy ?? 'Delete';
  if (policy !== 'Retain') steps.push({ kind: 'setReclaimPolicy', persistentVolume: old.metadata.name, policy: 'Retain', was: policy });
  if (!csiPv) {
    const volume = chooseVolume(world);
    if (typeof volume === 'string') return refused(volume);
    steps.push({ kind: 'createPersistentVolume', persistentVolume: buildCsiPersistentVolume({ name: csiName, old, volume, claim: savedClaim }) });
  }

  const claimStep = claimSteps(world, savedClaim, { from: old.metadata.name, to: csiName, migratedFrom: old.metadata.name });
  if ('problem' in claimStep) return refused(claimStep.problem);
  steps.push(...claimStep.steps);

  const savedEndpoints = record?.endpoints ?? world.endpoints;
  const savedService = record?.service ?? world.service;
  if (sameObject(world.endpoints, savedEndpoints)) steps.push(deleteObject('endpoints', world.endpoints));
  if (sameObject(world.service, savedService)) steps.push(deleteObject('services', world.service));
  if (record?.phase !== 'Migrated') steps.push({ kind: 'markMigrated' });
  return { outcome: 'steps', steps };
}

function deleteObject(resource: 'endpoints' | 'services', object: NamespacedObject): Step {
  return { kind: 'deleteObject', resource, namespace: object.metadata.namespace, name: object.metadata.name, uid: object.metadata.uid! };
}

function podsProblem(claim: Claim, pods: string[]): string {
  return `claim ${claimKey(claim)} is in use by pod${pods.length === 1 ? '' : 's'} ${pods.join(', ')}: stop ${pods.length === 1 ? 'it' : 'them'} (scale the workload to 0), then run again`;
}

/**
 * The claim's way from PV `from` to PV `to`: deleted while bound to `from` (never while a pod uses it),
 * recreated bound to `to`, waited for until Bound.
 */
function claimSteps(world: PvWorld, saved: Claim, move: { from: string; to: string; migratedFrom?: string }): { steps: Step[] } | { problem: string } {
  const { claim } = world;
  const recreate: Step[] = [
    { kind: 'createClaim', claim: rebuiltClaim(saved, move.to, move.migratedFrom) },
    { kind: 'waitBound', namespace: saved.metadata.namespace, name: saved.metadata.name, volumeName: move.to },
  ];
  if (!claim) return { steps: recreate };
  if (claim.spec.volumeName === move.to) {
    if (claim.metadata.deletionTimestamp) return { steps: [{ kind: 'waitClaimGone', namespace: claim.metadata.namespace, name: claim.metadata.name }, ...recreate] };
    return { steps: claim.status?.phase === 'Bound' ? [] : [recreate[1]!] };
  }
  if (claim.spec.volumeName !== move.from) {
    return { problem: `claim ${claimKey(claim)} is bound to PersistentVolume ${claim.spec.volumeName ?? '(none)'}, neither ${move.from} nor ${move.to}: not touched` };
  }
  if (claim.metadata.deletionTimestamp) return { steps: [{ kind: 'waitClaimGone', namespace: claim.metadata.namespace, name: claim.metadata.name }, ...recreate] };
  if (world.podsUsingClaim.length > 0) return { problem: podsProblem(claim, world.podsUsingClaim) };
  return {
    steps: [
      { kind: 'deleteClaim', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, boundTo: move.from },
      { kind: 'waitClaimGone', namespace: claim.metadata.namespace, name: claim.metadata.name },
      ...recreate,
    ],
  };
}

/** --rollback: the claim back on the in-tree PV, the CSI PV gone, the Endpoints and Service back, the record forgotten. */
export function planRollback(world: PvWorld): Plan {
  const { old, record, csiPv, claim } = world;
  if (!record) return refused(`PersistentVolume ${old.metadata.name} has no migration record: nothing to roll back`);
  const saved = record.claim;
  if (!saved) return refused(`the migration record ${record.namespace}/${record.name} holds no claim`);
  const csiName = csiPersistentVolumeName(old.metadata.name);
  if (csiPv && csiPv.metadata.annotations?.[ANN_MIGRATED_FROM_PV] !== old.metadata.name) {
    return refused(`PersistentVolume ${csiName} was not made from ${old.metadata.name} by migrate pvs: not touched`);
  }
  const steps: Step[] = [];
  const claimStep = claimSteps(world, saved, { from: csiName, to: old.metadata.name });
  if ('problem' in claimStep) return refused(claimStep.problem);
  // The CSI PV goes once no claim is bound to it; it is Retain, so its deletion leaves the Gluster volume alone.
  const csiSteps: Step[] = [];
  if (csiPv) {
    if (csiPv.spec.persistentVolumeReclaimPolicy !== 'Retain') {
      csiSteps.push({ kind: 'setReclaimPolicy', persistentVolume: csiName, policy: 'Retain', was: csiPv.spec.persistentVolumeReclaimPolicy ?? 'Delete' });
    }
    csiSteps.push({ kind: 'deletePersistentVolume', persistentVolume: csiName, uid: csiPv.metadata.uid! });
  }
  const oldRef = old.spec.claimRef;
  const boundToOld = claim !== undefined && claim.spec.volumeName === old.metadata.name && !claim.metadata.deletionTimestamp;
  const unbind: Step[] = oldRef?.uid && !(boundToOld && claim.metadata.uid === oldRef.uid) ? [{ kind: 'unbindPersistentVolume', persistentVolume: old.metadata.name, uid: oldRef.uid }] : [];
  // Order: claim off the CSI PV; CSI PV removed; old PV free for the claim's name; claim recreated and Bound.
  const createAt = claimStep.steps.findIndex((step) => step.kind === 'createClaim');
  if (createAt === -1) steps.push(...claimStep.steps, ...csiSteps, ...unbind);
  else steps.push(...claimStep.steps.slice(0, createAt), ...csiSteps, ...unbind, ...claimStep.steps.slice(createAt));

  if (record.endpoints && !world.endpoints) steps.push({ kind: 'restoreObject', resource: 'endpoints', object: restorable(record.endpoints) });
  if (record.service && !world.service) steps.push({ kind: 'restoreObject', resource: 'services', object: restorable(record.service) });
  const savedPolicy = record.persistentVolume.spec.persistentVolumeReclaimPolicy ?? 'Delete';
  const policy = old.spec.persistentVolumeReclaimPolicy ?? 'Delete';
  if (policy !== savedPolicy) steps.push({ kind: 'setReclaimPolicy', persistentVolume: old.metadata.name, policy: savedPolicy, was: policy });
  steps.push({ kind: 'forget', namespace: record.namespace, name: record.name });
  return { outcome: 'steps', steps };
}

/** One line per step, for the plan and the progress of --apply. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'save': {
      const r = step.record;
      const saved = [`PersistentVolume ${r.persistentVolume.metadata.name}`, r.claim && `claim ${claimKey(r.claim)}`, r.endpoints && `Endpoints ${r.endpoints.metadata.name}`, r.service && `Service ${r.service.metadata.name}`].filter(Boolean);
      return `save ${saved.join(', ')} to ConfigMap ${r.namespace}/${r.name}`;
    }
    case 'setReclaimPolicy':
      return `set the reclaim policy of PersistentVolume ${step.persistentVolume} to ${step.policy} (was ${step.was})`;
    case 'createPersistentVolume': {
      const pv = step.persistentVolume;
      return `create PersistentVolume ${pv.metadata?.name} (CSI ${pv.spec?.csi?.driver}, GlusterVolume ${pv.spec?.csi?.volumeHandle}, Gluster volume ${pv.spec?.csi?.volumeAttributes?.glusterVolumeName}, Retain)`;
    }
    case 'deleteClaim':
      return `delete claim ${step.namespace}/${step.name} (bound to ${step.boundTo}; the data stays: the PV is Retain)`;
    case 'waitClaimGone':
      return `wait until claim ${step.namespace}/${step.name} is gone`;
    case 'createClaim':
      return `create claim ${step.claim.metadata?.namespace}/${step.claim.metadata?.name} bound to PersistentVolume ${step.claim.spec?.volumeName}, with its labels and annotations`;
    case 'waitBound':
      return `wait until claim ${step.namespace}/${step.name} is Bound to ${step.volumeName}`;
    case 'unbindPersistentVolume':
      return `free PersistentVolume ${step.persistentVolume} for the claim of the same name (drop claimRef uid ${step.uid})`;
    case 'deletePersistentVolume':
      return `delete PersistentVolume ${step.persistentVolume} (Retain: the Gluster volume is not touched)`;
    case 'deleteObject':
      return `delete ${step.resource === 'endpoints' ? 'Endpoints' : 'Service'} ${step.namespace}/${step.name} (the in-tree plugin's; saved)`;
    case 'restoreObject':
      return `restore ${step.resource === 'endpoints' ? 'Endpoints' : 'Service'} ${step.object.metadata.namespace}/${step.object.metadata.name}`;
    case 'markMigrated':
      return 'record the migration as done';
    case 'forget':
      return `delete the migration record ConfigMap ${step.namespace}/${step.name}`;
  }
}
