import { App, Chart } from 'cdk8s';
import { expect } from 'chai';
import { addCsiObjects } from '../../cdk8s/csi.ts';
import { DRIVER_NAME } from '../../src/api/group.ts';
import { OPERATOR_IMAGE } from '../../src/deploy/images.ts';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [key: string]: any };

function render(options?: Parameters<typeof addCsiObjects>[1]): Obj[] {
  const chart = new Chart(new App(), 'csi', { disableResourceNameHashes: true });
  addCsiObjects(chart, options);
  return chart.toJson() as Obj[];
}

describe('CSI manifests (cdk8s/csi.ts)', () => {
  const objects = render();
  const byKind = (kind: string) => objects.find((o) => o.kind === kind)!;

  it('declares a node-only CSIDriver: no attach, no pod info, Persistent volumes only', () => {
    const driver = byKind('CSIDriver');
    expect(driver.apiVersion).to.equal('storage.k8s.io/v1');
    expect(driver.metadata.name).to.equal(DRIVER_NAME);
    expect(driver.spec).to.deep.include({ attachRequired: false, podInfoOnMount: false, fsGroupPolicy: 'ReadWriteOnceWithFSType' });
    expect(driver.spec.volumeLifecycleModes).to.deep.equal(['Persistent']);
  });

  it('runs the plugin privileged with Bidirectional kubelet mounts, on the host network and PID namespace', () => {
    const ds = byKind('DaemonSet');
    expect(ds.metadata.namespace).to.equal('gluster-operator');
    const pod = ds.spec.template.spec;
    expect(pod).to.deep.include({ hostNetwork: true, hostPID: true });
    expect(ds.spec.selector.matchLabels).to.deep.equal({ 'app.kubernetes.io/name': 'gluster-csi-node' });
    expect(ds.spec.template.metadata.labels).to.include(ds.spec.selector.matchLabels);
    const plugin = pod.containers.find((c: Obj) => c.name === 'csi-plugin');
    expect(plugin.image).to.equal(OPERATOR_IMAGE);
    expect(plugin.imagePullPolicy).to.equal('IfNotPresent');
    // Relative paths in command and probes resolve here, whatever WORKDIR a build of the image has.
    expect(plugin.workingDir).to.equal('/opt/gluster-operator');
    expect([...plugin.command, ...plugin.args]).to.deep.equal([
      'node', 'src/csi/main.ts', '--endpoint=unix:///csi/csi.sock', '--node-id=$(NODE_NAME)',
      '--registration-dir=/registration', `--kubelet-registration-path=/var/lib/kubelet/plugins/${DRIVER_NAME}/csi.sock`,
      '--fuse-isolation=auto', '--host-cgroup-root=/host/sys/fs/cgroup',
    ]);
    expect(plugin.securityContext.privileged).to.equal(true);
    expect(plugin.resources.limits).to.equal(undefined);
    const mounts = Object.fromEntries(plugin.volumeMounts.map((m: Obj) => [m.mountPath, m]));
    expect(mounts['/var/lib/kubelet'].mountPropagation).to.equal('Bidirectional');
    expect(mounts['/csi']).to.not.equal(undefined);
    expect(mounts['/dev']).to.not.equal(undefined);
    expect(plugin.livenessProbe.exec.command.slice(0, 2)).to.deep.equal(['node', 'src/csi/probe.ts']);
    expect(plugin.readinessProbe.exec.command).to.include('--ready');
    const volumes = Object.fromEntries(pod.volumes.map((v: Obj) => [v.name, v.hostPath.path]));
    expect(volumes['plugin-dir']).to.equal(`/var/lib/kubelet/plugins/${DRIVER_NAME}`);
    expect(volumes['registration-dir']).to.equal('/var/lib/kubelet/plugins_registry');
  });

  it('is one container that registers itself with kubelet: plugins_registry at /registration, no registrar sidecar', () => {
    const pod = byKind('DaemonSet').spec.template.spec;
    expect(pod.containers.map((c: Obj) => c.name)).to.deep.equal(['csi-plugin']);
    const mounts = Object.fromEntries(pod.containers[0].volumeMounts.map((m: Obj) => [m.mountPath, m.name]));
    const volumes = Object.fromEntries(pod.volumes.map((v: Obj) => [v.name, v.hostPath]));
    expect(volumes[mounts['/registration']]).to.deep.equal({ path: '/var/lib/kubelet/plugins_registry', type: 'Directory' });
    // The CSI socket the plugin serves at /csi/csi.sock is the path it tells kubelet.
    expect(volumes[mounts['/csi']].path).to.equal(`/var/lib/kubelet/plugins/${DRIVER_NAME}`);
  });

  it('gives the plugin the host\'s cgroup tree and systemd sockets, to start FUSE clients outside its own cgroup', () => {
    const pod = byKind('DaemonSet').spec.template.spec;
    const mounts = Object.fromEntries(pod.containers[0].volumeMounts.map((m: Obj) => [m.mountPath, m]));
    const volumes = Object.fromEntries(pod.volumes.map((v: Obj) => [v.name, v.hostPath]));
    expect(volumes[mounts['/host/sys/fs/cgroup'].name]).to.deep.equal({ path: '/sys/fs/cgroup', type: 'Directory' });
    expect(mounts['/host/sys/fs/cgroup'].readOnly).to.not.equal(true);
    expect(volumes[mounts['/run/systemd'].name]).to.deep.equal({ path: '/run/systemd', type: 'DirectoryOrCreate' });
  });

  it('gives the plugin a writable TLS_ROOT on the host, apart from the servers\' one, so FUSE clients keep their files across plugin restarts', () => {
    const pod = byKind('DaemonSet').spec.template.spec;
    const mounts = Object.fromEntries(pod.containers[0].volumeMounts.map((m: Obj) => [m.mountPath, m]));
    const volumes = Object.fromEntries(pod.volumes.map((v: Obj) => [v.name, v]));
    const tls = mounts['/var/lib/gluster-operator/tls'];
    expect(tls.readOnly).to.not.equal(true);
    expect(volumes[tls.name].hostPath).to.deep.equal({ path: `/var/lib/kubelet/plugins/${DRIVER_NAME}/tls`, type: 'DirectoryOrCreate' });
    expect(pod.containers[0].securityContext.readOnlyRootFilesystem).to.not.equal(true);
  });

  it('offers a sample StorageClass with in-tree style parameters', () => {
    const sc = byKind('StorageClass');
    expect(sc).to.deep.include({ provisioner: DRIVER_NAME, reclaimPolicy: 'Delete', allowVolumeExpansion: true, volumeBindingMode: 'Immediate' });
    expect(sc.parameters).to.deep.equal({ volumetype: 'replicate:3', clusterid: 'main', clusternamespace: 'gluster' });
    expect(render({ sampleStorageClass: false }).map((o) => o.kind)).to.deep.equal(['CSIDriver', 'DaemonSet']);
  });
});
