import { expect } from 'chai';
import {
  GLUSTER_VOLUME_NAME_MAX,
  GROUP_VERSION,
  InvalidGlusterVolumeNameError,
  RESERVED_GLUSTER_VOLUME_NAMES,
  defaultGlusterVolumeName,
  glusterVolumeNameOf,
  glusterVolumeNameProblem,
  glusterVolumeNameSchema,
  glusterVolumeSchema,
} from '../../src/api/index.ts';
import { customResourceDefinition, KINDS } from '../../src/crd/definitions.ts';
import { provisionedName } from '../../src/provisioner/constants.ts';
import { parseStorageClassParameters } from '../../src/provisioner/storage-class-parameters.ts';
import { glusterVolumeNameFor, prefixedGlusterVolumeName } from '../../src/provisioner/volume-builder.ts';
import { randomHex, randomInt, seededRandom, type Random } from '../../src/topology/random.ts';
import { sampleClaim } from './provisioner-builders.test.ts';

const valid = (name: string) => glusterVolumeNameProblem(name) === undefined;

/** What Kubernetes takes: a namespace is an RFC 1123 label, an object name a subdomain (dots allowed). */
function label(random: Random, max: number): string {
  const alnum = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const inner = `${alnum}-`;
  const length = 1 + randomInt(random, max);
  let out = alnum[randomInt(random, alnum.length)]!;
  for (let i = 1; i < length; i++) out += (i === length - 1 ? alnum : inner)[randomInt(random, i === length - 1 ? alnum.length : inner.length)];
  return out;
}
function subdomain(random: Random, max: number): string {
  const parts = [label(random, 63)];
  while (randomInt(random, 3) === 0 && parts.join('.').length < max - 2) parts.push(label(random, 20));
  return parts.join('.').slice(0, max).replace(/[-.]+$/, '') || 'x';
}
/** Lengths at the edges matter most: short, around the 64-character budget, and the longest Kubernetes allows. */
function kubernetesNames(random: Random): { namespace: string; name: string } {
  const pick = randomInt(random, 4);
  const namespace = pick === 0 ? label(random, 63).padEnd(63, 'n').slice(0, 63) : label(random, 30);
  const name = pick === 1 ? subdomain(random, 253) : pick === 2 ? label(random, 63) : subdomain(random, 70);
  return { namespace, name };
}
const uuid = (random: Random) => `${randomHex(random, 8)}-${randomHex(random, 4)}-4${randomHex(random, 3)}-a${randomHex(random, 3)}-${randomHex(random, 12)}`;

describe('Gluster volume names: the rule (glusterd cli_validate_volname, plus ours)', () => {
  it('refuses every word glusterd reserves, case-sensitively as glusterd compares them', () => {
    expect(RESERVED_GLUSTER_VOLUME_NAMES).to.include('all').and.to.include('volume').and.to.include('force');
    for (const word of RESERVED_GLUSTER_VOLUME_NAMES) expect(glusterVolumeNameProblem(word), word).to.match(/reserves/);
    expect(valid('All')).to.equal(true);
    expect(valid('volumes')).to.equal(true);
  });

  it('refuses what glusterd refuses and what our commands cannot pass, saying what is allowed', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /must not be empty/],
      ['a b', /letters, digits, - and _/],
      ['a/b', /letters, digits, - and _/],
      ['a.b', /letters, digits, - and _/],
      ['naïve', /letters, digits, - and _/],
      ['-x', /start with a letter or a digit/],
      ['_x', /start with a letter or a digit/],
      ['x'.repeat(GLUSTER_VOLUME_NAME_MAX + 1), /at most 64 characters/],
    ];
    for (const [name, message] of cases) expect(glusterVolumeNameProblem(name), JSON.stringify(name)).to.match(message);
    for (const name of ['x', '0', 'a_b-c', 'x'.repeat(GLUSTER_VOLUME_NAME_MAX), 'gluster_data']) expect(valid(name), name).to.equal(true);
  });

  it('is what the CRD enforces on spec.glusterVolumeName: length and alphabet, then CEL for the first character and the reserved words', () => {
    const crd = customResourceDefinition(KINDS.find((k) => k.kind === 'GlusterVolume')!) as any;
    const field = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.glusterVolumeName;
    expect(field).to.include({ maxLength: GLUSTER_VOLUME_NAME_MAX, minLength: 1, type: 'string' });
    const rules = (field['x-kubernetes-validations'] as Array<{ rule: string; message: string }>).map((r) => r.rule);
    expect(rules).to.include("self.matches('^[A-Za-z0-9]')").and.to.include('self == oldSelf');
    const reserved = rules.find((r) => r.startsWith('!(self in'))!;
    for (const word of RESERVED_GLUSTER_VOLUME_NAMES) expect(reserved).to.contain(`'${word}'`);
    expect(field.description).to.contain('not a word Gluster reserves');
  });

  it('still reads an object stored before the CEL rules (zod keeps the old alphabet), so one old object cannot break a list', () => {
    const old = glusterVolumeSchema.safeParse({ apiVersion: GROUP_VERSION, kind: 'GlusterVolume', metadata: { name: 'v', namespace: 'ns' }, spec: { cluster: 'c', size: '1Gi', glusterVolumeName: 'all' } });
    expect(old.success).to.equal(true);
  });
});

describe('Gluster volume names: glusterVolumeNameOf', () => {
  const volume = (spec: Record<string, unknown>, status?: Record<string, unknown>, name = 'data') =>
    glusterVolumeSchema.parse({ apiVersion: GROUP_VERSION, kind: 'GlusterVolume', metadata: { name, namespace: 'team-a' }, spec: { cluster: 'c', size: '1Gi', ...spec }, ...(status ? { status } : {}) });

  it('takes spec, else the name status recorded, else the default', () => {
    expect(glusterVolumeNameOf(volume({ glusterVolumeName: 'adopted' }, { glusterVolumeName: 'other' }))).to.equal('adopted');
    // A volume named under the earlier default (dots as -) keeps its name through status.
    expect(glusterVolumeNameOf(volume({}, { glusterVolumeName: 'team-a_my-data' }, 'my.data'))).to.equal('team-a_my-data');
    expect(glusterVolumeNameOf(volume({}))).to.equal('team-a_data');
    expect(glusterVolumeNameOf(volume({}, undefined, 'my.data'))).to.equal(defaultGlusterVolumeName('team-a', 'my.data'));
  });

  it('refuses a stored name Gluster does not take, naming the object, the field and the rule', () => {
    expect(() => glusterVolumeNameOf(volume({ glusterVolumeName: 'all' })))
      .to.throw(InvalidGlusterVolumeNameError, /team-a\/data: spec\.glusterVolumeName "all" .*reserves.*allowed: 1 to 64 letters/);
    expect(() => glusterVolumeNameOf(volume({ glusterVolumeName: '_x' }))).to.throw(InvalidGlusterVolumeNameError, /start with a letter or a digit/);
  });
});

describe('Gluster volume names the operator makes up always pass the rule and never collide', () => {
  it('default: <namespace>_<name> unchanged where earlier releases gave it (no dot, fits)', () => {
    expect(defaultGlusterVolumeName('gluster', 'data')).to.equal('gluster_data');
    expect(defaultGlusterVolumeName('n'.repeat(31), 'o'.repeat(32))).to.equal(`${'n'.repeat(31)}_${'o'.repeat(32)}`);
  });

  it('default: a dotted or too long name gets its parts cut and a hash, so a.b and a-b, or two long names alike at the start, differ', () => {
    const dotted = defaultGlusterVolumeName('ns', 'a.b');
    expect(dotted).to.match(/^ns_a-b_[0-9a-f]{10}$/);
    expect(dotted).not.to.equal(defaultGlusterVolumeName('ns', 'a-b'));
    const long1 = defaultGlusterVolumeName('n'.repeat(63), `${'x'.repeat(200)}1`);
    const long2 = defaultGlusterVolumeName('n'.repeat(63), `${'x'.repeat(200)}2`);
    expect(long1).not.to.equal(long2);
    expect(long1.length).to.equal(GLUSTER_VOLUME_NAME_MAX);
    expect(defaultGlusterVolumeName('ns', 'a.b')).to.equal(dotted); // stable
  });

  it('default, pvc-<uid> and <prefix>_<ns>_<claim>_<id>: 20,000 random Kubernetes names, long namespaces and claims included', () => {
    const random = seededRandom(11);
    const seen = new Map<string, string>();
    const record = (name: string, from: string) => {
      expect(valid(name), `${from} -> ${name}: ${glusterVolumeNameProblem(name)}`).to.equal(true);
      const earlier = seen.get(name);
      expect(earlier, `${from} and ${earlier} both give ${name}`).to.equal(undefined);
      seen.set(name, from);
    };
    for (let i = 0; i < 20_000; i++) {
      const { namespace, name } = kubernetesNames(random);
      if (seen.has(`default ${namespace}/${name}`)) continue;
      record(defaultGlusterVolumeName(namespace, name), `default ${namespace}/${name}`);
      const uid = uuid(random);
      record(provisionedName(uid), `pvc ${uid}`);
      const prefix = label(random, 32).replace(/^[-]+/, '');
      record(prefixedGlusterVolumeName(prefix, namespace, name, uid), `prefixed ${prefix} ${namespace}/${name} ${uid}`);
    }
    expect(seen.size).to.be.greaterThan(59_000);
  });

  it('the families cannot meet: a default name has one or two _, pvc-<uid> none, a prefixed name three', () => {
    const underscores = (name: string) => name.split('_').length - 1;
    expect(underscores(defaultGlusterVolumeName('ns', 'data'))).to.equal(1);
    expect(underscores(defaultGlusterVolumeName('ns', 'my.data'))).to.equal(2);
    expect(underscores(provisionedName('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'))).to.equal(0);
    expect(underscores(prefixedGlusterVolumeName('p'.repeat(32), 'n'.repeat(63), 'c.'.repeat(100), '0f1e2d3c-4b5a'))).to.equal(3);
  });

  it('the provisioner names a claim within the rule with or without a StorageClass prefix (the longest prefix the parameters take)', () => {
    const parsed = parseStorageClassParameters({ clusterid: 'prod', volumenameprefix: 'p'.repeat(32) });
    expect(parsed.success).to.equal(true);
    if (!parsed.success) return;
    const claim = sampleClaim({ namespace: 'n'.repeat(63), name: `${'c'.repeat(60)}.${'d'.repeat(60)}` });
    expect(valid(glusterVolumeNameFor(parsed.parameters, claim))).to.equal(true);
    expect(valid(glusterVolumeNameFor({}, claim))).to.equal(true);
  });
});
