import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { expect } from 'chai';
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { DRIVER_NAME } from '../../src/api/group.ts';
import { loadRegistrationPackage, REGISTRATION_PROTO_PATH, startRegistrationServer, type RegistrationServer } from '../../src/csi/registration.ts';
import { PROTO_OPTIONS } from '../../src/csi/server.ts';

/** JSON log lines kept in memory, to check what the plugin says about kubelet's answer. */
function memoryLogger() {
  const lines: Array<{ level: string; message: string; [key: string]: unknown }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, logger: winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] }) };
}

type Call = (request: object, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response: Record<string, unknown>) => void) => void;

describe('CSI plugin registration with kubelet (pluginregistration v1)', () => {
  let dir: string;
  let server: RegistrationServer;
  let client: grpc.Client;
  let memory: ReturnType<typeof memoryLogger>;
  const kubeletEndpoint = `/var/lib/kubelet/plugins/${DRIVER_NAME}/csi.sock`;

  /** Calls as kubelet's plugin watcher does: a plain unix socket path, insecure, a 1 s deadline. */
  const call = (method: string, request: object) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      (client as unknown as Record<string, Call>)[method]!.call(client, request, { deadline: Date.now() + 1_000 }, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'csi-reg-'));
    // A file left by a killed plugin: must be replaced, not make bind fail.
    writeFileSync(join(dir, `${DRIVER_NAME}-reg.sock`), 'stale');
    memory = memoryLogger();
    server = await startRegistrationServer({ registrationDir: dir, kubeletEndpoint, logger: memory.logger });
    const { Registration } = loadRegistrationPackage();
    client = new Registration(`unix://${server.socketPath}`, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on <registration-dir>/<driver>-reg.sock, a unix socket (kubelet ignores other files)', () => {
    expect(server.socketPath).to.equal(join(dir, 'gluster.gluster-operator.dev-reg.sock'));
    expect(lstatSync(server.socketPath).isSocket()).to.equal(true);
  });

  it('GetInfo names a CSI plugin, the driver, the CSI socket as kubelet sees it, and CSI 1.0.0', async () => {
    expect(await call('GetInfo', {})).to.deep.equal({
      type: 'CSIPlugin',
      name: DRIVER_NAME,
      endpoint: kubeletEndpoint,
      supported_versions: ['1.0.0'],
    });
  });

  it('NotifyRegistrationStatus answers OK and logs success as info, a refusal as a warning with its error', async () => {
    expect(await call('NotifyRegistrationStatus', { plugin_registered: true })).to.deep.equal({});
    expect(await call('NotifyRegistrationStatus', { plugin_registered: false, error: 'validation failed' })).to.deep.equal({});
    const statusLines = memory.lines.filter((line) => line.message !== 'rpc failed' && line.driver === DRIVER_NAME);
    expect(statusLines.map((line) => [line.level, line.message, line.error])).to.deep.equal([
      ['info', 'registered with kubelet', undefined],
      ['warn', 'kubelet refused the registration', 'validation failed'],
    ]);
  });

  it('removes its socket on close, which is how kubelet learns the driver is gone', async () => {
    await server.close();
    expect(() => lstatSync(server.socketPath)).to.throw(/ENOENT/);
  });

  it('speaks the upstream wire format: package pluginregistration, upstream field numbers', () => {
    const definition = protoLoader.loadSync(REGISTRATION_PROTO_PATH, PROTO_OPTIONS);
    const fields = (name: string) =>
      Object.fromEntries(
        (definition[`pluginregistration.${name}`] as { type: { field: Array<{ name: string; number: number; type: string; label: string }> } }).type.field.map(
          (f) => [f.name, [f.number, f.type, f.label]],
        ),
      );
    expect(fields('PluginInfo')).to.deep.equal({
      type: [1, 'TYPE_STRING', 'LABEL_OPTIONAL'],
      name: [2, 'TYPE_STRING', 'LABEL_OPTIONAL'],
      endpoint: [3, 'TYPE_STRING', 'LABEL_OPTIONAL'],
      supported_versions: [4, 'TYPE_STRING', 'LABEL_REPEATED'],
    });
    expect(fields('RegistrationStatus')).to.deep.equal({ plugin_registered: [1, 'TYPE_BOOL', 'LABEL_OPTIONAL'], error: [2, 'TYPE_STRING', 'LABEL_OPTIONAL'] });
    expect(fields('InfoRequest')).to.deep.equal({});
    expect(fields('RegistrationStatusResponse')).to.deep.equal({});
    const service = definition['pluginregistration.Registration'] as Record<string, { path: string }>;
    expect(Object.values(service).map((m) => m.path).sort()).to.deep.equal([
      '/pluginregistration.Registration/GetInfo',
      '/pluginregistration.Registration/NotifyRegistrationStatus',
    ]);
  });
});
