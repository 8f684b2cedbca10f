/**
 * Where a cluster's TLS material lives on every machine that runs a Gluster process of its volumes: the
 * servers (bricks, self-heal) and the clients (the CSI plugin's FUSE mounts). Gluster reads the certificate,
 * key and CA from the paths in the volume's ssl.own-cert, ssl.private-key and ssl.ca-list options, the same
 * paths on servers and clients, so the directory is a function of the cluster alone.
 *
 * The material is one Secret per cluster, as cert-manager writes them (`ca.crt`, `tls.crt`, `tls.key`):
 * servers and clients present a certificate the CA signed, and the bricks accept any such certificate
 * (auth.ssl-allow stays `*`): whoever holds the CA decides who may connect. Seen on the test bed (glusterd
 * 10.3): a client with a certificate of that CA mounts and reads; one with a self-signed certificate is
 * refused ("Transport endpoint is not connected").
 */
export const TLS_ROOT = '/var/lib/gluster-operator/tls';

/** The Secret's keys, which are also the file names in the directory. */
export const TLS_FILES = { ca: 'ca.crt', certificate: 'tls.crt', key: 'tls.key' } as const;
export const TLS_SECRET_KEYS: readonly string[] = Object.values(TLS_FILES);

/** Namespace and cluster names are DNS labels (no '/' nor '..'): the directory never leaves TLS_ROOT. */
export function tlsDirFor(namespace: string, cluster: string): string {
  for (const name of [namespace, cluster]) {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.includes('..')) throw new Error(`not a Kubernetes object name: ${JSON.stringify(name)}`);
  }
  return `${TLS_ROOT}/${namespace}/${cluster}`;
}

/** Whether a path (from a PV's volume attributes) is a directory tlsDirFor could have made. */
export function isTlsDir(path: string): boolean {
  const match = /^\/var\/lib\/gluster-operator\/tls\/([^/]+)\/([^/]+)$/.exec(path);
  if (!match) return false;
  try {
    return tlsDirFor(match[1]!, match[2]!) === path;
  } catch {
    return false;
  }
}

/** The volume options that turn TLS on for I/O, pointing both sides at the cluster's directory. */
export function tlsVolumeOptions(dir: string): Array<[string, string]> {
  return [
    ['client.ssl', 'on'],
    ['server.ssl', 'on'],
    ['ssl.own-cert', `${dir}/${TLS_FILES.certificate}`],
    ['ssl.private-key', `${dir}/${TLS_FILES.key}`],
    ['ssl.ca-list', `${dir}/${TLS_FILES.ca}`],
  ];
}
