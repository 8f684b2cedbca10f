/**
 * Container images, pinned by tag to this release. Never `:latest`: gk-deploy's `:latest` tags made every
 * reschedule a silent upgrade. `npm run images` (hack/build-images) builds them under exactly these names; the
 * Dockerfiles in hack/images/ build the same contents with Docker. They are not published to a registry yet.
 */
export const OPERATOR_VERSION = '0.1.0';
export const GLUSTERFS_VERSION = '10.3';
export const OPERATOR_IMAGE = `ghcr.io/gluster-operator/gluster-operator:v${OPERATOR_VERSION}`;
export const GLUSTERD_IMAGE = `ghcr.io/gluster-operator/glusterd:v${OPERATOR_VERSION}-glusterfs${GLUSTERFS_VERSION}`;
