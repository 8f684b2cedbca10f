import { createHash } from 'node:crypto';

/** Kubernetes object names (DNS subdomains) are at most 253 characters. */
const NAME_MAX = 253;

/**
 * `<prefix>-<name>`, or when that is too long, cut with 8 hex digits of the name's hash at the end, so two
 * long names never give one object name. In-tree PV names (`pvc-<uid>`, 40 characters) never need the cut.
 */
export function objectNameOf(prefix: string, name: string, suffix = ''): string {
  const whole = suffix ? `${prefix}-${name}-${suffix}` : `${prefix}-${name}`;
  if (whole.length <= NAME_MAX) return whole;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  const tail = suffix ? `-${hash}-${suffix}` : `-${hash}`;
  return `${whole.slice(0, NAME_MAX - tail.length).replace(/[-.]+$/, '')}${tail}`;
}

/** The CSI PV that replaces in-tree PV `name`: `gluster-<name>`, so `kubectl get pv` lists the pair together-ish and the origin is plain. */
export function csiPersistentVolumeName(name: string): string {
  return objectNameOf('gluster', name);
}
