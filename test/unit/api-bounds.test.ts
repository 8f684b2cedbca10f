import { expect } from 'chai';
import {
  CONDITION_MESSAGE_MAX,
  GROUP_VERSION,
  MAX_BRICK_SIZE,
  MAX_VOLUME_SIZE,
  OPTION_NAME_MAX,
  OPTION_VALUE_MAX,
  OPTIONS_MAX_ENTRIES,
  conditionMessage,
  conditionSchema,
  glusterClusterSchema,
  glusterVolumeSchema,
  type GlusterCluster,
} from '../../src/api/index.ts';
import { ALLOWED_OPTION_KEYS } from '../../src/gluster/volume-option-policy.ts';
import { setCondition, setConditions, standardConditions } from '../../src/controller/conditions.ts';
import { customResourceDefinition, KINDS } from '../../src/crd/definitions.ts';
import { clusterRecord, clusterSpecProblems, syncCluster } from '../../src/operator/topology-sync.ts';
import { emptyDatabase, findCluster, volumeCapacity } from '../../src/topology/model.ts';
import { placeVolume } from '../../src/topology/placement/index.ts';
import { syntheticTopology } from '../../src/topology/placement/synthetic.ts';
import { seededRandom } from '../../src/topology/random.ts';
import { GiB, POOL_METADATA_MAX, QuantityError, TiB, brickAllocation, brickSizeBounds, parseQuantity } from '../../src/topology/sizing.ts';

const specOf = (kind: string) => (customResourceDefinition(KINDS.find((k) => k.kind === kind)!) as any).spec.versions[0].schema.openAPIV3Schema.properties.spec;
const rulesOf = (field: { 'x-kubernetes-validations'?: Array<{ rule: string; message: string }> }) => field['x-kubernetes-validations'] ?? [];

function clusterCr(name: string, spec: Record<string, unknown>): GlusterCluster {
  return glusterClusterSchema.parse({ apiVersion: GROUP_VERSION, kind: 'GlusterCluster', metadata: { name, namespace: 'ns' }, spec: { access: { mode: 'InCluster' }, ...spec } });
}

describe('bounds: parseQuantity is exact up to the limits', () => {
  it('scales digits as integers: decimal suffixes and fractions are not rounded through floating point', () => {
    expect(parseQuantity('1.07G')).to.equal(1_070_000_000); // 1.07 * 1e9 in floating point rounds up to 1070000001
    expect(parseQuantity('0.27T')).to.equal(270_000_000_000);
    expect(parseQuantity('0.3Ti')).to.equal(Math.ceil(0.3 * 2 ** 40));
    expect(parseQuantity('1.5Ti')).to.equal(1.5 * TiB);
    expect(parseQuantity('0.5')).to.equal(1); // rounded up to a whole byte, as Kubernetes rounds a quantity's value
    expect(parseQuantity('4503599627370497.4')).to.equal(4503599627370498); // floating point would say ...497
    expect(parseQuantity(MAX_VOLUME_SIZE.quantity)).to.equal(MAX_VOLUME_SIZE.bytes);
    expect(parseQuantity(MAX_BRICK_SIZE.quantity)).to.equal(MAX_BRICK_SIZE.bytes);
    expect(parseQuantity('9007199254740991')).to.equal(Number.MAX_SAFE_INTEGER);
  });

  it('refuses, as a QuantityError saying why, a size above the caller\'s maximum or above 2^53 - 1', () => {
    const refusal = (quantity: string, max?: number) => {
      try {
        parseQuantity(quantity, max);
      } catch (error) {
        expect(error).to.be.instanceOf(QuantityError);
        return error as QuantityError;
      }
      expect.fail(`${quantity} was accepted`);
    };
    expect(refusal('1Ei').reason).to.equal('too-large');
    expect(refusal('9007199254740992').message).to.match(/more than 2\^53 - 1 bytes/);
    expect(refusal('2Pi', MAX_VOLUME_SIZE.bytes).message).to.equal('size 2Pi is more than 1Pi');
    expect(refusal('ten gigs').reason).to.equal('syntax');
    expect(refusal('1e3').reason).to.equal('syntax');
  });

  it('placement stays exact at the limits: a 64Ti brick\'s thin pool at snapshot factor 100, a 1Pi replica-3 volume of 64Ti bricks', () => {
    const pool = brickAllocation(MAX_BRICK_SIZE.bytes, 100, 'LVM');
    expect(Number.isSafeInteger(pool)).to.equal(true);
    expect(pool).to.be.at.most(MAX_BRICK_SIZE.bytes * 100 + POOL_METADATA_MAX + 8 * 2 ** 20);
    const db = syntheticTopology({ nodes: 3, zones: 3, devicesPerNode: 17, deviceSize: 65 * TiB, maxBrickSize: MAX_BRICK_SIZE.bytes }, seededRandom(1));
    const placed = placeVolume(db, { volume: 'ns/huge', cluster: 'main', size: MAX_VOLUME_SIZE.bytes, durability: { type: 'Replicate', replica: 3, arbiter: false } }, seededRandom(2));
    expect(placed.ok, placed.ok ? '' : placed.reason).to.equal(true);
    if (!placed.ok) return;
    expect(placed.sets).to.equal(16);
    expect(placed.brickSize).to.equal(MAX_BRICK_SIZE.bytes);
    expect(volumeCapacity(placed.volume)).to.equal(MAX_VOLUME_SIZE.bytes);
  });
});

describe('bounds: the CRD refuses what the code cannot honour', () => {
  it('size at most 1Pi, min/maxBrickSize at most 64Ti, as CEL quantity rules with messages naming the limit', () => {
    const volume = specOf('GlusterVolume');
    expect(rulesOf(volume.properties.size)).to.deep.include({
      rule: "!isQuantity(self) || quantity(self).compareTo(quantity('1Pi')) <= 0",
      message: 'size must be at most 1Pi (the largest volume this operator places)',
    });
    const cluster = specOf('GlusterCluster');
    for (const field of ['minBrickSize', 'maxBrickSize']) {
      expect(rulesOf(cluster.properties[field]).map((r) => r.rule)).to.include("!isQuantity(self) || quantity(self).compareTo(quantity('64Ti')) <= 0");
      expect(rulesOf(cluster.properties[field]).map((r) => r.message)).to.include(`${field} must be at most 64Ti (the largest brick this operator places)`);
      // The positivity rule is still there: cel() appends, it does not replace.
      expect(rulesOf(cluster.properties[field]).map((r) => r.rule)).to.include('isQuantity(self) && quantity(self).isGreaterThan(quantity("0"))');
    }
  });

  it('options and volumeOptions: at most 64 entries, names of 128 and values of 4096 characters', () => {
    for (const [kind, field] of [['GlusterVolume', 'options'], ['GlusterCluster', 'volumeOptions']] as const) {
      const map = specOf(kind).properties[field];
      expect(map.maxProperties, `${kind} ${field}`).to.equal(OPTIONS_MAX_ENTRIES);
      expect(map.additionalProperties).to.deep.equal({ type: 'string', maxLength: OPTION_VALUE_MAX });
      expect(rulesOf(map)[0]).to.deep.equal({ rule: `self.all(name, size(name) <= ${OPTION_NAME_MAX})`, message: `${field}: option names must be at most 128 characters` });
    }
  });

  it('options and volumeOptions: a CEL rule refuses every name outside the policy\'s allow-list, naming the first one', () => {
    for (const [kind, field] of [['GlusterVolume', 'options'], ['GlusterCluster', 'volumeOptions']] as const) {
      const rules = rulesOf(specOf(kind).properties[field]) as Array<{ rule: string; message: string; messageExpression?: string }>;
      const allowList = rules.find((r) => r.rule.startsWith('self.all(name, name in ['));
      expect(allowList, `${kind} ${field}`).to.not.equal(undefined);
      // The list in the rule is exactly the policy's: one home for the rules, the CRD generated from it.
      const listed = /in \[(.*)\]\)$/.exec(allowList!.rule)![1]!.split(', ').map((quoted) => quoted.replace(/^'(.*)'$/, '$1'));
      expect(listed).to.deep.equal([...ALLOWED_OPTION_KEYS]);
      expect(allowList!.messageExpression).to.match(new RegExp(`^'${field}: ' \\+ self\\.filter\\(name, !\\(name in \\[.*\\]\\)\\)\\[0\\] \\+ ' is not an option that may be set`));
      expect(allowList!.message).to.contain(`${field}: only the allowed Gluster options may be set`);
    }
  });

  it('status.appliedOptions: the operator\'s record of what it set, bounded as the options maps are', () => {
    const applied = (customResourceDefinition(KINDS.find((k) => k.kind === 'GlusterVolume')!) as any).spec.versions[0].schema.openAPIV3Schema.properties.status.properties.appliedOptions;
    expect(applied).to.deep.include({ type: 'array', maxItems: OPTIONS_MAX_ENTRIES });
    expect(applied.items).to.deep.equal({ type: 'string', maxLength: OPTION_NAME_MAX });
  });

  it('condition messages at most 32768 characters, the metav1.Condition limit', () => {
    const crd = customResourceDefinition(KINDS.find((k) => k.kind === 'GlusterVolume')!) as any;
    const condition = crd.spec.versions[0].schema.openAPIV3Schema.properties.status.properties.conditions.items;
    expect(condition.properties.message.maxLength).to.equal(CONDITION_MESSAGE_MAX);
  });

  it('zod still reads objects stored before these limits, so one old object does not make a list of its namespace throw', () => {
    const options = Object.fromEntries(Array.from({ length: OPTIONS_MAX_ENTRIES + 1 }, (_, i) => [`user.o${i}`, 'v'.repeat(OPTION_VALUE_MAX + 1)]));
    const old = glusterVolumeSchema.safeParse({ apiVersion: GROUP_VERSION, kind: 'GlusterVolume', metadata: { name: 'old' }, spec: { cluster: 'c', size: '1Ei', options } });
    expect(old.success).to.equal(true);
    // Options the allow-list refuses, and a status record longer than the CRD allows: parsed, refused by the reconciler for that object alone.
    const hostile = { 'auth.allow': '*', 'features.shard': 'on', 'server.allow-insecure': 'on' };
    const appliedOptions = Array.from({ length: OPTIONS_MAX_ENTRIES + 1 }, (_, i) => `x${'y'.repeat(OPTION_NAME_MAX)}${i}`);
    const stored = glusterVolumeSchema.safeParse({ apiVersion: GROUP_VERSION, kind: 'GlusterVolume', metadata: { name: 'old' }, spec: { cluster: 'c', size: '1Gi', options: hostile }, status: { appliedOptions } });
    expect(stored.success).to.equal(true);
    expect(clusterCr('old-options', { volumeOptions: hostile }).spec.volumeOptions).to.deep.equal(hostile);
    expect(clusterCr('old', { maxBrickSize: '1Ei' }).spec.maxBrickSize).to.equal('1Ei');
  });
});

describe('bounds: a cluster stored with maxBrickSize 1Ei (before the CRD refused it) stops nothing', () => {
  const bad = clusterCr('bad', { maxBrickSize: '1Ei', minBrickSize: '128Ti' });
  const good = clusterCr('good', { maxBrickSize: '2Ti' });

  it('brickSizeBounds: the nearest bounds placement honours, and a sentence per field naming it', () => {
    const bounds = brickSizeBounds(bad.spec);
    expect(bounds).to.deep.include({ minBrickSize: MAX_BRICK_SIZE.bytes, maxBrickSize: MAX_BRICK_SIZE.bytes });
    expect(bounds.problems).to.have.length(2);
    expect(bounds.problems[0]).to.match(/^spec\.minBrickSize 128Ti is above 64Ti/);
    expect(bounds.problems[1]).to.match(/^spec\.maxBrickSize 1Ei is above 64Ti \(the largest brick this operator places\): bricks are placed as if it were 64Ti/);
    expect(brickSizeBounds({ minBrickSize: '8Ti', maxBrickSize: '2Ti' })).to.deep.include({ minBrickSize: 2 * TiB, maxBrickSize: 2 * TiB });
    expect(brickSizeBounds({ minBrickSize: 'x', maxBrickSize: '2Ti' })).to.deep.include({ minBrickSize: GiB, maxBrickSize: 2 * TiB });
    expect(brickSizeBounds(good.spec)).to.deep.equal({ minBrickSize: GiB, maxBrickSize: 2 * TiB, problems: [] });
  });

  it('syncCluster records the bad one within the bounds without throwing, and the good one exactly as its spec says', () => {
    let db = emptyDatabase();
    db = syncCluster(db, bad);
    db = syncCluster(db, good);
    expect(findCluster(db, 'ns/bad')).to.deep.include({ minBrickSize: MAX_BRICK_SIZE.bytes, maxBrickSize: MAX_BRICK_SIZE.bytes });
    expect(findCluster(db, 'ns/good')).to.deep.equal(clusterRecord(good));
    expect(findCluster(db, 'ns/good')).to.deep.include({ minBrickSize: GiB, maxBrickSize: 2 * TiB });
    expect(syncCluster(db, bad)).to.equal(db); // steady: nothing to commit on the next reconcile
    expect(clusterSpecProblems(bad)).to.have.length(2);
    expect(clusterSpecProblems(good)).to.deep.equal([]);
  });
});

describe('bounds: condition messages are cut to the CRD limit', () => {
  it('conditionMessage keeps short messages and cuts long ones by characters, ending in …', () => {
    expect(conditionMessage('volume started')).to.equal('volume started');
    const exact = 'x'.repeat(CONDITION_MESSAGE_MAX);
    expect(conditionMessage(exact)).to.equal(exact);
    const cut = conditionMessage('x'.repeat(CONDITION_MESSAGE_MAX + 10));
    expect(cut).to.have.length(CONDITION_MESSAGE_MAX);
    expect(cut.endsWith('x…')).to.equal(true);
    // Characters, not UTF-16 units: 20000 emoji are 40000 units but fit, and no surrogate pair is split.
    const emoji = '🧱'.repeat(20000);
    expect(conditionMessage(emoji)).to.equal(emoji);
    const long = conditionMessage('🧱'.repeat(CONDITION_MESSAGE_MAX + 1));
    expect(Array.from(long)).to.have.length(CONDITION_MESSAGE_MAX);
    expect(long.endsWith('🧱…')).to.equal(true);
  });

  it('setCondition writes a cut message the status schema accepts, so a huge error cannot make the status patch fail', () => {
    const error = `gluster volume create failed: ${'brick is already part of a volume; '.repeat(5000)}`;
    const [ready] = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'CreateFailed', message: error }, 3, new Date(0));
    expect(ready!.message).to.have.length(CONDITION_MESSAGE_MAX);
    expect(conditionSchema.safeParse(ready).success).to.equal(true);
    const all = setConditions(undefined, standardConditions({ state: 'failed', reason: 'CreateFailed', message: error }), 3, new Date(0));
    for (const condition of all) expect(conditionSchema.safeParse(condition).success, condition.type).to.equal(true);
  });
});
