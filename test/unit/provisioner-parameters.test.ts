import { expect } from 'chai';
import { formatParameterErrors, parseStorageClassParameters, type ParseParametersResult } from '../../src/provisioner/storage-class-parameters.ts';

function ok(result: ParseParametersResult) {
  if (!result.success) throw new Error(`expected success, got ${formatParameterErrors(result.errors)}`);
  return result;
}
function failure(result: ParseParametersResult) {
  if (result.success) throw new Error('expected a failure');
  return result.errors;
}

describe('provisioner: StorageClass parameters', () => {
  it('defaults to replicate 3, GIDs 2000..2147483647, snapfactor 1, no options, no prefix', () => {
    const { parameters, warnings } = ok(parseStorageClassParameters({ clusterid: 'gluster' }));
    expect(parameters).to.deep.equal({
      clusterIds: ['gluster'],
      durability: { type: 'Replicate', replicate: { replica: 3, arbiter: false } },
      gidMin: 2000,
      gidMax: 2147483647,
      options: {},
      snapshotFactor: 1,
      claimLayout: 'volume',
      sharedVolumeSize: '100Gi',
    });
    expect(warnings).to.deep.equal([]);
  });

  it('claimLayout directory, with sharedVolumeSize; each refused where it does not apply or does not parse', () => {
    const { parameters } = ok(parseStorageClassParameters({ claimLayout: 'directory', sharedVolumeSize: '500Gi' }));
    expect(parameters).to.include({ claimLayout: 'directory', sharedVolumeSize: '500Gi' });
    expect(ok(parseStorageClassParameters({ claimlayout: 'directory' })).parameters.sharedVolumeSize).to.equal('100Gi');
    expect(failure(parseStorageClassParameters({ claimLayout: 'directories' }))[0]).to.include({ parameter: 'claimLayout' });
    expect(failure(parseStorageClassParameters({ sharedVolumeSize: '1Gi' }))[0]).to.deep.equal({ parameter: 'sharedVolumeSize', message: 'applies only with claimLayout: directory' });
    for (const size of ['ten gigs', '0', '-1Gi', '2Pi']) {
      expect(failure(parseStorageClassParameters({ claimLayout: 'directory', sharedVolumeSize: size }))[0], size).to.include({ parameter: 'sharedVolumeSize' });
    }
    expect(failure(parseStorageClassParameters({ claimLayout: 'directory', volumenameprefix: 'app' }))[0]).to.include({ parameter: 'volumenameprefix' });
  });

  it('takes a full in-tree StorageClass (camelCase keys as the docs spelled them) and warns about heketi-only ones', () => {
    const result = ok(
      parseStorageClassParameters({
        resturl: 'http://127.0.0.1:8081',
        clusterid: '630372ccdc720a92c681fb928f27b53f,42d2f6e5c4f6b1d2e0e1a2b3c4d5e6f7',
        restauthenabled: 'true',
        restuser: 'admin',
        secretNamespace: 'default',
        secretName: 'heketi-secret',
        gidMin: '40000',
        gidMax: '50000',
        volumetype: 'replicate:3',
        volumeoptions: 'performance.cache-size 64MB, performance.quick-read on',
        volumenameprefix: 'dept-dev',
        snapfactor: '10',
        customepnameprefix: 'custom',
      }),
    );
    expect(result.parameters).to.deep.equal({
      clusterIds: ['630372ccdc720a92c681fb928f27b53f', '42d2f6e5c4f6b1d2e0e1a2b3c4d5e6f7'],
      durability: { type: 'Replicate', replicate: { replica: 3, arbiter: false } },
      gidMin: 40000,
      gidMax: 50000,
      options: { 'performance.cache-size': '64MB', 'performance.quick-read': 'on' },
      volumeNamePrefix: 'dept-dev',
      snapshotFactor: 10,
      claimLayout: 'volume',
      sharedVolumeSize: '100Gi',
    });
    expect(result.warnings).to.have.length(1);
    for (const key of ['resturl', 'restauthenabled', 'restuser', 'secretNamespace', 'secretName', 'customepnameprefix']) {
      expect(result.warnings[0]).to.contain(key);
    }
    expect(result.warnings[0]).not.to.contain('clusterid');
  });

  it('matches keys case-insensitively but refuses the same key twice', () => {
    expect(ok(parseStorageClassParameters({ ClusterID: 'c', GIDMIN: '3000' })).parameters.gidMin).to.equal(3000);
    const errors = failure(parseStorageClassParameters({ clusterid: 'c', gidMin: '3000', gidmin: '4000' }));
    expect(errors[0]!.parameter).to.equal('gidmin');
    expect(errors[0]!.message).to.contain('gidMin');
  });

  describe('volumetype', () => {
    const cases: Array<[string, unknown]> = [
      ['none', { type: 'None' }],
      ['replicate', { type: 'Replicate', replicate: { replica: 3, arbiter: false } }],
      ['replicate:2', { type: 'Replicate', replicate: { replica: 2, arbiter: false } }],
      ['replicate:3', { type: 'Replicate', replicate: { replica: 3, arbiter: false } }],
      [' Replicate:4 ', { type: 'Replicate', replicate: { replica: 4, arbiter: false } }],
      ['disperse:4:2', { type: 'Disperse', disperse: { data: 4, redundancy: 2 } }],
      ['disperse:8:3', { type: 'Disperse', disperse: { data: 8, redundancy: 3 } }],
    ];
    for (const [value, durability] of cases) {
      it(`accepts ${JSON.stringify(value)}`, () => {
        expect(ok(parseStorageClassParameters({ clusterid: 'c', volumetype: value })).parameters.durability).to.deep.equal(durability);
      });
    }
    const bad: Array<[string, string]> = [
      ['replicate:x', 'whole number'],
      ['replicate:1', 'none'],
      ['replicate:0', '2..16'],
      ['replicate:17', '2..16'],
      ['replicate:3:1', 'replicate:N'],
      ['disperse', 'disperse:4:2'],
      ['disperse:4', 'disperse:4:2'],
      ['disperse:4:4', 'less than data'],
      ['disperse:2:x', 'whole number'],
      ['mirror:2', 'replicate:N'],
      ['', 'replicate:N'],
      ['none:1', 'replicate:N'],
    ];
    for (const [value, message] of bad) {
      it(`refuses ${JSON.stringify(value)} naming volumetype`, () => {
        const errors = failure(parseStorageClassParameters({ clusterid: 'c', volumetype: value }));
        expect(errors).to.have.length(1);
        expect(errors[0]!.parameter).to.equal('volumetype');
        expect(errors[0]!.message).to.contain(message);
        expect(formatParameterErrors(errors)).to.match(/^invalid StorageClass parameter volumetype: /);
      });
    }
  });

  describe('gidMin / gidMax', () => {
    it('takes either alone with the other defaulted', () => {
      expect(ok(parseStorageClassParameters({ clusterid: 'c', gidMin: '5000' })).parameters).to.include({ gidMin: 5000, gidMax: 2147483647 });
      expect(ok(parseStorageClassParameters({ clusterid: 'c', gidMax: '5000' })).parameters).to.include({ gidMin: 2000, gidMax: 5000 });
      expect(ok(parseStorageClassParameters({ clusterid: 'c', gidMin: '5000', gidMax: '5000' })).parameters).to.include({ gidMin: 5000, gidMax: 5000 });
    });
    for (const [key, value, message] of [
      ['gidMin', '1999', 'at least 2000'],
      ['gidMin', '-1', 'whole number'],
      ['gidMin', 'abc', 'whole number'],
      ['gidMin', '2000.5', 'whole number'],
      ['gidMax', '2147483648', 'at most 2147483647'],
      ['gidMax', '', 'whole number'],
    ] as const) {
      it(`refuses ${key}=${JSON.stringify(value)}`, () => {
        const errors = failure(parseStorageClassParameters({ clusterid: 'c', [key]: value }));
        expect(errors[0]).to.deep.include({ parameter: key });
        expect(errors[0]!.message).to.contain(message);
      });
    }
    it('refuses gidMin above gidMax, naming gidMax', () => {
      const errors = failure(parseStorageClassParameters({ clusterid: 'c', gidMin: '6000', gidMax: '5000' }));
      expect(errors[0]).to.deep.include({ parameter: 'gidMax' });
    });
  });

  describe('volumeoptions', () => {
    it('splits "key value" pairs on commas, keeping spaces inside values and skipping empty entries', () => {
      const { parameters } = ok(
        parseStorageClassParameters({ clusterid: 'c', volumeoptions: 'performance.cache-size 64MB,  performance.quick-read on ,, diagnostics.brick-log-level  WARNING' }),
      );
      expect(parameters.options).to.deep.equal({ 'performance.cache-size': '64MB', 'performance.quick-read': 'on', 'diagnostics.brick-log-level': 'WARNING' });
    });
    it('maps heketi\'s user.heketi.arbiter to an arbiter replica 3 and drops other user.heketi options with a warning', () => {
      const result = ok(parseStorageClassParameters({ clusterid: 'c', volumeoptions: 'user.heketi.arbiter true, user.heketi.average-file-size 64, performance.quick-read on' }));
      expect(result.parameters.durability).to.deep.equal({ type: 'Replicate', replicate: { replica: 3, arbiter: true } });
      expect(result.parameters.options).to.deep.equal({ 'performance.quick-read': 'on' });
      expect(result.warnings.join()).to.contain('user.heketi.average-file-size');
    });
    it('refuses an arbiter on anything but replicate:3', () => {
      const errors = failure(parseStorageClassParameters({ clusterid: 'c', volumetype: 'replicate:2', volumeoptions: 'user.heketi.arbiter true' }));
      expect(errors[0]).to.deep.include({ parameter: 'volumeoptions' });
    });
    it('goes through the volume option policy: each refused option or value is an error naming it', () => {
      const errors = failure(
        parseStorageClassParameters({
          clusterid: 'c',
          volumeoptions: 'client.ssl on, auth.allow 10.0.0.*, features.shard on, user.foo bar, diagnostics.brick-log-level TRACE, performance.quick-read on',
        }),
      );
      expect(errors.map((error) => error.parameter)).to.deep.equal(Array(5).fill('volumeoptions'));
      expect(errors.map((error) => error.message.split(/ is not allowed| "/)[0])).to.deep.equal(['client.ssl', 'auth.allow', 'features.shard', 'user.foo', 'diagnostics.brick-log-level']);
      expect(errors[4]!.message).to.equal('diagnostics.brick-log-level "TRACE": must be one of INFO, WARNING, ERROR, CRITICAL, NONE (DEBUG and TRACE fill the disks the logs are on)');
      expect(formatParameterErrors(errors)).to.contain('invalid StorageClass parameter volumeoptions: features.shard is not allowed: sharding');
    });
    it('is bounded as spec.options is', () => {
      const many = Array.from({ length: 65 }, (_, i) => `performance.quick-read${i} on`).join(', ');
      expect(failure(parseStorageClassParameters({ clusterid: 'c', volumeoptions: many }))[0]!.message).to.equal('65 options, more than the 64 a map may hold');
    });
    for (const value of ['performance.cache-size', 'a b, c', '-bad on', 'x on, x off', 'we$ird on']) {
      it(`refuses ${JSON.stringify(value)}`, () => {
        const errors = failure(parseStorageClassParameters({ clusterid: 'c', volumeoptions: value }));
        expect(errors[0]).to.deep.include({ parameter: 'volumeoptions' });
      });
    }
  });

  describe('volumenameprefix, snapfactor, clusterid', () => {
    it('accepts a prefix of letters, digits and -', () => {
      expect(ok(parseStorageClassParameters({ clusterid: 'c', volumenameprefix: 'Dept-7' })).parameters.volumeNamePrefix).to.equal('Dept-7');
    });
    for (const value of ['dept_dev', '', '-dept', 'a.b', 'x'.repeat(33)]) {
      it(`refuses volumenameprefix ${JSON.stringify(value)}`, () => {
        expect(failure(parseStorageClassParameters({ clusterid: 'c', volumenameprefix: value }))[0]).to.deep.include({ parameter: 'volumenameprefix' });
      });
    }
    it('takes snapfactor 1..100', () => {
      expect(ok(parseStorageClassParameters({ clusterid: 'c', snapfactor: '100' })).parameters.snapshotFactor).to.equal(100);
      for (const value of ['0', '101', '1.5', 'ten']) {
        expect(failure(parseStorageClassParameters({ clusterid: 'c', snapfactor: value }))[0]).to.deep.include({ parameter: 'snapfactor' });
      }
    });
    it('takes clusterid as an optional comma list, in its order, empty entries dropped (as the in-tree plugin read it)', () => {
      expect(ok(parseStorageClassParameters({})).parameters.clusterIds).to.deep.equal([]);
      expect(ok(parseStorageClassParameters(undefined)).parameters.clusterIds).to.deep.equal([]);
      expect(ok(parseStorageClassParameters({ clusterid: '' })).parameters.clusterIds).to.deep.equal([]);
      expect(ok(parseStorageClassParameters({ clusterid: ' , ' })).parameters.clusterIds).to.deep.equal([]);
      expect(ok(parseStorageClassParameters({ clusterid: ' prod , backup,' })).parameters.clusterIds).to.deep.equal(['prod', 'backup']);
    });
    it('refuses a clusterid entry that is neither a GlusterCluster name nor a heketi id', () => {
      expect(failure(parseStorageClassParameters({ clusterid: 'Not_A_Name' }))[0]).to.deep.include({ parameter: 'clusterid' });
      expect(failure(parseStorageClassParameters({ clusterid: 'prod,Not_A_Name' }))[0]).to.deep.include({ parameter: 'clusterid' });
    });
  });

  it('refuses unknown parameters, naming each, and reports every bad parameter at once', () => {
    const errors = failure(parseStorageClassParameters({ clusterid: 'c', volumetpye: 'replicate:3', snapfactor: '0', Foo: 'bar' }));
    const names = errors.map((error) => error.parameter).sort();
    expect(names).to.deep.equal(['Foo', 'snapfactor', 'volumetpye']);
    expect(formatParameterErrors(errors)).to.contain('invalid StorageClass parameter volumetpye: is not a parameter of this provisioner');
  });
});
