import { expect } from 'chai';
import { OPTIONS_MAX_ENTRIES } from '../../src/api/limits.ts';
import { ALLOWED_OPTION_KEYS, isAllowedOption, volumeOptionProblem, volumeOptionsProblems } from '../../src/gluster/volume-option-policy.ts';

/** glusterd 10.3's volume-set keys for the allowed options (its glusterd.so option table, as read from the 10.3 packages). */
const GLUSTERD_10_3_KEYS_SAMPLE = ['performance.cache-size', 'performance.io-thread-count', 'network.ping-timeout', 'cluster.heal-timeout', 'storage.reserve', 'disperse.shd-max-threads'];

describe('volume option policy: the allow-list', () => {
  it('holds performance tuning and the short documented list, each name as glusterd spells it, and fewer than a map may hold', () => {
    for (const key of GLUSTERD_10_3_KEYS_SAMPLE) expect(ALLOWED_OPTION_KEYS, key).to.include(key);
    for (const key of ALLOWED_OPTION_KEYS) expect(key, 'a dotted lowercase name').to.match(/^[a-z]+\.[a-z0-9-]+$/);
    expect(new Set(ALLOWED_OPTION_KEYS).size).to.equal(ALLOWED_OPTION_KEYS.length);
    // A map of every allowed option fits the CRD's maxProperties.
    expect(ALLOWED_OPTION_KEYS.length).to.be.at.most(OPTIONS_MAX_ENTRIES);
  });

  it('accepts typical tuning as Gluster documents it', () => {
    const typical = {
      'performance.cache-size': '256MB',
      'performance.io-thread-count': '32',
      'performance.write-behind-window-size': '4MB',
      'performance.read-ahead': 'off',
      'performance.quick-read': 'on',
      'performance.stat-prefetch': 'on',
      'performance.readdir-ahead': 'on',
      'performance.parallel-readdir': 'on',
      'performance.cache-invalidation': 'on',
      'performance.md-cache-timeout': '600',
      'performance.nl-cache': 'on',
      'performance.client-io-threads': 'on',
      'features.cache-invalidation': 'on',
      'features.cache-invalidation-timeout': '600',
      'network.ping-timeout': '42',
      'server.event-threads': '4',
      'client.event-threads': '4',
      'server.tcp-user-timeout': '42',
      'cluster.self-heal-daemon': 'on',
      'cluster.quorum-type': 'auto',
      'cluster.data-self-heal-algorithm': 'full',
      'cluster.heal-timeout': '300',
      'cluster.background-self-heal-count': '16',
      'cluster.shd-max-threads': '4',
      'cluster.min-free-disk': '10%',
      'diagnostics.brick-log-level': 'WARNING',
      'diagnostics.client-log-level': 'ERROR',
      'storage.reserve': '5',
    };
    expect(volumeOptionsProblems(typical)).to.deep.equal([]);
  });
});

describe('volume option policy: refused keys, each class with its reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['auth.allow', /who may mount a volume .* typed GlusterCluster fields/],
    ['auth.reject', /typed GlusterCluster fields/],
    ['auth.ssl-allow', /typed GlusterCluster fields/],
    ['client.ssl', /typed GlusterCluster fields/],
    ['server.ssl', /typed GlusterCluster fields/],
    ['transport.address-family', /typed GlusterCluster fields/],
    ['server.allow-insecure', /typed GlusterCluster fields/],
    ['client.bind-insecure', /typed GlusterCluster fields/],
    ['server.root-squash', /who a client is or who owns the files/],
    ['server.anonuid', /who a client is/],
    ['storage.owner-uid', /who owns the files/],
    ['storage.owner-gid', /who owns the files/],
    ['storage.create-mask', /who owns the files/],
    ['features.shard', /large files become unreadable/],
    ['features.shard-block-size', /large files become unreadable/],
    ['nfs.disable', /NFS server/],
    ['performance.nfs.write-behind', /NFS server/],
    ['user.gluster-operator.owner', /reserved: the operator's owner mark/],
    ['user.heketi.arbiter', /reserved/],
    ['cluster.favorite-child-policy', /give up a copy/],
    ['cluster.quorum-count', /give up a copy/],
    ['cluster.ensure-durability', /give up a copy/],
    ['cluster.server-quorum-type', /whole pool/],
    ['cluster.brick-multiplex', /whole pool/],
    ['server.statedump-path', /write files on the servers/],
    ['features.trash-dir', /write files on the servers/],
  ];
  for (const [key, reason] of cases) {
    it(`${key}: refused, saying why`, () => {
      expect(isAllowedOption(key)).to.equal(false);
      const problem = volumeOptionProblem(key, 'on');
      expect(problem).to.match(new RegExp(`^${key.replace(/\./g, '\\.')} is not allowed: `));
      expect(problem).to.match(reason);
    });
  }

  it('anything not listed is refused, naming it and where the list is', () => {
    expect(volumeOptionProblem('features.quota', 'on')).to.equal('features.quota is not an option this operator sets (allowed: performance tuning and a short list, see the README\'s "Volume options")');
    expect(volumeOptionProblem('group', 'metadata-cache')).to.match(/^group is not an option/);
    expect(volumeOptionProblem('Performance.Cache-Size', '64MB')).to.match(/is not an option/); // names are exact
  });
});

describe('volume option policy: value validators', () => {
  const verdicts = (key: string, values: string[]) => values.map((value) => volumeOptionProblem(key, value) === undefined);

  it('on/off switches take on and off only, as Gluster spells them in volume info', () => {
    expect(verdicts('performance.quick-read', ['on', 'off', 'true', 'enable', '1', 'ON', ''])).to.deep.equal([true, true, false, false, false, false, false]);
    expect(volumeOptionProblem('performance.quick-read', 'yes')).to.equal('performance.quick-read "yes": must be one of on, off');
  });

  it('switches and words that may only go one way: self-heal stays on, quorum auto only', () => {
    expect(verdicts('cluster.self-heal-daemon', ['on', 'off'])).to.deep.equal([true, false]);
    expect(volumeOptionProblem('cluster.self-heal-daemon', 'off')).to.match(/must be on \(off stops healing/);
    expect(verdicts('cluster.quorum-type', ['auto', 'none', 'fixed'])).to.deep.equal([true, false, false]);
    expect(volumeOptionProblem('cluster.quorum-type', 'none')).to.match(/must be auto \(none and fixed let a replica set accept writes without a majority/);
  });

  it('enumerations: log levels up to INFO, heal algorithms, rebalance throttle', () => {
    expect(verdicts('diagnostics.brick-log-level', ['INFO', 'WARNING', 'ERROR', 'CRITICAL', 'NONE', 'DEBUG', 'TRACE', 'info'])).to.deep.equal([true, true, true, true, true, false, false, false]);
    expect(volumeOptionProblem('diagnostics.client-log-level', 'TRACE')).to.match(/DEBUG and TRACE fill the disks/);
    expect(verdicts('cluster.data-self-heal-algorithm', ['diff', 'full', 'reset'])).to.deep.equal([true, true, false]);
    expect(verdicts('cluster.rebal-throttle', ['lazy', 'normal', 'aggressive', '8'])).to.deep.equal([true, true, true, false]);
  });

  it('integer ranges, bounds included: ping-timeout 5..120, event threads 1..32', () => {
    expect(verdicts('network.ping-timeout', ['5', '42', '120', '4', '0', '121', '1013', '4.5', '-5', ' 42', '1e2', ''])).to.deep.equal([
      true, true, true, false, false, false, false, false, false, false, false, false,
    ]);
    expect(volumeOptionProblem('network.ping-timeout', '0')).to.equal(
      'network.ping-timeout "0": must be a whole number from 5 to 120 (below 5 seconds a busy server is taken for a dead one; 0 never notices one)',
    );
    expect(verdicts('server.event-threads', ['1', '32', '33', '0'])).to.deep.equal([true, true, false, false]);
    expect(verdicts('storage.reserve', ['1', '50', '0', '51', '5%'])).to.deep.equal([true, true, false, false, false]);
    expect(verdicts('performance.io-thread-count', ['99999999999'])).to.deep.equal([false]);
  });

  it('sizes in Gluster units (binary, any case), within the bounds', () => {
    expect(verdicts('performance.cache-size', ['4MB', '64MB', '64mb', '1GB', '16GB', '4194304', '2MB', '17GB', '1TB', '64 MB', '64MiB', '64M', '-1MB'])).to.deep.equal([
      true, true, true, true, true, true, false, false, false, false, false, false, false,
    ]);
    expect(volumeOptionProblem('performance.cache-size', '1TB')).to.equal(
      'performance.cache-size "1TB": must be a size from 4MB to 16GB, such as 64MB (KB, MB, GB, TB) (the io-cache needs 4MB; more than 16GB per mount starves the node)',
    );
    expect(verdicts('performance.write-behind-window-size', ['512KB', '1GB', '256KB', '2GB'])).to.deep.equal([true, true, false, false]);
  });

  it('percentages with their sign', () => {
    expect(verdicts('cluster.min-free-disk', ['10%', '1%', '50%', '10', '0%', '51%', '10GB'])).to.deep.equal([true, true, true, false, false, false, false]);
  });
});

describe('volume option policy: a whole map', () => {
  it('is bounded: more than OPTIONS_MAX_ENTRIES is one problem, said first', () => {
    const many = Object.fromEntries(Array.from({ length: OPTIONS_MAX_ENTRIES + 1 }, (_, i) => [`x.o${i}`, 'v']));
    const problems = volumeOptionsProblems(many);
    expect(problems[0]).to.equal(`${OPTIONS_MAX_ENTRIES + 1} options, more than the ${OPTIONS_MAX_ENTRIES} a map may hold`);
  });

  it('lists every bad entry, each naming itself', () => {
    expect(volumeOptionsProblems({ 'auth.allow': '*', 'performance.cache-size': 'lots', 'performance.quick-read': 'on' })).to.deep.equal([
      `auth.allow is not allowed: who may mount a volume and how its traffic is protected come from typed GlusterCluster fields, not from free-form options`,
      'performance.cache-size "lots": must be a size from 4MB to 16GB, such as 64MB (KB, MB, GB, TB) (the io-cache needs 4MB; more than 16GB per mount starves the node)',
    ]);
  });
});
