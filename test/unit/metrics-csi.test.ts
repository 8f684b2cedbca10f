import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import winston from 'winston';
import { IdentityService } from '../../src/csi/identity.ts';
import type { MountHealth } from '../../src/csi/mount-health.ts';
import type { MountEntry } from '../../src/csi/mountinfo.ts';
import { NodeService, type NodeHost } from '../../src/csi/node.ts';
import { loadCsiPackage, startCsiServer } from '../../src/csi/server.ts';
import type { PublishRecord } from '../../src/csi/state.ts';
import { CsiMetrics } from '../../src/metrics/csi-metrics.ts';
import { metricsAddressSchema } from '../../src/metrics/listen-address.ts';
import { CSI } from '../../src/metrics/names.ts';
import { find, MetricsServer, value } from './metrics-scrape.ts';

const logger = winston.createLogger({ silent: true });
const healthy: MountHealth = { state: 'healthy', stats: { blockSize: 4096n, blocks: 10n, blocksFree: 5n, blocksAvailable: 5n, files: 10n, filesFree: 5n } };

/** One target's mount table and health; mount adds a healthy glusterfs entry. */
function hostWith(mounts: MountEntry[], health: MountHealth): NodeHost {
  const records = new Map<string, PublishRecord>();
  return {
    readMounts: async () => [...mounts],
    checkHealth: async () => health,
    mount: async (argv, targetPath) => {
      mounts.push({ ...glusterMount(targetPath), source: argv.at(-2)! });
      health = healthy;
    },
    unmount: async (targetPath) => void mounts.splice(mounts.findIndex((m) => m.mountPoint === targetPath), 1),
    readRecord: async (targetPath) => records.get(targetPath),
    saveRecord: async (record) => void records.set(record.targetPath, record),
    removeRecord: async (targetPath) => void records.delete(targetPath),
  };
}

function glusterMount(mountPoint: string): MountEntry {
  return { id: 7, parentId: 1, majorMinor: '0:1', root: '/', mountPoint, mountOptions: ['rw'], optionalFields: [], fsType: 'fuse.glusterfs', source: '10.0.0.1:/default_gv1', superOptions: [] };
}

describe('metrics: the CSI node plugin', () => {
  let dir: string;
  let kubeletDir: string;
  let target: string;
  let metrics: CsiMetrics;
  let server: MetricsServer;
  const publishRequest = () => ({
    volume_id: 'default/gv1',
    target_path: target,
    volume_capability: { mount: { fs_type: '', mount_flags: [] }, access_type: 'mount', access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } },
    readonly: false,
    volume_context: { mountSource: '10.0.0.1:default_gv1', glusterVolumeName: 'default_gv1' },
  });

  beforeEach(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'csi-metrics-')));
    kubeletDir = join(dir, 'kubelet');
    const parent = join(kubeletDir, 'pods', 'pod-1', 'volumes', 'kubernetes.io~csi', 'pv1');
    mkdirSync(parent, { recursive: true });
    target = join(parent, 'mount');
    metrics = new CsiMetrics();
    server = await MetricsServer.start(metrics);
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts and times every RPC by method and gRPC code, over the plugin\'s socket', async () => {
    const node = new NodeService({ nodeId: 'node-a', kubeletDir, host: hostWith([], healthy), logger, metrics });
    const endpoint = `unix://${join(dir, 'csi.sock')}`;
    const csi = await startCsiServer({ endpoint, identity: new IdentityService(() => true), node, logger, metrics });
    const client = new (loadCsiPackage().Node)(endpoint, grpc.credentials.createInsecure()) as unknown as Record<string, (request: unknown, callback: (error: grpc.ServiceError | null) => void) => void>;
    const call = (method: string, request: unknown) => new Promise<number>((resolve) => client[method]!.call(client, request, (error) => resolve(error?.code ?? grpc.status.OK)));
    try {
      expect(await call('NodePublishVolume', publishRequest())).to.equal(grpc.status.OK);
      expect(await call('NodeUnpublishVolume', { volume_id: 'default/gv1', target_path: '/etc/passwd' })).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(await call('NodeUnpublishVolume', { volume_id: 'default/gv1', target_path: target })).to.equal(grpc.status.OK);
    } finally {
      (client as unknown as grpc.Client).close();
      csi.forceShutdown();
    }
    const scrape = await server.scrape();
    expect(value(scrape, CSI.operations, { method: 'NodePublishVolume', code: 'OK' })).to.equal(1);
    expect(value(scrape, CSI.operations, { method: 'NodeUnpublishVolume', code: 'INVALID_ARGUMENT' })).to.equal(1);
    expect(value(scrape, CSI.operations, { method: 'NodeUnpublishVolume', code: 'OK' })).to.equal(1);
    expect(value(scrape, `${CSI.operationDuration}_count`, { method: 'NodeUnpublishVolume', code: 'INVALID_ARGUMENT' })).to.equal(1);
    expect(find(scrape, CSI.mountsRepaired)).to.deep.equal([]);
    // No paths or volume ids as label values: pods come and go without bound.
    expect(scrape.samples.flatMap((sample) => Object.values(sample.labels)).filter((label) => label.includes('/'))).to.deep.equal([]);
  });

  it('counts a broken mount that a publish mounted again, and not a healthy one left alone', async () => {
    mkdirSync(target);
    const mounts = [glusterMount(target)];
    const broken = new NodeService({ nodeId: 'node-a', kubeletDir, host: hostWith(mounts, { state: 'broken', reason: 'ENOTCONN' }), logger, metrics });
    await broken.nodePublishVolume(publishRequest());
    expect(value(await server.scrape(), CSI.mountsRepaired, { trigger: 'publish' })).to.equal(1);

    const fine = new NodeService({ nodeId: 'node-a', kubeletDir, host: hostWith(mounts, healthy), logger, metrics });
    await fine.nodePublishVolume(publishRequest());
    expect(value(await server.scrape(), CSI.mountsRepaired, { trigger: 'publish' })).to.equal(1);
  });

  it('counts the start-up check\'s repairs and failures', async () => {
    metrics.mountsRepaired('startup', 2);
    metrics.mountRepairsFailed('startup', 0);
    const scrape = await server.scrape();
    expect(value(scrape, CSI.mountsRepaired, { trigger: 'startup' })).to.equal(2);
    expect(find(scrape, CSI.mountRepairFailures)).to.deep.equal([]);
  });

  it('takes --metrics-address as HOST:PORT, :PORT or [IPv6]:PORT, and empty as off', () => {
    expect(metricsAddressSchema.parse('')).to.equal(undefined);
    expect(metricsAddressSchema.parse(':9809')).to.deep.equal({ host: '0.0.0.0', port: 9809 });
    expect(metricsAddressSchema.parse('127.0.0.1:9809')).to.deep.equal({ host: '127.0.0.1', port: 9809 });
    expect(metricsAddressSchema.parse('[::1]:9809')).to.deep.equal({ host: '::1', port: 9809 });
    for (const bad of ['9809', 'host:', 'host:0', 'host:70000', 'a b:1', 'http://x:1']) {
      expect(metricsAddressSchema.safeParse(bad).success, bad).to.equal(false);
    }
  });
});
