import * as k8s from '@kubernetes/client-node';
import { glusterVolumeSchema, type GlusterVolume } from '../api/index.ts';
import { CustomResourceClient } from '../controller/custom-objects.ts';
import { isApiError, unlessNotFound as orUndefined } from '../controller/api-errors.ts';
import { csiPersistentVolumeName } from './names.ts';
import {
  claimSchema,
  isInTreeGlusterPv,
  LABEL_MIGRATION,
  MIGRATION_KIND_PV,
  namespacedObjectSchema,
  persistentVolumeSchema,
  podSchema,
  type InTreePersistentVolume,
  type NamespacedObject,
} from './objects.ts';
import type { PvWorld, Step } from './plan.ts';
import { parseRecord, recordConfigMap, type MigrationRecord } from './record.ts';

/**
 * The apiserver edge of `migrate pvs`: reads are parsed with zod (404 is undefined), creates that meet 409
 * leave what is there (the next observation decides), deletes carry a uid precondition so a step never
 * removes an object of the same name made since it looked.
 */

const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const JSON_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

async function ignoring(codes: number[], act: () => Promise<unknown>): Promise<void> {
  try {
    await act();
  } catch (error) {
    if (!codes.some((code) => isApiError(error, code))) throw error;
  }
}

const DONE_PHASES = ['Succeeded', 'Failed'];

export class MigrationKube {
  private readonly core: k8s.CoreV1Api;
  private readonly volumes: CustomResourceClient<GlusterVolume>;

  constructor(config: k8s.KubeConfig) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.volumes = new CustomResourceClient<GlusterVolume>(config, 'glustervolumes', glusterVolumeSchema);
  }

  async inTreePersistentVolumes(): Promise<InTreePersistentVolume[]> {
    const list = await this.core.listPersistentVolume();
    return list.items.map((item) => persistentVolumeSchema.parse(item)).filter(isInTreeGlusterPv);
  }

  async inTreePersistentVolume(name: string): Promise<InTreePersistentVolume | undefined> {
    const raw = await orUndefined(() => this.core.readPersistentVolume({ name }));
    const pv = raw === undefined ? undefined : persistentVolumeSchema.parse(raw);
    return pv && isInTreeGlusterPv(pv) ? pv : undefined;
  }

  async records(): Promise<MigrationRecord[]> {
    const list = await this.core.listConfigMapForAllNamespaces({ labelSelector: `${LABEL_MIGRATION}=${MIGRATION_KIND_PV}` });
    return list.items.map(parseRecord);
  }

  glusterVolumes(): Promise<GlusterVolume[]> {
    return this.volumes.list();
  }

  /** The world of one in-tree PV; `volumes` and `record` come from the lists read once per pass. */
  async world(old: InTreePersistentVolume, record: MigrationRecord | undefined, volumes: GlusterVolume[]): Promise<PvWorld> {
    const path = old.spec.glusterfs.path;
    const claimNamespace = record?.claim?.metadata.namespace ?? old.spec.claimRef?.namespace;
    const claimName = record?.claim?.metadata.name ?? old.spec.claimRef?.name;
    const endpointsNamespace = old.spec.glusterfs.endpointsNamespace ?? claimNamespace;
    const endpointsName = old.spec.glusterfs.endpoints;
    const [csiPv, claim, pods, endpoints, service] = await Promise.all([
      orUndefined(() => this.core.readPersistentVolume({ name: csiPersistentVolumeName(old.metadata.name) })),
      claimNamespace && claimName ? orUndefined(() => this.core.readNamespacedPersistentVolumeClaim({ namespace: claimNamespace, name: claimName })) : undefined,
      claimNamespace ? this.core.listNamespacedPod({ namespace: claimNamespace }) : undefined,
      endpointsNamespace ? orUndefined(() => this.core.readNamespacedEndpoints({ namespace: endpointsNamespace, name: endpointsName })) : undefined,
      endpointsNamespace ? orUndefined(() => this.core.readNamespacedService({ namespace: endpointsNamespace, name: endpointsName })) : undefined,
    ]);
    const podsUsingClaim = (pods?.items ?? [])
      .map((item) => podSchema.parse(item))
      .filter((pod) => !DONE_PHASES.includes(pod.status?.phase ?? '') && (pod.spec.volumes ?? []).some((volume) => volume.persistentVolumeClaim?.claimName === claimName))
      .map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`);
    return {
      old,
      record,
      volumes: volumes.filter((volume) => (volume.status?.glusterVolumeName ?? volume.spec.glusterVolumeName) === path),
      csiPv: csiPv === undefined ? undefined : persistentVolumeSchema.parse(csiPv),
      claim: claim === undefined ? undefined : claimSchema.parse(claim),
      podsUsingClaim,
      endpoints: endpoints === undefined ? undefined : namespacedObjectSchema.parse(endpoints),
      service: service === undefined ? undefined : namespacedObjectSchema.parse(service),
    };
  }

  /** Does one step (never a wait: the caller waits by observing again). */
  async act(step: Step, record: MigrationRecord | undefined): Promise<void> {
    switch (step.kind) {
      case 'save':
        // 409: saved by an earlier run; the first save wins.
        return ignoring([409], () => this.core.createNamespacedConfigMap({ namespace: step.record.namespace, body: recordConfigMap(step.record) }));
      case 'setReclaimPolicy':
        await this.core.patchPersistentVolume({ name: step.persistentVolume, body: { spec: { persistentVolumeReclaimPolicy: step.policy } } }, MERGE_PATCH);
        return;
      case 'createPersistentVolume':
        return ignoring([409], () => this.core.createPersistentVolume({ body: step.persistentVolume }));
      case 'deleteClaim':
        return ignoring([404], () => this.core.deleteNamespacedPersistentVolumeClaim({ namespace: step.namespace, name: step.name, body: { preconditions: { uid: step.uid } } }));
      case 'createClaim':
        return ignoring([409], () => this.core.createNamespacedPersistentVolumeClaim({ namespace: step.claim.metadata!.namespace!, body: step.claim }));
      case 'unbindPersistentVolume': {
        const pv = persistentVolumeSchema.parse(await this.core.readPersistentVolume({ name: step.persistentVolume }));
        const patch: object[] = [
          { op: 'test', path: '/spec/claimRef/uid', value: step.uid },
          { op: 'remove', path: '/spec/claimRef/uid' },
        ];
        if (pv.spec.claimRef?.resourceVersion !== undefined) patch.push({ op: 'remove', path: '/spec/claimRef/resourceVersion' });
        await this.core.patchPersistentVolume({ name: step.persistentVolume, body: patch }, JSON_PATCH);
        return;
      }
      case 'deletePersistentVolume':
        return ignoring([404], () => this.core.deletePersistentVolume({ name: step.persistentVolume, body: { preconditions: { uid: step.uid } } }));
      case 'deleteObject': {
        const body = { preconditions: { uid: step.uid } };
        const { namespace, name } = step;
        return ignoring([404], () =>
          step.resource === 'endpoints' ? this.core.deleteNamespacedEndpoints({ namespace, name, body }) : this.core.deleteNamespacedService({ namespace, name, body }),
        );
      }
      case 'restoreObject':
        return ignoring([409], () => this.restore(step.resource, step.object));
      case 'markMigrated':
        if (!record) throw new Error('markMigrated without a migration record');
        await this.core.patchNamespacedConfigMap({ namespace: record.namespace, name: record.name, body: { data: { phase: 'Migrated' } } }, MERGE_PATCH);
        return;
      case 'forget':
        return ignoring([404], () => this.core.deleteNamespacedConfigMap({ namespace: step.namespace, name: step.name }));
      case 'waitBound':
      case 'waitClaimGone':
        throw new Error(`${step.kind} is observed, not done`);
    }
  }

  private async restore(resource: 'endpoints' | 'services', saved: NamespacedObject): Promise<void> {
    const namespace = saved.metadata.namespace;
    // An owner saved with it (the old claim) is gone: kept, it would have the restored object garbage-collected.
    const { ownerReferences: _owners, ...metadata } = saved.metadata;
    const object = { ...saved, metadata };
    if (resource === 'endpoints') {
      await this.core.createNamespacedEndpoints({ namespace, body: object as k8s.V1Endpoints });
      return;
    }
    // A Service's clusterIP is the apiserver's to give again; the saved one may be taken.
    const service = structuredClone(object) as k8s.V1Service & { spec?: Record<string, unknown> };
    if (service.spec) {
      delete service.spec.clusterIP;
      delete service.spec.clusterIPs;
    }
    await this.core.createNamespacedService({ namespace, body: service });
  }
}
