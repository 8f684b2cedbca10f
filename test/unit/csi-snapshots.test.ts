import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GlusterCluster, GlusterVolume } from '../../src/api/index.ts';
import { ControllerService, LeaderSnapshotBackend, startControllerServer, type SnapshotBackend, type SnapshotRecord } from '../../src/csi/controller.ts';
import { IdentityService } from '../../src/csi/identity.ts';
import { loadCsiPackage } from '../../src/csi/server.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { CsiError } from '../../src/csi/errors.ts';
import type { LogicalVolume } from '../../src/gluster/parsers/lvm.ts';
import { createFailure, parseSnapshotId, snapshotIdOf, snapshotSource, thinPoolRoom } from '../../src/operator/snapshot-decisions.ts';

const MIB = 1024 * 1024;

function volume(spec: Partial<GlusterVolume['spec']> = {}, ready = true): GlusterVolume {
  return {
    apiVersion: 'storage.gluster-operator.dev/v1alpha1',
    kind: 'GlusterVolume',
    metadata: { name: 'data', namespace: 'apps' },
    spec: { cluster: 'lvm', size: '1Gi', ...spec } as GlusterVolume['spec'],
    status: {
      glusterVolumeName: 'apps_data',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'VolumeStarted' : 'Creating', message: '', lastTransitionTime: '2026-12-02T00:00:00Z' }],
    },
  } as GlusterVolume;
}
const cluster = (brickBackend: string): GlusterCluster => ({ metadata: { name: 'lvm', namespace: 'apps' }, spec: { brickBackend } }) as unknown as GlusterCluster;

function lv(name: string, sizeMiB: number, dataPercent: number, extra: Partial<LogicalVolume> = {}): LogicalVolume {
  return { name, vgName: 'vg_x', uuid: '', attr: '', isThinPool: false, isThinVolume: true, sizeBytes: sizeMiB * MIB, poolLv: null, dataPercent, metadataPercent: 1, metadataSizeBytes: null, thinCount: null, dmPath: null, ...extra };
}

describe('snapshots: decisions', () => {
  it('ids carry namespace, cluster and Gluster snapshot name, and only ours parse', () => {
    const id = snapshotIdOf('apps', 'lvm', 'snapshot-1234');
    expect(parseSnapshotId(id)).to.deep.equal({ namespace: 'apps', cluster: 'lvm', name: 'snapshot-1234' });
    expect(parseSnapshotId('apps/lvm')).to.equal(undefined);
    expect(parseSnapshotId('apps/lvm/-rf')).to.equal(undefined);
    expect(parseSnapshotId('Apps/lvm/x')).to.equal(undefined);
    expect(parseSnapshotId('apps/lvm/a b')).to.equal(undefined);
  });

  it('takes snapshots only of Ready whole volumes on thin LVM bricks, and says why not', () => {
    expect(snapshotSource('apps/data', volume(), cluster('LVM'))).to.deep.equal({ gluster: 'apps_data' });
    expect(snapshotSource('apps/data', undefined, cluster('LVM'))).to.include({ code: status.NOT_FOUND });
    const directory = snapshotSource('apps/data', volume({ directoryOf: 'shared-0' }), cluster('LVM'));
    expect(directory).to.include({ code: status.FAILED_PRECONDITION });
    expect((directory as { message: string }).message).to.match(/claimLayout: volume/);
    const notThin = snapshotSource('apps/data', volume(), cluster('Directory'));
    expect(notThin).to.include({ code: status.FAILED_PRECONDITION });
    expect((notThin as { message: string }).message).to.match(/brickBackend Directory.*thin LVM/);
    expect(snapshotSource('apps/data', volume({}, false), cluster('LVM'))).to.include({ code: status.UNAVAILABLE });
    expect(snapshotSource('apps/data', volume(), undefined)).to.include({ code: status.FAILED_PRECONDITION });
  });

  it('refuses a snapshot whose later rewrites could fill the thin pool', () => {
    const pool = (sizeMiB: number, percent: number, metadataPercent = 1) => lv('tp_1', sizeMiB, percent, { isThinPool: true, isThinVolume: false, metadataPercent });
    // Pool 768 MiB, 50% used (384); brick holds 256 MiB: 384 free ≥ 256.
    expect(thinPoolRoom([{ node: 'n1', pool: pool(768, 50), thin: lv('brick_1', 512, 50) }])).to.equal(undefined);
    // Pool 512 MiB (factor 1), 90% used: 51 MiB free < 460 MiB held.
    const full = thinPoolRoom([{ node: 'n1', pool: pool(512, 90), thin: lv('brick_1', 512, 90) }]);
    expect(full).to.include({ code: status.RESOURCE_EXHAUSTED });
    expect(full!.message).to.match(/n1: thin pool vg_x\/tp_1 has 51 MiB free, less than the 460 MiB/);
    expect(thinPoolRoom([{ node: 'n1', pool: pool(768, 10, 85), thin: lv('brick_1', 512, 10) }])).to.include({ code: status.RESOURCE_EXHAUSTED });
    expect(thinPoolRoom([{ node: 'n1', pool: undefined, thin: lv('brick_1', 512, 10) }])).to.include({ code: status.FAILED_PRECONDITION });
    // Every brick counts: the second one is the full one.
    expect(thinPoolRoom([{ node: 'n1', pool: pool(768, 10), thin: lv('brick_1', 512, 10) }, { node: 'n2', pool: pool(512, 95), thin: lv('brick_2', 512, 95) }])!.message).to.match(/^n2:/);
  });

  it('maps glusterd’s create failures to the codes the sidecar acts on', () => {
    expect(createFailure('The number of existing snaps has reached the effective maximum limit of 256, for the volume (gv1).').code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(createFailure('Snapshot is supported only for thin provisioned LV. Ensure that all bricks of plain are thinly provisioned LV.').code).to.equal(status.FAILED_PRECONDITION);
    expect(createFailure('Another transaction is in progress for gv1. Please try again after some time.').code).to.equal(status.UNAVAILABLE);
    expect(createFailure('something new').code).to.equal(status.INTERNAL);
  });
});

describe('snapshots: the CSI Controller service', () => {
  const record = (n: number, source = 'apps/data'): SnapshotRecord => ({ snapshotId: `apps/lvm/snap-${n}`, sourceVolumeId: source, sizeBytes: 1024 * MIB, createdAt: '2026-12-02T14:09:56.250Z', readyToUse: true });
  const backend = (records: SnapshotRecord[]): SnapshotBackend & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      create: async (source, name) => (calls.push(`create ${source} ${name}`), record(1, source)),
      delete: async (id) => void calls.push(`delete ${id}`),
      get: async (id) => records.find((r) => r.snapshotId === id),
      list: async (source) => records.filter((r) => source === undefined || r.sourceVolumeId === source),
    };
  };

  it('announces snapshot creation, deletion and listing', () => {
    expect(new ControllerService(backend([])).controllerGetCapabilities()).to.deep.equal({ capabilities: [{ rpc: { type: 'CREATE_DELETE_SNAPSHOT' } }, { rpc: { type: 'LIST_SNAPSHOTS' } }] });
  });

  it('answers CreateSnapshot with the spec’s fields (int64 as a string, a Timestamp)', async () => {
    const fake = backend([]);
    const answer = await new ControllerService(fake).createSnapshot({ source_volume_id: 'apps/data', name: 'snapshot-1', secrets: {}, parameters: {} });
    expect(fake.calls).to.deep.equal(['create apps/data snapshot-1']);
    expect(answer.snapshot).to.deep.equal({
      size_bytes: String(1024 * MIB),
      snapshot_id: 'apps/lvm/snap-1',
      source_volume_id: 'apps/data',
      creation_time: { seconds: String(Date.UTC(2026, 11, 2, 14, 9, 56) / 1000), nanos: 250_000_000 },
      ready_to_use: true,
      group_snapshot_id: '',
    });
  });

  it('refuses requests without their ids, naming the field', async () => {
    const service = new ControllerService(backend([]));
    for (const [call, field] of [[() => service.createSnapshot({ source_volume_id: '', name: 'x' }), 'source_volume_id'], [() => service.createSnapshot({ source_volume_id: 'apps/data', name: '' }), 'name'], [() => service.deleteSnapshot({ snapshot_id: '' }), 'snapshot_id']] as const) {
      const error = await call().then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(CsiError);
      expect((error as CsiError).code).to.equal(status.INVALID_ARGUMENT);
      expect((error as CsiError).message).to.contain(field);
    }
  });

  it('lists by snapshot id, by source volume, or all, in pages', async () => {
    const records = [record(1), record(2), record(3, 'apps/other')];
    const service = new ControllerService(backend(records));
    const list = (request: object) => service.listSnapshots({ max_entries: 0, starting_token: '', source_volume_id: '', snapshot_id: '', ...request });
    const ids = (answer: Awaited<ReturnType<typeof list>>) => answer.entries.map((entry) => entry.snapshot.snapshot_id);
    expect(ids(await list({ snapshot_id: 'apps/lvm/snap-2' }))).to.deep.equal(['apps/lvm/snap-2']);
    expect(ids(await list({ snapshot_id: 'apps/lvm/none' }))).to.deep.equal([]);
    expect(ids(await list({ snapshot_id: 'apps/lvm/snap-3', source_volume_id: 'apps/data' }))).to.deep.equal([]);
    expect(ids(await list({ source_volume_id: 'apps/other' }))).to.deep.equal(['apps/lvm/snap-3']);
    const first = await list({ max_entries: 2 });
    expect(ids(first)).to.deep.equal(['apps/lvm/snap-1', 'apps/lvm/snap-2']);
    expect(first.next_token).to.equal('2');
    const second = await list({ max_entries: 2, starting_token: '2' });
    expect(ids(second)).to.deep.equal(['apps/lvm/snap-3']);
    expect(second.next_token).to.equal('');
    const past = await list({ starting_token: '9' }).then(() => undefined, (e: unknown) => e);
    expect((past as CsiError).code).to.equal(status.ABORTED);
  });

  it('serves Identity (announcing CONTROLLER_SERVICE) and Controller on its socket, as the sidecar calls them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csi-controller-'));
    const endpoint = `unix://${join(dir, 'controller.sock')}`;
    const server = await startControllerServer({ endpoint, identity: new IdentityService(() => true, { controller: true }), controller: new ControllerService(backend([])), logger: createLogger('error') });
    const csi = loadCsiPackage();
    type Client = Record<string, (request: unknown, callback: (error: grpc.ServiceError | null, response: unknown) => void) => void>;
    const identity = new csi.Identity(endpoint, grpc.credentials.createInsecure()) as unknown as Client;
    const controller = new csi.Controller(endpoint, grpc.credentials.createInsecure()) as unknown as Client;
    const call = (client: Client, method: string, request: unknown) =>
      new Promise<unknown>((resolve, reject) => client[method]!.call(client, request, (error, response) => (error ? reject(error) : resolve(response))));
    try {
      expect(await call(identity, 'GetPluginCapabilities', {})).to.deep.equal({ capabilities: [{ service: { type: 'CONTROLLER_SERVICE' }, type: 'service' }] });
      const created = (await call(controller, 'CreateSnapshot', { source_volume_id: 'apps/data', name: 'snapshot-1' })) as { snapshot: { size_bytes: string; creation_time: { seconds: string; nanos: number }; ready_to_use: boolean } };
      expect(created.snapshot).to.include({ size_bytes: String(1024 * MIB), ready_to_use: true });
      expect(created.snapshot.creation_time).to.deep.equal({ seconds: String(Date.UTC(2026, 11, 2, 14, 9, 56) / 1000), nanos: 250_000_000 });
      const refused = await call(controller, 'DeleteSnapshot', { snapshot_id: '' }).then(() => undefined, (error: grpc.ServiceError) => error);
      expect(refused?.code).to.equal(status.INVALID_ARGUMENT);
    } finally {
      (identity as unknown as grpc.Client).close();
      (controller as unknown as grpc.Client).close();
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a standby replica answers UNAVAILABLE (retried by the sidecar) until it leads, then its own backend answers', async () => {
    let current: SnapshotBackend | undefined;
    const service = new ControllerService(new LeaderSnapshotBackend(() => current));
    const refused = await service.createSnapshot({ source_volume_id: 'apps/data', name: 'snapshot-1' }).then(() => undefined, (e: unknown) => e);
    expect((refused as CsiError).code).to.equal(status.UNAVAILABLE);
    expect((refused as CsiError).message).to.match(/not leading/);
    const deleted = await service.deleteSnapshot({ snapshot_id: 'apps/lvm/snap-1' }).then(() => undefined, (e: unknown) => e);
    expect((deleted as CsiError).code).to.equal(status.UNAVAILABLE);
    current = backend([]);
    const created = await service.createSnapshot({ source_volume_id: 'apps/data', name: 'snapshot-1' });
    expect(created.snapshot.snapshot_id).to.equal('apps/lvm/snap-1');
  });
});

describe('snapshots: the Probe of a replica that is not ready yet', () => {
  it('answers at once when ready, and by default at once when not', async () => {
    expect(await new IdentityService(() => true, { controller: true, notReadyWaitMs: 5_000 }).probe()).to.deep.equal({ ready: { value: true } });
    const started = Date.now();
    expect(await new IdentityService(() => false).probe()).to.deep.equal({ ready: { value: false } });
    expect(Date.now() - started).to.be.below(100);
  });

  it('is held while not ready and answers "ready" as soon as readiness comes', async () => {
    let ready = false;
    setTimeout(() => (ready = true), 300);
    const started = Date.now();
    expect(await new IdentityService(() => ready, { controller: true, notReadyWaitMs: 10_000 }).probe()).to.deep.equal({ ready: { value: true } });
    const held = Date.now() - started;
    expect(held).to.be.at.least(250);
    expect(held).to.be.below(2_000);
  });

  it('answers "not ready" when the wait runs out', async () => {
    const started = Date.now();
    expect(await new IdentityService(() => false, { controller: true, notReadyWaitMs: 300 }).probe()).to.deep.equal({ ready: { value: false } });
    expect(Date.now() - started).to.be.at.least(290);
  });
});
