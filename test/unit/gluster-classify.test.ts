import { expect } from 'chai';
import { classifyFailure } from '../../src/gluster/classify.ts';
import { parseCliEnvelope } from '../../src/gluster/parsers/xml.ts';
import { fixture } from './gluster-fake-transport.ts';

const opErrstr = (path: string) => parseCliEnvelope(fixture(path)).opErrstr;

describe('classifyFailure on real glusterd and LVM messages', () => {
  const cases: [string, string, 'retryable' | 'permanent', string][] = [
    ['lock held (XML opErrstr)', opErrstr('gluster/error-another-transaction.xml'), 'retryable', 'lock-busy'],
    ['lock held (text-mode stderr)', fixture('gluster/error-another-transaction.stderr.txt'), 'retryable', 'lock-busy'],
    ['glusterd down', fixture('gluster/error-connection-failed.stdout.txt'), 'retryable', 'daemon-unreachable'],
    ['peer unreachable on probe', opErrstr('gluster/error-peer-probe-unreachable.xml'), 'retryable', 'transport-disconnected'],
    ['volume exists', opErrstr('gluster/error-volume-exists.xml'), 'permanent', 'already-exists'],
    ['brick inside an existing brick', opErrstr('gluster/error-brick-in-use.xml'), 'permanent', 'brick-in-use'],
    ['volume missing', opErrstr('gluster/error-volume-not-exist.xml'), 'permanent', 'not-found'],
    ['volume not started', opErrstr('gluster/error-volume-not-started.xml'), 'permanent', 'not-started'],
    ['volume already started', opErrstr('gluster/error-volume-already-started.xml'), 'permanent', 'already-started'],
    ['no device-mapper (thin pool)', fixture('lvm/lvcreate-thinpool.stderr.txt'), 'permanent', 'device-mapper-missing'],
    ['no device-mapper (thin LV)', fixture('lvm/lvcreate-thin-lv.stderr.txt'), 'permanent', 'device-mapper-missing'],
    ['pvcreate on a PV of a VG', fixture('lvm/pvcreate-again.stderr.txt'), 'permanent', 'already-exists'],
    ['vgcreate twice', fixture('lvm/vgcreate-again.stderr.txt'), 'permanent', 'already-exists'],
    ['PV already in another VG', fixture('lvm/vgcreate-pv-in-use.stderr.txt'), 'permanent', 'already-exists'],
    ['pvcreate on a missing device', fixture('lvm/pvcreate-no-device.stderr.txt'), 'permanent', 'no-such-device'],
    ['lvremove of a missing LV', fixture('lvm/lvremove-not-found.stderr.txt'), 'permanent', 'not-found'],
    // Texts glusterd prints that the test bed cannot provoke on demand (from glusterd-mgmt.c / cli-rpc-ops.c).
    ['peer lock failed', 'Locking failed on 10.77.0.12. Please check log file for details.', 'retryable', 'lock-busy'],
    ['commit failed for a lock', 'Commit failed on 10.77.0.13. Error: Unable to acquire lock for vol1', 'retryable', 'lock-busy'],
    ['CLI timeout', 'Error : Request timed out', 'retryable', 'timeout'],
    ['brick has gluster xattrs', 'volume create: v: failed: /bricks/b1 is already part of a volume', 'permanent', 'brick-in-use'],
    ['mount on a missing device', 'mount: /mnt: special device /dev/vg/lv does not exist.', 'permanent', 'not-found'],
    ['losetup on a missing loop', 'losetup: /dev/loop99: detach failed: No such device or address', 'permanent', 'no-such-device'],
    ['wrong brick count', 'Incorrect number of bricks supplied 2 with count 3', 'permanent', 'invalid-argument'],
    // Real text from the e2e run, right after peer probe; glusterd.log: "Failed to convert hostname 10.77.0.12 to uuid".
    ['bare pre-validation failure', 'Pre-validation failed on localhost. Please check log file for details', 'retryable', 'validation-unspecified'],
    ['pre-validation failure with a reason', 'Pre Validation failed on 10.77.0.12. Brick: 10.77.0.12:/bricks/b1 not available. Brick may be containing or be contained by an existing brick.', 'permanent', 'brick-in-use'],
    ['unknown', 'something nobody has seen before', 'permanent', 'unknown'],
  ];
  for (const [what, text, errorClass, reason] of cases) {
    it(`${what}: ${errorClass} (${reason})`, () => {
      expect(text, 'fixture text').to.not.equal('');
      expect(classifyFailure(text)).to.deep.equal({ errorClass, reason });
    });
  }
});
