import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { CsiError } from '../../src/csi/errors.ts';
import { inspect } from 'node:util';
import { parseRequest, publishRequestSchema, tlsMaterialOf, unpublishRequestSchema, volumeStatsRequestSchema } from '../../src/csi/requests.ts';

/** A NodePublishVolumeRequest as proto-loader decodes kubelet's (defaults on: absent strings are ''). */
const publish = (overrides: Record<string, unknown> = {}, context: Record<string, string> = {}) => ({
  volume_id: 'default/pvc-123',
  publish_context: {},
  staging_target_path: '',
  target_path: '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/pv-123/mount',
  volume_capability: { mount: { fs_type: '', mount_flags: [], volume_mount_group: '' }, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, access_type: 'mount' },
  readonly: false,
  volume_context: {
    mountSource: '10.77.0.11:default_pvc-123',
    backupVolfileServers: '10.77.0.12:10.77.0.13',
    glusterVolumeName: 'default_pvc-123',
    gid: '2001',
    ...context,
  },
  ...overrides,
});

/** The INVALID_ARGUMENT message `work` throws. */
function refusal(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).to.be.instanceOf(CsiError);
    expect((error as CsiError).code).to.equal(status.INVALID_ARGUMENT);
    return (error as CsiError).message;
  }
  expect.fail('request was accepted');
}

const invalid = (schema: Parameters<typeof parseRequest>[0], request: unknown) => refusal(() => parseRequest(schema, request));

describe('CSI request validation', () => {
  it('accepts a kubelet publish request and normalizes it', () => {
    const request = parseRequest(publishRequestSchema, publish());
    expect(request).to.deep.include({ volumeId: 'default/pvc-123', readOnly: false, accessMode: 'MULTI_NODE_MULTI_WRITER', mountFlags: [] });
    expect(request.context.mountSource).to.deep.equal({ host: '10.77.0.11', volume: 'default_pvc-123' });
    expect(request.context.backupVolfileServers).to.deep.equal(['10.77.0.12', '10.77.0.13']);
    expect(request.context.gid).to.equal(2001);
  });

  it('accepts host:/volume, no backups, no gid, and extra context keys', () => {
    const request = parseRequest(publishRequestSchema, {
      ...publish(),
      volume_context: { mountSource: 'gluster-1.example.com:/default_pvc-123', glusterVolumeName: 'default_pvc-123', 'csi.storage.k8s.io/pod.name': 'x' },
    });
    expect(request.context.mountSource.host).to.equal('gluster-1.example.com');
    expect(request.context.backupVolfileServers).to.deep.equal([]);
    expect(request.context.gid).to.equal(undefined);
  });

  it('names each missing or invalid volume attribute', () => {
    expect(invalid(publishRequestSchema, { ...publish(), volume_context: {} })).to.match(/volume_context\.mountSource/).and.match(/volume_context\.glusterVolumeName/);
    expect(invalid(publishRequestSchema, publish({}, { mountSource: '10.77.0.11' }))).to.contain('volume_context.mountSource');
    expect(invalid(publishRequestSchema, publish({}, { mountSource: 'a b:vol' }))).to.contain('volume_context.mountSource');
    expect(invalid(publishRequestSchema, publish({}, { backupVolfileServers: 'ok:bad,host' }))).to.contain('volume_context.backupVolfileServers');
    expect(invalid(publishRequestSchema, publish({}, { gid: '-1' }))).to.contain('volume_context.gid');
    expect(invalid(publishRequestSchema, publish({}, { gid: '99999999999' }))).to.contain('volume_context.gid');
    expect(invalid(publishRequestSchema, publish({}, { glusterVolumeName: 'other' }))).to.match(/glusterVolumeName.*does not match/);
  });

  it('requires volume_id and an absolute normalized target_path', () => {
    expect(invalid(publishRequestSchema, publish({ volume_id: '' }))).to.contain('volume_id');
    expect(invalid(publishRequestSchema, publish({ target_path: '' }))).to.contain('target_path');
    expect(invalid(publishRequestSchema, publish({ target_path: 'relative/mount' }))).to.contain('target_path');
    expect(invalid(publishRequestSchema, publish({ target_path: '/var/lib/kubelet/../../etc' }))).to.contain('target_path');
    expect(invalid(publishRequestSchema, publish({ target_path: '/' }))).to.contain('target_path');
  });

  it('refuses block volumes, other filesystems and unknown access modes', () => {
    const block = { block: {}, mount: null, access_type: 'block', access_mode: { mode: 'SINGLE_NODE_WRITER' } };
    expect(invalid(publishRequestSchema, publish({ volume_capability: block }))).to.contain('block volumes are not supported');
    const ext4 = { mount: { fs_type: 'ext4', mount_flags: [] }, access_type: 'mount', access_mode: { mode: 'SINGLE_NODE_WRITER' } };
    expect(invalid(publishRequestSchema, publish({ volume_capability: ext4 }))).to.contain('fs_type');
    const unknown = { mount: { fs_type: '', mount_flags: [] }, access_type: 'mount', access_mode: { mode: 'UNKNOWN' } };
    expect(invalid(publishRequestSchema, publish({ volume_capability: unknown }))).to.contain('access_mode');
    expect(invalid(publishRequestSchema, publish({ volume_capability: null }))).to.contain('volume_capability');
  });

  it('publishes reader-only access modes read-only even without the readonly flag', () => {
    for (const mode of ['SINGLE_NODE_READER_ONLY', 'MULTI_NODE_READER_ONLY']) {
      const capability = { mount: { fs_type: 'glusterfs', mount_flags: [] }, access_type: 'mount', access_mode: { mode } };
      expect(parseRequest(publishRequestSchema, publish({ volume_capability: capability })).readOnly).to.equal(true);
    }
    expect(parseRequest(publishRequestSchema, publish({ readonly: true })).readOnly).to.equal(true);
  });

  const capability = (mount_flags: string[]) => ({ mount: { fs_type: '', mount_flags }, access_type: 'mount', access_mode: { mode: 'SINGLE_NODE_WRITER' } });

  it('splits comma lists in mount flags and refuses options mount.glusterfs would misread', () => {
    expect(parseRequest(publishRequestSchema, publish({ volume_capability: capability(['acl,log-level=WARNING', 'attribute-timeout=0.5', '_netdev']) })).mountFlags).to.deep.equal([
      'acl',
      'log-level=WARNING',
      'attribute-timeout=0.5',
      '_netdev',
    ]);
    for (const bad of ['a b', 'x=$(reboot)', 'opt;rm', '-o', 'x=`id`', 'a*']) {
      expect(invalid(publishRequestSchema, publish({ volume_capability: capability([bad]) }))).to.contain('mount_flags');
    }
  });

  it('refuses mount options outside the allow-list, naming each, and more than 32 of them', () => {
    const message = invalid(publishRequestSchema, publish({ volume_capability: capability(['acl,log-file=/etc/x', 'volume-id=other']) }));
    expect(message).to.match(/mount_flags\.1: "log-file=\/etc\/x": mount option log-file is not allowed/).and.match(/mount_flags\.2: "volume-id=other"/);
    expect(invalid(publishRequestSchema, publish({ volume_capability: capability(Array(33).fill('acl')) }))).to.contain('at most 32 mount options');
  });

  it('ties volume_id to the volume the context mounts', () => {
    expect(invalid(publishRequestSchema, publish({ volume_id: 'default/pvc-999' }))).to.match(/volume_id: .*names GlusterVolume default\/pvc-999.*mounts default_pvc-123/);
    expect(invalid(publishRequestSchema, publish({ volume_id: 'not a handle' }))).to.contain('volume_id');
  });

  it('validates unpublish and stats requests', () => {
    expect(parseRequest(unpublishRequestSchema, { volume_id: 'ns/v', target_path: '/t/mount' })).to.deep.equal({ volumeId: 'ns/v', targetPath: '/t/mount' });
    expect(invalid(unpublishRequestSchema, { volume_id: 'ns/v', target_path: '' })).to.contain('target_path');
    expect(invalid(unpublishRequestSchema, { volume_id: '', target_path: '/t' })).to.contain('volume_id');
    expect(parseRequest(volumeStatsRequestSchema, { volume_id: 'ns/v', volume_path: '/t/mount', staging_target_path: '' })).to.deep.equal({ volumeId: 'ns/v', volumePath: '/t/mount' });
    expect(invalid(volumeStatsRequestSchema, { volume_id: 'ns/v', volume_path: 'x' })).to.contain('volume_path');
  });
});

describe('CSI request validation: directory mode (volume_context.subdirectory)', () => {
  /** A directory-mode PV: directory pvc-x of the shared Gluster volume team-a_shared. */
  const directory = (subdirectory: string, volumeId = `default/${subdirectory}`) =>
    publish({ volume_id: volumeId }, { mountSource: '10.77.0.11:team-a_shared', glusterVolumeName: 'team-a_shared', subdirectory });

  it('takes the directory named after the handle\'s GlusterVolume, whatever the shared volume is called', () => {
    const request = parseRequest(publishRequestSchema, directory('pvc-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'));
    expect(request.context.subdirectory).to.equal('pvc-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0');
    expect(request.context.glusterVolumeName).to.equal('team-a_shared');
    expect(parseRequest(publishRequestSchema, directory('web.cache')).context.subdirectory).to.equal('web.cache');
    expect(parseRequest(publishRequestSchema, directory('d'.repeat(253))).context.subdirectory).to.equal('d'.repeat(253));
    expect(parseRequest(publishRequestSchema, publish()).context.subdirectory).to.equal(undefined);
  });

  it('refuses anything but one lowercase object name, naming the field', () => {
    const hostile = ['.', '..', 'a/b', '../x', '/pvc-x', 'pvc-x/', '', ' ', 'PVC-X', 'pvc_x', '-x', 'x-', '.x', 'a b', 'x\0', 'd'.repeat(254)];
    for (const subdirectory of hostile) {
      // volume_id names the same string, so only the subdirectory itself can be refused.
      const message = invalid(publishRequestSchema, directory(subdirectory, 'default/pvc-x'));
      expect(message, JSON.stringify(subdirectory)).to.contain("volume_context.subdirectory: must be the name of the PV's GlusterVolume");
    }
  });

  it('ties volume_id to the directory, not to the shared volume\'s name, and says which directory would match', () => {
    const message = invalid(publishRequestSchema, directory('pvc-x', 'default/pvc-y'));
    expect(message).to.match(/^volume_id: names GlusterVolume default\/pvc-y, whose directory would be subdirectory pvc-y; the volume context mounts directory pvc-x of team-a_shared/);
    expect(message).to.contain("Set the PV's volumeHandle to default/pvc-x");
    // A handle that would match the shared volume as a whole does not make a directory of it someone else's.
    expect(invalid(publishRequestSchema, directory('pvc-x', 'default/team-a-shared'))).to.contain('whose directory would be subdirectory team-a-shared');
    // The shared volume must still be the one mountSource mounts.
    expect(invalid(publishRequestSchema, publish({ volume_id: 'default/pvc-x' }, { mountSource: '10.77.0.11:other', glusterVolumeName: 'team-a_shared', subdirectory: 'pvc-x' }))).to.match(
      /glusterVolumeName.*does not match/,
    );
  });

  it('refuses a directory of a volume named snaps, which mount.glusterfs would mount as a snapshot', () => {
    const request = publish({ volume_id: 'default/pvc-x' }, { mountSource: '10.77.0.11:snaps', glusterVolumeName: 'snaps', subdirectory: 'pvc-x' });
    expect(invalid(publishRequestSchema, request)).to.contain('volume_context.subdirectory: a directory of a Gluster volume named snaps cannot be mounted');
  });
});

describe('CSI request validation: TLS (volume_context.tlsDir and secrets)', () => {
  const DIR = '/var/lib/gluster-operator/tls/gluster/prod';
  const SECRETS = { 'ca.crt': 'CA-PEM-material', 'tls.crt': 'CERT-PEM-material', 'tls.key': 'KEY-PEM-material' };
  const withTls = (secrets: Record<string, string> = SECRETS, dir = DIR) => publish({ secrets }, { tlsDir: dir });

  const tlsRefusal = (request: unknown) => refusal(() => tlsMaterialOf(parseRequest(publishRequestSchema, request)));

  it('takes a tlsDir tlsDirFor makes, and the three files from secrets', () => {
    const request = parseRequest(publishRequestSchema, withTls({ ...SECRETS, extra: 'ignored' }));
    expect(request.context.tlsDir).to.equal(DIR);
    const material = tlsMaterialOf(request)!;
    expect(material.dir).to.equal(DIR);
    expect(['ca.crt', 'tls.crt', 'tls.key'].map((key) => material.secrets.get(key))).to.deep.equal(['CA-PEM-material', 'CERT-PEM-material', 'KEY-PEM-material']);
  });

  it('refuses a tlsDir outside TLS_ROOT/<namespace>/<cluster>, naming the field', () => {
    const hostile = [
      '/etc',
      '/var/lib/gluster-operator/tls/../x',
      '/var/lib/gluster-operator/tls/a/../../../../etc',
      '/var/lib/gluster-operator/tls/a/b/c',
      '/var/lib/gluster-operator/tls/a',
      '/var/lib/gluster-operator/tls/a/b/',
      '/var/lib/gluster-operator/tls//a/b',
      '/var/lib/gluster-operator/tls/a/..',
      '/var/lib/gluster-operator/tls/A/b',
      '/var/lib/gluster-operator/tls/a/b\0',
      'var/lib/gluster-operator/tls/a/b',
      '',
    ];
    for (const dir of hostile) {
      expect(invalid(publishRequestSchema, withTls(SECRETS, dir)), dir).to.contain('volume_context.tlsDir: must be /var/lib/gluster-operator/tls/');
    }
  });

  it('without the three keys (or with one empty), says which are missing and that nodePublishSecretRef must name the spec.tls Secret', () => {
    const none = tlsRefusal(publish({}, { tlsDir: DIR }));
    expect(none).to.contain('secrets: ca.crt, tls.crt, tls.key missing or empty').and.contain("nodePublishSecretRef must name the GlusterCluster's spec.tls Secret");
    const { 'tls.key': _key, ...noKey } = SECRETS;
    expect(tlsRefusal(withTls(noKey))).to.match(/^secrets: tls\.key missing or empty/);
    expect(tlsRefusal(withTls({ ...SECRETS, 'ca.crt': '' }))).to.match(/^secrets: ca\.crt missing or empty/);
  });

  it('ignores secrets when the PV names no tlsDir', () => {
    const request = parseRequest(publishRequestSchema, publish({ secrets: SECRETS }));
    expect(request.context.tlsDir).to.equal(undefined);
    expect(tlsMaterialOf(request)).to.equal(undefined);
    expect(tlsMaterialOf(parseRequest(publishRequestSchema, publish()))).to.equal(undefined);
  });

  it('never shows a secret value: not in errors, JSON or util.inspect of the parsed request', () => {
    const values = Object.values(SECRETS);
    const request = parseRequest(publishRequestSchema, withTls());
    for (const shown of [JSON.stringify(request), inspect(request, { depth: 10 }), JSON.stringify(tlsMaterialOf(request)), inspect(tlsMaterialOf(request), { depth: 10 })]) {
      for (const value of values) expect(shown).to.not.contain(value);
    }
    const refused = invalid(publishRequestSchema, publish({ secrets: { 'tls.key': 'KEY-PEM-material'.repeat(70_000) } }, { tlsDir: DIR }));
    expect(refused).to.contain('secrets.tls.key').and.not.contain('KEY-PEM');
    expect(tlsRefusal(withTls({ 'tls.key': 'KEY-PEM-material' }))).to.not.contain('KEY-PEM');
  });
});
