import { expect } from 'chai';
import { glusterdPodLabels, renderGlusterdDaemonSet } from '../../src/deploy/glusterd-daemonset.ts';

describe('glusterd DaemonSet construct', () => {
  const options = { clusterName: 'main', namespace: 'gluster', nodeSelector: { storagenode: 'glusterfs' } };
  const daemonSet = renderGlusterdDaemonSet(options) as any;
  const pod = daemonSet.spec.template.spec;
  const container = pod.containers[0];

  it('is a privileged hostNetwork pod on the selected nodes', () => {
    expect(daemonSet.kind).to.equal('DaemonSet');
    expect(daemonSet.metadata).to.include({ name: 'glusterd-main', namespace: 'gluster' });
    expect(pod.hostNetwork).to.equal(true);
    expect(pod.dnsPolicy).to.equal('ClusterFirstWithHostNet');
    expect(pod.nodeSelector).to.deep.equal({ storagenode: 'glusterfs' });
    expect(container.securityContext).to.include({ privileged: true, runAsUser: 0, readOnlyRootFilesystem: false });
  });

  it('selects its pods by labels derived from the cluster name only', () => {
    expect(daemonSet.spec.selector.matchLabels).to.deep.equal(glusterdPodLabels('main'));
    expect(daemonSet.spec.template.metadata.labels).to.include(glusterdPodLabels('main'));
    expect(Object.keys(daemonSet.spec.template.metadata.labels).join(',')).to.not.contain('cdk8s.io');
    const other = renderGlusterdDaemonSet({ ...options, clusterName: 'other' }) as any;
    expect(other.spec.selector.matchLabels).to.not.deep.equal(daemonSet.spec.selector.matchLabels);
  });

  it('mounts the host state glusterd and LVM need', () => {
    const mounts = Object.fromEntries(container.volumeMounts.map((m: any) => [m.mountPath, m]));
    for (const path of ['/var/lib/glusterd', '/etc/glusterfs', '/var/log/glusterfs', '/run/lvm', '/etc/lvm', '/dev']) {
      expect(mounts, path).to.have.property(path);
      const volume = pod.volumes.find((v: any) => v.name === mounts[path].name);
      expect(volume.hostPath.path, path).to.equal(path);
    }
    expect(mounts['/var/lib/gluster-operator/bricks'].mountPropagation).to.equal('Bidirectional');
  });

  it('mounts nothing a host may lack: no kernel modules or sysfs paths (a monolithic kernel has no /lib/modules)', () => {
    const hostPaths = pod.volumes.map((v: any) => v.hostPath.path);
    for (const path of ['/lib/modules', '/sys/module', '/sys/class']) expect(hostPaths, path).to.not.include(path);
    // Every path that must already exist is one every Linux host has.
    const mustExist = pod.volumes.filter((v: any) => v.hostPath.type === 'Directory').map((v: any) => v.hostPath.path);
    expect(mustExist).to.deep.equal(['/dev']);
  });

  it('pins its image and probes glusterd', () => {
    expect(container.image).to.match(/:v\d+\.\d+\.\d+-glusterfs[\d.]+$/);
    expect(container.image).to.not.match(/:latest$/);
    expect(renderGlusterdDaemonSet({ ...options, image: 'registry.local/glusterd:1' }).spec).to.satisfy(
      (spec: any) => spec.template.spec.containers[0].image === 'registry.local/glusterd:1',
    );
    expect(container.livenessProbe.tcpSocket.port).to.equal(24007);
    expect(container.readinessProbe.exec.command).to.deep.equal(['gluster', '--mode=script', 'pool', 'list']);
    expect(container.ports.map((p: any) => p.hostPort)).to.include(24007);
  });

  it('requests resources without a memory limit that would kill bricks', () => {
    expect(container.resources.requests).to.deep.equal({ cpu: '100m', memory: '256Mi' });
    expect(container.resources.limits).to.equal(undefined);
  });
});
