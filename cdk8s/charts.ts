import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { customResourceDefinition, KINDS } from '../src/crd/definitions.ts';
import { CSI_SNAPSHOTTER_IMAGE, GLUSTERD_IMAGE, OPERATOR_IMAGE } from '../src/deploy/images.ts';
import { OPERATOR_MEMORY_LIMIT_MIB, OPERATOR_NODE_OPTIONS } from '../src/deploy/operator-runtime.ts';
import { PART_OF } from '../src/deploy/labels.ts';
import { addCsiDriver, addCsiNodeDaemonSet, addSampleStorageClass } from './csi.ts';
import { OPERATOR_LABELS as operatorLabels, OPERATOR_NAME, OPERATOR_NAMESPACE } from './identity.ts';
import { CLUSTER_RULES, namespaceGrants, OPERATOR_NAMESPACE_RULES } from './rbac.ts';

export { OPERATOR_NAME, OPERATOR_NAMESPACE } from './identity.ts';
/** Port of /healthz, /readyz and /metrics. */
export const OPERATOR_HEALTH_PORT = 8081;

/**
 * The namespaces where the operator serves GlusterClusters (its GLUSTER_NAMESPACES setting; each gets
 * namespaceGrants): its own by default. `npm run synth -- --out DIR --gluster-namespaces a,b` writes others.
 */
export const DEFAULT_GLUSTER_NAMESPACES: readonly string[] = [OPERATOR_NAMESPACE];

/**
 * Pod Security Admission labels of the namespaces that run glusterd (and, in the operator's, the CSI node
 * plugin): both are privileged, hostNetwork pods with host paths, which only the `privileged` level admits.
 * Set here on the operator's namespace; another namespace listed in GLUSTER_NAMESPACES needs it too, set by
 * its administrator. Such a namespace must be writable by storage administrators alone: anyone who may create
 * a Pod (or a GlusterCluster) there is root on the nodes.
 */
export const PRIVILEGED_POD_SECURITY = { 'pod-security.kubernetes.io/enforce': 'privileged' } as const;

/**
 * The image references written into the manifests: with the GlusterCluster namespaces, the only thing
 * `npm run synth -- --out DIR` changes. The glusterd image reaches the operator as GLUSTERD_IMAGE, so it too
 * is set here and nowhere else.
 */
export interface ImageReferences {
  operatorImage: string;
  glusterdImage: string;
  snapshotterImage: string;
}

export const DEFAULT_IMAGES: ImageReferences = { operatorImage: OPERATOR_IMAGE, glusterdImage: GLUSTERD_IMAGE, snapshotterImage: CSI_SNAPSHOTTER_IMAGE };

/**
 * The operator's CSI controller socket (snapshots), in a directory the operator and its csi-snapshotter
 * sidecar share. An emptyDir outlives container restarts; the operator replaces a stale socket file.
 */
const CSI_CONTROLLER_DIR = '/csi';
const CSI_CONTROLLER_SOCKET = `${CSI_CONTROLLER_DIR}/controller.sock`;
/**
 * The sidecar's timeout of each call: a Gluster snapshot of a big volume takes a while, and the operator
 * holds a standby's Probe for up to 60 s (src/main.ts), which must end before this does.
 */
const SNAPSHOTTER_TIMEOUT = '120s';

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
  constructor(scope: Construct, id: string, images: ImageReferences = DEFAULT_IMAGES, glusterNamespaces: readonly string[] = DEFAULT_GLUSTER_NAMESPACES) {
    super(scope, id, { disableResourceNameHashes: true, labels: PART_OF });
    // Other namespaces listed in glusterNamespaces are the administrator's: they must exist before these
    // manifests are applied (with the same label), and `kubectl delete -f manifests/` must never delete them.
    new ApiObject(this, 'namespace', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: OPERATOR_NAMESPACE, labels: { ...PRIVILEGED_POD_SECURITY } },
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
      rules: OPERATOR_NAMESPACE_RULES,
    });
    new ApiObject(this, 'role-binding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels: operatorLabels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: OPERATOR_NAME },
      subjects: [subject],
    });
    for (const namespace of glusterNamespaces) {
      for (const grant of namespaceGrants(namespace)) new ApiObject(this, `gluster-namespace-${grant.kind}-${namespace}`, grant);
    }

    const deployment = new kplus.Deployment(this, 'deployment', {
      metadata: { name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels: operatorLabels },
      // One leader reconciles; the other replica is a warm standby that takes the Lease within seconds when
      // the leader's node or pod goes (src/runtime/leader-election.ts).
      replicas: 2,
      // A new pod starts (as a standby, Ready at once) before an old one goes, so a rollout never leaves the
      // cluster without a candidate; a leader that goes releases the Lease on SIGTERM.
      strategy: kplus.DeploymentStrategy.rollingUpdate({ maxSurge: kplus.PercentOrAbsolute.absolute(1), maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }),
      select: false,
      serviceAccount: kplus.ServiceAccount.fromServiceAccountName(this, 'operator-sa', OPERATOR_NAME),
      automountServiceAccountToken: true,
      securityContext: { ensureNonRoot: true, user: 65532, group: 65532 },
    });
    deployment.select(kplus.LabelSelector.of({ labels: { 'app.kubernetes.io/name': OPERATOR_NAME } }));
    for (const [key, value] of Object.entries(operatorLabels)) deployment.podMetadata.addLabel(key, value);
    // Preferred, not required: a one-node cluster still runs both replicas.
    // Selected by our own label: spread() would select by cdk8s' construct-path label, removed below.
    // No namespaces: the term then applies to the pod's own namespace.
    const operatorPods = kplus.Pods.select(this, 'operator-pods', { labels: { 'app.kubernetes.io/name': OPERATOR_NAME } });
    deployment.scheduling.separate(operatorPods, { topology: kplus.Topology.HOSTNAME, weight: 100 });
    const controllerSocketDir = kplus.Volume.fromEmptyDir(this, 'csi-controller-dir', 'csi-controller');
    deployment.addContainer({
      name: 'operator',
      image: images.operatorImage,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      envVariables: {
        OPERATOR_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
        // The Lease holder identity: unique per pod, and what `kubectl get lease` shows.
        POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
        // The default, spelled out: with two replicas, only the Lease holder may reconcile.
        LEADER_ELECTION: kplus.EnvValue.fromValue('true'),
        // The glusterd image of InCluster GlusterClusters; one that names another (spec.access.inCluster.image)
        // is refused unless that image is listed in GLUSTERD_IMAGES, which is unset: none is.
        GLUSTERD_IMAGE: kplus.EnvValue.fromValue(images.glusterdImage),
        // Where GlusterClusters are served: exactly the namespaces the grants above were made in.
        GLUSTER_NAMESPACES: kplus.EnvValue.fromValue(glusterNamespaces.join(',')),
        // A capped heap (src/deploy/operator-runtime.ts says why).
        NODE_OPTIONS: kplus.EnvValue.fromValue(OPERATOR_NODE_OPTIONS),
        // CreateSnapshot/DeleteSnapshot/ListSnapshots for the csi-snapshotter container below.
        CSI_CONTROLLER_ENDPOINT: kplus.EnvValue.fromValue(`unix://${CSI_CONTROLLER_SOCKET}`),
      },
      volumeMounts: [{ path: CSI_CONTROLLER_DIR, volume: controllerSocketDir }],
      ports: [{ name: 'health', number: OPERATOR_HEALTH_PORT }],
      securityContext: { ensureNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, user: 65532, group: 65532 },
      resources: {
        cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(1000) },
        memory: { request: Size.mebibytes(128), limit: Size.mebibytes(OPERATOR_MEMORY_LIMIT_MIB) },
      },
      liveness: kplus.Probe.fromHttpGet('/healthz', { port: OPERATOR_HEALTH_PORT, periodSeconds: Duration.seconds(20) }),
      // Ready means "doing its part": a standby that campaigns for the Lease, or a leader with synced caches
      // (src/main.ts). A standby must count, or a 2-replica Deployment would never be fully available and
      // `kubectl rollout status` would never return.
      readiness: kplus.Probe.fromHttpGet('/readyz', { port: OPERATOR_HEALTH_PORT, periodSeconds: Duration.seconds(10) }),
    });
    // Kubernetes' own sidecar turns VolumeSnapshotContents into the operator's snapshot calls (the README's
    // "Why the standard sidecar"). In a standby pod it waits on the operator's Probe until that pod leads; its
    // own Lease keeps two of them from acting at once during a hand-over. Without the snapshot CRDs in the
    // cluster it idles, logging that it cannot list them.
    deployment.addContainer({
      name: 'csi-snapshotter',
      image: images.snapshotterImage,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [
        `--csi-address=${CSI_CONTROLLER_SOCKET}`,
        `--timeout=${SNAPSHOTTER_TIMEOUT}`,
        '--leader-election',
        '--leader-election-namespace=$(POD_NAMESPACE)',
      ],
      envVariables: { POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE) },
      volumeMounts: [{ path: CSI_CONTROLLER_DIR, volume: controllerSocketDir }],
      securityContext: { ensureNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, user: 65532, group: 65532 },
      resources: {
        cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) },
        memory: { request: Size.mebibytes(32), limit: Size.mebibytes(256) },
      },
    });
    // cdk8s tags pods with its construct path; keep the template to labels we chose.
    ApiObject.of(deployment).addJsonPatch(JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'));
  }
}

/** The CSI node plugin: CSIDriver object and the node DaemonSet (the operator image runs the plugin). */
export class CsiChart extends Chart {
  constructor(scope: Construct, id: string, images: ImageReferences = DEFAULT_IMAGES) {
    super(scope, id, { disableResourceNameHashes: true });
    addCsiDriver(this);
    addCsiNodeDaemonSet(this, OPERATOR_NAMESPACE, images.operatorImage);
  }
}

/** A StorageClass in the in-tree provisioner's parameter style, as a sample (not installed by default). */
export class SampleStorageClassChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { disableResourceNameHashes: true });
    addSampleStorageClass(this);
  }
}
