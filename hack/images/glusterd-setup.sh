#!/bin/sh
# Run inside the glusterd image after its packages are installed (glusterd.Dockerfile, hack/build-images).
set -eu
# LVM inside a container must not wait for udev, which runs on the host.
sed -i -e 's/^\(\s*\)# *udev_sync = 1/\1udev_sync = 0/' -e 's/^\(\s*\)# *udev_rules = 1/\1udev_rules = 0/' /etc/lvm/lvm.conf
# A new lvm.conf layout would make the edit a silent no-op.
grep -q '^\s*udev_sync = 0' /etc/lvm/lvm.conf
grep -q '^\s*udev_rules = 0' /etc/lvm/lvm.conf
# glusterd keeps its state and its bricks' logs and sockets here and does not create the parents itself.
mkdir -p /var/lib/glusterd /var/log/glusterfs /run/gluster
