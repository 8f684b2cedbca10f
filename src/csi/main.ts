import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DRIVER_NAME } from '../api/group.ts';
import { createLogger } from '../runtime/logger.ts';
import { IdentityService } from './identity.ts';
import { checkHealth, Mounter } from './mounter.ts';
import { readMountInfo } from './mountinfo.ts';
import { NodeService, type NodeHost } from './node.ts';
import { recoverPublishedMounts } from './recovery.ts';
import { startCsiServer } from './server.ts';
import { PublishStore } from './state.ts';

/**
 * The CSI node plugin: `node src/csi/main.ts --endpoint unix:///csi/csi.sock --node-id NODE`.
 * Runs on every node (DaemonSet, see cdk8s/csi.ts) next to node-driver-registrar.
 */
const flagsSchema = z.object({
  endpoint: z.string().regex(/^unix:\/\/\/.+/, 'must be unix:///absolute/path'),
  'node-id': z.string().min(1).max(256),
  'state-dir': z.string().startsWith('/'),
  'systemd-scope': z.enum(['auto', 'always', 'never']),
  'mount-timeout-seconds': z.coerce.number().int().positive(),
});

const { values } = parseArgs({
  options: {
    endpoint: { type: 'string', default: process.env.CSI_ENDPOINT },
    'node-id': { type: 'string', default: process.env.NODE_ID },
    'state-dir': { type: 'string', default: `/var/lib/kubelet/plugins/${DRIVER_NAME}/published` },
    'systemd-scope': { type: 'string', default: 'auto' },
    'mount-timeout-seconds': { type: 'string', default: '120' },
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

const mounter = new Mounter({ timeoutMs: flags['mount-timeout-seconds'] * 1000, systemdScope: flags['systemd-scope'] });
const store = new PublishStore(flags['state-dir']);
const host: NodeHost = {
  readMounts: () => readMountInfo(),
  checkHealth: (path) => checkHealth(path),
  mount: (argv, targetPath) => mounter.mount(argv, targetPath),
  unmount: (targetPath, lazy) => mounter.unmount(targetPath, lazy),
  saveRecord: (record) => store.save(record),
  removeRecord: (targetPath) => store.remove(targetPath),
};

let ready = false;
const node = new NodeService({ nodeId: flags['node-id'], host, logger });
const identity = new IdentityService(() => ready);
const server = await startCsiServer({ endpoint: flags.endpoint, identity, node, logger });
logger.info('serving', { endpoint: flags.endpoint, nodeId: flags['node-id'], systemdScope: mounter.useSystemdScope });

// Serve first (kubelet and the registrar may call Probe at once), report ready once existing mounts are checked.
await recoverPublishedMounts(
  { ...host, listRecords: () => store.list((file, error) => logger.warn('ignoring unreadable publish record', { file, error: String(error) })) },
  logger,
).catch((error: unknown) => logger.error('start-up mount check failed', { error: String(error) }));
ready = true;

// On SIGTERM stop serving and exit; mounts stay (they belong to the pods, not to this process).
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info('shutting down', { signal });
    server.tryShutdown(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  });
}
