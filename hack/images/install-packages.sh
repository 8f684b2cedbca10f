#!/bin/sh
# install-packages.sh LIST: installs a package list of packages/ (`name=version` or `name` per line, `#`
# comments). The Dockerfiles and hack/build-images (inside its chroot) both run this, so an image built either
# way gets the same packages the same way.
set -eu
list=$1
export DEBIAN_FRONTEND=noninteractive
apt-get update
sed -e 's/#.*//' "$list" | xargs apt-get install -y --no-install-recommends
rm -rf /var/lib/apt/lists/*
