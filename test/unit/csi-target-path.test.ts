import { expect } from 'chai';
import { resolvedTargetProblem, targetPathProblem, type ResolveFs } from '../../src/csi/target-path.ts';

const K = '/var/lib/kubelet';
const csi = (pod: string, volume: string, last = 'mount') => `${K}/pods/${pod}/volumes/kubernetes.io~csi/${volume}/${last}`;

/** A file system of symlinks only: `links` maps a directory to where it really is; ENOENT for `missing`. */
function fakeFs(links: Record<string, string>, missing: string[] = [], lstatCalls: string[] = []): ResolveFs {
  const resolve = (path: string) => {
    for (const [from, to] of Object.entries(links)) if (path === from || path.startsWith(`${from}/`)) return to + path.slice(from.length);
    return path;
  };
  const enoent = (path: string) => Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return {
    realpath: async (path) => {
      if (missing.some((m) => path === m || path.startsWith(`${m}/`))) throw enoent(path);
      return resolve(path);
    },
    lstat: async (path) => {
      lstatCalls.push(path);
      if (missing.some((m) => path === m || path.startsWith(`${m}/`))) throw enoent(path);
      return { isSymbolicLink: () => Object.hasOwn(links, path) };
    },
  };
}

describe('CSI target paths: confined to the kubelet\'s CSI volume directories', () => {
  it('accepts the paths kubelet uses: pod UIDs, static pod hashes, PV names with dots and escaped slashes', () => {
    for (const path of [
      csi('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', 'pvc-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'),
      csi('6d2f4c0a5b1e9d8c7f6e5d4c3b2a1f0e', 'my.volume'),
      csi('uid', 'ns~name'),
    ]) {
      expect(targetPathProblem(K, path), path).to.equal(undefined);
    }
  });

  it('refuses everything else, naming the path and the rule', () => {
    for (const path of [
      '/etc', `${K}`, `${K}/pods`, `${K}/plugins/x/mount`, csi('uid', 'pv', 'globalmount'), `${csi('uid', 'pv')}/x`, csi('uid', '.'), csi('uid', '..'),
      csi('u.i.d', 'pv'), csi('uid', 'a b'), `${K}/pods/uid/volumes/kubernetes.io~nfs/pv/mount`, `/var/lib/kubelet2/pods/uid/volumes/kubernetes.io~csi/pv/mount`,
    ]) {
      const problem = targetPathProblem(K, path);
      expect(problem, path).to.contain(path).and.contain(`${K}/pods/<pod uid>/volumes/kubernetes.io~csi/<volume name>/mount`);
    }
  });

  it('follows the kubelet directory itself wherever it is, but no symlink below it', async () => {
    const target = csi('uid', 'pv');
    expect(await resolvedTargetProblem(K, target, false, fakeFs({ [K]: '/data/kubelet' }))).to.equal(undefined);
    const escape = await resolvedTargetProblem(K, target, false, fakeFs({ [`${K}/pods/uid/volumes`]: '/etc' }));
    expect(escape).to.contain(`${K}/pods/uid/volumes/kubernetes.io~csi/pv resolves to /etc/kubernetes.io~csi/pv`);
    // The deepest directory that exists is the one checked.
    const missing = await resolvedTargetProblem(K, target, false, fakeFs({ [`${K}/pods`]: '/tmp/elsewhere' }, [`${K}/pods/uid`]));
    expect(missing).to.contain(`${K}/pods resolves to /tmp/elsewhere`);
    expect(await resolvedTargetProblem(K, target, false, fakeFs({ [target]: '/etc' }))).to.contain('is a symlink');
  });

  it('does not stat a target that is a mount point (a hung FUSE mount would hang the call)', async () => {
    const target = csi('uid', 'pv');
    const lstatCalls: string[] = [];
    expect(await resolvedTargetProblem(K, target, true, fakeFs({}, [], lstatCalls))).to.equal(undefined);
    expect(lstatCalls).to.deep.equal([]);
    await resolvedTargetProblem(K, target, false, fakeFs({}, [], lstatCalls));
    expect(lstatCalls).to.deep.equal([target]);
  });
});
