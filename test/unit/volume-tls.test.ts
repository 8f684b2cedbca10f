import { expect } from 'chai';
import { fileSha256, writeFileFromStdin } from '../../src/gluster/commands/fs.ts';
import { ClusterExecutor, runNodeCommand } from '../../src/gluster/executor.ts';
import { MutationQueue } from '../../src/gluster/mutation-queue.ts';
import { isTlsDir, tlsDirFor, tlsVolumeOptions } from '../../src/gluster/tls.ts';
import type { ClusterAccess } from '../../src/operator/cluster-access.ts';
import { copyTlsFiles } from '../../src/operator/reconcilers/volume-tls.ts';
import { sha256 } from '../../src/topology/backup/chunked.ts';
import { FakeTransport, failed, has, node1, ok } from './gluster-fake-transport.ts';

describe('TLS files: where they live, and their copy to the servers', () => {
  it('one directory per cluster under the TLS root, never outside it', () => {
    expect(tlsDirFor('storage', 'pool-a')).to.equal('/var/lib/gluster-operator/tls/storage/pool-a');
    expect(() => tlsDirFor('..', 'x')).to.throw(/not a Kubernetes object name/);
    expect(() => tlsDirFor('a/b', 'x')).to.throw(/not a Kubernetes object name/);
    expect(isTlsDir('/var/lib/gluster-operator/tls/storage/pool-a')).to.equal(true);
    for (const hostile of ['/etc', '/var/lib/gluster-operator/tls/../x/y', '/var/lib/gluster-operator/tls/a/b/c', '/var/lib/gluster-operator/tls/A/b']) expect(isTlsDir(hostile), hostile).to.equal(false);
    expect(tlsVolumeOptions('/d').map(([key]) => key)).to.deep.equal(['client.ssl', 'server.ssl', 'ssl.own-cert', 'ssl.private-key', 'ssl.ca-list']);
  });

  it('a file is written through stdin (never the argv), mode 0600, then renamed; an absent file hashes to undefined', async () => {
    const write = writeFileFromStdin('/d/tls.key.new', 'SECRET KEY');
    expect(write.argv).to.deep.equal(['install', '-D', '-m', '0600', '/dev/stdin', '/d/tls.key.new']);
    expect(write.argv.join(' ')).to.not.contain('SECRET');
    const transport = new FakeTransport().reply(has('install'), ok('')).reply(has('sha256sum'), failed(1, 'sha256sum: /d/x: No such file or directory'));
    await runNodeCommand(transport, node1, write);
    expect(transport.calls[0]!.options?.stdin).to.equal('SECRET KEY');
    expect(await runNodeCommand(transport, node1, fileSha256('/d/x'))).to.equal(undefined);
    expect(() => fileSha256('relative')).to.throw(/invalid absolute path/);
  });

  it('copies only the files whose content differs, each to a temporary name first', async () => {
    const files = { 'ca.crt': 'CA', 'tls.crt': 'CRT', 'tls.key': 'KEY' };
    const transport = new FakeTransport()
      .reply(has('sha256sum', '/d/ca.crt'), ok(`${sha256('CA')}  /d/ca.crt\n`))
      .reply(has('sha256sum', '/d/tls.crt'), ok(`${sha256('OLD')}  /d/tls.crt\n`))
      .reply(has('sha256sum', '/d/tls.key'), failed(1, 'No such file or directory'))
      .reply(has('install'), ok(''))
      .reply(has('mv'), ok(''));
    const access = { executor: new ClusterExecutor({ transport, queue: new MutationQueue(), clusterKey: 'c' }) } as unknown as ClusterAccess;
    await copyTlsFiles(access, [node1], { kind: 'on', secretName: 's', secretNamespace: 'ns', dir: '/d', files });
    const written = transport.argvs().filter((argv) => argv[0] !== 'sha256sum');
    expect(written).to.deep.equal([
      ['install', '-D', '-m', '0600', '/dev/stdin', '/d/tls.crt.new'],
      ['mv', '-f', '/d/tls.crt.new', '/d/tls.crt'],
      ['install', '-D', '-m', '0600', '/dev/stdin', '/d/tls.key.new'],
      ['mv', '-f', '/d/tls.key.new', '/d/tls.key'],
    ]);
  });
});
