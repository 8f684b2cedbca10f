/**
 * Container images, pinned by tag to this release. Never `:latest`: gk-deploy's `:latest` tags made every
 * reschedule a silent upgrade. `npm run images` (hack/build-images) builds them under exactly these names; the
 * Dockerfiles in hack/images/ build the same contents with Docker. They are not published to a registry: the
 * `gluster-operator.local/` prefix is a name no registry answers to (`.local` is never a public domain), like the
 * test bed's pause image, so the images are imported into each node's containerd (the test bed, `npm run demo`)
 * or retagged to the registry of whoever publishes them (set the manifests' images and GLUSTERD_IMAGES to match).
 */
export const OPERATOR_VERSION = '0.1.0';
export const GLUSTERFS_VERSION = '10.3';
export const OPERATOR_IMAGE = `gluster-operator.local/gluster-operator:v${OPERATOR_VERSION}`;
export const GLUSTERD_IMAGE = `gluster-operator.local/glusterd:v${OPERATOR_VERSION}-glusterfs${GLUSTERFS_VERSION}`;
/**
 * The csi-snapshotter sidecar of the operator's pods (VolumeSnapshots → the operator's CSI snapshot calls),
 * built by hack/build-images from the external-snapshotter version hack/build-snapshotter pins; the tag is
 * that version (the build refuses a mismatch).
 */
export const CSI_SNAPSHOTTER_VERSION = 'v8.7.0';
export const CSI_SNAPSHOTTER_IMAGE = `gluster-operator.local/csi-snapshotter:${CSI_SNAPSHOTTER_VERSION}`;
