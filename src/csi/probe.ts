import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { loadCsiPackage } from './server.ts';

/**
 * Container probe for the plugin: `node src/csi/probe.ts --endpoint unix:///csi/csi.sock [--ready]`.
 * Calls the plugin's own CSI Probe RPC over its socket, so the probe checks what kubelet uses and no extra
 * livenessprobe sidecar image is needed. Exit 0 when the plugin answers (and, with --ready, reports ready).
 */
const { values } = parseArgs({
  options: { endpoint: { type: 'string', default: 'unix:///csi/csi.sock' }, ready: { type: 'boolean', default: false } },
  strict: true,
});
const csi = loadCsiPackage();
const client = new csi.Identity(values.endpoint, grpc.credentials.createInsecure());
type ProbeResponse = { ready: { value: boolean } | null };
type ProbeCall = (request: object, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: ProbeResponse) => void) => void;
const probe = (client as unknown as { Probe: ProbeCall }).Probe.bind(client);
probe({}, { deadline: Date.now() + 4_000 }, (error, response) => {
  client.close();
  if (error) {
    console.error(`Probe failed: ${error.message}`);
    process.exit(1);
  }
  // An absent `ready` means ready (CSI spec).
  const ready = response?.ready?.value ?? true;
  if (values.ready && !ready) {
    console.error('plugin is not ready yet');
    process.exit(1);
  }
  process.exit(0);
});
