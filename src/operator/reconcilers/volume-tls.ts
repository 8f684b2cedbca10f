import * as k8s from '@kubernetes/client-node';
import type { GlusterCluster } from '../../api/index.ts';
import { unlessNotFound } from '../../controller/api-errors.ts';
import { fileSha256, moveFile, writeFileFromStdin } from '../../gluster/commands/fs.ts';
import type { GlusterVolumeInfo } from '../../gluster/parsers/volume-info.ts';
import { TLS_FILES, tlsDirFor, tlsVolumeOptions } from '../../gluster/tls.ts';
import type { NodeTarget } from '../../gluster/transport.ts';
import { sha256 } from '../../topology/backup/chunked.ts';
import type { ClusterAccess } from '../cluster-access.ts';

/**
 * TLS for a volume's I/O (src/gluster/tls.ts says how Gluster takes it): what the GlusterCluster asks for,
 * read with its Secret (observe), whether it applies to a volume (decide, pure), and the copy of the
 * Secret's files to the servers (act). It applies to volumes not started yet, and to those already running
 * with it: turning server.ssl on under a running volume needs its bricks restarted, which the operator does
 * not do behind its users' backs.
 */
export type WantedTls =
  | { kind: 'off' }
  /** spec.tls names a Secret that is missing or lacks a key: nothing is created or changed until it is fixed. */
  | { kind: 'invalid'; why: string }
  | { kind: 'on'; secretName: string; secretNamespace: string; dir: string; files: Readonly<Record<string, string>> };

export async function observeTls(kubeConfig: k8s.KubeConfig, cluster: GlusterCluster | undefined): Promise<WantedTls> {
  const secretName = cluster?.spec.tls?.secretName;
  if (!cluster || !secretName) return { kind: 'off' };
  const namespace = cluster.metadata.namespace ?? 'default';
  const where = `spec.tls.secretName of GlusterCluster ${namespace}/${cluster.metadata.name}: Secret ${secretName}`;
  const secret = await unlessNotFound(kubeConfig.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name: secretName, namespace }));
  if (!secret) return { kind: 'invalid', why: `${where} does not exist; create it with ca.crt, tls.crt and tls.key (cert-manager writes these)` };
  const files: Record<string, string> = {};
  const missing: string[] = [];
  for (const key of Object.values(TLS_FILES)) {
    const value = secret.data?.[key];
    if (!value) missing.push(key);
    else files[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  if (missing.length > 0) return { kind: 'invalid', why: `${where} has no ${missing.join(', ')}; it needs ca.crt, tls.crt and tls.key` };
  return { kind: 'on', secretName, secretNamespace: namespace, dir: tlsDirFor(namespace, cluster.metadata.name), files };
}

/** Whether TLS is this volume's: a volume not started yet gets it; a started one only if it already has it. */
export function tlsApplies(tls: WantedTls, info: GlusterVolumeInfo): tls is Extract<WantedTls, { kind: 'on' }> {
  return tls.kind === 'on' && (info.status !== 'Started' || info.options['server.ssl'] === 'on');
}

/** The volume options TLS sets, when it applies (optionSteps sets those that differ, as it does auth.allow). */
export function wantedTlsOptions(tls: WantedTls, info: GlusterVolumeInfo): Array<[string, string]> {
  return tlsApplies(tls, info) ? tlsVolumeOptions(tls.dir) : [];
}

/** status.tls once Gluster has it on. */
export function tlsStatus(tls: WantedTls, info: GlusterVolumeInfo): { secretName: string; secretNamespace: string; dir: string } | undefined {
  return tlsApplies(tls, info) && info.options['server.ssl'] === 'on' ? { secretName: tls.secretName, secretNamespace: tls.secretNamespace, dir: tls.dir } : undefined;
}

/**
 * The Secret's files on each server, written only where the content differs (sha256sum first), each through
 * a temporary file and a rename: a brick starting meanwhile reads the old file or the new one.
 */
export async function copyTlsFiles(access: ClusterAccess, servers: readonly NodeTarget[], tls: Extract<WantedTls, { kind: 'on' }>): Promise<void> {
  for (const server of servers) {
    for (const [name, content] of Object.entries(tls.files)) {
      const path = `${tls.dir}/${name}`;
      if ((await access.executor.run(server, fileSha256(path))) === sha256(content)) continue;
      await access.executor.run(server, writeFileFromStdin(`${path}.new`, content));
      await access.executor.run(server, moveFile(`${path}.new`, path));
    }
  }
}
