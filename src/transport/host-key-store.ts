import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import { API_GROUP, API_VERSION } from '../api/group.ts';

/**
 * Where SSH host keys are pinned (trust on first use, when the node's spec names no key: see
 * host-key-trust.ts). The first key a node offers is pinned; later connections must offer the same key. The
 * operator pins into a Secret of its own namespace (host-key-secret-store.ts), which only it writes.
 * `node` is the NodeTarget name; `at` where it was reached, so a node moved to another server starts afresh
 * in stores that key by it.
 */
export interface HostKeyPlace {
  address: string;
  port: number;
}

/** Why a key was pinned: first contact, or first contact matching what an earlier version pinned in status. */
export type PinReason = 'first-use' | 'carried-over-from-status';

export interface HostKeyStore {
  get(node: string, at: HostKeyPlace): Promise<string | undefined>;
  /** Pins a fingerprint. Rejects with HostKeyConflictError if the node is already pinned to another one (a racing writer). */
  pin(node: string, fingerprint: string, at: HostKeyPlace, reason?: PinReason): Promise<void>;
  /** Where a human finds (and may remove) this node's pin, for refusal messages. */
  describe?(node: string, at: HostKeyPlace): string;
}

/** OpenSSH's fingerprint format: "SHA256:" + unpadded base64 of the SHA-256 of the key blob. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

export class HostKeyConflictError extends Error {
  constructor(node: string, pinned: string, offered: string) {
    super(`${node}: host key already pinned to ${pinned}, not ${offered}`);
    this.name = 'HostKeyConflictError';
  }
}

export class MemoryHostKeyStore implements HostKeyStore {
  readonly #keys: Map<string, string>;

  constructor(initial: Record<string, string> = {}) {
    this.#keys = new Map(Object.entries(initial));
  }

  /** Keyed by node name alone: for tests, benchmarks and one-shot tools. */
  async get(node: string, _at?: HostKeyPlace): Promise<string | undefined> {
    return this.#keys.get(node);
  }

  async pin(node: string, fingerprint: string, _at?: HostKeyPlace): Promise<void> {
    const pinned = this.#keys.get(node);
    if (pinned !== undefined && pinned !== fingerprint) throw new HostKeyConflictError(node, pinned, fingerprint);
    this.#keys.set(node, fingerprint);
  }

  /** For tests and for a human-approved re-pin. */
  forget(node: string): void {
    this.#keys.delete(node);
  }
}

const GLUSTERNODES = { group: API_GROUP, version: API_VERSION, plural: 'glusternodes' } as const;

// Only what this store reads; the rest of the object is someone else's business and is not validated here.
const pinnedSchema = z.object({
  metadata: z.object({ resourceVersion: z.string().optional() }),
  status: z.object({ sshHostKey: z.string().optional() }).optional(),
});

/**
 * @deprecated What versions before spec.sshHostKey pinned into: anyone who may patch glusternodes/status can
 * rewrite it, so the operator no longer reads it as trust nor writes it (see host-key-trust.ts for what an old
 * value still does). Kept only for test/e2e/transport-ssh.test.ts, which should move to SecretHostKeyStore;
 * delete it then.
 *
 * Pins in the GlusterNode's `/status` subresource. `node` is the GlusterNode name (NodeTarget.name). A pin
 * is a merge patch carrying the resourceVersion it read, so two writers cannot both pin different keys: the
 * second gets 409 Conflict, re-reads and sees the first one's key.
 */
export class GlusterNodeStatusHostKeyStore implements HostKeyStore {
  readonly #api: k8s.CustomObjectsApi;
  readonly #namespace: string;

  constructor(options: { api: k8s.CustomObjectsApi; namespace: string }) {
    this.#api = options.api;
    this.#namespace = options.namespace;
  }

  static fromKubeConfig(config: k8s.KubeConfig, namespace: string): GlusterNodeStatusHostKeyStore {
    return new GlusterNodeStatusHostKeyStore({ api: config.makeApiClient(k8s.CustomObjectsApi), namespace });
  }

  async #read(node: string): Promise<z.infer<typeof pinnedSchema>> {
    const object: unknown = await this.#api.getNamespacedCustomObjectStatus({ ...GLUSTERNODES, namespace: this.#namespace, name: node });
    return pinnedSchema.parse(object);
  }

  async get(node: string): Promise<string | undefined> {
    const key = (await this.#read(node)).status?.sshHostKey;
    return key === '' ? undefined : key;
  }

  async pin(node: string, fingerprint: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.#read(node);
      const pinned = current.status?.sshHostKey;
      if (pinned === fingerprint) return;
      if (pinned) throw new HostKeyConflictError(node, pinned, fingerprint);
      try {
        await this.#api.patchNamespacedCustomObjectStatus(
          {
            ...GLUSTERNODES,
            namespace: this.#namespace,
            name: node,
            body: { metadata: { resourceVersion: current.metadata.resourceVersion }, status: { sshHostKey: fingerprint } },
          },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        return;
      } catch (error) {
        // 409: the object changed since the read (status written by the reconciler, or a racing pin): re-read.
        if (error instanceof k8s.ApiException && error.code === 409 && attempt < 5) continue;
        throw error;
      }
    }
  }
}
