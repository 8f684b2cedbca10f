import * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import { API_GROUP, API_VERSION } from '../api/group.ts';
import type { NodeTarget } from '../gluster/transport.ts';
import { expectedHostKey, type ExpectedHostKey } from './host-key-trust.ts';

/** What is known about a node's host key before the handshake (see decideHostKey). */
export interface HostKeyExpectation {
  expected?: ExpectedHostKey | undefined;
  /** status.sshHostKey of versions before spec.sshHostKey: can refuse, never accept. */
  legacyPinned?: string | undefined;
}

export type HostKeyExpectations = (node: NodeTarget) => Promise<HostKeyExpectation>;

// Only what is read here; the rest of the object is the reconcilers' business.
const hostKeyFieldsSchema = z.object({
  spec: z.object({ sshHostKey: z.string().optional() }).optional(),
  status: z.object({ sshHostKey: z.string().optional() }).optional(),
});

/**
 * Reads a node's GlusterNode (NodeTarget names are GlusterNode names) once per handshake: spec.sshHostKey,
 * and the status pin an earlier version may have left. A node that no longer exists expects nothing.
 */
export function glusterNodeHostKeyExpectations(api: Pick<k8s.CustomObjectsApi, 'getNamespacedCustomObject'>, namespace: string): HostKeyExpectations {
  return async (node) => {
    let raw: unknown;
    try {
      raw = await api.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: 'glusternodes', name: node.name });
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return {};
      throw error;
    }
    const fields = hostKeyFieldsSchema.parse(raw);
    const spec = fields.spec?.sshHostKey;
    const legacy = fields.status?.sshHostKey;
    const legacyPinned = legacy ? legacy : undefined;
    if (spec === undefined) return { legacyPinned };
    const expected = expectedHostKey(spec);
    if ('problem' in expected) throw new Error(`GlusterNode ${namespace}/${node.name}: ${expected.problem}`);
    return { expected, legacyPinned };
  };
}
