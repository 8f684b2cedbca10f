# The glusterd image the operator's DaemonSet runs (InCluster clusters): Debian's glusterfs-server with the
# tools brick backends call (LVM, XFS, wipefs, losetup) and GNU timeout (the transports bound every command).
# Build: docker build -f hack/images/glusterd.Dockerfile -t ghcr.io/gluster-operator/glusterd:v0.1.0-glusterfs10.3 .
# (Not built in this repository's CI: its machines have no Docker engine.)
FROM debian:12.8-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      glusterfs-server=10.3-5 lvm2 thin-provisioning-tools xfsprogs util-linux coreutils procps iproute2 \
 && rm -rf /var/lib/apt/lists/*

# LVM inside a container must not wait for udev, which runs on the host.
RUN sed -i -e 's/^\(\s*\)# *udev_sync = 1/\1udev_sync = 0/' -e 's/^\(\s*\)# *udev_rules = 1/\1udev_rules = 0/' /etc/lvm/lvm.conf

EXPOSE 24007 24008
# In the foreground, logging to stderr, so the kubelet sees it die and `kubectl logs` shows it.
ENTRYPOINT ["glusterd", "--no-daemon", "--log-level=INFO", "--log-file=-"]
