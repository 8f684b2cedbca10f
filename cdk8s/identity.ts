import { PART_OF } from '../src/deploy/labels.ts';

/**
 * Who the operator is on the cluster: its namespace, the name of its ServiceAccount (and of everything that
 * names it) and its labels. Apart from charts.ts so that rbac.ts, which the test support imports to grant
 * test namespaces, needs nothing of cdk8s.
 */
export const OPERATOR_NAMESPACE = 'gluster-operator';
export const OPERATOR_NAME = 'gluster-operator';
export const OPERATOR_LABELS = { 'app.kubernetes.io/name': OPERATOR_NAME, ...PART_OF };
