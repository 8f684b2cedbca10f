import type { GlusterClusterSpec } from '../../api/gluster-cluster.ts';

/**
 * Who may mount a volume: the value of its `auth.allow`, from the GlusterCluster's spec.clientAccess and the
 * Kubernetes nodes' addresses. Pure; the volume reconciler sets it with the volume's other options
 * (volume-decisions.ts optionSteps) and the operator wakes every volume when the nodes' addresses change.
 *
 * Gluster checks auth.allow when a client connects to a brick and again whenever the option changes: a
 * client outside the list is refused (its mount helper still exits 0, but the mount is gone: "Server
 * authentication failed"), and one connected before is disconnected (both seen on the test bed, glusterd
 * 10.3). So the list is never computed from a node cache that has not synced yet: that could cut off every
 * Kubernetes node at once. The pool's own servers are always listed: self-heal, heal info, rebalance and
 * glusterd's brick queries connect from them, and while a plain volume admits those by glusterd's own
 * credentials, a TLS volume admits them only by address (seen on the test bed: with client.ssl on and the
 * servers left out, the bricks refused every self-heal daemon, "no authentication module is interested").
 */

export const AUTH_ALLOW = 'auth.allow';
/** Gluster's default: every address. A volume that never had the option set shows none, which means this. */
export const ANY_CLIENT = '*';

export type ClientAccessSpec = NonNullable<GlusterClusterSpec['clientAccess']>;

/** What the spec says when clientAccess is absent, field by field (the schema's defaults). */
export const DEFAULT_CLIENT_ACCESS: ClientAccessSpec = { mode: 'Restricted', kubernetesNodes: true, addresses: [], adoptedVolumes: 'Unchanged' };

export type WantedClientAccess =
  /** auth.allow is left as it is: an adopted volume keeps the clients it had. */
  | { kind: 'unmanaged' }
  /** Not decidable yet (the Kubernetes nodes are not known): nothing is changed, nothing is created. */
  | { kind: 'unknown'; why: string }
  /** Restricted and nobody may mount: refused, naming what to set, rather than guessing a list. */
  | { kind: 'refused'; why: string }
  | { kind: 'set'; value: string };

export interface ClientAccessInputs {
  clientAccess: GlusterClusterSpec['clientAccess'];
  /** The volume was taken over with spec.adoptExisting. */
  adopted: boolean;
  /** InternalIP addresses of the Kubernetes nodes; undefined until the operator's node cache has synced. */
  kubernetesNodeAddresses: readonly string[] | undefined;
  /** storageAddress of the cluster's GlusterNodes: the servers, always allowed. */
  serverAddresses: readonly string[];
}

export function wantedClientAccess({ clientAccess, adopted, kubernetesNodeAddresses, serverAddresses }: ClientAccessInputs): WantedClientAccess {
  const access = { ...DEFAULT_CLIENT_ACCESS, ...clientAccess };
  if (adopted && access.adoptedVolumes === 'Unchanged') return { kind: 'unmanaged' };
  if (access.mode === 'Open') return { kind: 'set', value: ANY_CLIENT };
  if (access.kubernetesNodes && kubernetesNodeAddresses === undefined) return { kind: 'unknown', why: 'the Kubernetes nodes are not known yet (the node cache has not synced)' };
  const clients = [...(access.kubernetesNodes ? kubernetesNodeAddresses! : []), ...access.addresses];
  if (clients.length === 0) {
    return {
      kind: 'refused',
      why:
        "spec.clientAccess of the GlusterCluster: no client may mount (no Kubernetes node has an InternalIP address" +
        `${access.kubernetesNodes ? '' : ', and kubernetesNodes is false'}, and addresses is empty); list the clients in spec.clientAccess.addresses, or set mode Open`,
    };
  }
  return { kind: 'set', value: [...new Set([...clients, ...serverAddresses])].sort().join(',') };
}

/** The live value, as Gluster applies it: an unset option is its default, every address. */
export function liveAuthAllow(options: Readonly<Record<string, string>>): string {
  return options[AUTH_ALLOW] ?? ANY_CLIENT;
}

/** InternalIP addresses of Kubernetes Node objects, as the CSI plugin (hostNetwork) mounts from them. */
export function internalAddressesOf(nodes: ReadonlyArray<{ status?: { addresses?: ReadonlyArray<{ type: string; address: string }> } }>): string[] {
  return [...new Set(nodes.flatMap((node) => (node.status?.addresses ?? []).filter((entry) => entry.type === 'InternalIP').map((entry) => entry.address)))].sort();
}
