import { z } from 'zod';
import { hostAddress } from '../api/common.ts';
import { HeketiImportError, readJson } from './problems.ts';

/**
 * heketi's topology.json (what `heketi-cli topology load --json` and gk-deploy read):
 *
 *   {"clusters": [{"nodes": [{"node": {"hostnames": {"manage": ["a"], "storage": ["10.0.0.1"]}, "zone": 1},
 *                            "devices": ["/dev/sdb", {"name": "/dev/sdc", "destroydata": false}]}]}]}
 *
 * Devices come as plain paths (old format) or objects (heketi >= 6); zones are numbers; node and device tags
 * are optional. The schema checks what the operator's API will later require (addresses, device paths), so a
 * bad file is refused here, before any object is printed, with the heketi field that is wrong.
 */

const devicePath = z.string().regex(/^\/dev\/.+/, 'must be a device path under /dev, e.g. /dev/sdb');
const tags = z.record(z.string(), z.string());
/** zod's default "expected array, received undefined" reads badly to someone editing a JSON file. */
const expecting = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? `is missing (expected ${what})` : `must be ${what}`),
});

const zoneMessage = 'must be a number or a label-like value such as 1 or eu-west-1a';

export const heketiDeviceSchema = z.union(
  [
    devicePath,
    z.object({
      name: devicePath,
      destroydata: z.boolean().optional(),
      tags: tags.optional(),
    }),
  ],
  { error: 'must be a device path such as /dev/sdb or an object {"name": "/dev/sdb", "destroydata": false}' },
);
export type HeketiDevice = z.infer<typeof heketiDeviceSchema>;

export const heketiNodeSchema = z.object({
  node: z.object(
    {
      hostnames: z.object(
        {
          manage: z.array(hostAddress, expecting('a list of hostnames')).min(1, 'needs at least one hostname'),
          storage: z.array(hostAddress, expecting('a list of addresses')).min(1, 'needs at least one address'),
        },
        expecting('an object with manage and storage lists'),
      ),
      zone: z
        .union([z.number().int(zoneMessage).min(0, zoneMessage), z.string().regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, zoneMessage)], {
          error: zoneMessage,
        })
        .optional(),
      tags: tags.optional(),
    },
    expecting('an object with hostnames and zone'),
  ),
  devices: z.array(heketiDeviceSchema, expecting('a list of devices')).default([]),
});
export type HeketiNode = z.infer<typeof heketiNodeSchema>;

export const heketiTopologySchema = z.object({
  clusters: z
    .array(z.object({ nodes: z.array(heketiNodeSchema, expecting('a list of nodes')) }), expecting('a list of clusters'))
    .min(1, 'needs at least one cluster'),
});
export type HeketiTopology = z.infer<typeof heketiTopologySchema>;

export function devicePathOf(device: HeketiDevice): string {
  return typeof device === 'string' ? device : device.name;
}

/** A problem in the file, located for a human: which node (index and hostname) and which field. */
export class HeketiTopologyError extends HeketiImportError {
  override name = 'HeketiTopologyError';
}

/** `clusters[0].nodes[2].node.hostnames.manage[0]` → field text; the node prefix is added separately. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out;
}

function manageHostOf(raw: unknown, cluster: number, node: number): string | undefined {
  const entry = (raw as { clusters?: { nodes?: { node?: { hostnames?: { manage?: unknown[] } } }[] }[] })?.clusters?.[cluster]?.nodes?.[node];
  const host = entry?.node?.hostnames?.manage?.[0];
  return typeof host === 'string' ? host : undefined;
}

/** "cluster 1, node 3 (kube-node3)" — 1-based, as people count entries in a file. */
export function nodeLabel(cluster: number, node: number, host: string | undefined): string {
  return `cluster ${cluster + 1}, node ${node + 1} (${host ?? 'no manage hostname'})`;
}

/**
 * Parses and checks a topology file's text. Throws HeketiTopologyError listing every problem, each naming the
 * node and the field, e.g. `cluster 1, node 2 (kube_node2): node.hostnames.manage[0]: must be a DNS name or an IP address`.
 */
export function parseHeketiTopology(text: string): HeketiTopology {
  const raw = readJson(text, (problems) => new HeketiTopologyError(problems));
  const result = heketiTopologySchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const [c, i, n, ...rest] = issue.path;
      if (c === 'clusters' && typeof i === 'number' && i >= 0 && n === 'nodes' && typeof rest[0] === 'number') {
        const node = rest[0];
        const field = fieldPath(rest.slice(1));
        return `${nodeLabel(i, node, manageHostOf(raw, i, node))}: ${field || 'entry'}: ${issue.message}`;
      }
      return `${fieldPath(issue.path) || 'file'}: ${issue.message}`;
    });
    throw new HeketiTopologyError(problems);
  }
  const topology = result.data;
  const problems: string[] = [];
  const seenHosts = new Map<string, string>();
  topology.clusters.forEach((cluster, c) =>
    cluster.nodes.forEach((entry, n) => {
      const host = entry.node.hostnames.manage[0];
      const label = nodeLabel(c, n, host);
      const seenDevices = new Set<string>();
      entry.devices.forEach((device, d) => {
        const path = devicePathOf(device);
        if (seenDevices.has(path)) problems.push(`${label}: devices[${d}]: device ${path} is listed twice`);
        seenDevices.add(path);
      });
      if (host !== undefined) {
        const key = host.toLowerCase();
        const earlier = seenHosts.get(key);
        if (earlier) problems.push(`${label}: node.hostnames.manage[0]: ${host} is also the manage hostname of ${earlier}`);
        else seenHosts.set(key, label);
      }
    }),
  );
  if (problems.length > 0) throw new HeketiTopologyError(problems);
  return topology;
}
