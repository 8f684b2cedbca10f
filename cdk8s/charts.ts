import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { customResourceDefinition, KINDS } from '../src/crd/definitions.ts';
import { OPERATOR_IMAGE } from '../src/deploy/images.ts';
import { PART_OF } from '../src/deploy/labels.ts';
import { addCsiDriver, addCsiNodeDaemonSet, addSampleStorageClass } from './csi.ts';
import { CLUSTER_RULES, NAMESPACE_RULES } from './rbac.ts';

export const OPERATOR_NAMESPACE = 'gluster-operator';
export const OPERATOR_NAME = 'gluster-operator';
/** Port of /healthz, /readyz and /metrics. */
export const OPERATOR_HEALTH_PORT = 8081;

const operatorLabels = { 'app.kubernetes.io/name': OPERATOR_NAME, ...PART_OF };

/** One CRD per kind, emitted as plain objects: the typed CRD construct drops `x-kubernetes-*` keys. */
export class CrdsChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { disableResourceNameHashes: true });
    for (const definition of KINDS) {
      const crd = customResourceDefinition(definition) as { apiVersion: string; kind: string; metadata: { name: string } };
      new ApiObject(this, definition.plural, crd);
    }
  }
}

/** Namespace, identity, RBAC and the operator Deployment. */
export class OperatorChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { disableResourceNameHashes: true, labels: PART_OF });
    new ApiObject(this, 'namespace', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: OPERATOR_NAMESPACE },
    });
    const serviceAccount = new ApiObject(this, 'service-account', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels: operatorLabels },
    });
    const subject = { kind: 'ServiceAccount', name: serviceAccount.name, namespace: OPERATOR_NAMESPACE };
    new ApiObject(this, 'cluster-role', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: OPERATOR_NAME, labels: operatorLabels },
      rules: CLUSTER_RULES,
    });
    new ApiObject(this, 'cluster-role-binding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: OPERATOR_NAME, labels: operatorLabels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: OPERATOR_NAME },
      subjects: [subject],
    });
    new ApiObject(this, 'role', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels: operatorLabels },
      rules: NAMESPACE_RULES,
    });
    new ApiObject(this, 'role-binding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels: operatorLabels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: OPERATOR_NAME },
      subjects: [subject],
    });

    const deployment = new kplus.Deployment(this, 'deployment', {
      metadata: { name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels: operatorLabels },
      // One active replica; leader election makes a second one a warm standby (see README).
      replicas: 1,
      select: false,
      serviceAccount: kplus.ServiceAccount.fromServiceAccountName(this, 'operator-sa', OPERATOR_NAME),
      automountServiceAccountToken: true,
      securityContext: { ensureNonRoot: true, user: 65532, group: 65532 },
    });
    deployment.select(kplus.LabelSelector.of({ labels: { 'app.kubernetes.io/name': OPERATOR_NAME } }));
    for (const [key, value] of Object.entries(operatorLabels)) deployment.podMetadata.addLabel(key, value);
    deployment.addContainer({
      name: 'operator',
      image: OPERATOR_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      envVariables: {
        OPERATOR_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
        POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
      },
      ports: [{ name: 'health', number: OPERATOR_HEALTH_PORT }],
      securityContext: { ensureNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, user: 65532, group: 65532 },
      resources: {
        cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(1000) },
        memory: { request: Size.mebibytes(128), limit: Size.mebibytes(512) },
      },
      liveness: kplus.Probe.fromHttpGet('/healthz', { port: OPERATOR_HEALTH_PORT, periodSeconds: Duration.seconds(20) }),
      readiness: kplus.Probe.fromHttpGet('/readyz', { port: OPERATOR_HEALTH_PORT, periodSeconds: Duration.seconds(10) }),
    });
    // cdk8s tags pods with its construct path; keep the template to labels we chose.
    ApiObject.of(deployment).addJsonPatch(JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'));
  }
}

/** The CSI node plugin: CSIDriver object and the node DaemonSet with node-driver-registrar. */
export class CsiChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { disableResourceNameHashes: true });
    addCsiDriver(this);
    addCsiNodeDaemonSet(this, OPERATOR_NAMESPACE, OPERATOR_IMAGE);
  }
}

/** A StorageClass in the in-tree provisioner's parameter style, as a sample (not installed by default). */
export class SampleStorageClassChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { disableResourceNameHashes: true });
    addSampleStorageClass(this);
  }
}
