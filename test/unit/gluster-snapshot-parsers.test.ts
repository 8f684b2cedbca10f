import { expect } from 'chai';
import { snapshotClone, snapshotCreate, snapshotDelete } from '../../src/gluster/commands/snapshot.ts';
import { classifyFailure } from '../../src/gluster/classify.ts';
import { parseCliEnvelope } from '../../src/gluster/parsers/xml.ts';
import { parseSnapshotCloneXml, parseSnapshotCreateXml, parseSnapshotDeleteXml, parseSnapshotInfoXml, parseSnapshotListXml } from '../../src/gluster/parsers/snapshot.ts';
import { fixture } from './gluster-fake-transport.ts';

// Real output of glusterd 10.3 in the test bed's VM node (thin LVM bricks), captured 2026-12-02.
describe('gluster snapshot parsers and commands', () => {
  it('reads the new snapshot of a create', () => {
    expect(parseSnapshotCreateXml(fixture('gluster/snapshot-create.xml'))).to.deep.equal({ name: 'snap-a', uuid: 'cde64574-6486-4098-91a3-249f59b45b70' });
  });

  it('reads info: origin volume, status, and the time as an ISO instant', () => {
    const [info, ...rest] = parseSnapshotInfoXml(fixture('gluster/snapshot-info.xml'));
    expect(rest).to.have.length(0);
    expect(info).to.deep.equal({
      name: 'snap-a',
      uuid: 'cde64574-6486-4098-91a3-249f59b45b70',
      description: '',
      createdAt: '2026-12-02T14:09:56+00:00',
      originVolume: 'gv1',
      status: 'Stopped',
    });
    expect(Date.parse(info!.createdAt)).to.equal(Date.UTC(2026, 11, 2, 14, 9, 56));
  });

  it('lists a volume’s snapshots, and none as an empty list', () => {
    expect(parseSnapshotListXml(fixture('gluster/snapshot-list.xml'))).to.deep.equal(['snap-a']);
    expect(parseSnapshotListXml(fixture('gluster/snapshot-list-empty.xml'))).to.deep.equal([]);
  });

  it('reads a delete and a clone', () => {
    expect(parseSnapshotDeleteXml(fixture('gluster/snapshot-delete.xml'))).to.deep.equal({ name: 'snap-a', uuid: 'cde64574-6486-4098-91a3-249f59b45b70' });
    expect(parseSnapshotCloneXml(fixture('gluster/snapshot-clone.xml'))).to.deep.equal({ name: 'clone-a', id: 'e680dc7c-a986-4dba-97d7-9902bba973ba' });
  });

  it('classifies the failures callers act on from glusterd’s own texts', () => {
    const reasonOf = (name: string) => classifyFailure(parseCliEnvelope(fixture(`gluster/${name}`)).opErrstr).reason;
    expect(reasonOf('snapshot-create-duplicate.xml')).to.equal('already-exists');
    expect(reasonOf('snapshot-info-missing.xml')).to.equal('not-found');
    expect(reasonOf('snapshot-delete-missing.xml')).to.equal('not-found');
    expect(parseCliEnvelope(fixture('gluster/snapshot-create-not-thin.xml')).opErrstr).to.match(/only for thin provisioned LV/);
    expect(parseCliEnvelope(fixture('gluster/snapshot-delete-with-snap.xml')).opErrstr).to.match(/as it has 1 snapshots/);
  });

  it('builds argv that keep names as given and refuse option-like names', () => {
    expect(snapshotCreate('snapshot-1', 'ns_vol').argv).to.deep.equal(['gluster', '--mode=script', '--xml', 'snapshot', 'create', 'snapshot-1', 'ns_vol', 'no-timestamp']);
    expect(snapshotCreate('snapshot-1', 'ns_vol').mutatesCluster).to.equal(true);
    expect(snapshotDelete('snapshot-1').argv.slice(3)).to.deep.equal(['snapshot', 'delete', 'snapshot-1']);
    expect(snapshotClone('restored', 'snapshot-1').argv.slice(3)).to.deep.equal(['snapshot', 'clone', 'restored', 'snapshot-1']);
    expect(() => snapshotCreate('-f', 'vol')).to.throw(/invalid snapshot name/);
    expect(() => snapshotCreate('a b', 'vol')).to.throw(/invalid snapshot name/);
    expect(() => snapshotDelete('x'.repeat(129))).to.throw(/invalid snapshot name/);
  });
});
