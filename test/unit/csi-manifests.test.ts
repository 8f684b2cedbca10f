import { App, Chart } from 'cdk8s';
import { expect } from 'chai';
import { addCsiObjects, CSI_REGISTRAR_IMAGE } from '../../cdk8s/csi.ts';
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
    expect([...plugin.command, ...plugin.args]).to.deep.equal([
      'node', 'src/csi/main.ts', '--endpoint=unix:///csi/csi.sock', '--node-id=$(NODE_NAME)', '--systemd-scope=auto',
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

  it('registers the plugin with kubelet through node-driver-registrar', () => {
    const pod = byKind('DaemonSet').spec.template.spec;
    const registrar = pod.containers.find((c: Obj) => c.name === 'node-driver-registrar');
    expect(registrar.image).to.equal(CSI_REGISTRAR_IMAGE);
    expect(registrar.image).to.equal('registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0');
    expect(registrar.args).to.include('--csi-address=/csi/csi.sock');
    expect(registrar.args).to.include(`--kubelet-registration-path=/var/lib/kubelet/plugins/${DRIVER_NAME}/csi.sock`);
    expect(registrar.volumeMounts.map((m: Obj) => m.mountPath).sort()).to.deep.equal(['/csi', '/registration']);
    expect(registrar.livenessProbe.httpGet.path).to.equal('/healthz');
  });

  it('offers a sample StorageClass with in-tree style parameters', () => {
    const sc = byKind('StorageClass');
    expect(sc).to.deep.include({ provisioner: DRIVER_NAME, reclaimPolicy: 'Delete', allowVolumeExpansion: true, volumeBindingMode: 'Immediate' });
    expect(sc.parameters).to.deep.equal({ volumetype: 'replicate:3', clusterid: 'main', clusternamespace: 'gluster' });
    expect(render({ sampleStorageClass: false }).map((o) => o.kind)).to.deep.equal(['CSIDriver', 'DaemonSet']);
  });
});
