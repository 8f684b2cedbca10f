import * as protoLoader from '@grpc/proto-loader';
import { expect } from 'chai';
import { PROTO_OPTIONS, PROTO_PATH } from '../../src/csi/server.ts';

/**
 * Wire compatibility with kubelet: the field numbers and types below are CSI spec v1.9.0's (csi.proto). A field
 * renumbered or retyped in src/csi/csi.proto would decode kubelet's requests into the wrong fields.
 */
const SPEC: Record<string, Record<string, [number, string]>> = {
  GetPluginInfoResponse: { name: [1, 'TYPE_STRING'], vendor_version: [2, 'TYPE_STRING'], manifest: [3, 'TYPE_MESSAGE'] },
  GetPluginCapabilitiesResponse: { capabilities: [1, 'TYPE_MESSAGE'] },
  PluginCapability: { service: [1, 'TYPE_MESSAGE'], volume_expansion: [2, 'TYPE_MESSAGE'] },
  ProbeResponse: { ready: [1, 'TYPE_MESSAGE'] },
  VolumeCapability: { block: [1, 'TYPE_MESSAGE'], mount: [2, 'TYPE_MESSAGE'], access_mode: [3, 'TYPE_MESSAGE'] },
  'VolumeCapability.MountVolume': { fs_type: [1, 'TYPE_STRING'], mount_flags: [2, 'TYPE_STRING'], volume_mount_group: [3, 'TYPE_STRING'] },
  'VolumeCapability.AccessMode': { mode: [1, 'TYPE_ENUM'] },
  NodePublishVolumeRequest: {
    volume_id: [1, 'TYPE_STRING'],
    publish_context: [2, 'TYPE_MESSAGE'],
    staging_target_path: [3, 'TYPE_STRING'],
    target_path: [4, 'TYPE_STRING'],
    volume_capability: [5, 'TYPE_MESSAGE'],
    readonly: [6, 'TYPE_BOOL'],
    // The TLS Secret (nodePublishSecretRef) arrives here: the spec's field 7.
    secrets: [7, 'TYPE_MESSAGE'],
    volume_context: [8, 'TYPE_MESSAGE'],
  },
  NodeUnpublishVolumeRequest: { volume_id: [1, 'TYPE_STRING'], target_path: [2, 'TYPE_STRING'] },
  NodeGetVolumeStatsRequest: { volume_id: [1, 'TYPE_STRING'], volume_path: [2, 'TYPE_STRING'], staging_target_path: [3, 'TYPE_STRING'] },
  NodeGetVolumeStatsResponse: { usage: [1, 'TYPE_MESSAGE'], volume_condition: [2, 'TYPE_MESSAGE'] },
  VolumeUsage: { available: [1, 'TYPE_INT64'], total: [2, 'TYPE_INT64'], used: [3, 'TYPE_INT64'], unit: [4, 'TYPE_ENUM'] },
  VolumeCondition: { abnormal: [1, 'TYPE_BOOL'], message: [2, 'TYPE_STRING'] },
  NodeGetCapabilitiesResponse: { capabilities: [1, 'TYPE_MESSAGE'] },
  NodeServiceCapability: { rpc: [1, 'TYPE_MESSAGE'] },
  'NodeServiceCapability.RPC': { type: [1, 'TYPE_ENUM'] },
  NodeGetInfoResponse: { node_id: [1, 'TYPE_STRING'], max_volumes_per_node: [2, 'TYPE_INT64'], accessible_topology: [3, 'TYPE_MESSAGE'] },
};

type Descriptor = { name: string; field: Array<{ name: string; number: number; type: string }>; nestedType: Descriptor[]; enumType: Array<{ name: string; value: Array<{ name: string; number: number }> }> };

describe('CSI proto subset', () => {
  const definition = protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS);

  function message(path: string): Descriptor {
    const [top, ...nested] = path.split('.');
    let descriptor = (definition[`csi.v1.${top}`] as { type: Descriptor } | undefined)?.type;
    for (const name of nested) descriptor = descriptor?.nestedType.find((t) => t.name === name);
    if (!descriptor) throw new Error(`csi.v1.${path} is missing`);
    return descriptor;
  }

  for (const [name, fields] of Object.entries(SPEC)) {
    it(`csi.v1.${name} has the spec's field numbers and types`, () => {
      const actual = Object.fromEntries(message(name).field.map((f) => [f.name, [f.number, f.type]]));
      expect(actual).to.deep.equal(fields);
    });
  }

  it('has the spec\'s enum values for what the plugin sends and reads', () => {
    const values = (path: string, enumName: string) =>
      Object.fromEntries(message(path).enumType.find((e) => e.name === enumName)!.value.map((v) => [v.name, v.number]));
    expect(values('NodeServiceCapability.RPC', 'Type')).to.include({ STAGE_UNSTAGE_VOLUME: 1, GET_VOLUME_STATS: 2, VOLUME_CONDITION: 4 });
    expect(values('VolumeUsage', 'Unit')).to.deep.equal({ UNKNOWN: 0, BYTES: 1, INODES: 2 });
    expect(values('VolumeCapability.AccessMode', 'Mode')).to.deep.equal({
      UNKNOWN: 0, SINGLE_NODE_WRITER: 1, SINGLE_NODE_READER_ONLY: 2, MULTI_NODE_READER_ONLY: 3, MULTI_NODE_SINGLE_WRITER: 4,
      MULTI_NODE_MULTI_WRITER: 5, SINGLE_NODE_SINGLE_WRITER: 6, SINGLE_NODE_MULTI_WRITER: 7,
    });
  });

  it('serves the Identity and Node methods under csi.v1', () => {
    expect(Object.keys(definition['csi.v1.Identity']!).sort()).to.deep.equal(['GetPluginCapabilities', 'GetPluginInfo', 'Probe']);
    const node = definition['csi.v1.Node'] as Record<string, { path: string }>;
    expect(Object.keys(node).sort()).to.deep.equal(['NodeGetCapabilities', 'NodeGetInfo', 'NodeGetVolumeStats', 'NodePublishVolume', 'NodeUnpublishVolume']);
    expect(node.NodePublishVolume!.path).to.equal('/csi.v1.Node/NodePublishVolume');
  });
});
