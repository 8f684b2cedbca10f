export * from './group.ts';
export * from './common.ts';
export * from './limits.ts';
export * from './gluster-volume-name.ts';
export * from './gluster-cluster.ts';
export * from './gluster-node.ts';
export * from './gluster-volume.ts';
