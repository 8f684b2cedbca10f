import type { GlusterPeer } from '../gluster/parsers/peer-status.ts';
import type { GlusterBrickInfo, GlusterVolumeInfo } from '../gluster/parsers/volume-info.ts';
import { describeLayout, modelDurability } from '../operator/reconcilers/volume-layout.ts';
import { setSize } from '../topology/model.ts';
import { durabilityFromGluster } from '../topology/rebuild/rebuild.ts';
import { brickLabel, nodeLabel, volumeLabel } from './db-check.ts';
import { durabilityOf, volumeOptionsOf } from './db-convert.ts';
import { BRICK_SUBTYPE_ARBITER, type HeketiBrickEntry, type HeketiDb, type HeketiNodeEntry, type HeketiVolumeEntry } from './db-schema.ts';

/**
 * `heketi import --check`: heketi's database against what Gluster itself reports (volume info and pool list),
 * before any object is applied. Pure. Every difference names heketi's entry (volume, brick, node); what is
 * true but harmless (a volume heketi never knew, a stopped volume) is a note. The adoption the import leads to
 * trusts the live volume, so a database that no longer describes it must be seen here, not after the apply.
 */

export interface LiveCluster {
  volumes: readonly GlusterVolumeInfo[];
  peers: readonly GlusterPeer[];
  /** Addresses of the node the commands ran on: `pool list` names that node only "localhost". */
  localAddresses: readonly string[];
}

export interface LiveDifference {
  entry: string;
  message: string;
}

export interface LiveCheck {
  differences: LiveDifference[];
  notes: string[];
  /** What was compared: heketi's volumes and their bricks, and the peers of the pool. */
  summary: { volumes: number; bricks: number; peers: number };
}

interface PoolPeer {
  peer: GlusterPeer;
  label: string;
  addresses: Set<string>;
}

interface Findings {
  differences: LiveDifference[];
  notes: string[];
}

/** Host names compare case-insensitively (DNS); paths exactly. */
const hostKey = (host: string) => host.toLowerCase();
const brickKey = (host: string, path: string) => `${hostKey(host)}:${path}`;
const nameOf = (id: string, volume: HeketiVolumeEntry) => volume.Info.name || `vol_${id}`;

function poolPeers(live: LiveCluster): PoolPeer[] {
  return live.peers.map((peer) => {
    const named = peer.isLocal ? live.localAddresses : [peer.hostname, ...peer.hostnames];
    // A brick carries the address it was created with and the UUID of its peer: that address is the peer's,
    // and it is the only way to know the addresses of the node a pool list ran on.
    const brickHosts = live.volumes.flatMap((volume) => volume.bricks.filter((brick) => brick.hostUuid === peer.uuid).map((brick) => brick.host));
    return { peer, label: `peer ${peer.hostname} (${peer.uuid})`, addresses: new Set([...named, ...brickHosts].map(hostKey)) };
  });
}

/** heketi probes peers by storage hostname; a pool set up by hand may know a node by its manage hostname. */
function peerOf(node: HeketiNodeEntry, peers: readonly PoolPeer[]): PoolPeer | undefined {
  for (const names of [node.Info.hostnames.storage, node.Info.hostnames.manage]) {
    const peer = peers.find((candidate) => names.some((name) => candidate.addresses.has(hostKey(name))));
    if (peer) return peer;
  }
  return undefined;
}

/** The clusters this pool is: those with a node among its peers (all of them when none has, so nothing hides). */
function comparedClusters(db: HeketiDb, peers: readonly PoolPeer[], notes: string[]): Set<string> {
  const ids = Object.keys(db.clusterentries).sort();
  const inPool = ids.filter((id) => Object.values(db.nodeentries).some((node) => node.Info.cluster === id && peerOf(node, peers)));
  const compared = new Set(inPool.length > 0 ? inPool : ids);
  for (const id of ids) {
    if (!compared.has(id)) notes.push(`cluster ${id}: not compared, none of its nodes is a peer of this pool; check it --via one of its nodes`);
  }
  return compared;
}

function comparePeers(nodes: [string, HeketiNodeEntry][], peers: readonly PoolPeer[], found: Findings): Map<string, PoolPeer> {
  const peerOfNode = new Map<string, PoolPeer>();
  const nodeOfPeer = new Map<PoolPeer, string>();
  const known = [...new Set(peers.flatMap((peer) => [...peer.addresses]))].join(', ') || 'no addresses';
  for (const [id, node] of nodes) {
    const peer = peerOf(node, peers);
    if (!peer) {
      const { storage, manage } = node.Info.hostnames;
      found.differences.push({
        entry: nodeLabel(id, node),
        message: `not in the Gluster pool: neither storage hostname ${storage.join(', ')} nor manage hostname ${manage.join(', ')} is a peer (the pool knows ${known}); probe it or remove the node in heketi, then export again`,
      });
      continue;
    }
    peerOfNode.set(id, peer);
    nodeOfPeer.set(peer, nodeLabel(id, node));
  }
  for (const peer of peers) {
    const entry = nodeOfPeer.get(peer) ?? peer.label;
    const which = `Gluster ${peer.label}`;
    if (!peer.peer.connected) {
      found.differences.push({ entry, message: `${which} is Disconnected: start glusterd on it or mend the network, and check again` });
    } else if (!peer.peer.isLocal && peer.peer.state !== 'Peer in Cluster') {
      found.differences.push({ entry, message: `${which} is in state "${peer.peer.state}", not "Peer in Cluster"` });
    }
    if (!nodeOfPeer.has(peer)) found.notes.push(`${which} is not in heketi's database: no GlusterNode is imported for it`);
    if (peer.peer.isLocal && peer.addresses.size === 0) {
      found.notes.push(`the node the check ran on (${peer.label}) has no address pool list or its bricks show, so no heketi node can be matched to it`);
    }
  }
  return peerOfNode;
}

interface HeketiBrick {
  id: string;
  entry: HeketiBrickEntry;
  node: HeketiNodeEntry;
  /** host:/path as heketi created it: the node's first storage hostname (heketi's StorageHostName). */
  name: string;
  host: string;
}

function heketiBricks(db: HeketiDb, volume: HeketiVolumeEntry): HeketiBrick[] {
  return volume.Bricks.flatMap((id) => {
    const entry = db.brickentries[id];
    const node = entry && db.nodeentries[entry.Info.node];
    // A brick or node that is not there is a problem of the database itself: checkHeketiDb names it.
    if (!entry || !node) return [];
    const host = node.Info.hostnames.storage[0]!;
    return [{ id, entry, node, host, name: `${host}:${entry.Info.path}` }];
  });
}

/** Type, replica/arbiter/disperse counts and the number of sets, as `replicate 3 arbiter, 2 sets`. */
function compareLayout(label: string, volume: HeketiVolumeEntry, bricks: HeketiBrick[], options: Record<string, string>, gluster: GlusterVolumeInfo, found: Findings): void {
  const problems: string[] = [];
  const durability = durabilityOf(volume, bricks.map((brick) => brick.entry), options, label, { problems, warnings: [] });
  if (!durability) {
    found.notes.push(`${label}: layout not compared, heketi's durability is not one the import takes (${problems.map((p) => p.replace(`${label}: `, '')).join('; ')})`);
    return;
  }
  const recorded = modelDurability(durability);
  const live = durabilityFromGluster(gluster);
  const heketiLayout = describeLayout(recorded, volume.Bricks.length / setSize(recorded));
  const glusterLayout = describeLayout(live, gluster.bricks.length / setSize(live));
  if (heketiLayout !== glusterLayout) found.differences.push({ entry: label, message: `layout differs: heketi records ${heketiLayout}, Gluster has ${glusterLayout} (${gluster.type})` });
}

/**
 * The bricks as multisets of host:path (heketi's entries carry no order, so no position is compared), and
 * each common brick's role: heketi's SubType says which bricks are arbiters, Gluster's isArbiter too.
 */
function compareBricks(label: string, bricks: HeketiBrick[], gluster: GlusterVolumeInfo, found: Findings): void {
  const live = new Map<string, GlusterBrickInfo[]>();
  for (const brick of gluster.bricks) {
    const key = brickKey(brick.host, brick.path);
    live.set(key, [...(live.get(key) ?? []), brick]);
  }
  for (const brick of bricks) {
    const match = live.get(brickKey(brick.host, brick.entry.Info.path))?.shift();
    const entry = brickLabel(brick.id);
    if (!match) {
      found.differences.push({ entry, message: `${brick.name} on ${nodeLabel(brick.entry.Info.node, brick.node)} is not a brick of Gluster volume ${gluster.name}` });
      continue;
    }
    if (brick.entry.SubType === 0) continue; // recorded before heketi kept brick roles
    const arbiter = brick.entry.SubType === BRICK_SUBTYPE_ARBITER;
    if (arbiter !== match.isArbiter) {
      found.differences.push({
        entry,
        message: `${brick.name} is ${arbiter ? 'an arbiter' : 'a data'} brick in heketi (SubType ${brick.entry.SubType}) but ${match.isArbiter ? 'an arbiter' : 'a data'} brick in Gluster volume ${gluster.name}`,
      });
    }
  }
  for (const extra of [...live.values()].flat()) {
    found.differences.push({ entry: label, message: `Gluster volume ${gluster.name} has brick ${extra.name}, which heketi does not record` });
  }
}

/** Only the keys heketi recorded: Gluster lists every option set on the volume, most of them not heketi's. */
function compareOptions(label: string, options: Record<string, string>, gluster: GlusterVolumeInfo, found: Findings): void {
  for (const [key, value] of Object.entries(options)) {
    const live = gluster.options[key];
    if (live === undefined) found.differences.push({ entry: label, message: `option ${key} is "${value}" in heketi, not set in Gluster` });
    else if (live !== value) found.differences.push({ entry: label, message: `option ${key} is "${value}" in heketi, "${live}" in Gluster` });
  }
}

function compareVolume(db: HeketiDb, id: string, volume: HeketiVolumeEntry, gluster: GlusterVolumeInfo | undefined, context: VolumeContext, found: Findings): number {
  const label = volumeLabel(id, volume);
  const bricks = heketiBricks(db, volume);
  if (!gluster) {
    found.differences.push({ entry: label, message: `not in Gluster: volume info lists no volume ${nameOf(id, volume)}; its GlusterVolume would adopt nothing, so restore the volume or delete it in heketi` });
    return bricks.length;
  }
  for (const brick of bricks) {
    // A node outside the pool is said once, for the node; here only a brick named by an address its peer lacks.
    if (context.nodesInPool.has(brick.entry.Info.node) && !context.isPeerAddress(brick.host)) {
      found.differences.push({ entry: brickLabel(brick.id), message: `${brick.name} is on ${brick.host}, which is not an address of any peer of the Gluster pool` });
    }
  }
  const problems: string[] = [];
  const options = volumeOptionsOf(volume, label, { problems, warnings: [] });
  compareLayout(label, volume, bricks, options, gluster, found);
  compareBricks(label, bricks, gluster, found);
  compareOptions(label, options, gluster, found);
  if (gluster.status !== 'Started') {
    found.notes.push(`${label}: Gluster volume ${gluster.name} is ${gluster.status}, not Started; it is adopted all the same, but nothing mounts it until gluster volume start ${gluster.name}`);
  }
  return bricks.length;
}

interface VolumeContext {
  nodesInPool: ReadonlySet<string>;
  isPeerAddress(host: string): boolean;
}

export function compareWithLive(db: HeketiDb, live: LiveCluster): LiveCheck {
  const found: Findings = { differences: [], notes: [] };
  const peers = poolPeers(live);
  const clusters = comparedClusters(db, peers, found.notes);
  const nodes = Object.entries(db.nodeentries)
    .filter(([, node]) => clusters.has(node.Info.cluster))
    .sort(([, a], [, b]) => a.Info.hostnames.manage[0]!.localeCompare(b.Info.hostnames.manage[0]!));
  const peerOfNode = comparePeers(nodes, peers, found);
  const context: VolumeContext = {
    nodesInPool: new Set(peerOfNode.keys()),
    isPeerAddress: (host) => peers.some((peer) => peer.addresses.has(hostKey(host))),
  };

  const liveVolumes = new Map(live.volumes.map((volume) => [volume.name, volume]));
  const volumes = Object.entries(db.volumeentries)
    .filter(([, volume]) => clusters.has(volume.Info.cluster))
    .sort(([ia, a], [ib, b]) => nameOf(ia, a).localeCompare(nameOf(ib, b)));
  let bricks = 0;
  for (const [id, volume] of volumes) bricks += compareVolume(db, id, volume, liveVolumes.get(nameOf(id, volume)), context, found);

  const heketiNames = new Set(Object.entries(db.volumeentries).map(([id, volume]) => nameOf(id, volume)));
  for (const volume of live.volumes) {
    if (!heketiNames.has(volume.name)) found.notes.push(`Gluster volume ${volume.name} (${volume.id}) is not in heketi's database: it stays unmanaged (the import adopts heketi's volumes only)`);
  }
  return { ...found, summary: { volumes: volumes.length, bricks, peers: live.peers.length } };
}
