import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import ssh2 from 'ssh2';
import { HostKeyMismatchError, TransportError } from '../../src/gluster/errors.ts';
import { MemoryHostKeyStore, sshFingerprint } from '../../src/transport/host-key-store.ts';
import { SshTransport } from '../../src/transport/ssh.ts';

const privateKey = ssh2.utils.generateKeyPairSync('ed25519').private;

describe('transport: SSH command line and failures without a server', () => {
  it('wraps argv in a remote kill deadline later than the local one, quoted once', () => {
    const t = new SshTransport({ access: { privateKey }, hostKeys: new MemoryHostKeyStore() });
    expect(t.remoteCommand(['gluster', '--mode=script', 'volume', 'info', "it's"], 10_000)).to.equal(
      "timeout -s KILL 12s gluster --mode=script volume info 'it'\\''s'",
    );
    // Rounded up to whole seconds: busybox/old coreutils take integers only.
    expect(t.remoteCommand(['true'], 1)).to.match(/^timeout -s KILL 3s true$/);
  });

  it('puts sudo -n -- outside the deadline, so a non-root login can still kill what sudo runs as root', () => {
    const t = new SshTransport({ access: { privateKey, user: 'gluster', sudo: true }, hostKeys: new MemoryHostKeyStore(), remoteKillGraceMs: 0 });
    expect(t.remoteCommand(['lvs', '--reportformat', 'json'], 5000)).to.equal('sudo -n -- timeout -s KILL 5s lvs --reportformat json');
  });

  it('a private key ssh2 cannot parse fails the run as a TransportError that says so', async () => {
    const t = new SshTransport({ access: { privateKey: 'not a key', port: 1 }, hostKeys: new MemoryHostKeyStore() });
    const error = await t.run({ name: 'n1', manageAddress: '127.0.0.1' }, ['true']).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransportError);
    expect((error as Error).message).to.match(/privateKey/);
  });

  it('rejects access settings outside what GlusterCluster allows', () => {
    expect(() => new SshTransport({ access: { privateKey, port: 0 }, hostKeys: new MemoryHostKeyStore() })).to.throw();
    expect(() => new SshTransport({ access: { privateKey: '' }, hostKeys: new MemoryHostKeyStore() })).to.throw();
  });

  it('a refused connection is a retryable TransportError naming the node and the command', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const t = new SshTransport({ access: { privateKey, port }, hostKeys: new MemoryHostKeyStore() });
    const error = await t.run({ name: 'n1', manageAddress: '127.0.0.1' }, ['gluster', 'peer', 'status']).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransportError);
    expect((error as TransportError).retryable).to.equal(true);
    expect((error as Error).message).to.match(/^n1: gluster peer status: cannot connect to root@127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    await t.close();
  });

  it('a server that never answers the handshake times out as a TransportError', async () => {
    const sockets: Array<{ destroy(): void }> = [];
    const server = createServer((socket) => sockets.push(socket)); // accepts, says nothing
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const t = new SshTransport({ access: { privateKey, port, connectTimeoutSeconds: 1 }, hostKeys: new MemoryHostKeyStore() });
    try {
      const started = Date.now();
      const error = await t.run({ name: 'n1', manageAddress: '127.0.0.1' }, ['true']).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TransportError);
      expect((error as Error).message).to.match(/timed out/i);
      expect(Date.now() - started).to.be.lessThan(3000);
    } finally {
      await t.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('HostKeyMismatchError is permanent and says what to do', () => {
    const error = new HostKeyMismatchError({ node: 'n1', argv: ['true'], expected: 'SHA256:a', actual: 'SHA256:b' });
    expect(error.retryable).to.equal(false);
    expect(error.message).to.match(/SSH host key changed \(pinned SHA256:a, offered SHA256:b\)/);
  });
});

describe('transport: host key stores', () => {
  it('fingerprints like OpenSSH: SHA256: + unpadded base64', () => {
    expect(sshFingerprint(Buffer.from('abc'))).to.equal('SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0');
  });

  it('the in-memory store pins once and refuses a different second pin', async () => {
    const store = new MemoryHostKeyStore();
    expect(await store.get('n1')).to.equal(undefined);
    await store.pin('n1', 'SHA256:a');
    await store.pin('n1', 'SHA256:a');
    await store.pin('n1', 'SHA256:b').then(
      () => expect.fail('second pin accepted'),
      (error: Error) => expect(error.name).to.equal('HostKeyConflictError'),
    );
    expect(await store.get('n1')).to.equal('SHA256:a');
  });
});
