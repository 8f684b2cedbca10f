import { ALLOWED_OPTION_KEYS } from '../../src/gluster/volume-option-policy.ts';
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, glusterClusterSchema, glusterNodeSchema, glusterVolumeSchema } from '../../src/api/index.ts';
import { crdName, KINDS } from '../../src/crd/definitions.ts';
import { createTestNamespace, kubeConfig, kubectl } from '../support/kube.ts';
import { readSamples, type KubeObject } from '../support/samples.ts';

const plurals: Record<string, string> = Object.fromEntries(KINDS.map((k) => [k.kind, k.plural]));
const schemas = { GlusterCluster: glusterClusterSchema, GlusterNode: glusterNodeSchema, GlusterVolume: glusterVolumeSchema } as const;

describe('CRDs on the real apiserver', function () {
  this.timeout(60_000);
  const config = kubeConfig();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;

  before(async () => {
    namespace = await createTestNamespace('crds');
  });
  after(async () => {
    await namespace?.remove();
  });

  /** Creates an object the way `kubectl apply` does by default: unknown fields are errors, not dropped. */
  function create(object: KubeObject) {
    return custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: namespace.name,
      plural: plurals[object.kind]!,
      body: { ...object, metadata: { ...object.metadata, namespace: namespace.name } },
      fieldValidation: 'Strict',
    });
  }

  /** The apiserver's refusal message, or a failure when it accepted the object. */
  async function refusal(attempt: Promise<unknown>): Promise<string> {
    try {
      await attempt;
    } catch (error) {
      if (error instanceof k8s.ApiException) {
        expect(error.code, String(error.body)).to.be.oneOf([400, 422]);
        const body = typeof error.body === 'string' ? error.body : JSON.stringify(error.body);
        return (JSON.parse(body) as { message: string }).message;
      }
      throw error;
    }
    expect.fail('the apiserver accepted an invalid object');
  }

  const volume = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: 'GlusterVolume',
    metadata: { name },
    spec: { cluster: 'main', size: '1Gi', ...spec },
  });
  const cluster = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: 'GlusterCluster',
    metadata: { name },
    spec: { access: { mode: 'InCluster' }, ...spec },
  });
  /** `count` Gluster options whose names are `nameLength` and values `valueLength` characters long. */
  /** Names outside the allow-list: for the bounds that hold whatever the names are. */
  const options = (count: number, nameLength = 20, valueLength = 2) =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`user.o${String(i).padStart(3, '0')}`.padEnd(nameLength, 'x'), 'v'.repeat(valueLength)]));
  /** The first `count` allowed names (src/gluster/volume-option-policy.ts); values are the operator's to check, not the CRD's. */
  const allowedOptions = (count: number, valueLength = 2) => Object.fromEntries(ALLOWED_OPTION_KEYS.slice(0, count).map((key) => [key, 'v'.repeat(valueLength)]));

  it('are Established, structural, with status subresource, short names and the gluster category', async () => {
    for (const definition of KINDS) {
      const crd = await extensions.readCustomResourceDefinition({ name: crdName(definition) });
      const established = crd.status?.conditions?.find((c) => c.type === 'Established');
      expect(established?.status, definition.kind).to.equal('True');
      const nonStructural = crd.status?.conditions?.find((c) => c.type === 'NonStructuralSchema');
      expect(nonStructural, `${definition.kind}: ${nonStructural?.message}`).to.equal(undefined);
      expect(crd.spec.versions[0]?.subresources?.status).to.deep.equal({});
      expect(crd.spec.names.categories).to.deep.equal(['gluster']);
    }
    const { stdout } = await kubectl(['api-resources', '--api-group', API_GROUP, '--no-headers']);
    expect(stdout).to.match(/glustervolumes\s+gvol\s/).and.to.match(/glusternodes\s+gnode\s/).and.to.match(/glusterclusters\s+gcluster\s/);
  });

  it('store every sample, with defaults applied, that our zod schemas read back', async () => {
    for (const sample of readSamples()) {
      const stored = (await create(sample)) as KubeObject;
      const parsed = schemas[sample.kind as keyof typeof schemas].parse(stored);
      expect(parsed.metadata.name).to.equal(sample.metadata.name);
    }
    const stored = await custom.getNamespacedCustomObject({
      group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glusternodes', name: 'server-1',
    });
    // The apiserver applied the defaults our schemas declare.
    expect(stored.spec.devices[0]).to.deep.equal({ name: '/dev/sdb', destroyData: false });
    expect(stored.spec.state).to.equal('Online');
  });

  const invalid: Array<[string, KubeObject, RegExp]> = [
    ['size of the wrong type', volume('bad-type', { size: 10 }), /spec\.size.*string/],
    ['negative size', volume('bad-negative', { size: '-1Gi' }), /spec\.size/],
    ['unparsable size', volume('bad-unparsable', { size: 'ten gigs' }), /spec\.size/],
    ['zero size', volume('bad-zero', { size: '0' }), /spec\.size.*positive quantity/],
    ['replicate 0', volume('bad-replica', { durability: { type: 'Replicate', replicate: { replica: 0 } } }), /spec\.durability\.replicate\.replica/],
    ['arbiter without replica 3', volume('bad-arbiter', { durability: { type: 'Replicate', replicate: { replica: 2, arbiter: true } } }), /spec\.durability\.replicate\.arbiter.*arbiter needs replica 3/],
    ['disperse redundancy >= data', volume('bad-disperse', { durability: { type: 'Disperse', disperse: { data: 2, redundancy: 2 } } }), /spec\.durability\.disperse\.redundancy.*less than data/],
    ['disperse without its settings', volume('bad-disperse-missing', { durability: { type: 'Disperse' } }), /spec\.durability\.disperse.*required/],
    ['unknown field', volume('bad-unknown', { sizee: '1Gi' }), /unknown field "spec\.sizee"/],
    ['unknown durability type', volume('bad-type-enum', { durability: { type: 'Mirror' } }), /spec\.durability\.type.*Unsupported value/],
    [
      'a node device outside /dev',
      { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterNode', metadata: { name: 'bad-device' }, spec: { cluster: 'main', manageAddress: 'h1', storageAddress: 'h1', devices: [{ name: 'sdb' }] } },
      /spec\.devices\[0\]\.name/,
    ],
    [
      'a device listed twice',
      { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterNode', metadata: { name: 'bad-dup' }, spec: { cluster: 'main', manageAddress: 'h1', storageAddress: 'h1', devices: [{ name: '/dev/sdb' }, { name: '/dev/sdb' }] } },
      /spec\.devices\[1\].*Duplicate value/,
    ],
    // Gluster volume names glusterd refuses or reserves (cli_validate_volname), and the bounds the code honours.
    ['glusterVolumeName all, a word Gluster reserves', volume('bad-name-all', { glusterVolumeName: 'all' }), /spec\.glusterVolumeName.*must not be a word Gluster reserves \(volume, type, .*all,/],
    ['glusterVolumeName force, a word Gluster reserves', volume('bad-name-force', { glusterVolumeName: 'force' }), /spec\.glusterVolumeName.*must not be a word Gluster reserves/],
    ['a glusterVolumeName with a space', volume('bad-name-space', { glusterVolumeName: 'my volume' }), /spec\.glusterVolumeName: Invalid value: "my volume": .*should match/],
    ['a glusterVolumeName starting with _', volume('bad-name-underscore', { glusterVolumeName: '_data' }), /spec\.glusterVolumeName.*must start with a letter or a digit/],
    ['a glusterVolumeName over 64 characters', volume('bad-name-long', { glusterVolumeName: 'v'.repeat(65) }), /spec\.glusterVolumeName: Too long: may not be more than 64/],
    ['size 1Ei', volume('bad-size-huge', { size: '1Ei' }), /spec\.size.*size must be at most 1Pi/],
    ['size 1025Ti, just above 1Pi', volume('bad-size-over', { size: '1025Ti' }), /spec\.size.*size must be at most 1Pi/],
    ['maxBrickSize 1Ei', cluster('bad-max-brick', { maxBrickSize: '1Ei' }), /spec\.maxBrickSize.*maxBrickSize must be at most 64Ti/],
    ['minBrickSize 65Ti', cluster('bad-min-brick', { minBrickSize: '65Ti', maxBrickSize: '64Ti' }), /spec\.minBrickSize.*minBrickSize must be at most 64Ti/],
    ['minBrickSize under 300Mi with LVM bricks (mkfs.xfs refuses them)', cluster('bad-min-xfs', { brickBackend: 'LVM', minBrickSize: '256Mi' }), /spec\.minBrickSize.*at least 300Mi with brickBackend LVM or LoopFile/],
    ['65 Gluster options', volume('bad-options-many', { options: options(65) }), /spec\.options: Too many: 65: must have at most 64/],
    ['a Gluster option name over 128 characters', volume('bad-option-name', { options: options(1, 129) }), /spec\.options: Invalid value: .*option names must be at most 128 characters/],
    ['a Gluster option value over 4096 characters', volume('bad-option-value', { options: allowedOptions(1, 4097) }), /spec\.options\.performance\.cache-size: Too long: may not be more than 4096/],
    ['a Gluster option outside the allow-list', volume('bad-option-auth', { options: { 'auth.allow': '10.0.0.1' } }), /spec\.options: Invalid value: .*options: auth\.allow is not an option that may be set/],
    ['65 cluster volumeOptions', cluster('bad-volume-options', { volumeOptions: options(65) }), /spec\.volumeOptions: Too many: 65: must have at most 64/],
    ['a dataSource naming both a snapshot and a volume', volume('bad-source-both', { dataSource: { snapshot: 'snap1', volume: 'data' } }), /spec\.dataSource.*dataSource needs exactly one of snapshot and volume/],
    ['an empty dataSource', volume('bad-source-empty', { dataSource: {} }), /spec\.dataSource.*dataSource needs exactly one of snapshot and volume/],
    ['a dataSource snapshot that is not a Gluster snapshot name', volume('bad-source-name', { dataSource: { snapshot: 'my snap' } }), /spec\.dataSource\.snapshot/],
    ['a dataSource with adoptExisting', volume('bad-source-adopt', { glusterVolumeName: 'data', adoptExisting: true, dataSource: { volume: 'other' } }), /spec\.dataSource.*does not go with directoryOf or adoptExisting/],
    [
      'External access without its SSH settings',
      { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'GlusterCluster', metadata: { name: 'bad-external' }, spec: { access: { mode: 'External' } } },
      /spec\.access\.external.*required when access\.mode is External/,
    ],
  ];
  for (const [what, object, message] of invalid) {
    it(`refuse ${what}, naming the field`, async () => {
      expect(await refusal(create(object))).to.match(message);
    });
  }

  it('accept values at the limits: size 1Pi, brick sizes 64Ti, every allowed option with a 4096-character value, a 64-character name', async () => {
    const name = `All-${'x'.repeat(60)}`; // reserved words are compared case-sensitively, as glusterd does
    const stored = (await create(volume('at-limits', { size: '1Pi', glusterVolumeName: name, options: allowedOptions(ALLOWED_OPTION_KEYS.length, 4096) }))) as { spec: Record<string, unknown> };
    expect(stored.spec).to.deep.include({ size: '1Pi', glusterVolumeName: name });
    expect(Object.keys(stored.spec.options as object)).to.have.length(ALLOWED_OPTION_KEYS.length);
    const bounds = (await create(cluster('at-limits', { minBrickSize: '64Ti', maxBrickSize: '64Ti', volumeOptions: allowedOptions(ALLOWED_OPTION_KEYS.length) }))) as { spec: Record<string, unknown> };
    expect(bounds.spec).to.deep.include({ minBrickSize: '64Ti', maxBrickSize: '64Ti' });
  });

  it('refuse a changed glusterVolumeName: its immutability rule stands beside the name rules', async () => {
    await create(volume('renamed', { glusterVolumeName: 'keep-me' }));
    const rename = custom.patchNamespacedCustomObject(
      { group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glustervolumes', name: 'renamed', body: { spec: { glusterVolumeName: 'other' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(await refusal(rename)).to.match(/spec\.glusterVolumeName: Invalid value: "other": glusterVolumeName is immutable once set/);
  });

  it('refuse adding a dataSource to a volume that exists, and changing the one it has', async () => {
    const patch = (name: string, spec: Record<string, unknown>) =>
      custom.patchNamespacedCustomObject(
        { group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glustervolumes', name, body: { spec } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    await create(volume('empty-start', {}));
    expect(await refusal(patch('empty-start', { dataSource: { snapshot: 'snap1' } }))).to.match(/spec\.dataSource.*dataSource cannot be added or removed after creation/);
    await create(volume('copy-start', { dataSource: { snapshot: 'snap1' } }));
    expect(await refusal(patch('copy-start', { dataSource: { snapshot: 'snap2' } }))).to.match(/spec\.dataSource.*immutable/);
  });

  describe('immutable and grow-only fields', () => {
    const name = 'grows';
    const patchSpec = (spec: Record<string, unknown>) =>
      custom.patchNamespacedCustomObject(
        { group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glustervolumes', name, body: { spec } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    before(async () => {
      await create(volume(name, { size: '2Gi' }));
    });

    it('refuse a changed durability', async () => {
      expect(await refusal(patchSpec({ durability: { replicate: { replica: 2 } } }))).to.match(/spec\.durability.*immutable/);
    });
    it('refuse a changed cluster', async () => {
      expect(await refusal(patchSpec({ cluster: 'other' }))).to.match(/spec\.cluster.*immutable/);
    });
    it('refuse a smaller size', async () => {
      expect(await refusal(patchSpec({ size: '1Gi' }))).to.match(/spec\.size.*may grow but not shrink/);
    });
    it('accept a larger size', async () => {
      const grown = (await patchSpec({ size: '3Gi' })) as { spec: { size: string } };
      expect(grown.spec.size).to.equal('3Gi');
    });
  });

  it('kubectl get glustervolumes prints size, durability, ready, degraded, bricks online, heal, mount source and age', async () => {
    await create(volume('printed', { size: '5Gi' }));
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: API_GROUP, version: API_VERSION, namespace: namespace.name, plural: 'glustervolumes', name: 'printed',
        body: {
          status: {
            observedGeneration: 1,
            mountSource: '10.77.0.11:crds_printed',
            bricksOnline: 3,
            heal: { pendingEntries: 0, splitBrainEntries: 0, checkedAt: new Date().toISOString() },
            conditions: [
              { type: 'Ready', status: 'True', reason: 'VolumeStarted', message: 'started', lastTransitionTime: new Date().toISOString(), observedGeneration: 1 },
              { type: 'Degraded', status: 'False', reason: 'Healthy', message: 'all bricks online', lastTransitionTime: new Date().toISOString(), observedGeneration: 1 },
            ],
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const { stdout } = await kubectl(['get', 'glustervolumes', 'printed', '-n', namespace.name]);
    const [header, row] = stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).to.deep.equal(['NAME', 'SIZE', 'DURABILITY', 'READY', 'DEGRADED', 'BRICKS ONLINE', 'HEAL', 'MOUNT', 'AGE']);
    const cells = row!.split(/\s{2,}/);
    expect(cells.slice(0, 8)).to.deep.equal(['printed', '5Gi', 'Replicate', 'True', 'False', '3', '0', '10.77.0.11:crds_printed']);
    expect(cells[8]).to.match(/^\d+s$/);
    const wide = await kubectl(['get', 'gvol', 'printed', '-n', namespace.name, '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).to.contain('CLUSTER').and.to.contain('GLUSTER VOLUME');
  });

  it('kubectl get gluster lists all three kinds; kubectl explain teaches the API', async () => {
    const { stdout } = await kubectl(['get', 'gluster', '-n', namespace.name, '-o', 'name']);
    expect(stdout).to.contain('glustercluster.').and.to.contain('glusternode.').and.to.contain('glustervolume.');
    const explained = await kubectl(['explain', 'glustervolumes.spec.durability.disperse.redundancy']);
    expect(explained.stdout).to.contain('Bricks per set that may fail');
    const cluster = await kubectl(['get', 'glusterclusters', '-n', namespace.name]);
    expect(cluster.stdout.split('\n')[0]!.split(/\s{2,}/)).to.deep.equal(['NAME', 'MODE', 'NODES', 'READY NODES', 'READY', 'CAPACITY', 'FREE', 'AGE']);
  });
});
