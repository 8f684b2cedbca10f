import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_IMAGES } from '../../cdk8s/charts.ts';
import { synthesizeFiles } from '../../cdk8s/synthesize.ts';
import { REPO_ROOT } from '../support/paths.ts';

describe('generated crds/ and manifests/', () => {
  const files = synthesizeFiles();

  it('match what `npm run synth` writes (run it and commit when this fails)', () => {
    for (const [path, content] of files) {
      const full = join(REPO_ROOT, path);
      expect(existsSync(full), `${path} is missing`).to.equal(true);
      expect(readFileSync(full, 'utf8') === content, `${path} is stale`).to.equal(true);
    }
  });

  it('hold no file a synth would delete', () => {
    for (const dir of ['crds', 'manifests']) {
      for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
        if (entry.isFile()) expect(files.has(`${dir}/${entry.name}`), `${dir}/${entry.name} is not generated`).to.equal(true);
      }
    }
  });
});

describe('synth with other image references (npm run synth -- --out DIR --operator-image REF --glusterd-image REF --snapshotter-image REF)', () => {
  const images = { operatorImage: 'mirror.invalid:5000/team/gluster-operator@sha256:0123', glusterdImage: 'glusterd:kind-dev', snapshotterImage: 'mirror.invalid:5000/sig-storage/csi-snapshotter:v8.7.0' };
  const defaults = synthesizeFiles();
  const other = synthesizeFiles(images);

  it('writes the same files, differing only in the image references', () => {
    expect([...other.keys()]).to.deep.equal([...defaults.keys()]);
    for (const [path, content] of defaults) {
      const expected = content
        .replaceAll(DEFAULT_IMAGES.operatorImage, images.operatorImage)
        .replaceAll(DEFAULT_IMAGES.glusterdImage, images.glusterdImage)
        .replaceAll(DEFAULT_IMAGES.snapshotterImage, images.snapshotterImage);
      expect(other.get(path) === expected, path).to.equal(true);
    }
  });

  it('puts the operator image on the operator and the CSI plugin, and hands the glusterd image to the operator', () => {
    const objects = (path: string) => parseAllDocuments(other.get(path)!).map((d) => d.toJS() as any);
    const [deployment] = objects('manifests/20-operator.yaml');
    const operator = deployment.spec.template.spec.containers[0];
    expect(operator.image).to.equal(images.operatorImage);
    expect(operator.env).to.deep.include({ name: 'GLUSTERD_IMAGE', value: images.glusterdImage });
    const daemonSet = objects('manifests/30-csi.yaml').find((o) => o.kind === 'DaemonSet');
    expect(daemonSet.spec.template.spec.containers.map((c: any) => c.image)).to.deep.equal([images.operatorImage]);
    expect(deployment.spec.template.spec.containers.map((c: any) => c.image)).to.deep.equal([images.operatorImage, images.snapshotterImage]);
  });
});

describe('operator Deployment (manifests/20-operator.yaml)', () => {
  const [deployment] = parseAllDocuments(synthesizeFiles().get('manifests/20-operator.yaml')!).map((d) => d.toJS() as any);
  const pod = deployment.spec.template.spec;

  it('runs two replicas with Lease leader election, spread over nodes where it can', () => {
    expect(deployment.spec.replicas).to.equal(2);
    expect(deployment.spec.strategy.rollingUpdate).to.deep.equal({ maxSurge: 1, maxUnavailable: 0 });
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.LEADER_ELECTION).to.equal('true');
    expect(env.POD_NAME).to.deep.equal({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).to.equal(undefined);
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).to.deep.equal([
      { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: deployment.spec.selector.matchLabels }, topologyKey: 'kubernetes.io/hostname' } },
    ]);
    expect(pod.containers[0].readinessProbe.httpGet.path).to.equal('/readyz');
  });

  it('runs the csi-snapshotter sidecar on the operator\'s CSI controller socket, in a directory only the two containers share', () => {
    const [operator, snapshotter] = pod.containers;
    expect(snapshotter.name).to.equal('csi-snapshotter');
    const env = Object.fromEntries(operator.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    const mountOf = (container: any) => container.volumeMounts.find((m: any) => m.mountPath === '/csi');
    expect(env.CSI_CONTROLLER_ENDPOINT).to.equal('unix:///csi/controller.sock');
    expect(snapshotter.args).to.include('--csi-address=/csi/controller.sock');
    expect(mountOf(operator).name).to.equal(mountOf(snapshotter).name);
    expect(pod.volumes.find((v: any) => v.name === mountOf(operator).name)).to.have.property('emptyDir');
    // Two replicas, two sidecars: one Lease between them, in the operator's namespace.
    expect(snapshotter.args).to.include.members(['--leader-election', '--leader-election-namespace=$(POD_NAMESPACE)']);
    expect(snapshotter.securityContext).to.include({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // Longer than the operator holds a standby's Probe (src/main.ts), or a held probe would count as failed.
    expect(Number(/^--timeout=(\d+)s$/.exec(snapshotter.args.find((a: string) => a.startsWith('--timeout=')))![1])).to.be.above(60);
  });
});
