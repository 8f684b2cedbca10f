import { z } from 'zod';
import { ParseError } from '../errors.ts';
import { intString, parseCliXml, xmlText } from './xml.ts';

/**
 * `gluster --xml volume rebalance <v> status` and `... remove-brick <v> <bricks> status`: per-node
 * migration counters and an aggregate. heketi reported a failed rebalance as success; callers look at
 * `state` (and `failures`) here instead.
 */
export type RebalanceState = 'not-started' | 'in-progress' | 'stopped' | 'completed' | 'failed';

export interface RebalanceCounters {
  files: number;
  size: number;
  lookups: number;
  failures: number;
  skipped: number;
  statusStr: string;
  state: RebalanceState;
  runtimeSeconds: number;
}

export interface RebalanceNode extends RebalanceCounters {
  nodeName: string;
  id: string;
}

export interface RebalanceStatus {
  taskId: string;
  nodes: RebalanceNode[];
  aggregate: RebalanceCounters;
}

/** statusStr as printed by gluster (gf_defrag_status); fix-layout variants map onto the same states. */
function stateOf(statusStr: string, raw: string): RebalanceState {
  const normalized = statusStr.replace(/^fix-layout /, '');
  switch (normalized) {
    case 'not started':
      return 'not-started';
    case 'in progress':
      return 'in-progress';
    case 'stopped':
      return 'stopped';
    case 'completed':
      return 'completed';
    case 'failed':
      return 'failed';
    default:
      throw new ParseError('rebalance status', raw, new Error(`unknown statusStr "${statusStr}"`));
  }
}

const countersSchema = z.object({
  files: intString,
  size: intString,
  lookups: intString,
  failures: intString,
  skipped: intString,
  status: intString,
  statusStr: xmlText,
  runtime: z.string().regex(/^\d+(\.\d+)?$/).transform(Number),
});

const nodeSchema = countersSchema.extend({ nodeName: xmlText, id: xmlText });

const taskSchema = z.object({
  'task-id': z.uuid(),
  node: z.array(nodeSchema).default([]),
  aggregate: countersSchema,
});

const rebalanceSchema = z.object({ opRet: z.literal('0'), volRebalance: taskSchema });
const removeBrickSchema = z.object({ opRet: z.literal('0'), volRemoveBrick: taskSchema });

function toStatus(task: z.output<typeof taskSchema>, raw: string): RebalanceStatus {
  const counters = ({ status: _status, runtime, statusStr, ...rest }: z.output<typeof countersSchema>): RebalanceCounters => ({
    ...rest,
    statusStr,
    state: stateOf(statusStr, raw),
    runtimeSeconds: runtime,
  });
  return {
    taskId: task['task-id'],
    nodes: task.node.map((node) => ({ ...counters(node), nodeName: node.nodeName, id: node.id })),
    aggregate: counters(task.aggregate),
  };
}

/**
 * The state of the whole task, read from every node and not from gluster's aggregate alone. The aggregate
 * ranks 'in progress' above 'failed' (glusterd 10.3 reports a node that failed, beside two still running,
 * as aggregate 'in progress' until they finish), and a node with nothing to migrate says 'completed' while
 * the others still run. So: 'failed' or 'stopped' as soon as any node is; 'completed' only when the
 * aggregate and every listed node are.
 */
export function rebalanceOutcome(status: RebalanceStatus): RebalanceState {
  const states = [status.aggregate.state, ...status.nodes.map((node) => node.state)];
  if (states.includes('failed')) return 'failed';
  if (states.includes('stopped')) return 'stopped';
  if (states.every((state) => state === 'completed')) return 'completed';
  if (states.every((state) => state === 'not-started')) return 'not-started';
  return 'in-progress';
}

export function parseRebalanceStatusXml(xml: string): RebalanceStatus {
  return toStatus(parseCliXml('gluster volume rebalance status --xml', xml, rebalanceSchema).volRebalance, xml);
}

export function parseRemoveBrickStatusXml(xml: string): RebalanceStatus {
  return toStatus(parseCliXml('gluster volume remove-brick status --xml', xml, removeBrickSchema).volRemoveBrick, xml);
}
