import { expect } from 'chai';
import { mountOptionProblem } from '../../src/csi/mount-option-policy.ts';

describe('CSI mount option allow-list', () => {
  it('takes the options users need, with valid values', () => {
    const allowed = [
      'ro', 'rw', 'acl', 'selinux', 'enable-ino32', 'fopen-keep-cache', '_netdev', 'noatime', 'nodiratime', 'relatime', 'nodev', 'nosuid', 'noexec',
      'log-level=WARNING', 'log-level=error', 'log-level=INFO', 'backup-volfile-servers=gluster-1.example.com:10.0.0.2', 'backupvolfile-server=g2',
      'transport=tcp', 'direct-io-mode=disable', 'direct-io-mode=auto', 'fopen-keep-cache=off', 'kernel-writeback-cache=on', 'use-readdirp=no',
      'attribute-timeout=0', 'attribute-timeout=1.5', 'entry-timeout=600', 'negative-timeout=3600', 'gid-timeout=300', 'lru-limit=65536',
      'reader-thread-count=4',
    ];
    for (const option of allowed) expect(mountOptionProblem(option), option).to.equal(undefined);
  });

  it('refuses what reaches past the mount: files on the node, other volumes, raw translator and kernel options, identity', () => {
    const refused = [
      'log-file=/etc/cron.d/x', 'dump-fuse=/root/.ssh/authorized_keys', 'volume-id=other_volume', 'volfile-id=other', 'volume-name=x', 'subdir-mount=a',
      'server-port=24008', 'volfile-server-port=1', 'xlator-option=*.client-bind-insecure=on', 'fuse-mountopts=allow_other', 'context=system_u:object_r:x',
      'no-root-squash=yes', 'root-squash=no', 'aux-gfid-mount', 'user-map-root=0', 'process-name=x', 'oom-score-adj=-1000', 'auto_unmount',
      'dev', 'suid', 'exec', 'x-systemd.automount', 'worm', 'allow_other',
    ];
    for (const option of refused) {
      const key = option.split('=')[0]!;
      expect(mountOptionProblem(option), option).to.contain(`mount option ${key} is not allowed`);
    }
  });

  it('checks values per option, naming the option and the rule', () => {
    const cases: Array<[string, RegExp]> = [
      ['log-level=DEBUG', /log-level: must be one of NONE, CRITICAL, ERROR, WARNING, INFO/],
      ['log-level=TRACE', /log-level/],
      ['transport=rdma', /transport: must be one of tcp/],
      ['backup-volfile-servers=a:b c', /"b c" is not a host name/],
      ['backup-volfile-servers=' + Array(17).fill('h').join(':'), /at most 16 servers/],
      ['backupvolfile-server=a:b', /must be one server/],
      ['attribute-timeout=-1', /attribute-timeout: must be seconds/],
      ['entry-timeout=99999', /entry-timeout: must be seconds from 0 to 3600/],
      ['lru-limit=0', /lru-limit: must be a whole number from 1 to 4194304/],
      ['reader-thread-count=1000', /reader-thread-count/],
      ['direct-io-mode=maybe', /direct-io-mode/],
      ['log-level', /needs a value/],
      ['acl=1', /mount option acl is not allowed/],
    ];
    for (const [option, pattern] of cases) expect(mountOptionProblem(option), option).to.match(pattern);
  });
});
