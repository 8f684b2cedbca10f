import { ParseError } from '../errors.ts';

/**
 * `gluster volume status <name> client-list` (text: its --xml form carries no counts, measured on glusterd
 * 10.3). One line per kind of client with its count, then the total:
 *
 *     Client connections for volume v
 *     Name                                                       count
 *     -----                                                     ------
 *     fuse                                                           1
 *
 *     total clients for volume v : 1
 *
 * With no client the Name table is absent and the total is 0.
 */
export interface ClientList {
  /** Connections by kind as glusterd names them: fuse, gfapi, glustershd, rebalance, quotad, snapd, ... */
  byKind: Map<string, number>;
  total: number;
}

/** Gluster's own daemons: they connect to every started volume and say nothing about users of its data. */
const GLUSTER_DAEMONS = new Set(['glustershd', 'rebalance', 'quotad', 'snapd', 'tierd', 'bitd', 'scrub', 'gsyncd']);

export function parseClientList(text: string): ClientList {
  const total = /^total clients for volume \S+ : (\d+)/m.exec(text)?.[1];
  if (total === undefined) throw new ParseError('volume status client-list', text, new Error('no "total clients" line'));
  const byKind = new Map<string, number>();
  const table = text.split(/^-----\s+-+\s*$/m)[1] ?? '';
  for (const line of table.split('\n')) {
    const row = /^(\S+)\s+(\d+)\s*$/.exec(line);
    if (row) byKind.set(row[1]!, Number(row[2]));
  }
  return { byKind, total: Number(total) };
}

/** Clients that are not Gluster's own daemons: mounts (FUSE) and applications (gfapi: Samba, NFS-Ganesha, qemu). */
export function userClients(list: ClientList): number {
  let users = 0;
  for (const [kind, count] of list.byKind) if (!GLUSTER_DAEMONS.has(kind)) users += count;
  return users;
}
