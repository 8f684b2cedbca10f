import { z } from 'zod';
import { intString, optionalIntString, parseCliXml, xmlList, xmlText } from './xml.ts';

/**
 * `gluster --xml volume status [name] [detail]`. Each <node> is either a brick (path is absolute) or a
 * daemon such as the Self-heal Daemon (hostname is the daemon name, path the host). Offline bricks have
 * port/pid "N/A": null here, never 0.
 */
export interface GlusterBrickStatus {
  host: string;
  path: string;
  peerId: string;
  online: boolean;
  port: number | null;
  pid: number | null;
  /** Only with `detail`. */
  sizeTotal?: number;
  sizeFree?: number;
  device?: string;
  fsName?: string;
  mountOptions?: string;
}

export interface GlusterDaemonStatus {
  name: string;
  host: string;
  peerId: string;
  online: boolean;
  pid: number | null;
}

export interface GlusterTaskStatus {
  type: string;
  id: string;
  status: number;
  statusStr: string;
}

export interface GlusterVolumeStatusInfo {
  name: string;
  bricks: GlusterBrickStatus[];
  daemons: GlusterDaemonStatus[];
  tasks: GlusterTaskStatus[];
}

const nodeSchema = z.object({
  hostname: xmlText,
  path: xmlText,
  peerid: xmlText,
  status: z.enum(['0', '1']),
  port: optionalIntString,
  // An offline brick reports pid -1.
  pid: optionalIntString.transform((pid) => (pid === null || pid < 0 ? null : pid)),
  sizeTotal: intString.optional(),
  sizeFree: intString.optional(),
  device: xmlText.optional(),
  fsName: xmlText.optional(),
  mntOptions: xmlText.optional(),
});

const taskSchema = z.object({ type: xmlText, id: xmlText, status: intString, statusStr: xmlText });

const volumeSchema = z.object({
  volName: xmlText,
  nodeCount: intString,
  node: z.array(nodeSchema).default([]),
  tasks: xmlList('task', taskSchema).optional(),
});

const volumeStatusSchema = z.object({
  opRet: z.literal('0'),
  // `volume status all` with no started volume answers <volumes/> (captured: volume-status-none.xml).
  volStatus: z.object({ volumes: xmlList('volume', volumeSchema) }),
});

export function parseVolumeStatusXml(xml: string): GlusterVolumeStatusInfo[] {
  const parsed = parseCliXml('gluster volume status --xml', xml, volumeStatusSchema);
  return parsed.volStatus.volumes.map((volume) => {
    const bricks: GlusterBrickStatus[] = [];
    const daemons: GlusterDaemonStatus[] = [];
    for (const node of volume.node) {
      const online = node.status === '1';
      if (node.path.startsWith('/')) {
        bricks.push({
          host: node.hostname,
          path: node.path,
          peerId: node.peerid,
          online,
          port: node.port,
          pid: node.pid,
          ...(node.sizeTotal !== undefined && { sizeTotal: node.sizeTotal }),
          ...(node.sizeFree !== undefined && { sizeFree: node.sizeFree }),
          ...(node.device !== undefined && { device: node.device }),
          ...(node.fsName !== undefined && { fsName: node.fsName }),
          ...(node.mntOptions !== undefined && { mountOptions: node.mntOptions }),
        });
      } else {
        daemons.push({ name: node.hostname, host: node.path, peerId: node.peerid, online, pid: node.pid });
      }
    }
    return { name: volume.volName, bricks, daemons, tasks: volume.tasks ?? [] };
  });
}
