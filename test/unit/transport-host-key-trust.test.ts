import { expect } from 'chai';
import ssh2 from 'ssh2';
import { glusterNodeSchema, parseSshHostKeySpec } from '../../src/api/index.ts';
import { customResourceDefinition, KINDS } from '../../src/crd/definitions.ts';
import { HostKeyMismatchError } from '../../src/gluster/errors.ts';
import { hostKeyRefusedReport } from '../../src/operator/reconcilers/node-decisions.ts';
import { sshFingerprint } from '../../src/transport/host-key-store.ts';
import { HOST_KEY_ALGORITHMS, HostKeyRefusedError, decideHostKey, expectedHostKey, hostKeyAlgorithms } from '../../src/transport/host-key-trust.ts';

const [A, B, C] = ['A', 'B', 'C'].map((c) => `SHA256:${c.repeat(43)}`) as [string, string, string];

/** A public key line as ssh-keyscan (minus the host) or a .pub file gives it, and its fingerprint. */
function keyLine(type: 'ed25519' | 'ecdsa' | 'rsa'): { line: string; fingerprint: string } {
  const pair = type === 'ed25519' ? ssh2.utils.generateKeyPairSync('ed25519') : type === 'ecdsa' ? ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }) : ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
  const blob = (ssh2.utils.parseKey(pair.public) as ssh2.ParsedKey).getPublicSSH();
  return { line: pair.public.trim(), fingerprint: sshFingerprint(blob) };
}

describe('transport: which host key a node may show (decideHostKey, pure)', () => {
  it('a key in the spec is the only one accepted, whatever the store or an old status says; nothing is pinned', () => {
    expect(decideHostKey({ offered: A, expected: A })).to.deep.equal({ kind: 'accept', by: 'spec' });
    expect(decideHostKey({ offered: A, expected: A, pinned: B, legacyPinned: C })).to.deep.equal({ kind: 'accept', by: 'spec' });
    expect(decideHostKey({ offered: B, expected: A })).to.deep.equal({ kind: 'refuse', by: 'spec', expected: A, offered: B });
    // Even when the store (or status) holds exactly the offered key: the spec says otherwise.
    expect(decideHostKey({ offered: B, expected: A, pinned: B, legacyPinned: B })).to.deep.equal({ kind: 'refuse', by: 'spec', expected: A, offered: B });
  });

  it('without a spec key: the pinned key only; an empty store pins the offered key (trust on first use)', () => {
    expect(decideHostKey({ offered: A, pinned: A })).to.deep.equal({ kind: 'accept', by: 'store' });
    expect(decideHostKey({ offered: B, pinned: A })).to.deep.equal({ kind: 'refuse', by: 'store', expected: A, offered: B });
    expect(decideHostKey({ offered: A })).to.deep.equal({ kind: 'pin', carriedOver: false });
  });

  it('a key pinned in status by an earlier version is never trust: it can refuse, or mark a pin as carried over, never accept', () => {
    // The store's pin decides; a status that agrees with the offered key changes nothing.
    expect(decideHostKey({ offered: B, pinned: A, legacyPinned: B })).to.deep.equal({ kind: 'refuse', by: 'store', expected: A, offered: B });
    expect(decideHostKey({ offered: A, pinned: A, legacyPinned: C })).to.deep.equal({ kind: 'accept', by: 'store' });
    // Not pinned yet (first connection after the upgrade): the old pin must agree, and the key is then pinned in the store.
    expect(decideHostKey({ offered: A, legacyPinned: A })).to.deep.equal({ kind: 'pin', carriedOver: true });
    expect(decideHostKey({ offered: B, legacyPinned: A })).to.deep.equal({ kind: 'refuse', by: 'legacyStatus', expected: A, offered: B });
  });

  it('refusals are permanent HostKeyMismatchErrors naming both fingerprints and what to do', () => {
    const spec = new HostKeyRefusedError({ node: 'n1', argv: ['true'], refusal: { kind: 'refuse', by: 'spec', expected: A, offered: B }, where: 'root@10.0.0.1:22' });
    expect(spec).to.be.instanceOf(HostKeyMismatchError);
    expect(spec.retryable).to.equal(false);
    expect(spec.message).to.equal(
      `n1: true: SSH host key ${B} offered by root@10.0.0.1:22 is not the one spec.sshHostKey expects (${A}); refusing to connect, nothing was pinned. ` +
        'Check the key on the server itself (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub there) and correct spec.sshHostKey, or find out what answers at that address',
    );
    const store = new HostKeyRefusedError({ node: 'n1', argv: ['true'], refusal: { kind: 'refuse', by: 'store', expected: A, offered: B }, where: 'root@h:22', storeEntry: 'key node-1 of Secret op/keys' });
    // Starts as HostKeyMismatchError always did: what kubectl gluster heketi import --check reads the offered key from.
    expect(store.message).to.match(new RegExp(`^n1: true: SSH host key changed \\(pinned ${A}, offered ${B}\\) at root@h:22; refusing to connect\\. `));
    expect(store.message).to.contain('set it as the GlusterNode\'s spec.sshHostKey, or remove key node-1 of Secret op/keys to trust the next key on first use');
    const legacy = new HostKeyRefusedError({ node: 'n1', argv: ['true'], refusal: { kind: 'refuse', by: 'legacyStatus', expected: A, offered: B }, where: 'root@h:22' });
    expect(legacy.message).to.contain(`differs from status.sshHostKey (${A}), which an earlier version of the operator pinned`).and.contain('clear status.sshHostKey');
  });

  it('the node reports a refusal as Ready False, reason HostKeyRefused, with a Warning, and looks again', () => {
    expect(hostKeyRefusedReport('the message')).to.deep.equal({ phase: { state: 'failed', reason: 'HostKeyRefused', message: 'the message' }, fields: {}, warn: true, requeueAfterMs: 30_000 });
  });
});

describe('transport: spec.sshHostKey (zod, CRD, and what the handshake makes of it)', () => {
  const node = (sshHostKey?: unknown) =>
    glusterNodeSchema.safeParse({
      apiVersion: 'storage.gluster-operator.dev/v1alpha1',
      kind: 'GlusterNode',
      metadata: { name: 'n1', namespace: 'ns' },
      spec: { cluster: 'main', manageAddress: 'h1', storageAddress: 'h1', ...(sshHostKey === undefined ? {} : { sshHostKey }) },
    });
  const ed = keyLine('ed25519');
  const ecdsa = keyLine('ecdsa');
  const rsa = keyLine('rsa');
  const accepted = [A, ed.line, `${ed.line} root@gluster-1`, ecdsa.line, rsa.line];
  const [edType, edBlob] = ed.line.split(' ') as [string, string];
  const refused = [
    '',
    'SHA256:short',
    `sha256:${'A'.repeat(43)}`,
    `MD5:${'ab:'.repeat(15)}ab`,
    `gluster-1 ${ed.line}`, // ssh-keyscan's line with the host name left in
    `ssh-dss ${edBlob}`,
    `${edType}  ${edBlob}`,
    `${ed.line}\n`,
    `ssh-rsa ${edBlob}`, // the line says rsa, the key is ed25519
    `${edType} ${edBlob.slice(0, 30)}`, // cut short
    // Cut short on a clean base64 boundary (1 cut in 16 is): the type string whole, the key not.
    `${edType} ${Buffer.from(edBlob, 'base64').subarray(0, 22).toString('base64')}`,
    `${edType} ${Buffer.from(edBlob, 'base64').subarray(0, 15).toString('base64')}`, // only the type
  ];

  it('zod takes OpenSSH public key lines (ed25519, ecdsa, rsa, with or without comment) and SHA256 fingerprints; nothing else', () => {
    expect(node().success, 'optional').to.equal(true);
    for (const value of accepted) expect(node(value).success, value).to.equal(true);
    for (const value of refused) expect(node(value).success, JSON.stringify(value)).to.equal(false);
    expect(node(`ssh-rsa ${edBlob}`).error!.issues[0]!.message).to.equal('spec.sshHostKey says ssh-rsa but its key is of type ssh-ed25519: copy the line whole');
    expect(node('SHA256:short').error!.issues[0]!.message).to.match(/^spec\.sshHostKey must be an OpenSSH public key line .* ssh-keyscan -t ed25519 HOST .* ssh-keygen -lf \/etc\/ssh\/ssh_host_ed25519_key\.pub/);
  });

  it('the CRD checks the format with CEL, the same pattern as zod, and says how to get the key', () => {
    const spec = (customResourceDefinition(KINDS.find((k) => k.kind === 'GlusterNode')!) as any).spec.versions[0].schema.openAPIV3Schema.properties.spec;
    const field = spec.properties.sshHostKey;
    expect(field.maxLength).to.equal(4096);
    expect(field.description).to.contain('ssh-keyscan -t ed25519 HOST').and.contain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub').and.contain('nothing is trusted on first use');
    const [rule] = field['x-kubernetes-validations'] as Array<{ rule: string; message: string }>;
    const pattern = /^self\.matches\('(.*)'\)$/.exec(rule!.rule)![1]!;
    expect(pattern, 'no escapes, so CEL and JavaScript read it alike').to.not.contain('\\');
    const cel = new RegExp(pattern);
    for (const value of accepted) expect(cel.test(value), value).to.equal(true);
    // The CRD refuses the format errors; what only decoding finds (a type mismatch, a cut blob) is zod's.
    for (const value of refused.slice(0, 8)) expect(cel.test(value), JSON.stringify(value)).to.equal(false);
    expect(rule!.message).to.match(/^spec\.sshHostKey must be an OpenSSH public key line/);
  });

  it('a key line becomes its OpenSSH fingerprint and the one key type the server is asked for', () => {
    expect(expectedHostKey(ed.line)).to.deep.equal({ fingerprint: ed.fingerprint, keyType: 'ssh-ed25519' });
    expect(expectedHostKey(`${ecdsa.line} comment`)).to.deep.equal({ fingerprint: ecdsa.fingerprint, keyType: 'ecdsa-sha2-nistp256' });
    expect(expectedHostKey(A)).to.deep.equal({ fingerprint: A });
    expect(expectedHostKey('nonsense')).to.have.property('problem');
    expect(parseSshHostKeySpec(rsa.line)).to.include({ kind: 'publicKey', keyType: 'ssh-rsa' });
    expect(hostKeyAlgorithms(undefined)).to.equal(HOST_KEY_ALGORITHMS);
    expect(hostKeyAlgorithms('ssh-ed25519')).to.deep.equal(['ssh-ed25519']);
    expect(hostKeyAlgorithms('ssh-rsa')).to.deep.equal(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  });
});
