/**
 * Who a Gluster volume belongs to, as Gluster itself records it. The operator marks every volume it creates
 * or adopts with a `user.*` option (glusterd stores those with the volume and replicates them to every
 * peer), so the binding to one GlusterVolume survives the loss of the topology database and its backup:
 * the volume reconciler refuses a second object naming the volume, and the start-up rebuild gives a volume
 * only to the object its mark names.
 */
export const OWNER_OPTION = 'user.gluster-operator.owner';

/**
 * The mark of a volume released by reclaimPolicy Retain. glusterd 10.3 can neither `volume reset` a `user.*`
 * option ("Option ... does not exist") nor set it empty, so a release overwrites it with a word no
 * namespace/name can be.
 */
export const RELEASED_MARK = 'released';

/** The mark's value: the GlusterVolume as namespace/name (what `kubectl get -n NS glustervolume NAME` takes). */
export function ownerMark(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The object a volume's options say owns it; undefined when unmarked or released. */
export function markedOwner(options: Readonly<Record<string, string>>): string | undefined {
  const mark = options[OWNER_OPTION];
  return mark === undefined || mark === '' || mark === RELEASED_MARK ? undefined : mark;
}
