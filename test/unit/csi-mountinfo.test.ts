import { expect } from 'chai';
import { isGlusterMount, isReadOnly, mountAt, parseMountInfo, parseMountInfoLine, unescapeMountField } from '../../src/csi/mountinfo.ts';

// Lines as the kernel writes them: a FUSE Gluster mount (no optional fields), the root with a shared peer
// group, a path with an escaped space, and two mounts stacked on one point.
const SAMPLE = [
  '22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '612 22 0:61 / /var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pv-1/mount rw,relatime shared:300 - fuse.glusterfs 10.77.0.11:/default_pvc-1 rw,user_id=0,group_id=0,default_permissions,allow_other,max_read=131072',
  '613 22 0:62 / /mnt/with\\040space ro,relatime - fuse.glusterfs 10.77.0.12:vol2 ro,user_id=0,group_id=0',
  '614 22 0:63 / /stacked rw - tmpfs tmpfs rw',
  '615 614 0:64 / /stacked rw master:7 propagate_from:2 - fuse.glusterfs 10.77.0.11:/top rw',
  '',
].join('\n');

describe('CSI mountinfo parsing', () => {
  it('parses fields, with any number of optional fields before the separator', () => {
    const entries = parseMountInfo(SAMPLE);
    expect(entries).to.have.length(5);
    const gluster = entries[1]!;
    expect(gluster).to.deep.include({
      id: 612,
      parentId: 22,
      majorMinor: '0:61',
      root: '/',
      mountPoint: '/var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pv-1/mount',
      fsType: 'fuse.glusterfs',
      source: '10.77.0.11:/default_pvc-1',
    });
    expect(gluster.optionalFields).to.deep.equal(['shared:300']);
    expect(gluster.superOptions).to.include('allow_other');
    expect(entries[4]!.optionalFields).to.deep.equal(['master:7', 'propagate_from:2']);
    expect(entries[0]!.fsType).to.equal('ext4');
  });

  it('unescapes octal escapes in paths', () => {
    expect(unescapeMountField('/a\\040b\\011c\\134d')).to.equal('/a b\tc\\d');
    expect(parseMountInfo(SAMPLE)[2]!.mountPoint).to.equal('/mnt/with space');
  });

  it('finds the top mount of a stacked mount point, gluster or not, and read-only', () => {
    const entries = parseMountInfo(SAMPLE);
    expect(mountAt(entries, '/stacked')!.source).to.equal('10.77.0.11:/top');
    expect(mountAt(entries, '/nothing')).to.equal(undefined);
    expect(isGlusterMount(mountAt(entries, '/stacked')!)).to.equal(true);
    expect(isGlusterMount(entries[0]!)).to.equal(false);
    expect(isReadOnly(mountAt(entries, '/mnt/with space')!)).to.equal(true);
    expect(isReadOnly(entries[1]!)).to.equal(false);
  });

  it('rejects malformed lines instead of guessing', () => {
    expect(() => parseMountInfoLine('22 1 253:1 / / rw,relatime ext4 /dev/vda1 rw')).to.throw(/malformed/);
    expect(() => parseMountInfoLine('x 1 253:1 / / rw - ext4 /dev/vda1 rw')).to.throw();
    expect(() => parseMountInfoLine('22 1 253:1 / relative rw - ext4 /dev/vda1 rw')).to.throw();
  });

  it('parses this machine\'s own mount table', async () => {
    const { readMountInfo } = await import('../../src/csi/mountinfo.ts');
    const entries = await readMountInfo();
    expect(mountAt(entries, '/')).to.not.equal(undefined);
  });
});
