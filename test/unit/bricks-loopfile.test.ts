import { expect } from 'chai';
import { DirectoryBrickBackend, LoopFileBrickBackend, selectBrickBackend } from '../../src/bricks/index.ts';
import { ClusterExecutor } from '../../src/gluster/executor.ts';
import { MutationQueue } from '../../src/gluster/mutation-queue.ts';
import { FakeTransport, failed, has, node1, ok } from './gluster-fake-transport.ts';

const MiB = 2 ** 20;
const executorFor = (transport: FakeTransport) => new ClusterExecutor({ transport, queue: new MutationQueue(), clusterKey: 'c' });
const noLoops = '{\n   "loopdevices": [\n\n   ]\n}\n';

describe('bricks: loop-file and directory backends, command sequences', () => {
  it('loop-file createBrick: sparse file, losetup, mkfs.xfs, mount, brick dir', async () => {
    const transport = new FakeTransport()
      .reply(has('stat'), failed(1, ''))
      .reply(has('truncate'), ok(''))
      .reply(has('--associated'), ok(noLoops))
      .reply(has('losetup', '--find'), ok('/dev/loop7\n'))
      .reply(has('wipefs'), ok(''))
      .reply(has('mkfs.xfs'), ok(''))
      .reply(has('mkdir'), ok(''))
      .reply(has('findmnt'), failed(1, ''))
      .reply(has('mount'), ok(''));
    const record = await new LoopFileBrickBackend(executorFor(transport)).createBrick(node1, { id: 'b1', sizeBytes: 512 * MiB, location: '/bricks' });
    expect(transport.argvs().filter((a) => !['stat', 'findmnt', 'wipefs'].includes(a[0]!))).to.deep.equal([
      ['truncate', '--size', String(512 * MiB), '/bricks/b1.img'],
      ['losetup', '--list', '--json', '--output', 'NAME,BACK-FILE', '--associated', '/bricks/b1.img'],
      ['losetup', '--find', '--show', '/bricks/b1.img'],
      ['mkfs.xfs', '-i', 'size=512', '-n', 'size=8192', '/dev/loop7'],
      ['mkdir', '-p', '/bricks/b1'],
      ['mount', '-t', 'xfs', '-o', 'rw,inode64,noatime,nouuid', '/dev/loop7', '/bricks/b1'],
      ['mkdir', '-p', '/bricks/b1/brick'],
    ]);
    expect(record).to.deep.include({ path: '/bricks/b1/brick', backend: 'LoopFile', loopFile: { file: '/bricks/b1.img' } });
  });

  it('loop-file refuses sizes mkfs.xfs cannot format', async () => {
    const backend = new LoopFileBrickBackend(executorFor(new FakeTransport()));
    await backend.createBrick(node1, { id: 'b1', sizeBytes: 100 * MiB, location: '/bricks' }).then(
      () => expect.fail('should refuse'),
      (error: Error) => expect(error.message).to.match(/at least/),
    );
  });

  it('directory backend: one install -d (group gid, mode 2775) on create, rm -rf on delete', async () => {
    const transport = new FakeTransport().reply(has('stat'), ok('directory|0|2001|2775|6\n')).reply(() => true, ok(''));
    const backend = new DirectoryBrickBackend(executorFor(transport));
    const record = await backend.createBrick(node1, { id: 'b1', sizeBytes: 1, location: '/srv/bricks', gid: 2001 });
    await backend.deleteBrick(node1, record);
    expect(transport.argvs().filter((a) => a[0] !== 'stat')).to.deep.equal([
      ['install', '-d', '-m', '2775', '-g', '2001', '/srv/bricks/b1'],
      ['rm', '-rf', '--one-file-system', '--', '/srv/bricks/b1'],
    ]);
  });

  it('selectBrickBackend follows spec.brickBackend', () => {
    const executor = executorFor(new FakeTransport());
    expect(selectBrickBackend('LVM', executor).kind).to.equal('LVM');
    expect(selectBrickBackend('Directory', executor).kind).to.equal('Directory');
    expect(selectBrickBackend('LoopFile', executor).kind).to.equal('LoopFile');
  });
});
