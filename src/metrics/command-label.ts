/**
 * The `command` label of the node-command metrics: what kind of command ran, from a fixed vocabulary, never
 * free text. An argv carries volume names, brick paths and device paths; as label values they would make a
 * series per volume and per brick (unbounded in time: every deleted volume leaves its series behind). So only
 * words from the sets below reach the label, and anything else is `other`. Pure.
 */
export const OTHER_COMMAND = 'other';

/** Programs the command builders run (src/gluster/commands, src/operator/node-commands.ts). */
const PROGRAMS = new Set([
  'pvs', 'vgs', 'lvs', 'pvcreate', 'vgcreate', 'vgremove', 'pvremove', 'lvcreate', 'lvextend', 'lvremove',
  'wipefs', 'mkfs.xfs', 'xfs_growfs', 'mount', 'umount', 'findmnt', 'mkdir', 'rmdir', 'rm', 'install', 'stat',
  'truncate', 'losetup', 'df',
]);

/** gluster `<object> <verb>` pairs the builders use. */
const GLUSTER_VERBS: Record<string, ReadonlySet<string>> = {
  peer: new Set(['probe', 'detach', 'status']),
  pool: new Set(['list']),
  volume: new Set(['create', 'start', 'stop', 'delete', 'set', 'info', 'status', 'heal', 'add-brick', 'remove-brick', 'replace-brick', 'rebalance']),
};

/**
 * Volume verbs whose cost depends on a sub-action written after the volume name (and, for remove-brick, after
 * the bricks): `heal NAME info` crawls, `heal NAME full` only starts a crawl. The first word of this set after
 * the verb is added to the label.
 */
const SUB_ACTIONS: Record<string, ReadonlySet<string>> = {
  heal: new Set(['info', 'full', 'statistics']),
  rebalance: new Set(['start', 'status']),
  'remove-brick': new Set(['start', 'status', 'commit', 'force']),
  status: new Set(['detail', 'client-list']),
};

export function commandLabel(argv: readonly string[]): string {
  const [program, ...rest] = argv;
  if (program === undefined) return OTHER_COMMAND;
  if (program !== 'gluster') return PROGRAMS.has(program) ? program : OTHER_COMMAND;
  const words = rest.filter((word) => !word.startsWith('-'));
  const [object, verb, ...after] = words;
  if (object === undefined || verb === undefined || !GLUSTER_VERBS[object]?.has(verb)) return `gluster ${OTHER_COMMAND}`;
  const actions = object === 'volume' ? SUB_ACTIONS[verb] : undefined;
  // after[0] is the volume name (or `all`); a volume may be called `info`, so the search starts after it.
  const action = actions ? after.slice(1).find((word) => actions.has(word)) : undefined;
  return ['gluster', object, verb, ...(action ? [action] : [])].join(' ');
}
