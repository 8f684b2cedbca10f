#!/usr/bin/env bash
# PID 1 of one Kubernetes node of the test bed. hack/testbed starts it as
#   nsenter --net=/run/netns/knI unshare --mount --uts --pid --fork --mount-proc --propagation private \
#     kube-node-init.sh NODE_DIR
# so it runs in the node's own network, mount, UTS and PID namespaces. It gives the node its own /sys, /var/lib,
# /var/log, /run, /etc/hosts, /etc/glusterfs, /etc/lvm and cgroup root, then runs containerd, the kubelet and
# kube-proxy until TERM. Everything it writes lives in NODE_DIR or in the node's cgroups (removed by `down`);
# the shared kernel's settings are never changed. Settings come from NODE_DIR/node.env (written by
# hack/testbed).
set -euo pipefail
D=$1
# shellcheck source=/dev/null
. "$D/node.env" # NODE_NAME NODE_IP CGROUP_ROOT BIN_DIR IMAGES_DIR CONTAINERD_SEED KUBECONFIG_FILE
export PATH="$BIN_DIR:$PATH"
hostname "$NODE_NAME"

# /run is runtime state: a node that restarts starts with an empty one, as after a reboot. /var/lib persists
# (kubelet, containerd's images, glusterd's state and bricks of the glusterd pods), as a disk would.
rm -rf "$D/run"
mkdir -p "$D"/{run,varlib,log,cg-hold,sysctl,etc-glusterfs,etc-lvm}

# 1. A sysfs of this network namespace (/sys/class/net shows the node's own interfaces), with the host's
#    cgroup hierarchies bound back in.
mount --rbind /sys/fs/cgroup "$D/cg-hold"
mount -t sysfs sysfs /sys
mount --rbind "$D/cg-hold" /sys/fs/cgroup
umount -l "$D/cg-hold"

# 2. A new node's containerd starts from the seed of the test bed's images (containerd_seed in
#    hack/lib/kube-nodes.sh): hard links, made here before /var/lib is a bind mount (link(2) does not cross
#    mounts), as the seed's blobs and unpacked layers are never written in place (overlayfs writes to each
#    container's own upper directory); the bolt databases are real copies. A node that boots again keeps its
#    own containerd and imports the current archives instead (they may have changed, see `hack/testbed images`).
seeded=0
if [[ -n ${CONTAINERD_SEED:-} && ! -e $D/varlib/containerd ]]; then
  cp -al "$CONTAINERD_SEED" "$D/varlib/containerd.partial" 2>/dev/null ||
    { rm -rf "$D/varlib/containerd.partial"; cp -a "$CONTAINERD_SEED" "$D/varlib/containerd.partial"; }
  while IFS= read -r -d '' db; do cp "$db" "$db.copy" && mv "$db.copy" "$db"; done < <(find "$D/varlib/containerd.partial" -name '*.db' -print0)
  mv "$D/varlib/containerd.partial" "$D/varlib/containerd"
  seeded=1
fi

# The node's own state at the standard paths, without creating a single mount point on the host.
mount --bind "$D/varlib" /var/lib
mkdir -p /var/lib/kubelet /var/lib/containerd /var/lib/cni /var/lib/glusterd
mount --bind "$D/log" /var/log
mount --bind "$D/run" /run
printf '127.0.0.1 localhost\n%s %s\n' "$NODE_IP" "$NODE_NAME" >"$D/hosts"
mount --bind "$D/hosts" /etc/hosts
# glusterd and LVM in the glusterd pods use the host's /etc/glusterfs and /etc/lvm (hostPath); each node gets
# its own copy, as each real server has its own.
for etc in glusterfs lvm; do
  if [[ ! -e $D/etc-$etc/.copied ]]; then
    cp -a "/etc/$etc/." "$D/etc-$etc/" 2>/dev/null || true
    touch "$D/etc-$etc/.copied"
  fi
  mount --bind "$D/etc-$etc" "/etc/$etc"
done

# 3. The kubelet insists on these kernel-wide sysctls and would change them for the whole machine; it only
#    writes a value that differs, so show it files holding the values it wants, in this mount namespace only.
for kv in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
  kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
  f=${kv%%=*}
  echo "${kv#*=}" >"$D/sysctl/${f//\//_}"
  mount --bind "$D/sysctl/${f//\//_}" "/proc/sys/$f"
done

# 4. Bidirectional mount propagation (CSI and glusterd pods) needs shared mounts; only inside this namespace.
mount --make-rshared /

# 5. The node's cgroup root in every v1 hierarchy, and a leaf for the node's own daemons (pods go to
#    CGROUP_ROOT/kubepods, created by the kubelet). Two nodes never share a cgroup.
for c in /sys/fs/cgroup/*/; do
  c=${c%/}
  [[ $(basename "$c") == unified ]] && continue
  mkdir -p "$c$CGROUP_ROOT/daemons"
  if [[ -f $c/cpuset.cpus ]]; then
    for sub in "$c$CGROUP_ROOT" "$c$CGROUP_ROOT/daemons"; do
      cat "$c/cpuset.cpus" >"$sub/cpuset.cpus"
      cat "$c/cpuset.mems" >"$sub/cpuset.mems"
    done
  fi
  echo $$ >"$c$CGROUP_ROOT/daemons/cgroup.procs"
done

# 6. Routes to the other nodes' pod subnets (plain routing inside the node namespaces; the host forwards
#    nothing).
while read -r subnet via; do
  [[ -n $subnet ]] && ip route replace "$subnet" via "$via"
done <"$D/pod-routes"

# 7. Daemons. This shell is PID 1 here: it reaps orphans (the shims' children), and when it exits the kernel
#    kills every process left in the node, which takes the node's mounts with its mount namespace.
log() { echo "$(date +%T.%N | cut -c1-12) $NODE_NAME: $*"; }
log "init"
containerd --config "$D/containerd.toml" >/var/log/containerd.log 2>&1 &
containerd_pid=$!
sock=/run/containerd/containerd.sock
until ctr --address "$sock" version >/dev/null 2>&1; do
  kill -0 "$containerd_pid" 2>/dev/null || { log "containerd exited"; tail -n 20 /var/log/containerd.log; exit 1; }
  sleep 0.1
done
log "containerd up"
if ((seeded)); then
  log "images from the seed"
else
  for archive in "$IMAGES_DIR"/*.tar; do
    ctr --address "$sock" -n k8s.io images import --local "$archive" >/dev/null ||
      { log "import of $archive failed"; exit 1; }
  done
  log "images imported"
fi
# `ctr version` answers before containerd's CRI service is ready ("server is not initialized yet"), and a
# kubelet started then exits at once (seen on this machine): wait for the CRI's own Version call.
until crictl --runtime-endpoint "unix://$sock" version >/dev/null 2>&1; do
  kill -0 "$containerd_pid" 2>/dev/null || { log "containerd exited"; tail -n 20 /var/log/containerd.log; exit 1; }
  sleep 0.1
done
log "CRI ready"
kubelet --config "$D/kubelet.yaml" --kubeconfig "$KUBECONFIG_FILE" --hostname-override "$NODE_NAME" \
  --node-ip "$NODE_IP" -v=1 >/var/log/kubelet.log 2>&1 &
kubelet_pid=$!
kube-proxy --config "$D/kube-proxy.yaml" -v=1 >/var/log/kube-proxy.log 2>&1 &
proxy_pid=$!
log "kubelet and kube-proxy started"

stop() {
  log "stopping"
  kill -TERM "$proxy_pid" "$kubelet_pid" 2>/dev/null || true
  wait "$kubelet_pid" 2>/dev/null || true
  kill -TERM "$containerd_pid" 2>/dev/null || true
  wait "$containerd_pid" 2>/dev/null || true
  exit 0
}
trap stop TERM INT
while :; do
  wait || true
  sleep 1
done
