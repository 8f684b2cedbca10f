import { z } from 'zod';
import { intString, parseCliXml, xmlList, xmlText } from './xml.ts';

/**
 * `gluster --xml peer status` (the other peers) and `gluster --xml pool list` (all peers, this node as
 * "localhost" without state). One parser: the documents share the <peerStatus> shape.
 */
export interface GlusterPeer {
  uuid: string;
  /** The address the peer was probed with ("localhost" for the node answering a pool list). */
  hostname: string;
  /** All addresses glusterd knows for the peer (absent for localhost in a pool list). */
  hostnames: string[];
  connected: boolean;
  /** "Peer in Cluster" once the probe handshake finished; null for localhost in a pool list. */
  state: string | null;
  isLocal: boolean;
}

const peerSchema = z.object({
  uuid: z.uuid(),
  hostname: xmlText,
  hostnames: xmlList('hostname', xmlText).optional(),
  connected: z.enum(['0', '1']),
  state: intString.optional(),
  stateStr: xmlText.optional(),
});

const peerStatusSchema = z.object({
  opRet: z.literal('0'),
  // A node with no peers answers <peerStatus/> (""), which is an empty list.
  peerStatus: z.preprocess((value) => (value === '' ? { peer: [] } : value), z.object({ peer: z.array(peerSchema).default([]) })),
});

export function parsePeerStatusXml(xml: string): GlusterPeer[] {
  const parsed = parseCliXml('gluster peer status --xml', xml, peerStatusSchema);
  return parsed.peerStatus.peer.map((peer) => ({
    uuid: peer.uuid,
    hostname: peer.hostname,
    hostnames: peer.hostnames ?? [],
    connected: peer.connected === '1',
    state: peer.stateStr ?? null,
    isLocal: peer.hostname === 'localhost' && peer.stateStr === undefined,
  }));
}

/** pool list and peer status share the document shape. */
export const parsePoolListXml = parsePeerStatusXml;
