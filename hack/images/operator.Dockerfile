# The operator image: the operator (src/main.ts) and the CSI node plugin (src/csi/main.ts) in one image,
# run by Node 24's type stripping straight from the TypeScript sources. The Debian packages and their versions
# are in packages/operator.txt, which hack/build-images installs too.
# Build from the repository root:  docker build -f hack/images/operator.Dockerfile -t gluster-operator.local/gluster-operator:v0.1.0 .
# (Not built in this repository's CI: its machines have no Docker engine; they run `npm run images`.)

# Keep equal to DEBIAN_SUITE in build.env (hack/build-images checks).
ARG DEBIAN_SUITE=bookworm
FROM node:24.21.0-${DEBIAN_SUITE}-slim

COPY hack/images/install-packages.sh hack/images/packages/operator.txt /tmp/build/
RUN sh /tmp/build/install-packages.sh /tmp/build/operator.txt && rm -rf /tmp/build

WORKDIR /opt/gluster-operator
COPY package.json package-lock.json ./
# --omit=dev: the image needs no TypeScript compiler, test tools, or the node binary from npm.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY src ./src

USER 65532:65532
ENTRYPOINT ["node", "src/main.ts"]
