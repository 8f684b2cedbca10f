import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decideFuseIsolation,
  hostCgroupTargets,
  isolatedMountArgv,
  parseProcCgroup,
  withHostCgroups,
  type HostFacts,
} from '../../src/csi/fuse-isolation.ts';
import { runDetached } from '../../src/csi/mounter.ts';
import { parseMountInfo } from '../../src/csi/mountinfo.ts';

/** /proc/1/cgroup of a host init on a v1 host without systemd (this project's test machine, hybrid). */
const HOST_INIT_HYBRID = ['9:name=systemd:/', '8:pids:/', '5:devices:/', '4:memory:/', '1:cpu,cpuacct:/', '0::/', ''].join('\n');
/** The plugin container's own cgroups on such a host (kubelet's cgroupfs driver). */
const CONTAINER_HYBRID = ['9:name=systemd:/kubepods/podu/c1', '8:pids:/kubepods/podu/c1', '5:devices:/kubepods/podu/c1', '4:memory:/kubepods/podu/c1', '1:cpu,cpuacct:/kubepods/podu/c1', '0::/', ''].join('\n');

/** The container's mount table with the host's /sys/fs/cgroup at /host/sys/fs/cgroup (hostPath, rbind). */
const MOUNTS_HYBRID = parseMountInfo(
  [
    // The container's own cgroup view: only its subtree, and not under the root we were given.
    '900 800 0:29 /kubepods/podu/c1 /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory',
    '901 800 0:28 / /host/sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '902 901 0:35 / /host/sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
    '903 901 0:36 / /host/sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
    '904 901 0:37 / /host/sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices',
    '905 901 0:29 / /host/sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '906 901 0:38 / /host/sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
    '907 901 0:39 / /host/sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate',
  ].join('\n'),
);
const HYBRID_FILES = [
  '/host/sys/fs/cgroup/systemd/cgroup.procs',
  '/host/sys/fs/cgroup/pids/cgroup.procs',
  '/host/sys/fs/cgroup/devices/cgroup.procs',
  '/host/sys/fs/cgroup/memory/cgroup.procs',
  '/host/sys/fs/cgroup/cpu,cpuacct/cgroup.procs',
  '/host/sys/fs/cgroup/unified/cgroup.procs',
];

/** A DaemonSet pod with hostPID and the host's cgroup tree mounted: everything host-cgroup needs. */
function hostPidFacts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    systemdBooted: false,
    ownPid: 4242,
    pid1Cgroup: HOST_INIT_HYBRID,
    ownCgroup: CONTAINER_HYBRID,
    mounts: MOUNTS_HYBRID,
    cgroupRoot: '/host/sys/fs/cgroup',
    writableProcsFiles: new Set(HYBRID_FILES),
    ...overrides,
  };
}

describe('FUSE client isolation: /proc/PID/cgroup', () => {
  it('reads v1, v2 and hybrid lines, with colons in cgroup names', () => {
    const { memberships, refused } = parseProcCgroup(
      ['12:cpu,cpuacct:/kubepods.slice/kubepods-pod1.slice', '3:name=systemd:/init.scope', '0::/system.slice/containerd.service', '2:memory:/a:b:c', ''].join('\n'),
    );
    expect(refused).to.deep.equal([]);
    expect(memberships).to.deep.equal([
      { hierarchyId: 12, controllers: ['cpu', 'cpuacct'], path: '/kubepods.slice/kubepods-pod1.slice' },
      { hierarchyId: 3, controllers: ['name=systemd'], path: '/init.scope' },
      { hierarchyId: 0, controllers: [], path: '/system.slice/containerd.service' },
      { hierarchyId: 2, controllers: ['memory'], path: '/a:b:c' },
    ]);
  });

  it('refuses lines it cannot map safely, and keeps the rest', () => {
    const hostile = [
      '0::/../../init.scope', // a private cgroup namespace's view of the host init
      '4:memory:relative/path',
      '5:devices:/a/../../etc',
      '6:pids:/a//b',
      '7:blkio:/a/./b',
      '8:freezer:/a\u0001b',
      '9:me mory:/',
      '10::/',
      '0:memory:/',
      'garbage',
      '11:cpuset:/ok',
      '11:cpuset:/again',
    ].join('\n');
    const { memberships, refused } = parseProcCgroup(hostile);
    expect(memberships).to.deep.equal([{ hierarchyId: 11, controllers: ['cpuset'], path: '/ok' }]);
    expect(refused).to.have.length(11);
    expect(refused[0]).to.match(/^"0::\/\.\.\/\.\.\/init\.scope": path is not absolute or not normalized/);
    expect(refused.at(-1)).to.match(/listed twice/);
  });
});

describe('FUSE client isolation: cgroup.procs files of the host init', () => {
  it('hybrid: every v1 hierarchy by its controllers, the unified one at <root>/unified; the container\'s own view is ignored', () => {
    const { memberships } = parseProcCgroup(HOST_INIT_HYBRID);
    const { targets, unmapped } = hostCgroupTargets(memberships, MOUNTS_HYBRID, '/host/sys/fs/cgroup/');
    expect(unmapped).to.deep.equal([]);
    expect(targets.map((t) => t.procsFile)).to.deep.equal(HYBRID_FILES);
    expect(targets.map((t) => t.hierarchy)).to.deep.equal(['name=systemd', 'pids', 'devices', 'memory', 'cpu,cpuacct', 'unified']);
  });

  it('v2: <root>/<path>/cgroup.procs', () => {
    const mounts = parseMountInfo('50 40 0:27 / /host/sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot');
    const { targets } = hostCgroupTargets(parseProcCgroup('0::/init.scope\n').memberships, mounts, '/host/sys/fs/cgroup');
    expect(targets).to.deep.equal([{ hierarchy: 'unified', procsFile: '/host/sys/fs/cgroup/init.scope/cgroup.procs' }]);
  });

  it('a mount of a subtree maps only paths inside it; hierarchies without a mount are named', () => {
    const mounts = parseMountInfo('60 40 0:30 /node1 /cg/memory rw - cgroup cgroup rw,memory');
    const inside = hostCgroupTargets(parseProcCgroup('4:memory:/node1/init\n5:devices:/\n').memberships, mounts, '/cg');
    expect(inside).to.deep.equal({ targets: [{ hierarchy: 'memory', procsFile: '/cg/memory/init/cgroup.procs' }], unmapped: ['devices'] });
    expect(hostCgroupTargets(parseProcCgroup('4:memory:/node10\n').memberships, mounts, '/cg').unmapped).to.deep.equal(['memory']);
  });
});

describe('FUSE client isolation: the auto decision', () => {
  it('systemd when systemd runs the host, whatever else is there', () => {
    const decision = decideFuseIsolation('auto', hostPidFacts({ systemdBooted: true }));
    expect(decision).to.deep.include({ ok: true, isolation: { mode: 'systemd' }, warnings: [] });
  });

  it('host-cgroup with hostPID, the host cgroup tree mounted and writable', () => {
    const decision = decideFuseIsolation('auto', hostPidFacts());
    expect(decision).to.deep.include({ ok: true, isolation: { mode: 'host-cgroup', procsFiles: HYBRID_FILES }, warnings: [] });
  });

  const noneCases: Array<[string, Partial<HostFacts>, RegExp]> = [
    ['without hostPID the plugin is PID 1 of its own namespace', { ownPid: 1, ownCgroup: HOST_INIT_HYBRID }, /PID 1 of its PID namespace/],
    ['PID 1 shares our cgroups (no hostPID, started by a shell)', { ownCgroup: HOST_INIT_HYBRID }, /same cgroups/],
    ['/proc/1/cgroup unreadable', { pid1Cgroup: undefined }, /cannot read \/proc\/1\/cgroup/],
    ['a private cgroup namespace shows the host init relative to it', { pid1Cgroup: '0::/../../init.scope\n' }, /line refused/],
    ['the host cgroup tree is not mounted at the cgroup root', { cgroupRoot: '/nowhere' }, /not mounted under \/nowhere/],
    ['the devices hierarchy (what runc kills by on v1) is read-only', { writableProcsFiles: new Set(HYBRID_FILES.filter((f) => !f.includes('devices'))) }, /devices\/cgroup.procs does not exist or is not writable/],
  ];
  for (const [what, overrides, why] of noneCases) {
    it(`none, with the warning that mounts will not survive, when ${what}`, () => {
      const decision = decideFuseIsolation('auto', hostPidFacts(overrides));
      if (!decision.ok) throw new Error(decision.error);
      expect(decision.isolation).to.deep.equal({ mode: 'none' });
      expect(decision.why).to.match(why);
      expect(decision.warnings[0]).to.match(/break when the plugin container stops or restarts/);
    });
  }

  it('a hierarchy runc does not kill by, missing, is only noted', () => {
    const writable = new Set(HYBRID_FILES.filter((f) => !f.includes('pids')));
    const decision = decideFuseIsolation('auto', hostPidFacts({ writableProcsFiles: writable }));
    if (!decision.ok) throw new Error(decision.error);
    expect(decision.isolation).to.deep.equal({ mode: 'host-cgroup', procsFiles: [...writable] });
    expect(decision.warnings).to.deep.equal(['/host/sys/fs/cgroup/pids/cgroup.procs does not exist or is not writable']);
  });
});

describe('FUSE client isolation: explicit modes', () => {
  it('host-cgroup asked for but impossible is an error naming why; possible but partial works with warnings', () => {
    const impossible = decideFuseIsolation('host-cgroup', hostPidFacts({ pid1Cgroup: undefined }));
    expect(impossible).to.deep.equal({ ok: false, error: '--fuse-isolation=host-cgroup cannot work here: cannot read /proc/1/cgroup' });
    const partial = decideFuseIsolation('host-cgroup', hostPidFacts({ writableProcsFiles: new Set(['/host/sys/fs/cgroup/memory/cgroup.procs']) }));
    if (!partial.ok) throw new Error(partial.error);
    expect(partial.isolation).to.deep.equal({ mode: 'host-cgroup', procsFiles: ['/host/sys/fs/cgroup/memory/cgroup.procs'] });
    expect(partial.warnings.join('\n')).to.match(/devices\/cgroup.procs does not exist/);
  });

  it('systemd and none are taken as asked; without systemd, systemd says it will fail; none says mounts will not survive', () => {
    expect(decideFuseIsolation('systemd', hostPidFacts())).to.deep.include({ ok: true, isolation: { mode: 'systemd' } });
    expect((decideFuseIsolation('systemd', hostPidFacts()) as { warnings: string[] }).warnings[0]).to.match(/systemd-run will fail/);
    const none = decideFuseIsolation('none', hostPidFacts({ systemdBooted: true }));
    expect(none).to.deep.include({ ok: true, isolation: { mode: 'none' } });
    expect((none as { warnings: string[] }).warnings[0]).to.match(/will|break/);
  });
});

describe('FUSE client isolation: the mount command', () => {
  const argv = ['mount', '-t', 'glusterfs', '-o', 'backup-volfile-servers=b:c', 'a:/vol', '/t'];

  it('per mode: systemd-run scope, join-the-host-cgroups shell, or argv unchanged', () => {
    expect(isolatedMountArgv({ mode: 'systemd' }, argv, '/t')).to.deep.equal([
      'systemd-run', '--description=Gluster FUSE mount of /t', '--scope', '--collect', '--quiet', '--', ...argv,
    ]);
    const wrapped = isolatedMountArgv({ mode: 'host-cgroup', procsFiles: ['/h/memory/cgroup.procs', '/h/devices/cgroup.procs'] }, argv, '/t');
    expect(wrapped.slice(0, 2)).to.deep.equal(['/bin/sh', '-c']);
    expect(wrapped.slice(3)).to.deep.equal(['sh', '/h/memory/cgroup.procs', '/h/devices/cgroup.procs', '--', ...argv]);
    expect(isolatedMountArgv({ mode: 'none' }, argv, '/t')).to.deep.equal(argv);
  });

  it('the script is a constant: the same for every mount', () => {
    const script = (files: string[], args: string[]) => isolatedMountArgv({ mode: 'host-cgroup', procsFiles: files }, args, '/x')[2];
    expect(script(['/a/cgroup.procs'], ['mount', '$(reboot)'])).to.equal(script(['/b/cgroup.procs', '/c/cgroup.procs'], ['umount']));
  });

  it('refuses cgroup file names that are not absolute and normalized', () => {
    for (const bad of ['relative/cgroup.procs', '/a/../cgroup.procs', '--']) {
      expect(() => withHostCgroups(argv, [bad]), bad).to.throw(/not a safe cgroup.procs path/);
    }
  });

  describe('run for real (regular files stand in for cgroup.procs)', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'csi-cgroup-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('writes its own PID to every file before exec, so the command (same PID) starts there', async () => {
      const files = [join(dir, 'memory procs'), join(dir, 'devices-procs')];
      for (const file of files) writeFileSync(file, '');
      const result = await runDetached(withHostCgroups(['sh', '-c', 'echo "$$"'], files), 10_000);
      expect(result.code).to.equal(0);
      for (const file of files) expect(readFileSync(file, 'utf8')).to.equal(`${result.output}\n`);
    });

    it('passes hostile argv through byte for byte, executing none of it', async () => {
      const marker = join(dir, 'pwned');
      const hostile = [`$(touch ${marker})`, `; touch ${marker}`, '`id`', '--', '"quoted" \'single\'', 'new\nline', '*'];
      const file = join(dir, 'procs');
      writeFileSync(file, '');
      const result = await runDetached(withHostCgroups(['printf', '[%s]', ...hostile], [file]), 10_000);
      expect(result.code).to.equal(0);
      expect(result.output).to.equal(hostile.map((arg) => `[${arg}]`).join(''));
      expect(existsSync(marker)).to.equal(false);
    });

    it('fails without running the command when a cgroup file is missing, and creates none', async () => {
      const present = join(dir, 'present');
      const missing = join(dir, 'missing', 'cgroup.procs');
      const ran = join(dir, 'ran');
      writeFileSync(present, '');
      const result = await runDetached(withHostCgroups(['touch', ran], [present, missing]), 10_000);
      expect(result.code).to.equal(1);
      expect(result.output).to.contain(`cgroup file ${missing} does not exist`);
      expect(existsSync(ran)).to.equal(false);
      expect(existsSync(missing)).to.equal(false);
    });

    it('fails without running the command when the write is refused', async () => {
      const ran = join(dir, 'ran');
      const result = await runDetached(withHostCgroups(['touch', ran], ['/dev/full']), 10_000);
      expect(result.code).to.equal(1);
      expect(result.output).to.contain('cannot join the cgroup of /dev/full');
      expect(existsSync(ran)).to.equal(false);
    });
  });
});
