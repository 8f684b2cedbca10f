import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import { PART_OF } from '../deploy/labels.ts';
import { errorMessage } from '../runtime/error-message.ts';
import { HostKeyConflictError, type HostKeyPlace, type HostKeyStore, type PinReason } from './host-key-store.ts';

/**
 * The operator's SSH host key pins: one Secret in its own namespace, which only the operator's namespaced Role
 * (and namespace admins) can write, unlike GlusterNode status. One data key per node and address:
 * `node-<hash of namespace/name@address>`, its value a JSON record naming them, so `kubectl get secret
 * gluster-operator-ssh-host-keys -o json | jq '.data | map_values(@base64d)'` shows every pin, and removing
 * one key makes the operator trust that node's next key on first use (spec.sshHostKey is the safer way).
 * Keyed by address so a GlusterNode pointed at another server starts afresh, and not by port, so moving sshd
 * to another port (spec.access.external.port) keeps the pins: host keys belong to the host.
 *
 * Writes carry the resourceVersion they read (create when absent): two writers cannot both pin different
 * keys; the second gets 409 Conflict, reads again and sees the first one's key.
 */

export const HOST_KEY_SECRET_NAME = 'gluster-operator-ssh-host-keys';

export type HostKeySecretsApi = Pick<k8s.CoreV1Api, 'readNamespacedSecret' | 'createNamespacedSecret' | 'replaceNamespacedSecret'>;

const pinSchema = z.object({
  node: z.string().min(1),
  address: z.string().min(1),
  fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/),
  pinnedAt: z.string(),
  reason: z.enum(['first-use', 'carried-over-from-status']).optional(),
});
type Pin = z.infer<typeof pinSchema>;

/** The Secret data key of a node's pin: a valid key whatever the names and address hold (IPv6 colons). */
export function hostKeyEntryKey(nodeNamespace: string, node: string, at: HostKeyPlace): string {
  return `node-${createHash('sha256').update(`${nodeNamespace}/${node}@${at.address}`).digest('hex').slice(0, 32)}`;
}

const MAX_ATTEMPTS = 5;

export class SecretHostKeyStore implements HostKeyStore {
  readonly #core: HostKeySecretsApi;
  readonly #namespace: string;
  readonly #name: string;
  readonly #nodeNamespace: string;
  readonly #now: () => Date;

  /** `namespace`: the operator's, where the Secret is; `nodeNamespace`: the GlusterNodes' this store serves. */
  constructor(options: { core: HostKeySecretsApi; namespace: string; nodeNamespace: string; name?: string; now?: () => Date }) {
    this.#core = options.core;
    this.#namespace = options.namespace;
    this.#nodeNamespace = options.nodeNamespace;
    this.#name = options.name ?? HOST_KEY_SECRET_NAME;
    this.#now = options.now ?? (() => new Date());
  }

  describe(node: string, at: HostKeyPlace): string {
    return `key ${hostKeyEntryKey(this.#nodeNamespace, node, at)} of Secret ${this.#namespace}/${this.#name}`;
  }

  async get(node: string, at: HostKeyPlace): Promise<string | undefined> {
    return this.#pinIn(await this.#read(), node, at)?.fingerprint;
  }

  async pin(node: string, fingerprint: string, at: HostKeyPlace, reason: PinReason = 'first-use'): Promise<void> {
    const key = hostKeyEntryKey(this.#nodeNamespace, node, at);
    for (let attempt = 1; ; attempt++) {
      const secret = await this.#read();
      const pinned = this.#pinIn(secret, node, at);
      if (pinned?.fingerprint === fingerprint) return;
      if (pinned) throw new HostKeyConflictError(`${this.#nodeNamespace}/${node}`, pinned.fingerprint, fingerprint);
      const record: Pin = { node: `${this.#nodeNamespace}/${node}`, address: at.address, fingerprint, pinnedAt: this.#now().toISOString(), reason };
      const data = { ...secret?.data, [key]: Buffer.from(JSON.stringify(record)).toString('base64') };
      try {
        if (secret) {
          await this.#core.replaceNamespacedSecret({ name: this.#name, namespace: this.#namespace, body: { ...secret, data } });
        } else {
          await this.#core.createNamespacedSecret({ namespace: this.#namespace, body: this.#newSecret(data) });
        }
        return;
      } catch (error) {
        // 409: written (or created) by someone else since the read; 404: deleted since. Read again and decide again.
        const code = error instanceof k8s.ApiException ? error.code : undefined;
        if ((code === 409 || code === 404) && attempt < MAX_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  #newSecret(data: Record<string, string>): k8s.V1Secret {
    return {
      metadata: {
        name: this.#name,
        namespace: this.#namespace,
        labels: { ...PART_OF, 'app.kubernetes.io/component': 'ssh-host-keys' },
        annotations: { 'storage.gluster-operator.dev/purpose': 'SSH host keys the operator pinned on first use; spec.sshHostKey of a GlusterNode overrides' },
      },
      type: 'Opaque',
      data,
    };
  }

  async #read(): Promise<k8s.V1Secret | undefined> {
    try {
      return await this.#core.readNamespacedSecret({ name: this.#name, namespace: this.#namespace });
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  #pinIn(secret: k8s.V1Secret | undefined, node: string, at: HostKeyPlace): Pin | undefined {
    const key = hostKeyEntryKey(this.#nodeNamespace, node, at);
    const encoded = secret?.data?.[key];
    if (encoded === undefined) return undefined;
    let record: unknown;
    try {
      record = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    } catch (error) {
      throw this.#unreadable(node, at, errorMessage(error));
    }
    const parsed = pinSchema.safeParse(record);
    if (!parsed.success) throw this.#unreadable(node, at, parsed.error.issues.map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`).join('; '));
    const pin = parsed.data;
    if (pin.node !== `${this.#nodeNamespace}/${node}` || pin.address !== at.address) {
      throw new Error(`${this.describe(node, at)} names ${pin.node} at ${pin.address}, not ${this.#nodeNamespace}/${node} at ${at.address}: remove the key`);
    }
    return pin;
  }

  /** Someone edited it by hand: neither trusted nor overwritten; a human fixes or removes it. */
  #unreadable(node: string, at: HostKeyPlace, problem: string): Error {
    return new Error(`${this.describe(node, at)} is not a readable pin (${problem}): fix it or remove the key`);
  }
}
