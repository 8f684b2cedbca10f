import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { App, Chart } from 'cdk8s';
import { addCsiObjects } from '../../cdk8s/csi.ts';
import { DRIVER_NAME } from '../../src/api/group.ts';
import { loadCsiPackage } from '../../src/csi/server.ts';
import { kubeletTargetPath, startCsiPlugin, type CsiPluginProcess } from '../support/csi-plugin.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { kubectl } from '../support/kube.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { sshCheck, sshRun } from '../support/ssh.ts';
import { testbedEnv } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);

/**
 * The CSI node plugin as kubelet sees it: a separate process serving CSI over a unix socket, called with a gRPC
 * client, mounting a real replica-3 Gluster volume of the test bed on this host. Proves publish/unpublish
 * idempotency, stats, repair of a broken FUSE mount, and that mounts outlive a SIGKILLed plugin.
 */
describe('CSI node plugin on the test bed', function () {
  this.timeout(180_000);
  const env = testbedEnv();
  const [n1, n2, n3] = env.TESTBED_NODES as [string, string, string];
  const volume = `t6csi-${randomBytes(3).toString('hex')}`;
  const brick = `${env.TESTBED_BRICK_ROOT}/${volume}`;
  const work = mkdtempSync(join(tmpdir(), 't6csi-'));
  const endpoint = `unix://${join(work, 'csi.sock')}`;
  const stateDir = join(work, 'state');
  // The plugin takes targets only where kubelet puts them: the work directory stands in for /var/lib/kubelet.
  const kubeletDir = realpathSync(work);
  const targets = { a: kubeletTargetPath(kubeletDir, 'a', 'pv'), b: kubeletTargetPath(kubeletDir, 'b', 'pv'), ro: kubeletTargetPath(kubeletDir, 'ro', 'pv') };
  const csi = loadCsiPackage();
  let plugin: ChildProcess | undefined;
  let identity: grpc.Client | undefined;
  let node: grpc.Client | undefined;
  let volumeCreated = false;
  let failed = false;

  const context = { mountSource: `${n1}:${volume}`, backupVolfileServers: `${n2}:${n3}`, glusterVolumeName: volume, gid: '2001' };
  const capability = (mode = 'MULTI_NODE_MULTI_WRITER') => ({ mount: { fs_type: '', mount_flags: ['log-level=WARNING'] }, access_mode: { mode } });
  const publishRequest = (target: string, extra: Record<string, unknown> = {}) => ({
    volume_id: `default/${volume}`,
    target_path: target,
    volume_capability: capability(),
    readonly: false,
    volume_context: context,
    ...extra,
  });

  /** A gluster CLI mutation, retried while another engineer's transaction holds the cluster lock. */
  async function gluster(args: string[]): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const result = await sshRun(n1, ['gluster', '--mode=script', ...args], 120_000);
      if (result.code === 0) return result.stdout;
      const text = result.stderr + result.stdout;
      if (attempt < 20 && /another transaction|locking failed|is in progress/i.test(text)) {
        await sleep(500 + Math.random() * 1000);
        continue;
      }
      throw new Error(`gluster ${args.join(' ')}: ${text}`);
    }
  }

  function call<T = Record<string, unknown>>(client: grpc.Client | undefined, method: string, request: unknown): Promise<T> {
    if (!client) throw new Error('plugin client not connected');
    const fn = (client as unknown as Record<string, (r: unknown, o: object, cb: (e: grpc.ServiceError | null, v: T) => void) => void>)[method]!;
    return new Promise((resolve, reject) => {
      fn.call(client, request, { deadline: Date.now() + 90_000 }, (error, value) => (error ? reject(error) : resolve(value)));
    });
  }

  async function rejection(promise: Promise<unknown>): Promise<grpc.ServiceError> {
    try {
      await promise;
    } catch (error) {
      return error as grpc.ServiceError;
    }
    expect.fail('the call succeeded');
  }

  let logIndex = 0;
  /** Starts the plugin as its own process, like the DaemonSet does, and waits until Probe says ready. */
  async function startPlugin(): Promise<void> {
    const log = createWriteStream(join(work, `plugin-${logIndex++}.log`));
    await new Promise((resolve) => log.once('open', resolve));
    plugin = spawn(process.execPath, ['src/csi/main.ts', '--endpoint', endpoint, '--node-id', 'testnode', '--state-dir', stateDir, '--kubelet-dir', kubeletDir], {
      cwd: REPO_ROOT,
      stdio: ['ignore', log, log],
      env: { ...process.env, LOG_LEVEL: 'debug' },
      // Its own process group, which the test kills whole: like a container stop, everything the plugin
      // started and left in its group dies with it. Mounts must not.
      detached: true,
    });
    identity = new csi.Identity(endpoint, grpc.credentials.createInsecure());
    node = new csi.Node(endpoint, grpc.credentials.createInsecure());
    const started = plugin;
    await eventually('CSI plugin ready', async () => {
      const probe = await call<{ ready: { value: boolean } | null }>(identity, 'Probe', {});
      return probe?.ready?.value ? true : notYet({ probe, exitCode: started.exitCode, signal: started.signalCode });
    }, { timeoutMs: 30_000, intervalMs: 200 }).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; plugin log: ${pluginLogs()}`, { cause: error });
    });
  }

  async function killPlugin(): Promise<void> {
    identity?.close();
    node?.close();
    const child = plugin;
    plugin = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // The plugin's process group (the test started it as the group leader).
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
  }

  const pluginLogs = () =>
    readdirSync(work)
      .filter((name) => name.startsWith('plugin-'))
      .map((name) => readFileSync(join(work, name), 'utf8'))
      .join('\n');

  /** The lines of /proc/mounts for one mount point (the host's view: this test runs where kubelet would). */
  function mountsAt(target: string): string[] {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .filter((line) => line.split(' ')[1] === target);
  }

  /** PIDs of the glusterfs FUSE clients serving one mount point (their last argument is the mount point). */
  function fuseClientPids(target: string): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let argv: string[];
      try {
        argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      } catch {
        continue;
      }
      if (argv[0]?.endsWith('glusterfs') && argv.at(-1) === target && argv.some((arg) => arg === `--volfile-id=${volume}` || arg === `--volfile-id=/${volume}`)) pids.push(Number(entry));
    }
    return pids;
  }

  async function onAllBricks(file: string): Promise<string[]> {
    return await Promise.all([n1, n2, n3].map((host) => sshCheck(host, ['cat', `${brick}/${file}`])));
  }

  before(async function () {
    for (const peer of [n2, n3]) await gluster(['peer', 'probe', peer]);
    for (const host of [n1, n2, n3]) await sshCheck(host, ['mkdir', '-p', brick]);
    await gluster(['volume', 'create', volume, 'replica', '3', `${n1}:${brick}`, `${n2}:${brick}`, `${n3}:${brick}`, 'force']);
    volumeCreated = true;
    await gluster(['volume', 'start', volume]);
    await startPlugin();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    this.timeout(300_000);
    await killPlugin();
    for (const target of Object.values(targets)) {
      for (let i = 0; i < 4 && mountsAt(target).length > 0; i++) {
        await execFileAsync('umount', [target]).catch(() => execFileAsync('umount', ['-l', target]).catch(() => undefined));
      }
    }
    if (volumeCreated) {
      await gluster(['volume', 'stop', volume, 'force']).catch((error: unknown) => console.error(error));
      await gluster(['volume', 'delete', volume]).catch((error: unknown) => console.error(error));
    }
    for (const host of [n1, n2, n3]) await sshRun(host, ['rm', '-rf', brick]).catch(() => undefined);
    if (failed || process.env.CSI_E2E_LOGS) console.error(pluginLogs());
    rmSync(work, { recursive: true, force: true });
  });

  it('answers Identity and Node info calls as a node-only driver', async () => {
    const info = await call<{ name: string; vendor_version: string }>(identity, 'GetPluginInfo', {});
    expect(info.name).to.equal(DRIVER_NAME);
    expect(info.vendor_version).to.equal('0.1.0');
    const caps = await call<{ capabilities: unknown[] }>(identity, 'GetPluginCapabilities', {});
    expect(JSON.stringify(caps.capabilities)).not.to.contain('CONTROLLER_SERVICE');
    const nodeCaps = await call<{ capabilities: Array<{ rpc: { type: string } }> }>(node, 'NodeGetCapabilities', {});
    expect(nodeCaps.capabilities.map((c) => c.rpc.type)).to.include('GET_VOLUME_STATS').and.not.include('STAGE_UNSTAGE_VOLUME');
    expect(await call(node, 'NodeGetInfo', {})).to.include({ node_id: 'testnode' });
  });

  it('answers the container probe command the DaemonSet uses', async () => {
    const { stdout } = await execFileAsync(process.execPath, ['src/csi/probe.ts', `--endpoint=${endpoint}`, '--ready'], { cwd: REPO_ROOT });
    expect(stdout).to.equal('');
    const dead = await execFileAsync(process.execPath, ['src/csi/probe.ts', `--endpoint=unix://${join(work, 'none.sock')}`], { cwd: REPO_ROOT }).catch((e: { code: number }) => e);
    expect((dead as { code: number }).code).to.equal(1);
  });

  it('has manifests the real apiserver accepts (server-side dry run)', async () => {
    const chart = new Chart(new App(), 'csi', { disableResourceNameHashes: true });
    addCsiObjects(chart);
    const file = join(work, 'csi-manifests.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: chart.toJson() }));
    const result = await kubectl(['apply', '--dry-run=server', '-f', file]);
    expect(result.stdout).to.match(/csidriver.*gluster\.gluster-operator\.dev/i).and.match(/daemonset.*gluster-csi-node/).and.match(/storageclass/);
  });

  it('refuses a request with an invalid volume context, naming the attribute', async () => {
    const error = await rejection(call(node, 'NodePublishVolume', publishRequest(targets.a, { volume_context: { ...context, mountSource: 'no-colon' } })));
    expect(error.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(error.details).to.contain('mountSource');
    expect(existsSync(targets.a)).to.equal(false);
  });

  it('publishes the volume: a FUSE mount on the host whose writes land on every brick', async () => {
    await call(node, 'NodePublishVolume', publishRequest(targets.a));
    const lines = mountsAt(targets.a);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain('fuse.glusterfs');
    writeFileSync(join(targets.a, 'hello.txt'), 'written through the CSI mount\n');
    expect(await onAllBricks('hello.txt')).to.deep.equal(Array(3).fill('written through the CSI mount\n'));
  });

  it('publishing the same volume again is a no-op: still exactly one mount', async () => {
    await call(node, 'NodePublishVolume', publishRequest(targets.a));
    expect(mountsAt(targets.a)).to.have.length(1);
    expect(fuseClientPids(targets.a)).to.have.length(1);
  });

  it('refuses to publish the same target read-only (already published read-write)', async () => {
    const error = await rejection(call(node, 'NodePublishVolume', publishRequest(targets.a, { readonly: true })));
    expect(error.code).to.equal(grpc.status.ALREADY_EXISTS);
  });

  it('publishes read-only when asked', async () => {
    await call(node, 'NodePublishVolume', publishRequest(targets.ro, { readonly: true }));
    expect(mountsAt(targets.ro)[0]).to.match(/ ro[ ,]/);
    expect(readFileSync(join(targets.ro, 'hello.txt'), 'utf8')).to.equal('written through the CSI mount\n');
    expect(() => writeFileSync(join(targets.ro, 'nope.txt'), 'x')).to.throw(/EROFS|read-only/i);
    await call(node, 'NodeUnpublishVolume', { volume_id: `default/${volume}`, target_path: targets.ro });
    expect(mountsAt(targets.ro)).to.have.length(0);
  });

  it('reports sane volume stats', async () => {
    const stats = await call<{
      usage: Array<{ unit: string; total: string; available: string; used: string }>;
      volume_condition: { abnormal: boolean };
    }>(node, 'NodeGetVolumeStats', { volume_id: `default/${volume}`, volume_path: targets.a });
    const bytes = stats.usage.find((u) => u.unit === 'BYTES')!;
    const inodes = stats.usage.find((u) => u.unit === 'INODES')!;
    expect(Number(bytes.total)).to.be.greaterThan(0);
    expect(Number(bytes.available)).to.be.within(1, Number(bytes.total));
    expect(Number(bytes.used)).to.be.within(0, Number(bytes.total));
    expect(Number(inodes.total)).to.be.greaterThan(0);
    expect(stats.volume_condition.abnormal).to.equal(false);
    const missing = await rejection(call(node, 'NodeGetVolumeStats', { volume_id: `default/${volume}`, volume_path: join(work, 'nowhere') }));
    expect(missing.code).to.equal(grpc.status.NOT_FOUND);
  });

  it('mounts survive a SIGKILLed plugin, and a restarted plugin serves them', async () => {
    const clientsBefore = fuseClientPids(targets.a);
    await killPlugin();
    // With the plugin dead, the mount still reads and writes.
    expect(readFileSync(join(targets.a, 'hello.txt'), 'utf8')).to.equal('written through the CSI mount\n');
    writeFileSync(join(targets.a, 'while-dead.txt'), 'plugin was dead\n');
    expect(await onAllBricks('while-dead.txt')).to.deep.equal(Array(3).fill('plugin was dead\n'));
    await startPlugin();
    expect(fuseClientPids(targets.a)).to.deep.equal(clientsBefore);
    writeFileSync(join(targets.a, 'after-restart.txt'), 'plugin restarted\n');
    expect(await onAllBricks('after-restart.txt')).to.deep.equal(Array(3).fill('plugin restarted\n'));
    await call(node, 'NodePublishVolume', publishRequest(targets.a));
    expect(mountsAt(targets.a)).to.have.length(1);
  });

  it('detects a broken mount (dead FUSE client) and mounts it again on NodePublishVolume', async () => {
    await call(node, 'NodePublishVolume', publishRequest(targets.b));
    const [client, ...others] = fuseClientPids(targets.b);
    expect(others).to.deep.equal([]);
    process.kill(client!, 'SIGKILL');
    await sleep(300);
    expect(() => readdirSync(targets.b)).to.throw(/ENOTCONN|not connected/);
    const stats = await call<{ volume_condition: { abnormal: boolean; message: string } }>(node, 'NodeGetVolumeStats', {
      volume_id: `default/${volume}`,
      volume_path: targets.b,
    });
    expect(stats.volume_condition.abnormal).to.equal(true);
    await call(node, 'NodePublishVolume', publishRequest(targets.b));
    expect(mountsAt(targets.b)).to.have.length(1);
    expect(readFileSync(join(targets.b, 'hello.txt'), 'utf8')).to.equal('written through the CSI mount\n');
  });

  it('repairs a broken published mount when the plugin starts', async () => {
    const [client] = fuseClientPids(targets.b);
    expect(client, 'FUSE client of the second target').to.be.a('number');
    await killPlugin();
    process.kill(client!, 'SIGKILL');
    await sleep(300);
    expect(() => readdirSync(targets.b)).to.throw(/ENOTCONN|not connected/);
    await startPlugin();
    expect(fuseClientPids(targets.b)).to.have.length(1);
    expect(mountsAt(targets.b)).to.have.length(1);
    expect(readFileSync(join(targets.b, 'after-restart.txt'), 'utf8')).to.equal('plugin restarted\n');
  });

  it('unpublishes: unmounts and removes the target; twice is fine', async () => {
    if (!plugin) await startPlugin();
    for (const target of [targets.a, targets.b]) {
      await call(node, 'NodeUnpublishVolume', { volume_id: `default/${volume}`, target_path: target });
      expect(mountsAt(target)).to.have.length(0);
      expect(existsSync(target)).to.equal(false);
      await call(node, 'NodeUnpublishVolume', { volume_id: `default/${volume}`, target_path: target });
    }
    // The data stays on the volume.
    expect(await onAllBricks('hello.txt')).to.deep.equal(Array(3).fill('written through the CSI mount\n'));
    expect(readdirSync(stateDir)).to.deep.equal([]);
  });
});

/**
 * Hostile requests over the plugin's real socket (issue 12, item 5): nothing is mounted, created or unmounted
 * outside `<kubelet-dir>/pods/<uid>/volumes/kubernetes.io~csi/<name>/mount`, and options past the allow-list
 * never reach mount.glusterfs. Needs no Gluster volume: every request is refused before a mount is tried.
 */
describe('CSI node plugin refuses hostile requests over its socket', function () {
  this.timeout(60_000);
  const kubeletDir = realpathSync(mkdtempSync(join(tmpdir(), 't12csi-kubelet-')));
  const outside = mkdtempSync(join(tmpdir(), 't12csi-outside-'));
  const targetFor = (pod: string) => {
    mkdirSync(join(kubeletDir, 'pods', pod, 'volumes', 'kubernetes.io~csi', 'pv'), { recursive: true });
    return join(kubeletDir, 'pods', pod, 'volumes', 'kubernetes.io~csi', 'pv', 'mount');
  };
  const tmpfsTarget = targetFor('foreign');
  let plugin: CsiPluginProcess | undefined;
  const publish = (target: string, flags: string[] = []) => ({
    volume_id: 'default/t12vol',
    target_path: target,
    volume_capability: { mount: { fs_type: '', mount_flags: flags }, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } },
    volume_context: { mountSource: '127.0.0.1:t12vol', glusterVolumeName: 't12vol' },
  });
  const code = (promise: Promise<unknown>) => promise.then(() => 'OK', (error: grpc.ServiceError) => grpc.status[error.code]);

  before(async () => {
    plugin = await startCsiPlugin('testnode', { kubeletDir });
  });
  after(async () => {
    await plugin?.stop();
    await execFileAsync('umount', [tmpfsTarget]).catch(() => undefined);
    rmSync(kubeletDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('refuses target paths outside the kubelet layout, and a symlink out of it, creating nothing', async () => {
    const escape = join(kubeletDir, 'pods', 'evil', 'volumes', 'kubernetes.io~csi');
    mkdirSync(escape, { recursive: true });
    symlinkSync(outside, join(escape, 'pv'));
    for (const target of [join(outside, 'mount'), '/etc/t12csi', join(kubeletDir, 'plugins', 'mount'), join(escape, 'pv', 'mount')]) {
      expect(await code(plugin!.call('Node', 'NodePublishVolume', publish(target))), target).to.equal('INVALID_ARGUMENT');
      expect(await code(plugin!.call('Node', 'NodeUnpublishVolume', { volume_id: 'default/t12vol', target_path: target })), target).to.equal('INVALID_ARGUMENT');
    }
    expect(readdirSync(outside)).to.deep.equal([]);
    expect(existsSync('/etc/t12csi')).to.equal(false);
  });

  it('refuses mount options past the allow-list, naming them', async () => {
    for (const flag of ['log-file=/etc/cron.d/t12', 'volume-id=other', 'xlator-option=*.x=y', 'user-map-root=0', 'auto_unmount']) {
      const error = await plugin!.call('Node', 'NodePublishVolume', publish(targetFor('options'), [flag])).catch((e: grpc.ServiceError) => e);
      expect((error as grpc.ServiceError).code, flag).to.equal(grpc.status.INVALID_ARGUMENT);
      expect((error as grpc.ServiceError).details, flag).to.contain(flag.split('=')[0]);
    }
  });

  it('leaves a filesystem it did not publish mounted: FAILED_PRECONDITION, and stats say NOT_FOUND', async () => {
    mkdirSync(tmpfsTarget);
    await execFileAsync('mount', ['-t', 'tmpfs', 'tmpfs', tmpfsTarget]);
    expect(await code(plugin!.call('Node', 'NodeUnpublishVolume', { volume_id: 'default/t12vol', target_path: tmpfsTarget }))).to.equal('FAILED_PRECONDITION');
    expect(readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === tmpfsTarget)).to.equal(true);
    expect(await code(plugin!.call('Node', 'NodeGetVolumeStats', { volume_id: 'default/t12vol', volume_path: tmpfsTarget }))).to.equal('NOT_FOUND');
  });
});
