import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { HostKeyMismatchError, TransportError } from '../../src/gluster/errors.ts';
import type { NodeTarget } from '../../src/gluster/transport.ts';
import { GlusterNodeStatusHostKeyStore, HostKeyConflictError, MemoryHostKeyStore } from '../../src/transport/host-key-store.ts';
import { SshTransport, type SshTransportOptions } from '../../src/transport/ssh.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { createTestNamespace, kubeConfig } from '../support/kube.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { ensureDaemon, nodeExec, pidFromFile, stopDaemon, waitGone } from '../support/testbed-nodes.ts';
import { testbedEnv } from '../support/testbed-env.ts';
import { HOSTILE_ARGS } from '../support/transport-hostile-args.ts';

const execFileAsync = promisify(execFile);

/**
 * The SSH transport against the test bed's real sshd + glusterd nodes. Disruptive steps (stopping sshd or
 * glusterd) use node 3 only, last as short as possible, and are undone in after hooks even when a test fails.
 */
describe('SSH transport on the test bed', function () {
  this.timeout(120_000);
  const env = testbedEnv();
  const privateKey = readFileSync(env.TESTBED_SSH_KEY);
  const netns = (process.env.TESTBED_NETNS ?? 'gl1 gl2 gl3').split(/\s+/).filter(Boolean);
  const nodes: NodeTarget[] = env.TESTBED_NODES.map((address, i) => ({ name: netns[i] ?? `node-${i + 1}`, manageAddress: address }));
  const [node1, , node3] = nodes as [NodeTarget, NodeTarget, NodeTarget];
  const node3Index = 3;
  const node3Dir = join(REPO_ROOT, '.testbed', 'nodes', node3.name);
  const transports: SshTransport[] = [];

  function transport(options: Partial<SshTransportOptions> = {}): SshTransport {
    const created = new SshTransport({
      access: { privateKey, user: env.TESTBED_SSH_USER, port: env.TESTBED_SSH_PORT, connectTimeoutSeconds: 5 },
      hostKeys: new MemoryHostKeyStore(),
      ...options,
    });
    transports.push(created);
    return created;
  }

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close()));
  });

  before(() => {
    expect(nodes.length, 'TESTBED_NODES').to.be.greaterThanOrEqual(3);
  });

  describe('argv and results', () => {
    it('delivers hostile arguments to the remote command byte for byte (printf %s\\0 on the node)', async () => {
      const result = await transport().run(node1, ['printf', '%s\\0', ...HOSTILE_ARGS]);
      expect(result.exitCode, result.stderr).to.equal(0);
      expect(result.stdout.split('\0').slice(0, -1)).to.deep.equal([...HOSTILE_ARGS]);
    });

    it('delivers each hostile argument alone as exactly one argument, and nothing it names ever runs', async () => {
      const t = transport();
      for (const arg of HOSTILE_ARGS) {
        const result = await t.run(node1, ['printf', '%s\\0', arg]);
        expect(result.stdout, JSON.stringify(arg)).to.equal(`${arg}\0`);
      }
      // Two hostile arguments name this path; had either been interpreted, the file would exist now.
      expect((await t.run(node1, ['test', '-e', '/tmp/t3b-should-never-exist'])).exitCode).to.equal(1);
    });

    it('returns non-zero exits as results with stdout and stderr apart, and feeds stdin', async () => {
      const t = transport();
      expect(await t.run(node1, ['sh', '-c', 'echo out; echo err >&2; exit 7'])).to.deep.equal({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
      expect((await t.run(node1, ['t3b-no-such-command'])).exitCode).to.equal(127);
      const input = `stdin ✓ ${randomBytes(4096).toString('base64')}\n`;
      expect(await t.run(node1, ['cat'], { stdin: input })).to.deep.equal({ exitCode: 0, stdout: input, stderr: '' });
      // Without stdin the command sees EOF at once instead of waiting forever.
      expect(await t.run(node1, ['cat'], { timeoutMs: 10_000 })).to.deep.equal({ exitCode: 0, stdout: '', stderr: '' });
    });

    it('runs gluster on the node and returns its output', async () => {
      const result = await transport().run(node1, ['gluster', '--mode=script', 'volume', 'list']);
      expect(result.exitCode, result.stderr).to.equal(0);
    });
  });

  describe('connections', () => {
    it('reuses one TCP connection per node for many sequential and parallel commands', async () => {
      const connects: Array<{ node: string; localPort: number | undefined }> = [];
      const t = transport({ onConnect: (event) => connects.push(event) });
      for (let i = 0; i < 30; i++) expect((await t.run(node1, ['echo', String(i)])).stdout).to.equal(`${i}\n`);
      const parallel = await Promise.all(Array.from({ length: 30 }, (_, i) => t.run(node1, ['echo', String(i)])));
      expect(parallel.map((r) => r.stdout)).to.deep.equal(Array.from({ length: 30 }, (_, i) => `${i}\n`));
      expect(connects).to.have.length(1);
      // The server side agrees: exactly one established SSH connection from our source port.
      const port = connects[0]!.localPort;
      expect(port).to.be.a('number');
      const sessions = await nodeExec(1, ['ss', '-Htn', 'state', 'established', `( sport = :22 and dport = :${port} )`]);
      expect(sessions.trim().split('\n').filter(Boolean)).to.have.length(1);
    });

    it('honours the per-node channel limit: excess runs queue, never more at once on the node', async () => {
      const dir = mkdtempSync(join(tmpdir(), 't3b-concurrency-'));
      try {
        const t = transport({ maxChannelsPerNode: 3 });
        // Each command registers itself in dir (the node shares the host's /tmp), counts who is there, waits.
        const script = 'touch "$1/$$"; ls "$1" | wc -l; sleep 0.6; rm "$1/$$"';
        const runs = Array.from({ length: 9 }, () => t.run(node1, ['sh', '-c', script, 'sh', dir]));
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(t.load(node1.name)).to.deep.equal({ active: 3, queued: 6 });
        const counts = (await Promise.all(runs)).map((r) => Number(r.stdout.trim()));
        expect(Math.max(...counts)).to.equal(3);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('reconnects transparently after the connection is dropped by the server', async () => {
      const connects: Array<number | undefined> = [];
      const t = transport({ onConnect: (event) => connects.push(event.localPort) });
      await t.run(node3, ['true']);
      await killSessions(connects[0]!);
      // Whether the drop has been noticed yet or not, the next command goes through on a new connection.
      expect((await t.run(node3, ['echo', 'again'])).stdout).to.equal('again\n');
      expect(connects).to.have.length(2);
    });

    it('times out, and the remote command is gone afterwards (not left running on the node)', async () => {
      const t = transport({ remoteKillGraceMs: 1000 });
      const marker = `1000.${randomBytes(3).readUIntBE(0, 3)}`;
      const started = Date.now();
      const error = await t.run(node1, ['sleep', marker], { timeoutMs: 1000 }).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(TransportError);
      expect((error as TransportError).retryable).to.equal(true);
      expect((error as Error).message).to.match(new RegExp(`^${node1.name}: sleep ${marker}: timed out after 1000 ms`));
      expect(Date.now() - started).to.be.lessThan(3000);
      // "[s]leep" so pgrep does not find the shell that runs it.
      await eventually('the remote sleep to be gone', async () => {
        const left = await t.run(node1, ['pgrep', '-af', `[s]leep ${marker}`]);
        return left.stdout === '' ? true : notYet(left.stdout.trim());
      }, 10_000);
    });

    it('the same, through sudo -n (sudo relays the signal; root needs no password)', async () => {
      const t = transport({ access: { privateKey, user: env.TESTBED_SSH_USER, port: env.TESTBED_SSH_PORT, sudo: true } });
      // hack/install-deps installs sudo on the test bed; without it this fails rather than skipping.
      const probe = await t.run(node1, ['id', '-u']);
      expect(probe.stderr).to.equal('');
      expect(probe.stdout).to.equal('0\n');
      const marker = `1000.${randomBytes(3).readUIntBE(0, 3)}`;
      const error = await t.run(node1, ['sleep', marker], { timeoutMs: 1000 }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TransportError);
      await eventually('the remote sleep to be gone', async () => {
        const left = await t.run(node1, ['pgrep', '-af', `[s]leep ${marker}`]);
        return left.stdout === '' ? true : notYet(left.stdout.trim());
      }, 10_000);
    });
  });

  describe('host keys', () => {
    let extraSshd: { dir: string } | undefined;

    after(async () => {
      if (extraSshd) await stopExtraSshd(extraSshd.dir);
    });

    it('pins the first key seen and keeps connecting with it', async () => {
      const store = new MemoryHostKeyStore();
      await transport({ hostKeys: store }).run(node1, ['true']);
      const pinned = await store.get(node1.name);
      expect(pinned).to.match(/^SHA256:[A-Za-z0-9+/]{43}$/);
      // The pinned fingerprint is the node's real ed25519 host key (what ssh-keygen -l shows).
      const keyFile = join(REPO_ROOT, '.testbed', 'nodes', node1.name, 'ssh', 'ssh_host_ed25519_key.pub');
      const { stdout } = await execFileAsync('ssh-keygen', ['-l', '-E', 'sha256', '-f', keyFile]);
      expect(stdout.split(' ')[1]).to.equal(pinned);
      await transport({ hostKeys: store }).run(node1, ['true']);
    });

    it('refuses a node whose key differs from the pinned one with a permanent HostKeyMismatchError', async () => {
      const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      const t = transport({ hostKeys: new MemoryHostKeyStore({ [node1.name]: wrong }) });
      const error = await t.run(node1, ['touch', '/tmp/t3b-must-not-run']).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostKeyMismatchError);
      expect((error as HostKeyMismatchError).retryable).to.equal(false);
      expect((error as Error).message).to.match(/^gl1: touch \/tmp\/t3b-must-not-run: SSH host key changed \(pinned SHA256:A+, offered SHA256:/);
      expect(existsSync('/tmp/t3b-must-not-run')).to.equal(false);
    });

    it('refuses the same node when its sshd comes back with a new host key', async () => {
      // A second sshd on node 3 with a freshly generated key stands in for "the server was reinstalled",
      // without disturbing the node's real sshd that others use.
      const store = new MemoryHostKeyStore();
      await transport({ hostKeys: store }).run(node3, ['true']);
      extraSshd = await startExtraSshd(2222);
      const reinstalled = transport({ hostKeys: store, access: { privateKey, user: env.TESTBED_SSH_USER, port: 2222 } });
      const error = await reinstalled.run(node3, ['true']).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostKeyMismatchError);
      expect((error as Error).message).to.contain('SSH host key changed');
      // Clearing the pin (the documented human step) accepts the new server.
      store.forget(node3.name);
      expect((await reinstalled.run(node3, ['echo', 'accepted'])).stdout).to.equal('accepted\n');
      expect(await store.get(node3.name)).to.not.equal(undefined);
    });

    it('pins into GlusterNode status through the /status subresource', async () => {
      const ns = await createTestNamespace('t3b-hostkey');
      try {
        const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
        const glusterNode = {
          apiVersion: 'storage.gluster-operator.dev/v1alpha1',
          kind: 'GlusterNode',
          metadata: { name: node1.name },
          spec: { cluster: 'main', manageAddress: node1.manageAddress, storageAddress: node1.manageAddress },
        };
        await custom.createNamespacedCustomObject({ group: 'storage.gluster-operator.dev', version: 'v1alpha1', namespace: ns.name, plural: 'glusternodes', body: glusterNode });
        const store = GlusterNodeStatusHostKeyStore.fromKubeConfig(kubeConfig(), ns.name);
        expect(await store.get(node1.name)).to.equal(undefined);
        await transport({ hostKeys: store }).run(node1, ['true']);
        const pinned = await store.get(node1.name);
        expect(pinned).to.match(/^SHA256:/);
        const object = (await custom.getNamespacedCustomObject({ group: 'storage.gluster-operator.dev', version: 'v1alpha1', namespace: ns.name, plural: 'glusternodes', name: node1.name })) as {
          status?: { sshHostKey?: string };
        };
        expect(object.status?.sshHostKey).to.equal(pinned);
        // A second pin of another key is refused, not overwritten.
        const error = await store.pin(node1.name, 'SHA256:other').catch((e: unknown) => e);
        expect(error).to.be.instanceOf(HostKeyConflictError);
        expect(await store.get(node1.name)).to.equal(pinned);
        // A fresh transport (operator restart) reads the pin and still connects.
        await transport({ hostKeys: GlusterNodeStatusHostKeyStore.fromKubeConfig(kubeConfig(), ns.name) }).run(node1, ['true']);
      } finally {
        await ns.remove();
      }
    });
  });

  describe('node failures (node 3 only, restored after each test)', () => {
    afterEach(async function () {
      this.timeout(60_000);
      await ensureSshd();
      await ensureGlusterd();
    });

    it('sshd stopped: a retryable TransportError naming the node; works again once sshd is back', async () => {
      const connects: Array<number | undefined> = [];
      const t = transport({ onConnect: (event) => connects.push(event.localPort) });
      await t.run(node3, ['true']);
      await stopSshd();
      await killSessions(connects[0]!);
      try {
        const error = await t.run(node3, ['gluster', '--mode=script', 'volume', 'list']).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(TransportError);
        expect((error as TransportError).retryable).to.equal(true);
        expect((error as TransportError).node).to.equal(node3.name);
        expect((error as Error).message).to.match(new RegExp(`^${node3.name}: gluster --mode=script volume list: cannot connect to root@${node3.manageAddress.replaceAll('.', '\\.')}:22: .*ECONNREFUSED`));
      } finally {
        await ensureSshd();
      }
      expect((await t.run(node3, ['echo', 'back'])).stdout).to.equal('back\n');
    });

    it('glusterd stopped: the gluster command fails as a result (not a transport error); works once glusterd is back', async () => {
      const t = transport();
      expect((await t.run(node3, ['gluster', '--mode=script', 'volume', 'list'])).exitCode).to.equal(0);
      await stopGlusterd();
      try {
        const result = await t.run(node3, ['gluster', '--mode=script', 'volume', 'list'], { timeoutMs: 60_000 });
        expect(result.exitCode).to.not.equal(0);
        expect(result.stdout + result.stderr).to.match(/Connection failed|gluster daemon/i);
      } finally {
        await ensureGlusterd();
      }
      await eventually('gluster to answer again', async () => {
        const result = await t.run(node3, ['gluster', '--mode=script', 'volume', 'list']);
        return result.exitCode === 0 ? true : notYet(`exit ${result.exitCode}: ${(result.stderr || result.stdout).trim()}`);
      }, 30_000);
    });
  });

  // ------------------------------------------------------------------------------------------- helpers

  /** Runs argv inside node i's namespaces on this machine (no SSH), like `hack/testbed exec`. */
  /** Ends the server side of our connection from localPort on node 3 or 1 (whichever has it). */
  async function killSessions(localPort: number): Promise<void> {
    for (const i of [1, 2, 3]) {
      const out = await nodeExec(i, ['ss', '-Htnp', 'state', 'established', `( sport = :22 and dport = :${localPort} )`]);
      const pids = [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
      for (const pid of new Set(pids)) process.kill(pid, 'SIGKILL');
    }
  }

  const stopSshd = () => stopDaemon(node3Index, 'sshd');
  const ensureSshd = () => ensureDaemon(node3Index, 'sshd');
  const stopGlusterd = () => stopDaemon(node3Index, 'glusterd');
  const ensureGlusterd = () => ensureDaemon(node3Index, 'glusterd');

  async function startExtraSshd(port: number): Promise<{ dir: string }> {
    const dir = mkdtempSync(join(tmpdir(), 't3b-sshd-'));
    await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 't3b-reinstalled', '-f', join(dir, 'host_ed25519')]);
    const config = readFileSync(join(node3Dir, 'sshd_config'), 'utf8')
      .split('\n')
      .filter((line) => !/^(Port|HostKey|PidFile)\b/.test(line))
      .concat([`Port ${port}`, `HostKey ${join(dir, 'host_ed25519')}`, `PidFile ${join(dir, 'sshd.pid')}`])
      .join('\n');
    writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
    await nodeExec(node3Index, ['/usr/sbin/sshd', '-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')]);
    return { dir };
  }

  async function stopExtraSshd(dir: string): Promise<void> {
    const pid = pidFromFile(join(dir, 'sshd.pid'));
    if (pid) {
      process.kill(pid, 'SIGTERM');
      await waitGone(pid);
    }
    // Sessions it accepted run as its children in other processes; they end when their client closes.
    rmSync(dir, { recursive: true, force: true });
  }
});
