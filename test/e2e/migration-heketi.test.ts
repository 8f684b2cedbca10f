import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { csiPersistentVolumeName } from '../../src/migration/names.ts';
import { ANN_MIGRATED_FROM_PV } from '../../src/migration/objects.ts';
import { brickContents, createHeketiState, type HeketiState } from '../support/heketi-state.ts';
import { eventually, notYet } from '../support/eventually.ts';
import { applyObjects, appPod, podExec, removeShippedWorkloads, waitForPodReady } from '../support/in-cluster.ts';
import { kubeNodesEnv } from '../support/kube-nodes.ts';
import { createTestNamespace, kubectl } from '../support/kube.ts';
import { killAllOperators, removeOperatorKubeconfig, startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { removeBrickRoot } from '../support/brick-cleanup.ts';
import { testbedEnv } from '../support/testbed-env.ts';

const execFileAsync = promisify(execFile);

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the run was killed (SIGKILL) on a progress line. */
  killedAt?: string;
}

/** `kubectl gluster ...` as a user runs it (Node 24, the admin kubeconfig); optionally killed -9 on its Nth progress line. */
function kubectlGluster(args: string[], options: { input?: string; killOnProgressLine?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'kubectl-gluster.ts'), ...args], { cwd: REPO_ROOT, env: process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killedAt: string | undefined;
    let progress = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.killOnProgressLine === undefined || killedAt !== undefined) return;
      const lines = stderr.split('\n').filter((line) => line.startsWith('pv/'));
      progress = lines.length;
      if (progress >= options.killOnProgressLine) {
        killedAt = lines[options.killOnProgressLine - 1];
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr, ...(killedAt !== undefined ? { killedAt } : {}) }));
    child.stdin.end(options.input ?? '');
  });
}

const json = async <T>(args: string[]): Promise<T> => JSON.parse((await kubectl([...args, '-o', 'json'])).stdout) as T;
type Meta = { metadata: { name: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string> } };
type Pv = Meta & { spec: { persistentVolumeReclaimPolicy: string; claimRef?: { name: string; uid?: string }; csi?: { driver: string; volumeHandle: string } }; status: { phase: string } };
type Pvc = Meta & { spec: { volumeName?: string }; status: { phase?: string } };

/**
 * The way off heketi and the in-tree plugin, on the test bed's real control plane, Gluster nodes and kubelet
 * nodes: a Gluster volume laid out as heketi lays them out, with files written through a mount; heketi's
 * database export for it; an in-tree PV (spec.glusterfs), its Endpoints and Service and a bound claim, as the
 * removed provisioner left them. Then `kubectl gluster heketi import` and `kubectl gluster migrate pvs`, killed
 * at every step and run again; the files read back by a Pod through the CSI plugin; the bricks unchanged;
 * `--rollback` puts the old objects back.
 */
describe('migration from heketi and in-tree PVs: import, migrate pvs (killed at every step), rollback', function () {
  this.timeout(300_000);
  const env = testbedEnv();
  const nodes = env.TESTBED_NODES.slice(0, 3);
  const { nodes: kubeNodes, operatorImage } = kubeNodesEnv();
  const oldPvName = `pvc-${randomUUID()}`;
  const csiPvName = csiPersistentVolumeName(oldPvName);
  const claimName = 'data';
  const endpointsName = `glusterfs-dynamic-${claimName}`;
  const files: Record<string, string> = { 'hello.txt': 'written through heketi\'s volume\n', 'nested/blob.bin': randomBytes(256 * 1024).toString('base64') };
  let namespace: Awaited<ReturnType<typeof createTestNamespace>>;
  let brickRoot: string;
  let storageClass: string;
  let heketi: HeketiState | undefined;
  let operator: OperatorProcess | undefined;
  let bricksBefore: Map<string, string>;
  /** `glustervolume.storage.gluster-operator.dev/<name>`: the one the import made. */
  let adoptedVolume: string;
  const work = mkdtempSync(join(tmpdir(), 'migration-'));
  const mounts: string[] = [];

  async function writeThroughMount(source: string): Promise<void> {
    const target = join(work, 'mnt');
    mkdirSync(target, { recursive: true });
    await execFileAsync('mount', ['-t', 'glusterfs', source.replace(':', ':/'), target]);
    mounts.push(target);
    try {
      for (const [name, content] of Object.entries(files)) {
        mkdirSync(join(target, name, '..'), { recursive: true });
        writeFileSync(join(target, name), content);
      }
    } finally {
      await execFileAsync('umount', [target]).catch(() => execFileAsync('umount', ['-l', target]));
      mounts.splice(mounts.indexOf(target), 1);
      rmdirSync(target);
    }
  }

  /** MIGRATION_TRANSCRIPT=FILE keeps what a user would see (objects before and after, files read back) for the record. */
  async function transcript(title: string, text?: string): Promise<void> {
    const file = process.env.MIGRATION_TRANSCRIPT;
    if (!file) return;
    const objects = text ?? (await kubectl(['-n', namespace.name, 'get', 'pvc,endpoints,services,configmaps,glustervolumes', '-o', 'wide'])).stdout + (await kubectl(['get', 'pv', oldPvName, csiPvName, '--ignore-not-found', '-o', 'custom-columns=NAME:.metadata.name,SOURCE:.spec.glusterfs.path,CSI:.spec.csi.volumeHandle,RECLAIM:.spec.persistentVolumeReclaimPolicy,STATUS:.status.phase,CLAIM:.spec.claimRef.name'])).stdout;
    writeFileSync(file, `## ${title}\n${objects}\n`, { flag: 'a' });
  }
  const migrate = (...args: string[]) => kubectlGluster(['migrate', 'pvs', '--pv', oldPvName, ...args]);
  const configMaps = async () => (await kubectl(['-n', namespace.name, 'get', 'configmaps', '-l', 'storage.gluster-operator.dev/migration', '-o', 'name'])).stdout.trim();
  const exists = async (args: string[]) => (await kubectl(['get', ...args, '--ignore-not-found', '-o', 'name'])).stdout.trim() !== '';

  before(async function () {
    this.timeout(600_000);
    namespace = await createTestNamespace('migrate');
    brickRoot = `${env.TESTBED_BRICK_ROOT}/${namespace.name}`;
    storageClass = `${namespace.name}-heketi`;
    heketi = await createHeketiState({ nodes, disks: (process.env.TESTBED_DISKS ?? '').split(' '), brickRoot, gid: 2001, sizeGiB: 1 });
    await writeThroughMount(`${nodes[0]}:${heketi.volumeName}`);
    bricksBefore = await brickContents(heketi.bricks);

    // What the in-tree provisioner left: its class, the claim's Endpoints and Service, the PV and the bound claim.
    await applyObjects([
      {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: storageClass },
        provisioner: 'kubernetes.io/glusterfs',
        parameters: { resturl: 'http://heketi.invalid:8080', restuser: 'admin', secretName: 'heketi-secret', secretNamespace: namespace.name, clusterid: heketi.clusterId, volumetype: 'replicate:3', gidMin: '2000', gidMax: '2100' },
        reclaimPolicy: 'Delete',
        allowVolumeExpansion: true,
      },
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: endpointsName, namespace: namespace.name, labels: { 'gluster.kubernetes.io/provisioned-for-pvc': claimName } },
        subsets: [{ addresses: nodes.map((ip) => ({ ip })), ports: [{ port: 1 }] }],
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: endpointsName, namespace: namespace.name, labels: { 'gluster.kubernetes.io/provisioned-for-pvc': claimName } },
        spec: { ports: [{ protocol: 'TCP', port: 1, targetPort: 1 }] },
      },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: {
          name: oldPvName,
          annotations: {
            'gluster.kubernetes.io/heketi-volume-id': heketi.volumeId,
            'gluster.org/type': 'file',
            'kubernetes.io/createdby': 'heketi-dynamic-provisioner',
            'pv.beta.kubernetes.io/gid': String(heketi.gid),
            'pv.kubernetes.io/provisioned-by': 'kubernetes.io/glusterfs',
          },
        },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteMany'],
          persistentVolumeReclaimPolicy: 'Delete',
          storageClassName: storageClass,
          claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: namespace.name, name: claimName },
          glusterfs: { endpoints: endpointsName, endpointsNamespace: namespace.name, path: heketi.volumeName },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: claimName, namespace: namespace.name, labels: { app: 'db' }, annotations: { 'example.com/owner': 'team-a' } },
        spec: { accessModes: ['ReadWriteMany'], storageClassName: storageClass, volumeName: oldPvName, resources: { requests: { storage: '1Gi' } } },
      },
    ]);
    await eventually(`claim ${claimName} Bound to the in-tree PV`, async () => {
      const claim = await json<Pvc>(['-n', namespace.name, 'get', 'pvc', claimName]);
      return claim.status.phase === 'Bound' ? claim : notYet(claim.status);
    }, 60_000);

    // heketi's database, imported; the operator adopts the volume in place.
    await kubectl(['-n', namespace.name, 'create', 'secret', 'generic', 'gluster-ssh', `--from-file=ssh-privatekey=${env.TESTBED_SSH_KEY}`]);
    writeFileSync(join(work, 'heketi-db.json'), heketi.db);
    const imported = await kubectlGluster(['heketi', 'import', '--db', join(work, 'heketi-db.json'), '--namespace', namespace.name, '--cluster', 'heketi', '--brick-backend', 'Directory', '--directory-root', brickRoot]);
    expect(imported.code, imported.stderr).to.equal(0);
    writeFileSync(join(work, 'imported.yaml'), imported.stdout);
    await kubectl(['apply', '-f', join(work, 'imported.yaml')]);
    operator = await startOperatorProcess('operator-migration', 18990 + Math.floor(Math.random() * 9));
    await kubectl(['-n', namespace.name, 'wait', '--for=condition=Ready', '--timeout=180s', 'glustervolumes', '--all']);
    adoptedVolume = (await kubectl(['-n', namespace.name, 'get', 'glustervolumes', '-o', 'name'])).stdout.trim();

    // The CSI node plugin on the kubelet nodes, from the shipped manifests (the operator runs as a process here).
    await kubectl(['apply', '-f', 'manifests/00-namespace.yaml', '-f', 'manifests/10-rbac.yaml', '-f', 'manifests/30-csi.yaml']);
    await kubectl(['-n', 'gluster-operator', 'rollout', 'status', 'daemonset/gluster-csi-node', '--timeout=180s']);
  });

  after(async function () {
    this.timeout(600_000);
    await kubectl(['-n', namespace.name, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--wait=true', '--timeout=120s'], { allowFailure: true });
    await kubectl(['-n', namespace.name, 'delete', 'pvc', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
    // Both PVs are Retain (or in-tree, which nothing reclaims since 1.26): deleting them deletes no data.
    await kubectl(['delete', 'pv', oldPvName, csiPvName, 'pv-stray-' + namespace.name, '--ignore-not-found', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await kubectl(['-n', namespace.name, 'delete', 'glustervolumes', '--all', '--wait=true', '--timeout=120s'], { allowFailure: true });
    await kubectl(['-n', namespace.name, 'delete', 'glusternodes,glusterclusters', '--all', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await operator?.stop();
    await killAllOperators();
    await removeShippedWorkloads();
    for (const target of mounts) await execFileAsync('umount', ['-l', target]).catch(() => undefined);
    await heketi?.remove();
    await removeBrickRoot(nodes, brickRoot);
    await kubectl(['delete', 'storageclass', storageClass, '--ignore-not-found'], { allowFailure: true });
    await kubectl(['-n', 'gluster-operator', 'delete', 'secrets,leases', '-l', 'app.kubernetes.io/part-of=gluster-operator', '--ignore-not-found'], { allowFailure: true });
    await kubectl(['-n', 'gluster-operator', 'delete', 'lease', 'gluster-operator-leader', '--ignore-not-found'], { allowFailure: true });
    await namespace?.remove();
    removeOperatorKubeconfig();
    rmSync(work, { recursive: true, force: true });
  });

  it('heketi import --check finds the database matching the live cluster, and names a difference when it does not', async () => {
    const via = ['--via', `ssh:${nodes[0]}`, '--ssh-key', env.TESTBED_SSH_KEY, '--known-hosts', process.env.TESTBED_SSH_KNOWN_HOSTS ?? '.testbed/ssh/known_hosts'];
    const matching = await kubectlGluster(['heketi', 'import', '--db', join(work, 'heketi-db.json'), '--check', ...via]);
    expect(matching.code, matching.stdout + matching.stderr).to.equal(0);
    expect(matching.stdout).to.contain('database matches the live cluster: 1 volume');
    await transcript('kubectl gluster heketi import --check', matching.stdout);
    // A database that says a brick is somewhere else than Gluster has it.
    const wrong = heketi!.db.replace(/brick_([0-9a-f]{32})\/brick/, 'brick_$1/elsewhere');
    writeFileSync(join(work, 'heketi-db-wrong.json'), wrong);
    const differing = await kubectlGluster(['heketi', 'import', '--db', join(work, 'heketi-db-wrong.json'), '--check', ...via]);
    expect(differing.code, differing.stdout + differing.stderr).to.equal(1);
    expect(differing.stdout).to.contain(heketi!.volumeName).and.contain('elsewhere');
  });

  it('prints the plan and changes nothing without --apply', async () => {
    await transcript('before: the in-tree objects and the imported GlusterVolume');
    const plan = await migrate();
    await transcript('kubectl gluster migrate pvs (the plan)', plan.stdout);
    expect(plan.code, plan.stderr + plan.stdout).to.equal(0);
    expect(plan.stdout).to.contain(`pv/${oldPvName}:`).and.contain(`create PersistentVolume ${csiPvName}`).and.contain('nothing was changed');
    const pv = await json<Pv>(['get', 'pv', oldPvName]);
    expect(pv.spec.persistentVolumeReclaimPolicy).to.equal('Delete');
    expect(await configMaps()).to.equal('');
    expect(await exists(['pv', csiPvName])).to.equal(false);
  });

  it('refuses while a pod uses the claim, naming the pod, and changes nothing', async () => {
    // The pod never starts (nothing mounts in-tree glusterfs PVs any more), but it holds the claim all the same.
    await applyObjects([appPod({ name: 'old-user', namespace: namespace.name, node: kubeNodes[0]!.name, claim: claimName, image: operatorImage, script: 'sleep 3600' })]);
    const refused = await migrate('--apply');
    expect(refused.code).to.equal(1);
    expect(refused.stdout).to.contain('refused, nothing changed').and.contain(`${namespace.name}/old-user`);
    expect(await configMaps()).to.equal('');
    expect((await json<Pv>(['get', 'pv', oldPvName])).spec.persistentVolumeReclaimPolicy).to.equal('Delete');
    await kubectl(['-n', namespace.name, 'delete', 'pod', 'old-user', '--grace-period=0', '--force', '--wait=true']);
  });

  it('refuses a PV whose Gluster volume no GlusterVolume manages, naming it, and changes nothing', async () => {
    const stray = `pv-stray-${namespace.name}`;
    await applyObjects([
      {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: stray },
        spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: storageClass, claimRef: { namespace: namespace.name, name: 'stray' }, glusterfs: { endpoints: endpointsName, path: 'vol_not_imported' } },
      },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'stray', namespace: namespace.name }, spec: { accessModes: ['ReadWriteMany'], storageClassName: storageClass, volumeName: stray, resources: { requests: { storage: '1Gi' } } } },
    ]);
    await eventually('claim stray Bound', async () => {
      const claim = await json<Pvc>(['-n', namespace.name, 'get', 'pvc', 'stray']);
      return claim.status.phase === 'Bound' ? true : notYet(claim.status);
    }, 60_000);
    const refused = await kubectlGluster(['migrate', 'pvs', '--pv', stray, '--apply']);
    expect(refused.code).to.equal(1);
    expect(refused.stdout).to.contain('no GlusterVolume manages Gluster volume vol_not_imported');
    expect(await configMaps()).to.equal('');
    expect((await json<Pvc>(['-n', namespace.name, 'get', 'pvc', 'stray'])).spec.volumeName).to.equal(stray);
    await kubectl(['-n', namespace.name, 'delete', 'pvc', 'stray', '--wait=true']);
    await kubectl(['delete', 'pv', stray, '--wait=true']);
  });

  it('migrates with --apply, killed -9 during every step and run again, and converges', async () => {
    const oldClaim = await json<Pvc>(['-n', namespace.name, 'get', 'pvc', claimName]);
    const killedAt: string[] = [];
    let finished: CliRun | undefined;
    // Each run does one step and is killed during its second: a kill lands in every step, and each run gets one step further.
    for (let run = 0; run < 20 && !finished; run++) {
      const result = await kubectlGluster(['migrate', 'pvs', '--pv', oldPvName, '--apply', '--wait-timeout', '60'], { killOnProgressLine: 2 });
      if (result.killedAt !== undefined) killedAt.push(result.killedAt);
      else finished = result;
    }
    expect(finished, `never finished; killed at: ${killedAt.join(' | ')}`).to.not.equal(undefined);
    expect(finished!.code, finished!.stdout + finished!.stderr).to.equal(0);
    expect(killedAt.length, killedAt.join('\n')).to.be.at.least(5);

    const claim = await json<Pvc>(['-n', namespace.name, 'get', 'pvc', claimName]);
    expect(claim.status.phase).to.equal('Bound');
    expect(claim.spec.volumeName).to.equal(csiPvName);
    expect(claim.metadata.uid).to.not.equal(oldClaim.metadata.uid);
    expect(claim.metadata.labels).to.deep.include({ app: 'db' });
    expect(claim.metadata.annotations).to.deep.include({ 'example.com/owner': 'team-a', [ANN_MIGRATED_FROM_PV]: oldPvName });
    const csiPv = await json<Pv>(['get', 'pv', csiPvName]);
    expect(csiPv.spec.csi?.driver).to.equal('gluster.gluster-operator.dev');
    expect(csiPv.spec.persistentVolumeReclaimPolicy).to.equal('Retain');
    const old = await json<Pv>(['get', 'pv', oldPvName]);
    expect(old.spec.persistentVolumeReclaimPolicy).to.equal('Retain');
    expect(await exists(['-n', namespace.name, 'endpoints', endpointsName])).to.equal(false);
    expect(await exists(['-n', namespace.name, 'service', endpointsName])).to.equal(false);
    const record = await json<{ data: Record<string, string> }>(['-n', namespace.name, 'get', 'configmap', `migration-${oldPvName}`]);
    expect(record.data.phase).to.equal('Migrated');
    const again = await migrate('--apply');
    expect(again.stdout).to.contain('nothing left to do');
    await transcript(`after migrate pvs --apply, killed at: ${killedAt.join(' | ')}`);
  });

  it('the files written before are read back by a Pod through the CSI plugin, and the bricks are as they were', async () => {
    const script = 'sleep 3600';
    await applyObjects([appPod({ name: 'reader', namespace: namespace.name, node: kubeNodes[1]!.name, claim: claimName, image: operatorImage, script })]);
    await waitForPodReady(namespace.name, 'reader');
    for (const [name, content] of Object.entries(files)) {
      const read = await podExec(namespace.name, 'reader', ['sha256sum', `/data/${name}`]);
      expect(read.stdout.split(' ')[0], name).to.equal(createHash('sha256').update(content).digest('hex'));
      await transcript(`read back by Pod reader on ${kubeNodes[1]!.name}`, read.stdout);
    }
    // The volume's gid reaches the Pod (pv.beta.kubernetes.io/gid carried to the CSI PV): a non-root Pod writes.
    await podExec(namespace.name, 'reader', ['sh', '-c', 'echo after-migration > /data/after.txt']);
    await kubectl(['-n', namespace.name, 'delete', 'pod', 'reader', '--wait=true', '--timeout=60s']);
    const after = await brickContents(heketi!.bricks);
    for (const [brick, listing] of bricksBefore) {
      const lines = after.get(brick)!.split('\n').filter((line) => !line.endsWith('./after.txt'));
      expect(lines.join('\n'), `brick ${brick}`).to.equal(listing);
    }
  });

  it('the heketi-era StorageClass, unchanged, provisions a new claim on the imported cluster, with a GID heketi did not hand out', async () => {
    await applyObjects([
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'fresh', namespace: namespace.name }, spec: { accessModes: ['ReadWriteMany'], storageClassName: storageClass, resources: { requests: { storage: '1Gi' } } } },
    ]);
    const claim = await eventually('claim fresh of the kubernetes.io/glusterfs class Bound', async () => {
      const current = await json<Pvc>(['-n', namespace.name, 'get', 'pvc', 'fresh']);
      return current.status.phase === 'Bound' ? current : notYet(current.status);
    }, 180_000);
    const pv = await json<Pv & { metadata: { annotations: Record<string, string> } }>(['get', 'pv', claim.spec.volumeName!]);
    expect(pv.spec.csi?.driver).to.equal('gluster.gluster-operator.dev');
    expect(pv.spec.csi?.volumeHandle.startsWith(`${namespace.name}/`), 'the GlusterVolume lives with the imported GlusterCluster').to.equal(true);
    expect(pv.metadata.annotations['pv.beta.kubernetes.io/gid']).to.not.equal(String(heketi!.gid));
    const reasons = (await kubectl(['-n', namespace.name, 'get', 'events', '--field-selector', 'involvedObject.name=fresh', '-o', 'jsonpath={.items[*].reason}'])).stdout;
    expect(reasons).to.contain('ServedByGlusterOperator');
    await transcript('a new claim of the heketi-era StorageClass');
    await kubectl(['-n', namespace.name, 'delete', 'pvc', 'fresh', '--wait=true', '--timeout=60s']);
  });

  it('--rollback puts the claim back on the in-tree PV and restores the Endpoints, the Service and the reclaim policy', async () => {
    const rolledBack = await migrate('--rollback', '--apply');
    expect(rolledBack.code, rolledBack.stdout + rolledBack.stderr).to.equal(0);
    await transcript('after migrate pvs --rollback --apply');
    const claim = await json<Pvc>(['-n', namespace.name, 'get', 'pvc', claimName]);
    expect(claim.spec.volumeName).to.equal(oldPvName);
    expect(claim.status.phase).to.equal('Bound');
    expect(claim.metadata.labels).to.deep.include({ app: 'db' });
    expect(claim.metadata.annotations).to.not.have.property(ANN_MIGRATED_FROM_PV);
    expect((await json<Pv>(['get', 'pv', oldPvName])).spec.persistentVolumeReclaimPolicy).to.equal('Delete');
    expect(await exists(['pv', csiPvName])).to.equal(false);
    expect(await exists(['-n', namespace.name, 'endpoints', endpointsName])).to.equal(true);
    expect(await exists(['-n', namespace.name, 'service', endpointsName])).to.equal(true);
    expect(await configMaps()).to.equal('');
    // The Gluster volume and its GlusterVolume are untouched by all of it.
    await kubectl(['-n', namespace.name, 'wait', '--for=condition=Ready', '--timeout=30s', adoptedVolume]);
    const after = await brickContents(heketi!.bricks);
    for (const [brick, listing] of bricksBefore) {
      const lines = new Set(after.get(brick)!.split('\n'));
      for (const line of listing.split('\n')) expect(lines.has(line), `brick ${brick}: ${line}`).to.equal(true);
    }
  });
});
