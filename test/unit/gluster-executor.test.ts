import { expect } from 'chai';
import { volumeCreate, volumeInfo, volumeStatus } from '../../src/gluster/commands/gluster.ts';
import { findmnt, statPath } from '../../src/gluster/commands/fs.ts';
import { pvcreate } from '../../src/gluster/commands/lvm.ts';
import { NodeCommandError, ParseError, TransportError } from '../../src/gluster/errors.ts';
import { ClusterExecutor, GlusterCommandError, runNodeCommand } from '../../src/gluster/executor.ts';
import { MutationQueue } from '../../src/gluster/mutation-queue.ts';
import { KeyedRateLimiter } from '../../src/runtime/rate-limiter.ts';
import { FakeClock, flush } from './fake-clock.ts';
import { FakeTransport, failed, fixture, has, node1, ok } from './gluster-fake-transport.ts';

const create = volumeCreate({ name: 'v', layout: { kind: 'replicate', replica: 3 }, bricks: ['a:/b/1', 'b:/b/2', 'c:/b/3'] });

describe('executor: runs a command through a Transport, classifies failures, parses output', () => {
  it('parses the success output and passes a timeout', async () => {
    const transport = new FakeTransport().reply(has('volume', 'info'), ok(fixture('gluster/volume-info-arb.xml')));
    const [volume] = await runNodeCommand(transport, node1, volumeInfo('t3a-fx-arb'));
    expect(volume!.arbiterCount).to.equal(1);
    expect(transport.calls[0]!.options?.timeoutMs).to.be.a('number');
  });

  it('treats opRet -1 as failure although gluster --xml exits 0, carrying node, argv and output', async () => {
    const xml = fixture('gluster/error-volume-exists.xml');
    const transport = new FakeTransport().reply(has('volume', 'create'), ok(xml));
    const error = await runNodeCommand(transport, node1, create).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(GlusterCommandError).and.instanceOf(NodeCommandError);
    const e = error as GlusterCommandError;
    expect(e).to.include({ errorClass: 'permanent', reason: 'already-exists', node: 'node-1', stdout: xml, exitCode: 0 });
    expect(e.argv).to.deep.equal(create.argv);
    expect(e.message).to.contain('Volume t3a-fx-rep3 already exists').and.contain('node-1: gluster --mode=script --xml volume create');
  });

  it('classifies the lock error as retryable and glusterd down (no XML at all) as retryable', async () => {
    const transport = new FakeTransport()
      .reply(has('volume', 'create'), ok(fixture('gluster/error-another-transaction.xml')))
      .reply(has('volume', 'status'), failed(1, '', fixture('gluster/error-connection-failed.stdout.txt')));
    const lock = (await runNodeCommand(transport, node1, create).catch((e: unknown) => e)) as GlusterCommandError;
    expect(lock).to.include({ errorClass: 'retryable', reason: 'lock-busy', retryable: true });
    const down = (await runNodeCommand(transport, node1, volumeStatus('v')).catch((e: unknown) => e)) as GlusterCommandError;
    expect(down).to.include({ errorClass: 'retryable', reason: 'daemon-unreachable', exitCode: 1 });
  });

  it('uses exit code and stderr for plain commands, with okExitCodes for "nothing found"', async () => {
    const transport = new FakeTransport()
      .reply(has('pvcreate'), failed(5, fixture('lvm/pvcreate-no-device.stderr.txt')))
      .reply(has('findmnt'), failed(1, ''))
      .reply(has('stat'), failed(1, "stat: cannot statx '/nonexist': No such file or directory\n"));
    const error = (await runNodeCommand(transport, node1, pvcreate('/dev/loop9')).catch((e: unknown) => e)) as GlusterCommandError;
    expect(error).to.include({ errorClass: 'permanent', reason: 'no-such-device', exitCode: 5 });
    expect(error.stderr).to.contain('No device found for /dev/loop9');
    expect(await runNodeCommand(transport, node1, findmnt('/mnt/x'))).to.deep.equal([]);
    expect(await runNodeCommand(transport, node1, statPath('/nonexist'))).to.equal(null);
  });

  it('throws ParseError (not a default) when success output does not parse', async () => {
    const transport = new FakeTransport().reply(has('volume', 'info'), ok('<cliOutput><opRet>0</opRet><opErrno>0</opErrno><opErrstr/></cliOutput>'));
    const error = await runNodeCommand(transport, node1, volumeInfo()).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ParseError);
  });

  it('lets transport errors through unchanged (retryable)', async () => {
    const transport = new FakeTransport().reply(has('volume', 'info'), () => {
      throw new TransportError({ node: 'node-1', argv: [], message: 'timed out after 10 ms' });
    });
    const error = await runNodeCommand(transport, node1, volumeInfo()).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransportError).with.property('retryable', true);
  });

  it('ClusterExecutor queues mutations and runs queries directly', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return ok(fixture('gluster/volume-create.xml'));
    };
    const transport = new FakeTransport().reply(has('volume', 'create'), slow).reply(has('volume', 'info'), ok(fixture('gluster/volume-info-rep3.xml')));
    const executor = new ClusterExecutor({ transport, queue: new MutationQueue(), clusterKey: 'c1' });
    await Promise.all([executor.run(node1, create), executor.run(node1, create), executor.run(node1, create), executor.run(node1, volumeInfo())]);
    expect(maxInFlight).to.equal(1);
  });

  it('ClusterExecutor sends queries and mutations through the cluster\'s rate limit, a mutation once it holds the queue', async () => {
    const clock = new FakeClock();
    const waits: string[] = [];
    const limiter = new KeyedRateLimiter({ ratePerSecond: 1, burst: 2, maxInFlight: 8, clock, onWait: (key, ms) => void waits.push(`${key}:${ms}`) });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transport = new FakeTransport()
      .reply(has('volume', 'create'), async () => (await held, ok(fixture('gluster/volume-create.xml'))), 1)
      .reply(has('volume', 'create'), ok(fixture('gluster/volume-create.xml')))
      .reply(has('volume', 'info'), ok(fixture('gluster/volume-info-rep3.xml')));
    const executor = new ClusterExecutor({ transport, queue: new MutationQueue(), limiter, clusterKey: 'c1' });
    const first = executor.run(node1, create);
    const second = executor.run(node1, create);
    const query = executor.run(node1, volumeInfo());
    await flush();
    // The second mutation waits for the queue without a token: the query takes the bucket's other one and runs.
    const sent = () => transport.calls.map((call) => call.argv.slice(3, 5).join(' '));
    expect(sent()).to.have.members(['volume create', 'volume info']);
    await query;
    expect(limiter.stats('c1')).to.include({ running: 1, waiting: 0 });
    release();
    await first;
    await flush();
    expect(limiter.stats('c1')).to.include({ running: 0, waiting: 1 });
    expect(transport.calls).to.have.length(2);
    await clock.advance(1000);
    await second;
    expect(sent().slice(2)).to.deep.equal(['volume create']);
    expect(waits).to.deep.equal(['c1:0', 'c1:0', 'c1:1000']);
  });
});
