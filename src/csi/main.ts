import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DRIVER_NAME } from '../api/group.ts';
import { CsiMetrics } from '../metrics/csi-metrics.ts';
import { metricsAddressSchema } from '../metrics/listen-address.ts';
import { startHealthServer } from '../runtime/health.ts';
import { createLogger } from '../runtime/logger.ts';
import { decideFuseIsolation, FUSE_ISOLATION_MODES, observeHost } from './fuse-isolation.ts';
import { IdentityService } from './identity.ts';
import { MountHealthChecker } from './mount-health.ts';
import { Mounter } from './mounter.ts';
import { readMountInfo } from './mountinfo.ts';
import { NodeService, type NodeHost } from './node.ts';
import { recoverPublishedMounts } from './recovery.ts';
import { absolutePathSchema } from './requests.ts';
import { startRegistrationServer, type RegistrationServer } from './registration.ts';
import { startCsiServer } from './server.ts';
import { PublishStore } from './state.ts';
import { TlsFileWriter } from './tls-files.ts';

/**
 * The CSI node plugin: `node src/csi/main.ts --endpoint unix:///csi/csi.sock --node-id NODE`.
 * Runs on every node (DaemonSet, see cdk8s/csi.ts). With --registration-dir it also registers itself with
 * kubelet (registration.ts); without it (host-process tests) something else must tell kubelet, or nothing.
 * --kubelet-dir (default $KUBELET_DIR, else /var/lib/kubelet) is kubelet's root directory: the plugin mounts
 * only under its pods/ (target-path.ts). --metrics-address HOST:PORT (default $METRICS_ADDRESS, else off) serves
 * /metrics (and /healthz, /readyz) over HTTP; the DaemonSet runs with host networking, so the port is the node's.
 */
/** Unix socket paths are limited to 107 bytes (sun_path). */
const socketFile = z.string().startsWith('/').max(107);
const directory = absolutePathSchema.refine((path) => !path.endsWith('/'), 'must not end with /');
const flagsSchema = z.object({
  endpoint: z.string().regex(/^unix:\/\/\/.+/, 'must be unix:///absolute/path'),
  'node-id': z.string().min(1).max(256),
  'state-dir': z.string().startsWith('/'),
  'fuse-isolation': z.enum(FUSE_ISOLATION_MODES),
  'host-cgroup-root': z.string().startsWith('/'),
  'registration-dir': z.union([z.literal(''), z.string().startsWith('/')]),
  'kubelet-registration-path': socketFile,
  'mount-timeout-seconds': z.coerce.number().int().positive(),
  'statfs-timeout-seconds': z.coerce.number().int().positive().max(300),
  // Where kubelet keeps pods' volumes (its --root-dir): the only place the plugin mounts (target-path.ts).
  'kubelet-dir': directory,
  // HOST:PORT (HOST may be empty: every address) of /metrics; empty: no metrics server.
  'metrics-address': metricsAddressSchema,
});

const { values } = parseArgs({
  options: {
    endpoint: { type: 'string', default: process.env.CSI_ENDPOINT },
    'node-id': { type: 'string', default: process.env.NODE_ID },
    'state-dir': { type: 'string', default: `/var/lib/kubelet/plugins/${DRIVER_NAME}/published` },
    'fuse-isolation': { type: 'string', default: 'auto' },
    'host-cgroup-root': { type: 'string', default: '/sys/fs/cgroup' },
    // Empty: do not register with kubelet.
    'registration-dir': { type: 'string', default: '' },
    'kubelet-registration-path': { type: 'string', default: `/var/lib/kubelet/plugins/${DRIVER_NAME}/csi.sock` },
    'mount-timeout-seconds': { type: 'string', default: '120' },
    'statfs-timeout-seconds': { type: 'string', default: '10' },
    'kubelet-dir': { type: 'string', default: process.env.KUBELET_DIR ?? '/var/lib/kubelet' },
    'metrics-address': { type: 'string', default: process.env.METRICS_ADDRESS ?? '' },
  },
  strict: true,
});

const logger = createLogger().child({ component: 'csi-node' });
const parsed = flagsSchema.safeParse(values);
if (!parsed.success) {
  logger.error('invalid flags', { issues: parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`) });
  process.exit(2);
}
const flags = parsed.data;

const decision = decideFuseIsolation(flags['fuse-isolation'], await observeHost(flags['host-cgroup-root']));
if (!decision.ok) {
  logger.error('cannot isolate FUSE clients as asked', { error: decision.error });
  process.exit(2);
}
logger.info('FUSE client isolation', { requested: flags['fuse-isolation'], ...decision.isolation, why: decision.why });
for (const warning of decision.warnings) logger.warn('FUSE client isolation', { warning });

const mounter = new Mounter({ timeoutMs: flags['mount-timeout-seconds'] * 1000, isolation: decision.isolation });
const store = new PublishStore(flags['state-dir']);
const tlsFiles = new TlsFileWriter();
const health = new MountHealthChecker({ timeoutMs: flags['statfs-timeout-seconds'] * 1000 });
const onInvalidRecord = (file: string, error: unknown) => logger.warn('ignoring unreadable publish record', { file, error: String(error) });
const host: NodeHost = {
  readMounts: () => readMountInfo(),
  checkHealth: (path) => health.check(path),
  mount: (argv, targetPath) => mounter.mount(argv, targetPath),
  unmount: (targetPath, lazy) => mounter.unmount(targetPath, lazy),
  readRecord: (targetPath) => store.get(targetPath, onInvalidRecord),
  saveRecord: (record) => store.save(record),
  removeRecord: (targetPath) => store.remove(targetPath),
  writeTlsFiles: (material) => tlsFiles.write(material),
};
const kubeletDir = flags['kubelet-dir'];

let ready = false;
const metrics = new CsiMetrics();
const node = new NodeService({ nodeId: flags['node-id'], kubeletDir, host, logger, metrics });
const identity = new IdentityService(() => ready);
const server = await startCsiServer({ endpoint: flags.endpoint, identity, node, logger, metrics });
logger.info('serving', { endpoint: flags.endpoint, nodeId: flags['node-id'], kubeletDir });

const metricsAddress = flags['metrics-address'];
const metricsServer = metricsAddress
  ? await startHealthServer(metricsAddress.port, [{ name: 'mounts checked', ready: () => ready }], metricsAddress.host, metrics)
  : undefined;
if (metricsAddress) {
  metrics.collectProcessMetrics();
  logger.info('metrics served', { address: `${metricsAddress.host}:${metricsAddress.port}`, path: '/metrics' });
}

// After the CSI socket serves: registering makes kubelet call NodeGetInfo on it at once.
let registration: RegistrationServer | undefined;
if (flags['registration-dir']) {
  registration = await startRegistrationServer({
    registrationDir: flags['registration-dir'],
    kubeletEndpoint: flags['kubelet-registration-path'],
    logger,
  });
  logger.info('registration socket up', { socket: registration.socketPath, kubeletEndpoint: flags['kubelet-registration-path'] });
}

// On SIGTERM stop serving and exit, also during the start-up check; mounts stay (they belong to the pods,
// not to this process).
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info('shutting down', { signal });
    setTimeout(() => process.exit(0), 5_000).unref();
    metricsServer?.close();
    // Registration first: kubelet unregisters the driver when its socket goes, before the CSI socket stops.
    void (registration?.close() ?? Promise.resolve())
      .catch((error: unknown) => logger.warn('registration socket not removed', { error: String(error) }))
      .then(() => server.tryShutdown(() => process.exit(0)));
  });
}

// Serve first (kubelet may call Probe at once), report ready once existing mounts are checked.
await recoverPublishedMounts({ ...host, listRecords: () => store.list(onInvalidRecord) }, logger, { kubeletDir }).then(
  (report) => {
    metrics.mountsRepaired('startup', report.repaired.length);
    metrics.mountRepairsFailed('startup', report.failed.length);
  },
  (error: unknown) => logger.error('start-up mount check failed', { error: String(error) }),
);
ready = true;
