import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterNodeSchema, type GlusterNode } from '../api/index.ts';
import { findCondition } from '../controller/conditions.ts';
import { systemClock, type Clock } from '../runtime/clock.ts';
import { kubeConfigOf, usageError, type Command, type CommandIo, type OptionValues } from './command.ts';
import type { CommandOutput } from './output.ts';
import { apiErrorText, listKind, namespaceOf, readFailure } from './status.ts';
import { oneLine } from './status-view.ts';
import { isApiError, unlessNotFound } from '../controller/api-errors.ts';
import { notFoundMessage } from './volume-view.ts';

/**
 * `kubectl gluster node drain`: sets a GlusterNode's spec.state to Failed (a merge patch of that one field),
 * which makes the operator move its bricks to other nodes (replace-brick, then self-heal), and follows
 * status.evacuation until nothing is left on the node. The operator does the work; stopping this command (or
 * its timeout) stops only the watching. The pure part is parseDuration, drainProgress and the confirmation.
 */

const DEFAULT_TIMEOUT = '30m';
/** How often status is read while following: the operator requeues an evacuation about as often. */
export const POLL_MS = 5_000;

export const NODE_DRAIN_USAGE = `Usage: kubectl gluster node drain NODE [-n NAMESPACE] [--yes] [--timeout DURATION] [--no-wait]

Moves every brick off the GlusterNode NODE: sets its spec.state to Failed, which makes the operator replace
each brick on another node of the cluster (replace-brick, then self-heal); then follows status.evacuation
(bricks left, volumes healing, volumes blocked) until the node holds none. Nothing new is placed on it after.
To take it back into use later, set spec.state to Online again.

Options:
  -n, --namespace NS     where NODE is (default: your kubeconfig context's namespace, else default)
  --yes                  do not ask for confirmation (needed when there is no terminal to ask on)
  --timeout DURATION     how long to follow, e.g. 90s, 20m, 1h30m (default ${DEFAULT_TIMEOUT}); the evacuation goes on after it
  --no-wait              set spec.state and exit without following
  -h, --help             show this help

A node already Failed is not patched again: the command says so and follows its evacuation.

Exit code: 0 when the node is drained (or, with --no-wait, marked Failed), 1 when it was not (not confirmed,
not found, already Failed with --no-wait, or the timeout passed first), 2 on a usage error.
`;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `90s`, `20m`, `1h30m`, `500ms` (Go's duration style, as kubectl's --timeout), or plain seconds; undefined when unreadable or not positive. */
export function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) > 0 ? Number(text) * 1_000 : undefined;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) total += Number(amount) * UNITS[unit!]!;
  return total > 0 ? Math.round(total) : undefined;
}

/** The answer to the confirmation: only yes (or y) goes on. */
export const confirmed = (answer: string | undefined) => answer !== undefined && /^\s*(y|yes)\s*$/i.test(answer);

export interface DrainProgress {
  finished: boolean;
  /** One line of where the evacuation stands, for the progress output; repeated lines are not printed again. */
  line: string;
}

const list = (names: readonly string[] | undefined) => (names && names.length > 0 ? names.join(', ') : undefined);

/**
 * Where the node's evacuation stands, as its status says. `generation` is the node's after the patch: a status
 * the operator wrote for an older spec (state still Online) does not count, so an idle node is not taken for
 * a drained one before the operator has looked at it.
 */
export function drainProgress(node: GlusterNode, generation: number | undefined): DrainProgress {
  const status = node.status;
  const ready = findCondition(status?.conditions, 'Ready');
  const observed = ready?.observedGeneration ?? status?.observedGeneration;
  if (generation !== undefined && (observed === undefined || observed < generation)) {
    return { finished: false, line: 'waiting for the operator to act on spec.state Failed (is it running? kubectl -n gluster-operator get pods)' };
  }
  const evacuation = status?.evacuation;
  const remaining = evacuation?.remainingBricks ?? status?.bricks;
  const healing = list(evacuation?.healingVolumes);
  const blocked = list(evacuation?.blockedVolumes);
  const parts = [
    remaining === undefined ? 'bricks left: not reported yet' : `${remaining} brick${remaining === 1 ? '' : 's'} left`,
    ...(healing ? [`healing: ${healing}`] : []),
    ...(blocked ? [`BLOCKED: ${blocked} (${ready?.reason ?? 'see the Ready condition'}${ready?.message ? `: ${oneLine(ready.message)}` : ''})`] : []),
    ...(evacuation?.message ? [oneLine(evacuation.message)] : []),
  ];
  const finished = remaining === 0 && !healing && !blocked && ready?.reason === 'NodeFailed';
  return { finished, line: parts.join('; ') };
}

/** The sleeps between reads; the tests hand in one that moves their clock instead of waiting. */
export type Sleep = Clock['sleep'];

class NodeKube {
  private readonly custom: k8s.CustomObjectsApi;
  constructor(config: k8s.KubeConfig) {
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
  }

  async read(namespace: string, name: string): Promise<GlusterNode | undefined> {
    const raw = await unlessNotFound(this.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: 'glusternodes', name }));
    return raw === undefined ? undefined : glusterNodeSchema.parse(raw);
  }

  /** spec.state alone, as a merge patch: the rest of the spec stays whatever it is now (no read-modify-write race). */
  async markFailed(namespace: string, name: string): Promise<GlusterNode> {
    const patched = await this.custom.patchNamespacedCustomObject(
      { group: API_GROUP, version: API_VERSION, namespace, plural: 'glusternodes', name, body: { spec: { state: 'Failed' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    return glusterNodeSchema.parse(patched);
  }
}

const failed = (stderr: string, stdout = ''): CommandOutput => ({ stdout, stderr, code: 1 });

async function follow(kube: NodeKube, node: GlusterNode, timeoutMs: number, io: CommandIo, clock: Pick<Clock, 'now'>, sleep: Sleep): Promise<CommandOutput> {
  const namespace = node.metadata.namespace ?? '';
  const name = node.metadata.name;
  const generation = node.metadata.generation;
  const deadline = clock.now() + timeoutMs;
  let current: GlusterNode = node;
  let last = '';
  for (;;) {
    const progress = drainProgress(current, generation);
    if (progress.line !== last) io.progress?.(`${name}: ${progress.line}`);
    last = progress.line;
    if (progress.finished) return { stdout: `GlusterNode ${namespace}/${name} drained: no bricks left on it; no new bricks are placed there (spec.state Failed)\n`, stderr: '', code: 0 };
    const left = deadline - clock.now();
    if (left <= 0) {
      return failed(
        `error: GlusterNode ${namespace}/${name} not drained within ${formatDuration(timeoutMs)}; last seen: ${last}\n` +
          `The evacuation continues in the background: run kubectl gluster node drain ${name} -n ${namespace} again to follow it, ` +
          `or kubectl get gnode ${name} -n ${namespace} -o jsonpath='{.status.evacuation}'\n`,
      );
    }
    await sleep(Math.min(POLL_MS, left));
    try {
      const read = await kube.read(namespace, name);
      if (!read) return failed(`error: GlusterNode ${namespace}/${name} was deleted while draining; its deletion moves its bricks too (kubectl get gvol -n ${namespace} shows the volumes)\n`);
      current = read;
    } catch (error) {
      // A lost read is not the end of the evacuation: say so and read again at the next tick.
      io.progress?.(`${name}: cannot read it this time: ${apiErrorText(error)}`);
      last = '';
    }
  }
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1_000}s`;
}

export function nodeDrainCommandWith(sleep: Sleep = systemClock.sleep): Command {
  return {
    usage: NODE_DRAIN_USAGE,
    options: {
      namespace: { type: 'string', short: 'n' },
      yes: { type: 'boolean', default: false },
      timeout: { type: 'string', default: DEFAULT_TIMEOUT },
      'no-wait': { type: 'boolean', default: false },
    },
    maxArguments: 1,
    async run(values: OptionValues, io: CommandIo, args: string[] = []): Promise<CommandOutput> {
      const name = args[0];
      if (name === undefined) return usageError('which node? kubectl get gnode lists them', NODE_DRAIN_USAGE);
      const timeoutMs = parseDuration(String(values.timeout));
      if (timeoutMs === undefined) return usageError(`--timeout ${String(values.timeout)}: give a duration such as 90s, 20m or 1h30m`, NODE_DRAIN_USAGE);
      const config = kubeConfigOf(io);
      const namespace = namespaceOf(values, config);
      const kube = new NodeKube(config);
      const clock = io.clock ?? systemClock;
      let node: GlusterNode | undefined;
      try {
        node = await kube.read(namespace, name);
        if (!node) {
          const names = (await listKind(config, 'GlusterNode', glusterNodeSchema, namespace)).objects.map((n) => n.metadata.name);
          return failed(notFoundMessage('GlusterNode', name, namespace, names, `kubectl get gnode -n ${namespace} lists them`));
        }
      } catch (error) {
        return readFailure(`GlusterNode ${namespace}/${name}`, error);
      }
      if (node.spec.state === 'Failed') {
        // Nothing to set: marking it again would say nothing new. Following is still useful.
        const what = `error: GlusterNode ${namespace}/${name} is already Failed (being drained or drained): not patched`;
        if (values['no-wait'] === true) return failed(`${what}\n`);
        io.progress?.(`${what}; following its evacuation`);
        return follow(kube, node, timeoutMs, io, clock, sleep);
      }
      if (values.yes !== true) {
        if (!io.readLine) return failed(`error: not drained: there is no terminal to confirm on; run again with --yes (or from a terminal) to drain GlusterNode ${namespace}/${name}\n`);
        const bricks = node.status?.bricks;
        const answer = await io.readLine(
          `Drain GlusterNode ${namespace}/${name} (${node.spec.storageAddress}${bricks === undefined ? '' : `, ${bricks} brick${bricks === 1 ? '' : 's'}`})? ` +
            'Its bricks are replaced on other nodes and self-healed there, which loads the cluster while it lasts. Type yes to go on: ',
        );
        if (!confirmed(answer)) return failed(`not drained: the answer was ${answer === undefined ? 'none' : JSON.stringify(answer.trim())}, not yes\n`);
      }
      let patched: GlusterNode;
      try {
        patched = await kube.markFailed(namespace, name);
      } catch (error) {
        const advice = isApiError(error, 403) ? `; you need patch on glusternodes in ${namespace} (kubectl auth can-i patch glusternodes -n ${namespace})` : '';
        return failed(`error: cannot set spec.state of GlusterNode ${namespace}/${name} to Failed: ${apiErrorText(error)}${advice}\n`);
      }
      io.progress?.(`${name}: spec.state set to Failed; the operator now moves its bricks away`);
      if (values['no-wait'] === true) {
        return { stdout: `GlusterNode ${namespace}/${name} marked Failed; follow it with kubectl gluster node drain ${name} -n ${namespace}\n`, stderr: '', code: 0 };
      }
      return follow(kube, patched, timeoutMs, io, clock, sleep);
    },
  };
}

export const nodeDrainCommand: Command = nodeDrainCommandWith();
