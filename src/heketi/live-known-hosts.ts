import { createHmac } from 'node:crypto';
import { sshFingerprint } from '../transport/host-key-store.ts';

/**
 * The host key `heketi import --check --via ssh:HOST` accepts, read from an OpenSSH known_hosts file: the
 * check runs on the user's machine, where that file is what vouches for a server (never trust on first use).
 * Pure. Reads what OpenSSH writes: comma-separated patterns with `*`, `?` and `!`, `[host]:port` for other
 * ports, hashed names (`|1|salt|hash`, HashKnownHosts), `@revoked` lines; `@cert-authority` lines are skipped
 * (certificates are not checked here) and comments and blank lines ignored.
 */

/**
 * Key types in the order SshTransport offers their algorithms (HOST_KEY_ALGORITHMS in src/transport/ssh.ts):
 * a server shows the first of them it has, so that is the key the file must vouch for.
 */
const KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

/** How known_hosts names a host: bare on port 22, `[host]:port` on any other. */
const hostEntryName = (host: string, port: number) => (port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`);

function globMatches(pattern: string, name: string): boolean {
  const regex = pattern
    .toLowerCase()
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${regex}$`).test(name);
}

/** `|1|salt|hash`: HMAC-SHA1 of the name keyed with the salt, both base64. */
function hashedMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

function patternsMatch(field: string, name: string): boolean {
  if (field.startsWith('|1|')) return hashedMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    // A negated pattern that matches excludes the line whatever else matches (as in OpenSSH).
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) matched = true;
  }
  return matched;
}

/** The SHA256 fingerprint to accept for host:port, or what is missing from the file (said as what to do). */
export function knownHostKey(text: string, host: string, port: number): { fingerprint: string } | { problem: string } {
  const name = hostEntryName(host, port);
  const keys: { type: string; fingerprint: string }[] = [];
  const revoked = new Set<string>();
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) continue;
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    const [patterns, type, blob] = fields;
    if (!patterns || !type || !blob || !patternsMatch(patterns, name)) continue;
    const fingerprint = sshFingerprint(Buffer.from(blob, 'base64'));
    if (marker === '@revoked') revoked.add(fingerprint);
    else if (marker === undefined) keys.push({ type, fingerprint });
  }
  const usable = keys.filter((key) => KEY_TYPES.includes(key.type) && !revoked.has(key.fingerprint)).sort((a, b) => KEY_TYPES.indexOf(a.type) - KEY_TYPES.indexOf(b.type));
  if (usable[0]) return { fingerprint: usable[0].fingerprint };
  const scan = `ssh-keyscan${port === 22 ? '' : ` -p ${port}`} ${host}`;
  if (keys.length > 0) {
    return { problem: `lists ${name} only with keys it cannot use (${keys.map((key) => key.type).join(', ')}, or revoked); add its ${KEY_TYPES[0]} key, checked out of band (${scan} | ssh-keygen -lf -)` };
  }
  return { problem: `has no key for ${name}; add it after checking its fingerprint out of band (${scan} | ssh-keygen -lf -, then append the line ${scan} prints)` };
}
