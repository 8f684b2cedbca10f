# The operator image: the operator (src/main.ts) and the CSI node plugin (src/csi/main.ts) in one image,
# run by Node 24's type stripping straight from the TypeScript sources. Versions pinned.
# Build from the repository root:  docker build -f hack/images/operator.Dockerfile -t ghcr.io/gluster-operator/gluster-operator:v0.1.0 .
# (Not built in this repository's CI: its machines have no Docker engine.)
FROM node:24.21.0-bookworm-slim

# The CSI plugin mounts volumes: mount.glusterfs (glusterfs-client), util-linux's mount, and systemd-run so
# the FUSE client can live outside the plugin container's cgroup (a plugin restart keeps mounts alive).
RUN apt-get update \
 && apt-get install -y --no-install-recommends glusterfs-client=10.3-5 util-linux systemd coreutils ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/gluster-operator
COPY package.json package-lock.json ./
# --omit=dev: the image needs no TypeScript compiler, test tools, or the node binary from npm.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY src ./src

USER 65532:65532
ENTRYPOINT ["node", "src/main.ts"]
