import { expect } from 'chai';
import { ApiException, type V1Secret } from '@kubernetes/client-node';
import { glusterNodeHostKeyExpectations } from '../../src/transport/host-key-expectations.ts';
import { HostKeyConflictError } from '../../src/transport/host-key-store.ts';
import { HOST_KEY_SECRET_NAME, SecretHostKeyStore, hostKeyEntryKey, type HostKeySecretsApi } from '../../src/transport/host-key-secret-store.ts';

const [A, B] = ['A', 'B'].map((c) => `SHA256:${c.repeat(43)}`) as [string, string];
const at = { address: '10.0.0.1', port: 22 };

/**
 * One Secret the apiserver's way: create refuses an existing name (409), replace a stale resourceVersion
 * (409) or a missing object (404). `between` runs after the store's read and before its write: a racing writer.
 */
function apiserver() {
  let stored: V1Secret | undefined;
  let version = 0;
  const writes: string[] = [];
  const hooks: { between?: () => void } = {};
  const bump = (secret: V1Secret): V1Secret => structuredClone({ ...secret, metadata: { ...secret.metadata, resourceVersion: String(++version) } });
  const raceOnce = () => {
    const between = hooks.between;
    hooks.between = undefined;
    between?.();
  };
  const api: HostKeySecretsApi = {
    readNamespacedSecret: (async ({ name, namespace }: { name: string; namespace: string }) => {
      expect([name, namespace]).to.deep.equal([HOST_KEY_SECRET_NAME, 'gluster-operator']);
      if (!stored) throw new ApiException(404, 'not found', '{}', {});
      return structuredClone(stored);
    }) as HostKeySecretsApi['readNamespacedSecret'],
    createNamespacedSecret: (async ({ body }: { body: V1Secret }) => {
      raceOnce();
      writes.push('create');
      if (stored) throw new ApiException(409, 'already exists', '{}', {});
      return (stored = bump(body));
    }) as HostKeySecretsApi['createNamespacedSecret'],
    replaceNamespacedSecret: (async ({ body }: { body: V1Secret }) => {
      raceOnce();
      writes.push('replace');
      if (!stored) throw new ApiException(404, 'not found', '{}', {});
      if (body.metadata?.resourceVersion !== stored.metadata?.resourceVersion) throw new ApiException(409, 'conflict', '{}', {});
      return (stored = bump(body));
    }) as HostKeySecretsApi['replaceNamespacedSecret'],
  };
  const entries = () => Object.fromEntries(Object.entries(stored?.data ?? {}).map(([key, value]) => [key, JSON.parse(Buffer.from(value, 'base64').toString())]));
  /** Someone else writing the Secret (another store, a human). */
  const write = (change: (secret: V1Secret) => void) => {
    const secret = stored ? structuredClone(stored) : { metadata: { name: HOST_KEY_SECRET_NAME }, data: {} };
    change(secret);
    stored = bump(secret);
  };
  return { api, writes, hooks, entries, write, secret: () => stored };
}

const storeOn = (api: HostKeySecretsApi, nodeNamespace = 'tenant') =>
  new SecretHostKeyStore({ core: api, namespace: 'gluster-operator', nodeNamespace, now: () => new Date('2026-12-01T10:00:00Z') });

describe('transport: SSH host key pins in a Secret of the operator namespace', () => {
  it('creates the Secret on the first pin, one record per node and address, labelled as the operator\'s', async () => {
    const server = apiserver();
    const store = storeOn(server.api);
    expect(await store.get('n1', at)).to.equal(undefined);
    await store.pin('n1', A, at);
    await store.pin('n2', B, { address: '10.0.0.2', port: 22 }, 'carried-over-from-status');
    expect(server.writes).to.deep.equal(['create', 'replace']);
    expect(server.secret()!.metadata!.labels).to.deep.equal({ 'app.kubernetes.io/part-of': 'gluster-operator', 'app.kubernetes.io/component': 'ssh-host-keys' });
    expect(server.entries()).to.deep.equal({
      [hostKeyEntryKey('tenant', 'n1', at)]: { node: 'tenant/n1', address: '10.0.0.1', fingerprint: A, pinnedAt: '2026-12-01T10:00:00.000Z', reason: 'first-use' },
      [hostKeyEntryKey('tenant', 'n2', { address: '10.0.0.2', port: 22 })]: { node: 'tenant/n2', address: '10.0.0.2', fingerprint: B, pinnedAt: '2026-12-01T10:00:00.000Z', reason: 'carried-over-from-status' },
    });
    expect(await store.get('n1', at)).to.equal(A);
    expect(store.describe('n1', at)).to.equal(`key ${hostKeyEntryKey('tenant', 'n1', at)} of Secret gluster-operator/${HOST_KEY_SECRET_NAME}`);
  });

  it('keys by namespace, name and address: another namespace or another server starts afresh; another port does not', async () => {
    const server = apiserver();
    await storeOn(server.api).pin('n1', A, at);
    expect(await storeOn(server.api, 'other').get('n1', at)).to.equal(undefined);
    expect(await storeOn(server.api).get('n1', { address: '10.0.0.9', port: 22 })).to.equal(undefined);
    expect(await storeOn(server.api).get('n1', { address: '10.0.0.1', port: 2222 })).to.equal(A);
    expect(hostKeyEntryKey('tenant', 'n1', { address: 'fd00::1', port: 22 })).to.match(/^node-[0-9a-f]{32}$/);
  });

  it('never replaces a pin: pinning the same key again is a no-op, another key a HostKeyConflictError', async () => {
    const server = apiserver();
    const store = storeOn(server.api);
    await store.pin('n1', A, at);
    await store.pin('n1', A, at);
    const error = await store.pin('n1', B, at).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(HostKeyConflictError);
    expect(server.writes).to.deep.equal(['create']);
    expect(await store.get('n1', at)).to.equal(A);
  });

  it('two writers: the second sees 409, reads again and finds the first one\'s pin (kept), or writes its own beside it', async () => {
    const server = apiserver();
    const store = storeOn(server.api);
    // Another operator process pins n1 to A between this store's read and its create.
    server.hooks.between = () => server.write((s) => (s.data = { [hostKeyEntryKey('tenant', 'n1', at)]: Buffer.from(JSON.stringify({ node: 'tenant/n1', address: at.address, fingerprint: A, pinnedAt: 'x' })).toString('base64') }));
    const error = await store.pin('n1', B, at).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(HostKeyConflictError);
    expect(await store.get('n1', at)).to.equal(A);
    // A writer touching another key in between: retried, and both pins are kept.
    server.hooks.between = () => server.write((s) => (s.data = { ...s.data, unrelated: 'eA==' }));
    await store.pin('n2', B, { address: '10.0.0.2', port: 22 });
    expect(server.writes.slice(-2)).to.deep.equal(['replace', 'replace']);
    expect(await store.get('n1', at)).to.equal(A);
    expect(await store.get('n2', { address: '10.0.0.2', port: 22 })).to.equal(B);
    expect(server.secret()!.data!.unrelated).to.equal('eA==');
  });

  it('a record edited by hand is neither trusted nor overwritten: the error names the key to fix', async () => {
    const server = apiserver();
    const key = hostKeyEntryKey('tenant', 'n1', at);
    server.write((s) => (s.data = { [key]: Buffer.from('{"fingerprint":"mine"}').toString('base64') }));
    const store = storeOn(server.api);
    for (const attempt of [store.get('n1', at), store.pin('n1', A, at)]) {
      const error = await attempt.catch((e: unknown) => e);
      expect((error as Error).message).to.match(new RegExp(`^key ${key} of Secret gluster-operator/${HOST_KEY_SECRET_NAME} is not a readable pin .*: fix it or remove the key$`));
    }
    // A record moved under another node's key (copied by hand) is refused too.
    server.write((s) => (s.data = { [key]: Buffer.from(JSON.stringify({ node: 'tenant/n2', address: at.address, fingerprint: A, pinnedAt: 'x' })).toString('base64') }));
    expect(((await store.get('n1', at).catch((e: unknown) => e)) as Error).message).to.equal(
      `key ${key} of Secret gluster-operator/${HOST_KEY_SECRET_NAME} names tenant/n2 at 10.0.0.1, not tenant/n1 at 10.0.0.1: remove the key`,
    );
  });
});

describe('transport: what a GlusterNode says about its host key', () => {
  const objects = new Map<string, unknown>();
  const api = {
    getNamespacedCustomObject: async ({ namespace, name, plural }: { namespace: string; name: string; plural: string }) => {
      expect(plural).to.equal('glusternodes');
      const found = objects.get(`${namespace}/${name}`);
      if (!found) throw new ApiException(404, 'not found', '{}', {});
      return found;
    },
  } as unknown as Parameters<typeof glusterNodeHostKeyExpectations>[0];
  const expectations = glusterNodeHostKeyExpectations(api, 'tenant');
  const target = (name: string) => ({ name, manageAddress: '10.0.0.1' });

  it('reads spec.sshHostKey as the expected key, status.sshHostKey only as the legacy pin; a missing node expects nothing', async () => {
    objects.set('tenant/spec', { spec: { sshHostKey: A }, status: { sshHostKey: B } });
    objects.set('tenant/legacy', { spec: {}, status: { sshHostKey: B } });
    objects.set('tenant/cleared', { spec: {}, status: { sshHostKey: '' } });
    objects.set('tenant/bad', { spec: { sshHostKey: 'not a key' } });
    expect(await expectations(target('spec'))).to.deep.equal({ expected: { fingerprint: A }, legacyPinned: B });
    expect(await expectations(target('legacy'))).to.deep.equal({ legacyPinned: B });
    expect(await expectations(target('cleared'))).to.deep.equal({ legacyPinned: undefined });
    expect(await expectations(target('gone'))).to.deep.equal({});
    const error = await expectations(target('bad')).catch((e: unknown) => e);
    expect((error as Error).message).to.match(/^GlusterNode tenant\/bad: spec\.sshHostKey must be an OpenSSH public key line/);
  });
});
