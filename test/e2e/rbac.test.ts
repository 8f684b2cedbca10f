import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, GROUP_VERSION } from '../../src/api/index.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig, kubectl } from '../support/kube.ts';
import { killAllOperators, operatorKubeconfig, removeOperatorKubeconfig, startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';

const OPERATOR_USER = 'system:serviceaccount:gluster-operator:gluster-operator';

/**
 * The shipped RBAC (crds/, manifests/00-namespace.yaml and 10-rbac.yaml, applied by root-hooks.ts; no
 * Deployment) against the real apiserver: the operator's ServiceAccount may exec into pods, write DaemonSets
 * and read Secrets only where it serves GlusterClusters (its namespace, and a test namespace granted as an
 * install grants one: cdk8s/rbac.ts namespaceGrants), and a GlusterCluster anywhere else is refused with
 * NamespaceNotAllowed while the operator does nothing else for it.
 */
describe('operator RBAC and served namespaces (shipped manifests, real apiserver)', function () {
  this.timeout(180_000);
  let served: Awaited<ReturnType<typeof createTestNamespace>>;
  let refused: Awaited<ReturnType<typeof createTestNamespace>>;
  let operator: OperatorProcess | undefined;

  before(async () => {
    served = await createTestNamespace('rbac-served');
    refused = await createTestNamespace('rbac-refused', { servesGlusterClusters: false });
  });

  after(async () => {
    await killAllOperators();
    await kubectl(['-n', 'gluster-operator', 'delete', 'secrets', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
    await kubectl(['-n', 'gluster-operator', 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
    await refused?.remove();
    await served?.remove();
    removeOperatorKubeconfig();
  });

  /** `kubectl auth can-i` as the operator's ServiceAccount: "yes" or "no". `pods/exec` means the subresource (can-i reads TYPE/NAME). */
  async function canI(verb: string, resource: string, scope: { namespace: string } | 'all-namespaces'): Promise<string> {
    const where = scope === 'all-namespaces' ? ['--all-namespaces'] : ['-n', scope.namespace];
    const [type, subresource] = resource.split('/') as [string, string | undefined];
    const what = [type, ...(subresource ? [`--subresource=${subresource}`] : [])];
    const { stdout } = await kubectl(['auth', 'can-i', verb, ...what, ...where, `--as=${OPERATOR_USER}`], { allowFailure: true });
    return stdout.trim();
  }

  const NAMESPACED_POWERS: Array<[string, string]> = [
    ['create', 'pods/exec'],
    ['get', 'pods/exec'],
    ['list', 'pods'],
    ['create', 'daemonsets.apps'],
    ['patch', 'daemonsets.apps'],
    ['get', 'secrets'],
  ];

  it('may not exec into pods, write DaemonSets or read Secrets in kube-system, default or a namespace it does not serve', async () => {
    for (const namespace of ['kube-system', 'default', refused.name]) {
      for (const [verb, resource] of NAMESPACED_POWERS) expect(await canI(verb, resource, { namespace }), `${verb} ${resource} in ${namespace}`).to.equal('no');
    }
  });

  it('holds nothing of that cluster-wide, nor the grants no code uses (writes to nodes and claims)', async () => {
    for (const [verb, resource] of [...NAMESPACED_POWERS, ['update', 'nodes'], ['patch', 'nodes'], ['delete', 'nodes'], ['update', 'persistentvolumeclaims'], ['patch', 'persistentvolumeclaims']] as Array<[string, string]>) {
      expect(await canI(verb, resource, 'all-namespaces'), `${verb} ${resource} cluster-wide`).to.equal('no');
    }
    // What it does need cluster-wide is there: claims read, their status written (resize), PVs.
    expect(await canI('watch', 'persistentvolumeclaims', 'all-namespaces')).to.equal('yes');
    expect(await canI('watch', 'nodes', 'all-namespaces')).to.equal('yes');
    expect(await canI('patch', 'persistentvolumeclaims/status', 'all-namespaces')).to.equal('yes');
    expect(await canI('create', 'persistentvolumes', 'all-namespaces')).to.equal('yes');
  });

  it('may do exactly those where it serves GlusterClusters: its own namespace and a granted one', async () => {
    for (const namespace of ['gluster-operator', served.name]) {
      for (const [verb, resource] of NAMESPACED_POWERS) expect(await canI(verb, resource, { namespace }), `${verb} ${resource} in ${namespace}`).to.equal('yes');
      // DaemonSets go with their GlusterCluster (garbage collector); Secrets there are only read.
      expect(await canI('delete', 'daemonsets.apps', { namespace }), `delete daemonsets in ${namespace}`).to.equal('no');
    }
    expect(await canI('create', 'secrets', { namespace: served.name })).to.equal('no');
  });

  it('its own token is refused by the apiserver: exec into a pod of kube-system, a DaemonSet in kube-system, a Secret of default', async () => {
    const config = new k8s.KubeConfig();
    config.loadFromFile(await operatorKubeconfig());
    const core = config.makeApiClient(k8s.CoreV1Api);
    const apps = config.makeApiClient(k8s.AppsV1Api);
    const status = (request: Promise<unknown>) => request.then(() => 200, (error: unknown) => (error instanceof k8s.ApiException ? error.code : -1));
    // Authorization comes before the pod is looked up: 403 for any pod name there, 404 (no such pod) where it may.
    expect(await status(core.connectPostNamespacedPodExec({ name: 'kube-apiserver', namespace: 'kube-system', command: 'id' }))).to.equal(403);
    expect(await status(core.connectPostNamespacedPodExec({ name: 'no-such-pod', namespace: served.name, command: 'id' }))).to.not.equal(403);
    const daemonSet = (namespace: string): k8s.V1DaemonSet => ({
      metadata: { name: 'rbac-test', namespace },
      spec: {
        selector: { matchLabels: { app: 'rbac-test' } },
        template: { metadata: { labels: { app: 'rbac-test' } }, spec: { containers: [{ name: 'c', image: 'registry.invalid/none:1' }] } },
      },
    });
    // Server-side dry run: authorized like a real create, and nothing is stored either way.
    expect(await status(apps.createNamespacedDaemonSet({ namespace: 'kube-system', body: daemonSet('kube-system'), dryRun: 'All' }))).to.equal(403);
    expect(await status(apps.createNamespacedDaemonSet({ namespace: served.name, body: daemonSet(served.name), dryRun: 'All' }))).to.equal(200);
    expect(await status(core.readNamespacedSecret({ name: 'default-token', namespace: 'default' }))).to.equal(403);
    expect(await status(core.readNamespacedSecret({ name: 'no-such-secret', namespace: served.name }))).to.equal(404);
  });

  it('a GlusterCluster where the operator does not serve: Ready False NamespaceNotAllowed naming GLUSTER_NAMESPACES; no finalizer, no DaemonSet, no Secret read', async () => {
    const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
    await kubectl(['-n', refused.name, 'create', 'secret', 'generic', 'ssh', '--from-literal=ssh-privatekey=not-a-key']);
    const create = (plural: string, body: object) => custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: refused.name, plural, body });
    await create('glusterclusters', {
      apiVersion: GROUP_VERSION,
      kind: 'GlusterCluster',
      metadata: { name: 'incluster' },
      spec: { access: { mode: 'InCluster', inCluster: { nodeSelector: { 'gluster-operator.dev/rbac-test': 'none' } } }, brickBackend: 'Directory', directoryRoot: '/var/lib/gluster-operator/bricks/rbac' },
    });
    await create('glusterclusters', {
      apiVersion: GROUP_VERSION,
      kind: 'GlusterCluster',
      metadata: { name: 'external' },
      spec: { access: { mode: 'External', external: { sshSecretRef: { name: 'ssh' } } }, brickBackend: 'Directory', directoryRoot: '/bricks' },
    });
    await create('glusternodes', {
      apiVersion: GROUP_VERSION,
      kind: 'GlusterNode',
      metadata: { name: 'node-1' },
      spec: { cluster: 'external', manageAddress: '192.0.2.1', storageAddress: '192.0.2.1' },
    });
    // Serving another namespace only; watching this one alone, so no other suite's objects are touched.
    operator = await startOperatorProcess('operator-rbac', 19300 + Math.floor(Math.random() * 100), { GLUSTER_NAMESPACES: served.name, WATCH_NAMESPACE: refused.name });

    const readyOf = async (plural: string, name: string) => {
      const object = (await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: refused.name, plural, name })) as {
        metadata: { finalizers?: string[] };
        status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
      };
      return { finalizers: object.metadata.finalizers, ready: object.status?.conditions?.find((c) => c.type === 'Ready') };
    };
    for (const [plural, name] of [['glusterclusters', 'incluster'], ['glusterclusters', 'external'], ['glusternodes', 'node-1']] as const) {
      const seen = await eventually(`${plural}/${name} refused`, async () => {
        const current = await readyOf(plural, name);
        return current.ready?.reason === 'NamespaceNotAllowed' ? current : notYet(current);
      }, 90_000);
      expect(seen.ready?.status, name).to.equal('False');
      expect(seen.ready?.message, name).to.contain('GLUSTER_NAMESPACES').and.contain(served.name).and.contain(refused.name);
      expect(seen.finalizers ?? [], name).to.deep.equal([]);
    }
    const { stdout } = await kubectl(['-n', refused.name, 'get', 'daemonsets', '-o', 'name']);
    expect(stdout.trim()).to.equal('');
    // The operator never asked for what it may not have: a Secret read or a pod list there would be a 403 in its log.
    expect(operator.logs.filter((line) => /forbidden/i.test(line))).to.deep.equal([]);
    await operator.stop();
  });
});
