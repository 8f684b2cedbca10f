import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { CsiError } from '../../src/csi/errors.ts';
import { parseRequest, publishRequestSchema, unpublishRequestSchema, volumeStatsRequestSchema } from '../../src/csi/requests.ts';

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

function invalid(schema: Parameters<typeof parseRequest>[0], request: unknown): string {
  try {
    parseRequest(schema, request);
  } catch (error) {
    expect(error).to.be.instanceOf(CsiError);
    expect((error as CsiError).code).to.equal(status.INVALID_ARGUMENT);
    return (error as CsiError).message;
  }
  expect.fail('request was accepted');
}

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
