import { ApiObject, type Chart } from 'cdk8s';
import { DRIVER_NAME } from '../src/api/group.ts';
import { OPERATOR_IMAGE } from '../src/deploy/images.ts';
import { PART_OF } from '../src/deploy/labels.ts';
import { TLS_ROOT } from '../src/gluster/tls.ts';

/**
 * The CSI side of mounting on current Kubernetes (the in-tree kubernetes.io/glusterfs plugin is gone since
 * 1.26): the CSIDriver object, the node plugin DaemonSet, and a sample StorageClass in the in-tree parameter
 * style. Plain ApiObjects: every field of a privileged node plugin is spelled out here rather than left to
 * cdk8s-plus defaults (non-root, read-only root, limits) that would break mounting.
 *
 * One container per node: the plugin registers itself with kubelet (src/csi/registration.ts) instead of
 * running node-driver-registrar next to it.
 */
export const CSI_NODE_NAME = 'gluster-csi-node';
export const SAMPLE_STORAGE_CLASS = 'glusterfs-replicate-3';
/** Where the operator image keeps the sources (hack/images/operator.Dockerfile's WORKDIR). */
export const IMAGE_WORKDIR = '/opt/gluster-operator';
/**
 * The node plugin's /metrics (--metrics-address). Host network: the port is taken on every node, so one
 * that node agents rarely use (9808 is the CSI livenessprobe's habit).
 */
export const CSI_METRICS_PORT = 9809;

const KUBELET_DIR = '/var/lib/kubelet';
const PLUGIN_DIR = `${KUBELET_DIR}/plugins/${DRIVER_NAME}`;
const SOCKET_IN_POD = '/csi/csi.sock';
const REGISTRATION_IN_POD = '/registration';
/**
 * Where the plugin keeps TLS clusters' client files on the host (src/csi/tls-files.ts), seen at TLS_ROOT in the
 * container. Not the servers' TLS_ROOT on the host (the glusterd pods write that one), and not the container's
 * own filesystem: FUSE clients outlive the container that started them and read the files again at every new
 * graph, so the files must outlive it too.
 */
const TLS_ON_HOST = `${PLUGIN_DIR}/tls`;
/** The host's cgroup tree, for --fuse-isolation=host-cgroup (the container's own /sys/fs/cgroup is only its subtree). */
const HOST_CGROUP_IN_POD = '/host/sys/fs/cgroup';

export interface CsiObjectsOptions {
  namespace?: string;
  image?: string;
  /** Also emit the sample StorageClass (default true). */
  sampleStorageClass?: boolean;
}

export function addCsiObjects(chart: Chart, options: CsiObjectsOptions = {}): void {
  const namespace = options.namespace ?? 'gluster-operator';
  addCsiDriver(chart);
  addCsiNodeDaemonSet(chart, namespace, options.image ?? OPERATOR_IMAGE);
  if (options.sampleStorageClass ?? true) addSampleStorageClass(chart);
}

export function addCsiDriver(chart: Chart): ApiObject {
  return new ApiObject(chart, 'csi-driver', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIDriver',
    metadata: { name: DRIVER_NAME, labels: { ...PART_OF } },
    spec: {
      // No ControllerPublishVolume: a FUSE mount needs no attach step, and no external-attacher runs.
      attachRequired: false,
      podInfoOnMount: false,
      // Gluster volumes are shared (RWX) with no fsType: kubelet must not chown/chmod them recursively for
      // every pod's fsGroup (slow on big volumes, and it fights other consumers). Group access comes from the
      // volume's GID (bricks chown :GID, chmod 2775; pv.beta.kubernetes.io/gid) as with the in-tree plugin.
      fsGroupPolicy: 'ReadWriteOnceWithFSType',
      volumeLifecycleModes: ['Persistent'],
      requiresRepublish: false,
    },
  });
}

function hostPathVolume(name: string, path: string, type: 'Directory' | 'DirectoryOrCreate') {
  return { name, hostPath: { path, type } };
}

export function addCsiNodeDaemonSet(chart: Chart, namespace: string, image: string): ApiObject {
  const labels = { 'app.kubernetes.io/name': CSI_NODE_NAME, 'app.kubernetes.io/component': 'csi-node', ...PART_OF };
  const selector = { 'app.kubernetes.io/name': CSI_NODE_NAME };
  const probe = (ready: boolean) => ({
    exec: { command: ['node', 'src/csi/probe.ts', `--endpoint=unix://${SOCKET_IN_POD}`, ...(ready ? ['--ready'] : [])] },
    periodSeconds: ready ? 10 : 30,
    timeoutSeconds: 10,
    failureThreshold: 3,
  });
  return new ApiObject(chart, 'csi-node-daemonset', {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: CSI_NODE_NAME, namespace, labels },
    spec: {
      selector: { matchLabels: selector },
      // One node at a time: a rollout restarts plugins, and mounts must keep working meanwhile.
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          // The FUSE clients the plugin starts live in this pod's network namespace; a pod network namespace is
          // torn down with the pod, which would cut every mount off its servers on a plugin update.
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          // Both ways out of the container's cgroup need host PIDs: systemd-run --scope hands the host's systemd
          // a PID, and host-cgroup reads the host init's cgroups from /proc/1/cgroup (see src/csi/fuse-isolation.ts).
          hostPID: true,
          priorityClassName: 'system-node-critical',
          automountServiceAccountToken: false,
          // Pods using Gluster volumes may run on any node, tainted or not.
          tolerations: [{ operator: 'Exists' }],
          containers: [
            {
              name: 'csi-plugin',
              image,
              imagePullPolicy: 'IfNotPresent',
              // The image sets it too; spelled out so `node src/csi/...` resolves on any build of the image.
              workingDir: IMAGE_WORKDIR,
              command: ['node', 'src/csi/main.ts'],
              args: [
                `--endpoint=unix://${SOCKET_IN_POD}`,
                '--node-id=$(NODE_NAME)',
                `--registration-dir=${REGISTRATION_IN_POD}`,
                // kubelet dials the CSI socket itself: its path on the host, not in this container.
                `--kubelet-registration-path=${PLUGIN_DIR}/csi.sock`,
                '--fuse-isolation=auto',
                `--host-cgroup-root=${HOST_CGROUP_IN_POD}`,
              ],
              ports: [{ name: 'metrics', containerPort: CSI_METRICS_PORT, protocol: 'TCP' }],
              env: [
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                // --metrics-address: every address of the node (a pod IP here would need brackets on IPv6 nodes).
                { name: 'METRICS_ADDRESS', value: `:${CSI_METRICS_PORT}` },
              ],
              // Mounting needs CAP_SYS_ADMIN and /dev/fuse; mounts must propagate to the host (Bidirectional);
              // joining the host's cgroups needs a writable cgroupfs.
              securityContext: { privileged: true, allowPrivilegeEscalation: true, runAsUser: 0, runAsNonRoot: false },
              // No memory limit: when the FUSE clients cannot leave this container's cgroup (isolation none),
              // an OOM kill of one would break a pod's volume.
              resources: { requests: { cpu: '20m', memory: '64Mi' } },
              livenessProbe: probe(false),
              readinessProbe: probe(true),
              volumeMounts: [
                { name: 'plugin-dir', mountPath: '/csi' },
                { name: 'registration-dir', mountPath: REGISTRATION_IN_POD },
                { name: 'kubelet-dir', mountPath: KUBELET_DIR, mountPropagation: 'Bidirectional' },
                { name: 'dev', mountPath: '/dev' },
                { name: 'host-cgroup', mountPath: HOST_CGROUP_IN_POD },
                { name: 'systemd-run', mountPath: '/run/systemd' },
                { name: 'glusterfs-logs', mountPath: '/var/log/glusterfs' },
                { name: 'tls', mountPath: TLS_ROOT },
              ],
            },
          ],
          volumes: [
            hostPathVolume('plugin-dir', PLUGIN_DIR, 'DirectoryOrCreate'),
            // kubelet creates it at start and watches it for registration sockets.
            hostPathVolume('registration-dir', `${KUBELET_DIR}/plugins_registry`, 'Directory'),
            hostPathVolume('kubelet-dir', KUBELET_DIR, 'Directory'),
            hostPathVolume('dev', '/dev', 'Directory'),
            // Every Linux host has it; v1 hierarchies under it come along (hostPath mounts are recursive binds).
            hostPathVolume('host-cgroup', '/sys/fs/cgroup', 'Directory'),
            // The host's systemd sockets, for systemd-run. DirectoryOrCreate because neither alternative works
            // on a host without systemd: Directory refuses to start the pod, and an unchecked ("") path makes the
            // runtime fail the container (CRI: a missing host path is an error). The empty /run/systemd it
            // leaves (tmpfs, gone at reboot) misleads nobody: systemd's own test, and ours, is /run/systemd/system.
            hostPathVolume('systemd-run', '/run/systemd', 'DirectoryOrCreate'),
            // FUSE client logs on the host, where they outlive the pod.
            hostPathVolume('glusterfs-logs', '/var/log/glusterfs', 'DirectoryOrCreate'),
            // The certificate, key and CA of TLS volumes, written at publish from the PV's nodePublishSecretRef.
            hostPathVolume('tls', TLS_ON_HOST, 'DirectoryOrCreate'),
          ],
        },
      },
    },
  });
}

/** In-tree parameter names, so users' existing StorageClasses keep their meaning under the new provisioner. */
export function addSampleStorageClass(chart: Chart): ApiObject {
  return new ApiObject(chart, 'sample-storage-class', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: SAMPLE_STORAGE_CLASS, labels: { ...PART_OF } },
    provisioner: DRIVER_NAME,
    parameters: { volumetype: 'replicate:3', clusterid: 'main', clusternamespace: 'gluster' },
    reclaimPolicy: 'Delete',
    allowVolumeExpansion: true,
    volumeBindingMode: 'Immediate',
  });
}
