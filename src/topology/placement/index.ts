export { placeVolume, placementRequestSchema, sizeAttempts, MAX_SETS } from './place-volume.ts';
export type { PlacementRequest, PlacementResult, SizeAttempt } from './place-volume.ts';
export { clusterRing } from './ring.ts';
export type { Ring, RingEntry } from './ring.ts';
export { setsFit } from './capacity.ts';
