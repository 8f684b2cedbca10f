import { ApiObject, App, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { TLS_ROOT } from '../gluster/tls.ts';
import { GLUSTERD_IMAGE } from './images.ts';
import { CLUSTER_LABEL, MANAGED_BY, PART_OF } from './labels.ts';

/**
 * The glusterd DaemonSet (what gk-deploy created by hand), as a construct the manifests and the operator's
 * GlusterCluster reconciler share. glusterd needs the host: hostNetwork so peers and clients reach it at the
 * node's address, privileged for LVM, device nodes and mounts, and the host's state directories so a pod
 * restart keeps the node's identity, volumes and bricks.
 */
export interface GlusterdDaemonSetOptions {
  /** Name of the GlusterCluster; names the DaemonSet and labels its pods. */
  clusterName: string;
  namespace: string;
  nodeSelector: Record<string, string>;
  image?: string;
}

/**
 * Host paths glusterd needs and why. Deliberately not mounted: /lib/modules, /sys/module and /sys/class. A
 * privileged container already sees the host's sysfs; the device-mapper modules LVM bricks need (dm_thin_pool,
 * dm_snapshot, dm_mirror) must be loaded on the host anyway (at boot, e.g. modules-load.d); and /lib/modules
 * does not exist at all on hosts with a monolithic kernel (this project's test machines among them), where a
 * `Directory` hostPath keeps the pod from ever starting.
 */
const HOST_MOUNTS: ReadonlyArray<{ name: string; path: string; type: kplus.HostPathVolumeType }> = [
  // Peer identity (glusterd.info), volume definitions and the trusted pool: losing it loses the node.
  { name: 'glusterd-state', path: '/var/lib/glusterd', type: kplus.HostPathVolumeType.DIRECTORY_OR_CREATE },
  { name: 'glusterfs-config', path: '/etc/glusterfs', type: kplus.HostPathVolumeType.DIRECTORY_OR_CREATE },
  { name: 'glusterfs-logs', path: '/var/log/glusterfs', type: kplus.HostPathVolumeType.DIRECTORY_OR_CREATE },
  // LVM's lock and metadata cache must be the host's, or host and pod corrupt each other's view.
  { name: 'lvm-run', path: '/run/lvm', type: kplus.HostPathVolumeType.DIRECTORY_OR_CREATE },
  { name: 'lvm-config', path: '/etc/lvm', type: kplus.HostPathVolumeType.DIRECTORY_OR_CREATE },
  { name: 'dev', path: '/dev', type: kplus.HostPathVolumeType.DIRECTORY },
  // Brick mounts live here; mounted from the pod and seen by the host (Bidirectional below).
  { name: 'brick-mounts', path: '/var/lib/gluster-operator/bricks', type: kplus.HostPathVolumeType.DIRECTORY_OR_CREATE },
  // Clusters with spec.tls: the certificate, key and CA the operator copies here (src/gluster/tls.ts). On the
  // host, so bricks that glusterd restarts with the pod still find them.
  { name: 'tls', path: TLS_ROOT, type: kplus.HostPathVolumeType.DIRECTORY_OR_CREATE },
];

export const GLUSTERD_PORTS = { management: 24007, rdma: 24008, bricksFirst: 49152, bricksLast: 49251 } as const;

export function glusterdDaemonSetName(clusterName: string): string {
  return `glusterd-${clusterName}`;
}

export function glusterdPodLabels(clusterName: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'glusterd', [CLUSTER_LABEL]: clusterName };
}

export class GlusterdDaemonSet extends kplus.DaemonSet {
  constructor(scope: Construct, id: string, options: GlusterdDaemonSetOptions) {
    const podLabels = glusterdPodLabels(options.clusterName);
    super(scope, id, {
      metadata: {
        name: glusterdDaemonSetName(options.clusterName),
        namespace: options.namespace,
        labels: { ...podLabels, ...PART_OF, ...MANAGED_BY },
      },
      // The selector is immutable; derive it from the cluster name, never from the construct path.
      select: false,
      hostNetwork: true,
      dns: { policy: kplus.DnsPolicy.CLUSTER_FIRST_WITH_HOST_NET },
      automountServiceAccountToken: false,
      securityContext: { ensureNonRoot: false },
      isolate: false,
    });
    this.select(kplus.LabelSelector.of({ labels: podLabels }));
    for (const [key, value] of Object.entries({ ...podLabels, ...PART_OF })) this.podMetadata.addLabel(key, value);

    const container = this.addContainer({
      name: 'glusterd',
      image: options.image ?? GLUSTERD_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      securityContext: {
        privileged: true,
        ensureNonRoot: false,
        readOnlyRootFilesystem: false,
        allowPrivilegeEscalation: true,
        user: 0,
        group: 0,
      },
      // Requests only: a memory limit would OOM-kill brick processes, which run inside this container.
      resources: {
        cpu: { request: kplus.Cpu.millis(100) },
        memory: { request: Size.mebibytes(256) },
      },
      ports: [
        { name: 'management', number: GLUSTERD_PORTS.management, hostPort: GLUSTERD_PORTS.management },
        { name: 'rdma', number: GLUSTERD_PORTS.rdma, hostPort: GLUSTERD_PORTS.rdma },
      ],
      // glusterd answers on 24007 as soon as it is up; Ready means it also answers CLI requests.
      liveness: kplus.Probe.fromTcpSocket({
        port: GLUSTERD_PORTS.management,
        initialDelaySeconds: Duration.seconds(30),
        periodSeconds: Duration.seconds(20),
        failureThreshold: 6,
      }),
      readiness: kplus.Probe.fromCommand(['gluster', '--mode=script', 'pool', 'list'], {
        initialDelaySeconds: Duration.seconds(5),
        periodSeconds: Duration.seconds(10),
        timeoutSeconds: Duration.seconds(5),
        failureThreshold: 3,
      }),
    });
    for (const mount of HOST_MOUNTS) {
      const volume = kplus.Volume.fromHostPath(this, `${mount.name}-volume`, mount.name, { path: mount.path, type: mount.type });
      container.mount(mount.path, volume, {
        propagation: mount.name === 'brick-mounts' ? kplus.MountPropagation.BIDIRECTIONAL : undefined,
      });
    }

    const raw = ApiObject.of(this);
    raw.addJsonPatch(JsonPatch.add('/spec/template/spec/nodeSelector', options.nodeSelector));
    // cdk8s tags pods with its construct path; the operator and the manifests must render identical pods.
    raw.addJsonPatch(JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'));
  }
}

/** The DaemonSet as a plain object, for the operator to apply at run time. */
export function renderGlusterdDaemonSet(options: GlusterdDaemonSetOptions): Record<string, unknown> {
  const chart = new Chart(new App(), 'glusterd');
  new GlusterdDaemonSet(chart, 'daemonset', options);
  const [daemonSet] = chart.toJson() as Record<string, unknown>[];
  if (!daemonSet) throw new Error('glusterd chart rendered nothing');
  return daemonSet;
}
