import type { ConnectConfig } from 'ssh2';
import { parseSshHostKeySpec, type SshHostKeyType } from '../api/gluster-node.ts';
import { HostKeyMismatchError } from '../gluster/errors.ts';
import { sshFingerprint } from './host-key-store.ts';

/**
 * Which SSH host key a node may show, decided once per handshake from what is known before it:
 *  1. the key its spec expects (GlusterNode spec.sshHostKey): that key and no other, nothing pinned;
 *  2. else the key pinned for it in the operator's store: that key and no other;
 *  3. else trust on first use: the offered key is pinned. A key an earlier version pinned in the node's
 *     status (which anyone who may patch glusternodes/status can rewrite) is never trusted: it can only
 *     refuse a server that shows another key, so upgrading does not re-open trust on first use for a node
 *     already pinned, and a forged status can block a node but never let another server in.
 */

export type HostKeyTrustSource = 'spec' | 'store' | 'legacyStatus';

export interface HostKeyWorld {
  offered: string;
  /** Fingerprint spec.sshHostKey names. */
  expected?: string | undefined;
  /** Fingerprint the operator's store holds for this node at this address. */
  pinned?: string | undefined;
  /** status.sshHostKey as versions before spec.sshHostKey wrote it. */
  legacyPinned?: string | undefined;
}

export type HostKeyDecision =
  | { kind: 'accept'; by: 'spec' | 'store' }
  | { kind: 'pin'; carriedOver: boolean }
  | { kind: 'refuse'; by: HostKeyTrustSource; expected: string; offered: string };

export function decideHostKey(world: HostKeyWorld): HostKeyDecision {
  const { offered } = world;
  if (world.expected !== undefined) {
    return world.expected === offered ? { kind: 'accept', by: 'spec' } : { kind: 'refuse', by: 'spec', expected: world.expected, offered };
  }
  if (world.pinned !== undefined) {
    return world.pinned === offered ? { kind: 'accept', by: 'store' } : { kind: 'refuse', by: 'store', expected: world.pinned, offered };
  }
  if (world.legacyPinned !== undefined && world.legacyPinned !== offered) return { kind: 'refuse', by: 'legacyStatus', expected: world.legacyPinned, offered };
  return { kind: 'pin', carriedOver: world.legacyPinned !== undefined };
}

/** spec.sshHostKey as the handshake uses it: the fingerprint to compare, and the key type to ask for. */
export interface ExpectedHostKey {
  fingerprint: string;
  keyType?: SshHostKeyType;
}

export function expectedHostKey(specValue: string): ExpectedHostKey | { problem: string } {
  const parsed = parseSshHostKeySpec(specValue);
  if ('problem' in parsed) return parsed;
  if (parsed.kind === 'fingerprint') return { fingerprint: parsed.fingerprint };
  return { fingerprint: sshFingerprint(parsed.blob), keyType: parsed.keyType };
}

type HostKeyAlgorithms = NonNullable<NonNullable<ConnectConfig['algorithms']>['serverHostKey']>;

/**
 * Fixed preference order: ssh2's defaults may change between releases, and a server with several host keys
 * would then show another (pinned-as-wrong) key. ed25519 first, as OpenSSH does.
 */
export const HOST_KEY_ALGORITHMS: HostKeyAlgorithms = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** A server shows the first of our algorithms it has a key for: ask for the expected key's type alone. */
export function hostKeyAlgorithms(keyType: SshHostKeyType | undefined): HostKeyAlgorithms {
  if (keyType === undefined) return HOST_KEY_ALGORITHMS;
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [keyType];
}

/**
 * A refused host key, saying which rule refused it and what to do. Still a HostKeyMismatchError (permanent:
 * a human must look), and for a pinned key its message starts as that error's always did.
 */
export class HostKeyRefusedError extends HostKeyMismatchError {
  readonly by: HostKeyTrustSource;
  readonly expected: string;
  readonly offered: string;

  constructor(init: { node: string; argv: readonly string[]; refusal: Extract<HostKeyDecision, { kind: 'refuse' }>; where: string; storeEntry?: string | undefined }) {
    const { refusal } = init;
    super({ node: init.node, argv: init.argv, expected: refusal.expected, actual: refusal.offered });
    this.name = 'HostKeyRefusedError';
    this.by = refusal.by;
    this.expected = refusal.expected;
    this.offered = refusal.offered;
    this.message = `${init.node}: ${init.argv.join(' ')}: ${refusalMessage(refusal, init.where, init.storeEntry)}`;
  }
}

const CHECK_ON_SERVER = 'the key on the server itself (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub there)';

export function refusalMessage(refusal: Extract<HostKeyDecision, { kind: 'refuse' }>, where: string, storeEntry?: string): string {
  const { expected, offered } = refusal;
  switch (refusal.by) {
    case 'spec':
      return (
        `SSH host key ${offered} offered by ${where} is not the one spec.sshHostKey expects (${expected}); refusing to connect, nothing ` +
        `was pinned. Check ${CHECK_ON_SERVER} and correct spec.sshHostKey, or find out what answers at that address`
      );
    case 'store':
      return (
        `SSH host key changed (pinned ${expected}, offered ${offered}) at ${where}; refusing to connect. If the server was reinstalled on ` +
        `purpose, check ${CHECK_ON_SERVER} and set it as the GlusterNode's spec.sshHostKey` +
        (storeEntry ? `, or remove ${storeEntry} to trust the next key on first use` : '')
      );
    case 'legacyStatus':
      return (
        `SSH host key ${offered} offered by ${where} differs from status.sshHostKey (${expected}), which an earlier version of the ` +
        `operator pinned; refusing to connect. If the server was reinstalled on purpose, check ${CHECK_ON_SERVER} and set it as ` +
        "spec.sshHostKey (or clear status.sshHostKey)"
      );
  }
}
