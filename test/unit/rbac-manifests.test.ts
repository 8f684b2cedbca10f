import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_IMAGES } from '../../cdk8s/charts.ts';
import { GLUSTER_NAMESPACE_ROLE, namespaceGrants, type PolicyRule } from '../../cdk8s/rbac.ts';
import { synthesizeFiles } from '../../cdk8s/synthesize.ts';

type KubeObject = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; rules?: PolicyRule[]; [key: string]: any };

const objects = (files: Map<string, string>, path: string): KubeObject[] => parseAllDocuments(files.get(path)!).map((d) => d.toJS() as KubeObject);

/** Every (resource, verb) pair the rules grant, as "resource:verb" ("apps/daemonsets:create" for other groups). */
function grants(rules: readonly PolicyRule[]): Set<string> {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) for (const verb of rule.verbs) out.add(`${group ? `${group}/` : ''}${resource}:${verb}`);
    }
  }
  return out;
}

describe('operator RBAC (manifests/10-rbac.yaml from cdk8s/rbac.ts)', () => {
  const shipped = synthesizeFiles();
  const rbac = objects(shipped, 'manifests/10-rbac.yaml');
  const clusterRole = rbac.find((o) => o.kind === 'ClusterRole')!;
  const cluster = grants(clusterRole.rules!);

  it('grants nothing cluster-wide that makes a stolen token root: no exec, no DaemonSets, no pods, no Secrets', () => {
    const dangerous = [...cluster].filter((grant) => /^(pods|pods\/exec|pods\/attach|secrets|apps\/daemonsets|apps\/deployments|\*)[:/]|^nodes(\/[a-z]+)?:(?!get$|list$|watch$)|:\*$|:(escalate|bind|impersonate)$/.test(grant));
    expect(dangerous).to.deep.equal([]);
    expect(clusterRole.rules!.every((rule) => !rule.resourceNames)).to.equal(true);
  });

  it('reads nodes (auth.allow lists their addresses) and never writes them; drops writes to claims other than their status', () => {
    expect([...cluster].filter((grant) => grant.startsWith('nodes'))).to.deep.equal(['nodes:get', 'nodes:list', 'nodes:watch']);
    expect([...cluster].filter((grant) => grant.startsWith('persistentvolumeclaims:'))).to.deep.equal(['persistentvolumeclaims:get', 'persistentvolumeclaims:list', 'persistentvolumeclaims:watch']);
    expect(cluster.has('persistentvolumeclaims/status:patch')).to.equal(true);
  });

  it('binds the GlusterCluster grants in the operator\'s namespace alone by default, and tells the operator so', () => {
    const roles = rbac.filter((o) => o.kind === 'Role' && o.metadata.name === GLUSTER_NAMESPACE_ROLE);
    expect(roles.map((o) => o.metadata.namespace)).to.deep.equal(['gluster-operator']);
    const inNamespace = grants(roles[0]!.rules!);
    for (const grant of ['pods/exec:create', 'pods/exec:get', 'pods:list', 'pods:watch', 'apps/daemonsets:patch', 'apps/daemonsets:create', 'secrets:get']) {
      expect(inNamespace.has(grant), grant).to.equal(true);
    }
    // Nothing the operator does there needs more: Secrets are only read, DaemonSets go with their owner.
    expect([...inNamespace].filter((grant) => /^secrets:(?!get$)|^apps\/daemonsets:(delete|update)$/.test(grant))).to.deep.equal([]);
    const [deployment] = objects(shipped, 'manifests/20-operator.yaml');
    expect(deployment!.spec.template.spec.containers[0].env).to.deep.include({ name: 'GLUSTER_NAMESPACES', value: 'gluster-operator' });
  });

  it('labels the operator\'s namespace for privileged pods (Pod Security Admission): glusterd and the CSI plugin need it', () => {
    const [namespace] = objects(shipped, 'manifests/00-namespace.yaml');
    expect(namespace!.metadata.labels).to.include({ 'pod-security.kubernetes.io/enforce': 'privileged' });
  });

  describe('with other GlusterCluster namespaces (npm run synth -- --out DIR --gluster-namespaces ...)', () => {
    const other = synthesizeFiles(DEFAULT_IMAGES, ['gluster-operator', 'storage-a']);
    const otherRbac = objects(other, 'manifests/10-rbac.yaml');

    it('binds the same Role in each listed namespace, exactly what namespaceGrants (the test support\'s too) makes', () => {
      const perNamespace = otherRbac.filter((o) => o.metadata.name === GLUSTER_NAMESPACE_ROLE && o.metadata.namespace === 'storage-a');
      expect(perNamespace).to.deep.equal(namespaceGrants('storage-a'));
      expect(perNamespace.find((o) => o.kind === 'RoleBinding')!.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'gluster-operator', namespace: 'gluster-operator' }]);
    });

    it('changes nothing cluster-wide, and the operator serves exactly that list', () => {
      expect(otherRbac.find((o) => o.kind === 'ClusterRole')).to.deep.equal(clusterRole);
      const [deployment] = objects(other, 'manifests/20-operator.yaml');
      expect(deployment!.spec.template.spec.containers[0].env).to.deep.include({ name: 'GLUSTER_NAMESPACES', value: 'gluster-operator,storage-a' });
    });

    it('creates no namespace of the administrator\'s (uninstalling must never delete one)', () => {
      expect(objects(other, 'manifests/00-namespace.yaml').map((o) => o.metadata.name)).to.deep.equal(['gluster-operator']);
    });
  });
});
