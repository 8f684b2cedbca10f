import { ApiObject, type Chart } from 'cdk8s';
import { DRIVER_NAME } from '../src/api/group.ts';
import { OPERATOR_IMAGE } from '../src/deploy/images.ts';
import { PART_OF } from '../src/deploy/labels.ts';

/**
 * The CSI side of mounting on current Kubernetes (the in-tree kubernetes.io/glusterfs plugin is gone since
 * 1.26): the CSIDriver object, the node plugin DaemonSet with node-driver-registrar, and a sample StorageClass
 * in the in-tree parameter style. Plain ApiObjects: every field of a privileged node plugin is spelled out here
 * rather than left to cdk8s-plus defaults (non-root, read-only root, limits) that would break mounting.
 */
export const CSI_NODE_NAME = 'gluster-csi-node';
export const CSI_REGISTRAR_IMAGE = 'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0';
/** node-driver-registrar's /healthz. The pod is on the host network: a port no other common CSI driver uses. */
export const CSI_REGISTRAR_HEALTH_PORT = 9819;
export const SAMPLE_STORAGE_CLASS = 'glusterfs-replicate-3';

const KUBELET_DIR = '/var/lib/kubelet';
const PLUGIN_DIR = `${KUBELET_DIR}/plugins/${DRIVER_NAME}`;
const SOCKET_IN_POD = '/csi/csi.sock';

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
          // systemd-run --scope (see src/csi/mounter.ts) hands the host's systemd a PID: it must be a host PID.
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
              command: ['node', 'src/csi/main.ts'],
              args: [`--endpoint=unix://${SOCKET_IN_POD}`, '--node-id=$(NODE_NAME)', '--systemd-scope=auto'],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              // Mounting needs CAP_SYS_ADMIN and /dev/fuse; mounts must propagate to the host (Bidirectional).
              securityContext: { privileged: true, allowPrivilegeEscalation: true, runAsUser: 0, runAsNonRoot: false },
              // No memory limit: without a systemd scope the FUSE clients are in this container's cgroup, and an
              // OOM kill of one would break a pod's volume.
              resources: { requests: { cpu: '20m', memory: '64Mi' } },
              livenessProbe: probe(false),
              readinessProbe: probe(true),
              volumeMounts: [
                { name: 'plugin-dir', mountPath: '/csi' },
                { name: 'kubelet-dir', mountPath: KUBELET_DIR, mountPropagation: 'Bidirectional' },
                { name: 'dev', mountPath: '/dev' },
                { name: 'systemd-run', mountPath: '/run/systemd' },
                { name: 'glusterfs-logs', mountPath: '/var/log/glusterfs' },
              ],
            },
            {
              name: 'node-driver-registrar',
              image: CSI_REGISTRAR_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              args: [
                `--csi-address=${SOCKET_IN_POD}`,
                `--kubelet-registration-path=${PLUGIN_DIR}/csi.sock`,
                `--http-endpoint=:${CSI_REGISTRAR_HEALTH_PORT}`,
                '--v=2',
              ],
              ports: [{ name: 'healthz', containerPort: CSI_REGISTRAR_HEALTH_PORT }],
              livenessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, initialDelaySeconds: 10, periodSeconds: 30, timeoutSeconds: 10 },
              securityContext: { privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsUser: 0 },
              resources: { requests: { cpu: '10m', memory: '20Mi' }, limits: { memory: '64Mi' } },
              volumeMounts: [
                { name: 'plugin-dir', mountPath: '/csi' },
                { name: 'registration-dir', mountPath: '/registration' },
              ],
            },
          ],
          volumes: [
            hostPathVolume('plugin-dir', PLUGIN_DIR, 'DirectoryOrCreate'),
            hostPathVolume('kubelet-dir', KUBELET_DIR, 'Directory'),
            hostPathVolume('registration-dir', `${KUBELET_DIR}/plugins_registry`, 'Directory'),
            hostPathVolume('dev', '/dev', 'Directory'),
            // The host's systemd socket for systemd-run; an empty directory on hosts without systemd (then unused).
            hostPathVolume('systemd-run', '/run/systemd', 'DirectoryOrCreate'),
            // FUSE client logs on the host, where they outlive the pod.
            hostPathVolume('glusterfs-logs', '/var/log/glusterfs', 'DirectoryOrCreate'),
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
