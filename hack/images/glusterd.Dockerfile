# The glusterd image the operator's DaemonSet runs (InCluster clusters): Debian's glusterfs-server with the
# tools brick backends call (LVM, XFS, wipefs, losetup) and GNU timeout (the transports bound every command).
# The packages and their versions are in packages/glusterd.txt, which hack/build-images installs too.
# Build from the repository root:
#   docker build -f hack/images/glusterd.Dockerfile -t gluster-operator.local/glusterd:v0.1.0-glusterfs10.3 .
# (Not built in this repository's CI: its machines have no Docker engine; they run `npm run images`.)

# Keep equal to DEBIAN_SUITE in build.env (hack/build-images checks).
ARG DEBIAN_SUITE=bookworm
FROM debian:${DEBIAN_SUITE}-slim

COPY hack/images/install-packages.sh hack/images/glusterd-setup.sh hack/images/packages/glusterd.txt /tmp/build/
RUN sh /tmp/build/install-packages.sh /tmp/build/glusterd.txt \
 && sh /tmp/build/glusterd-setup.sh \
 && rm -rf /tmp/build

EXPOSE 24007 24008
# In the foreground, logging to stderr, so the kubelet sees it die and `kubectl logs` shows it.
ENTRYPOINT ["glusterd", "--no-daemon", "--log-level=INFO", "--log-file=-"]
