# shellcheck shell=bash
# The test bed's Kubernetes nodes, sourced by hack/testbed: K nodes (kubelet + containerd + runc + kube-proxy),
# each the PID 1 of its own network, mount, UTS and PID namespaces (hack/lib/kube-node-init.sh), on the same
# bridge as the Gluster nodes. Node I is knI at 10.77.0.(20+I); its pods get 10.78.I.0/24; its cgroups live
# under /gluster-testbed-knI in every hierarchy. Everything else of a node lives in .testbed/kube-nodes/knI.

KUBE_NODE_PREFIX=kn
KUBE_VETH_PREFIX=veth-kn
POD_NET_PREFIX=10.78 # node I: 10.78.I.0/24
CLUSTER_CIDR=$POD_NET_PREFIX.0.0/16
KUBE_CGROUP_PREFIX=/gluster-testbed-
KUBE_NODE_INIT="$HACK_DIR/lib/kube-node-init.sh"

kube_node_name() { echo "$KUBE_NODE_PREFIX$1"; }
kube_node_ip() { echo "$NET_PREFIX.$((20 + $1))"; }
kube_node_dir() { echo "$TB/kube-nodes/$(kube_node_name "$1")"; }
kube_node_subnet() { echo "$POD_NET_PREFIX.$1.0/24"; }
kube_node_cgroup() { echo "$KUBE_CGROUP_PREFIX$(kube_node_name "$1")"; }

test_bed_kube_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${KUBE_NODE_PREFIX}[0-9]+\$" || true; }

# The unshare process hack/testbed started for node I (its child is the node's PID 1).
kube_node_pid() {
  local pid
  pid=$(cat "$TB/pids/kube-node-$(kube_node_name "$1").pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && echo "$pid"
}

# The node's PID 1, as the host sees it.
kube_node_init_pid() {
  local pid child
  pid=$(kube_node_pid "$1") || return 1
  child=$(awk '{print $1}' "/proc/$pid/task/$pid/children" 2>/dev/null)
  [[ -n $child ]] && alive "$child" && echo "$child"
}

# Certificates, tokens and kubeconfigs of the scheduler, kube-proxy and the kubelets; part of write_pki.
write_kube_node_pki() {
  local pki=$TB/pki i token name
  cat >>"$pki/openssl.cnf" <<CNF
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF
  # What the apiserver shows the kubelets (exec, logs, port-forward); the kubelets trust the test bed's CA.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/kubelet-client.key" 2>/dev/null
  openssl req -new -key "$pki/kubelet-client.key" -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
    -config "$pki/openssl.cnf" -out "$pki/kubelet-client.csr"
  openssl x509 -req -in "$pki/kubelet-client.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 365 \
    -extfile "$pki/openssl.cnf" -extensions client -out "$pki/kubelet-client.crt" 2>/dev/null
  chmod 600 "$pki/kubelet-client.key"
  token=$(openssl rand -hex 24)
  echo "$token,system:kube-scheduler,system:kube-scheduler" >>"$pki/tokens.csv"
  write_kubeconfig "$TB/kube-scheduler.kubeconfig" kube-scheduler "$token"
  token=$(openssl rand -hex 24)
  echo "$token,system:kube-proxy,system:kube-proxy" >>"$pki/tokens.csv"
  write_kubeconfig "$TB/kube-proxy.kubeconfig" kube-proxy "$token"
  for ((i = 1; i <= KUBE_NODE_COUNT; i++)); do
    name=$(kube_node_name "$i")
    token=$(openssl rand -hex 24)
    # The Node authorizer and NodeRestriction limit each kubelet to its own Node and its own pods' objects.
    echo "$token,system:node:$name,system:node:$name,\"system:nodes\"" >>"$pki/tokens.csv"
    write_kubeconfig "$TB/kubelet-$name.kubeconfig" "system:node:$name" "$token"
  done
}

# containerd_seed IMAGES_DIR: a containerd root with the archives of IMAGES_DIR imported and unpacked, made once
# per image set and containerd version and cached; prints its path. Importing is most of a node's start (about
# 28 s per node with three nodes unpacking at once on 2 cores); a new node starts from a hard-linked copy of
# the seed instead (hack/lib/kube-node-init.sh), which takes a fraction of a second.
containerd_seed() {
  local images=$1 key seed tmp
  key=$({
    "$RUNTIME_BIN_DIR/containerd" --version
    # Path, size and inode of each archive: build-images writes a new archive as a new file (and touches
    # cached ones to keep them, so the modification time says nothing).
    local archive
    for archive in "$images"/*.tar; do stat -c '%n %s %i' "$(readlink -f "$archive")"; done
  } | sha256sum | cut -c1-16)
  seed="${GLUSTER_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gluster-operator}/containerd-seeds/$key"
  if [[ -d $seed ]]; then echo "$seed"; return 0; fi
  log "importing the images into a containerd seed (once per image set)"
  rm -rf "$seed.partial"
  mkdir -p "$seed.partial"
  tmp=$(mktemp -d)
  cat >"$tmp/config.toml" <<TOML
version = 3
root = '$seed.partial'
state = '$tmp/state'
# Only the content store, the metadata and the overlayfs snapshotter are needed to import and unpack.
disabled_plugins = ['io.containerd.grpc.v1.cri']
[grpc]
  address = '$tmp/containerd.sock'
TOML
  # In a private mount namespace: the unpack's temporary mounts never show on the host.
  # shellcheck disable=SC2016 # expanded by the inner bash
  if ! unshare --mount --propagation private bash -c '
    set -euo pipefail
    PATH="$1:$PATH"
    containerd --config "$2/config.toml" >"$2/containerd.log" 2>&1 &
    pid=$!
    trap "kill \$pid 2>/dev/null; wait \$pid 2>/dev/null || true" EXIT
    until ctr --address "$2/containerd.sock" version >/dev/null 2>&1; do kill -0 "$pid" || exit 1; sleep 0.1; done
    for archive in "$3"/*.tar; do
      ctr --address "$2/containerd.sock" -n k8s.io images import --local "$archive" >/dev/null 2>"$2/import.log" ||
        { cat "$2/import.log" >&2; exit 1; }
    done' _ "$RUNTIME_BIN_DIR" "$tmp" "$images" 9<&-; then
    tail -n 20 "$tmp/containerd.log" >&2 || true
    rm -rf "$tmp" "$seed.partial"
    die "could not import the images into a containerd seed"
  fi
  rm -rf "$tmp"
  mv "$seed.partial" "$seed"
  # Seeds of earlier image sets: keep the newest two.
  ls -1dt "$(dirname "$seed")"/*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf
  echo "$seed"
}

start_scheduler() {
  start_daemon kube-scheduler "$BIN_DIR/kube-scheduler" --kubeconfig "$TB/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false --profiling=false
}

prepare_kube_node() {
  local i=$1 name ip dir j
  name=$(kube_node_name "$i") ip=$(kube_node_ip "$i") dir=$(kube_node_dir "$i")
  mkdir -p "$dir/cni-net.d" "$dir/log"
  ip netns add "$name"
  ip link add "$KUBE_VETH_PREFIX$i" type veth peer name eth0 netns "$name"
  ip link set "$KUBE_VETH_PREFIX$i" master "$BRIDGE" up
  ip -n "$name" addr add "$ip/24" dev eth0
  ip -n "$name" link set lo up
  ip -n "$name" link set eth0 up
  # No default route, as for the Gluster nodes: a node reaches the bridge (the apiserver, the other nodes, the
  # Gluster nodes) and nothing else. Pod subnets of the other nodes are routed through those nodes.
  : >"$dir/pod-routes"
  for ((j = 1; j <= KUBE_NODE_COUNT; j++)); do
    if ((j != i)); then echo "$(kube_node_subnet "$j") $(kube_node_ip "$j")" >>"$dir/pod-routes"; fi
  done
  {
    echo "NODE_NAME=$(sq "$name")"
    echo "NODE_IP=$(sq "$ip")"
    echo "CGROUP_ROOT=$(sq "$(kube_node_cgroup "$i")")"
    echo "BIN_DIR=$(sq "$BIN_DIR:$RUNTIME_BIN_DIR")"
    echo "IMAGES_DIR=$(sq "$IMAGES_DIR")"
    echo "CONTAINERD_SEED=$(sq "$CONTAINERD_SEED")"
    echo "KUBECONFIG_FILE=$(sq "$TB/kubelet-$name.kubeconfig")"
  } >"$dir/node.env"
  cat >"$dir/containerd.toml" <<TOML
version = 3
root = '/var/lib/containerd'
state = '/run/containerd'
[grpc]
  address = '/run/containerd/containerd.sock'
[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '$PAUSE_IMAGE'
  [plugins.'io.containerd.cri.v1.runtime']
    # Root on some VMs (this one) lacks CAP_SYS_RESOURCE, so the negative oom_score_adj the kubelet gives every
    # sandbox makes runc fail ("can't get final child's PID from pipe: EOF"); clamp to containerd's own.
    restrict_oom_score_adj = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = '/usr/sbin/runc'
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['/usr/lib/cni']
      conf_dir = '$dir/cni-net.d'
  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'
TOML
  cat >"$dir/cni-net.d/10-testbed.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "testbed-pods", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$(kube_node_subnet "$i")"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
  # failCgroupV1/cgroupfs: this machine is cgroup v1 and its PID 1 is no systemd. Only holders of a certificate
  # of the test bed's CA (the apiserver) may call the kubelet.
  cat >"$dir/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $(kube_node_cgroup "$i")
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
address: $ip
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $TB/pki/ca.crt}
authorization: {mode: AlwaysAllow}
failSwapOn: false
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
YAML
  # conntrack all 0: kube-proxy would otherwise raise the kernel-wide nf_conntrack_max.
  cat >"$dir/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
hostnameOverride: $name
bindAddress: $ip
clusterCIDR: $CLUSTER_CIDR
clientConnection: {kubeconfig: $TB/kube-proxy.kubeconfig}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
}

start_kube_node() {
  local i=$1 dir
  dir=$(kube_node_dir "$i")
  setsid nsenter --net="/run/netns/$(kube_node_name "$i")" \
    unshare --mount --uts --pid --fork --mount-proc --propagation private --kill-child=SIGTERM \
    "$KUBE_NODE_INIT" "$dir" </dev/null >>"$dir/log/init.log" 2>&1 9<&- &
  echo $! >"$TB/pids/kube-node-$(kube_node_name "$i").pid"
  disown $!
}

# Stops node I the way a shutdown does (kubelet, then containerd; then the kernel ends what is left of the node
# with its PID namespace, and its mounts with its mount namespace) and removes its cgroups. Safe to repeat.
stop_kube_node() {
  local i=$1 grace=${2:-10} pid init
  pid=$(kube_node_pid "$i" || true)
  if [[ -n $pid ]]; then
    init=$(kube_node_init_pid "$i" || true)
    if [[ -n $init ]]; then kill_pids "$grace" "$init"; fi
    # The unshare parent exits with its child; without a child found, TERM reaches the child through it.
    kill_pids 1 "$pid"
  fi
  rm -f "$TB/pids/kube-node-$(kube_node_name "$i").pid"
  remove_cgroups "$(kube_node_cgroup "$i")"
}

# remove_cgroups /ROOT: every cgroup at and below /ROOT in every hierarchy, deepest first; the kernel needs a
# moment to let go of the cgroups of killed tasks.
remove_cgroups() {
  local root=$1 d _
  local -a left=()
  for _ in $(seq 1 50); do
    mapfile -t left < <(find /sys/fs/cgroup/*"$root" -depth -type d 2>/dev/null)
    ((${#left[@]} > 0)) || return 0
    for d in "${left[@]}"; do rmdir "$d" 2>/dev/null || true; done
    sleep 0.2
  done
  log "cgroups left under $root: ${left[*]:0:3}"
  return 1
}

# Loop devices whose backing file is in a Kubernetes node's directory: the LoopFile bricks of glusterd pods
# (losetup runs in the pod, so the kernel names the file by its path inside the pod: matched by device and
# inode instead). A node that stops leaves them attached; nothing else ever detaches them.
kube_node_loops() {
  [[ -d $TB/kube-nodes ]] || return 0
  local fs name inode majmin
  local -A ours=()
  fs=$(stat -c '%Hd:%Ld' "$TB/kube-nodes")
  while read -r inode; do ours[$inode]=1; done < <(find "$TB/kube-nodes" -xdev -type f -name '*.img' -printf '%i\n' 2>/dev/null)
  ((${#ours[@]} > 0)) || return 0
  while read -r name inode majmin; do
    if [[ $majmin == "$fs" && -n ${ours[$inode]:-} ]]; then echo "$name"; fi
  done < <(losetup -n -l -O NAME,BACK-INO,BACK-MAJ:MIN 2>/dev/null || true)
}

kube_node_cgroups_left() {
  local d
  for d in /sys/fs/cgroup/*/"${KUBE_CGROUP_PREFIX#/}$KUBE_NODE_PREFIX"*; do
    if [[ -d $d ]]; then echo "$d"; fi
  done
}

down_kube_nodes() {
  local quiet=${1:-} f n ns d
  for f in "$TB"/pids/kube-node-*.pid; do
    [[ -f $f ]] || continue
    n=${f##*/kube-node-"$KUBE_NODE_PREFIX"}
    n=${n%.pid}
    [[ -n $quiet ]] || log "stopping kube node $(kube_node_name "$n")"
    stop_kube_node "$n" 5 || true
  done
  # Nodes whose pid file is gone (an interrupted up): every process in their network namespaces.
  local -a pids=()
  for ns in $(test_bed_kube_netns); do
    mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null || true)
    kill_pids 5 "${pids[@]}"
  done
  for d in $(kube_node_cgroups_left); do remove_cgroups "/$(basename "$d")" || true; done
  # With the nodes' mount namespaces gone, their brick filesystems are unmounted and the loops idle.
  detach_loops kube_node_loops
  KUBE_LOOPS_LEFT=$(kube_node_loops | tr '\n' ' ')
  for ns in $(test_bed_kube_netns); do ip netns del "$ns" 2>/dev/null || true; done
  delete_veths "$KUBE_VETH_PREFIX"
}

kubectl_tb() { "$BIN_DIR/kubectl" --kubeconfig "$TB/kubeconfig" "$@"; }

# Every node Ready (the kubelet registered, its runtime and network ready).
wait_for_kube_nodes() {
  local i name deadline=$((SECONDS + ${1:-120})) last=""
  for ((i = 1; i <= KUBE_NODE_COUNT; i++)); do
    name=$(kube_node_name "$i")
    until last=$(kubectl_tb get node "$name" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>&1) && [[ $last == True ]]; do
      if ! kube_node_pid "$i" >/dev/null; then
        tail -n 30 "$(kube_node_dir "$i")/log/init.log" "$(kube_node_dir "$i")/log/kubelet.log" >&2 2>/dev/null || true
        die "kube node $name exited while waiting for it to be Ready (logs: $(kube_node_dir "$i")/log)"
      fi
      if ((SECONDS >= deadline)); then
        tail -n 30 "$(kube_node_dir "$i")/log/kubelet.log" >&2 2>/dev/null || true
        die "timed out waiting for node $name to be Ready (last seen: ${last:-nothing})"
      fi
      sleep 0.2
    done
  done
}

# Runs argv inside kube node I: its mount, network, UTS and PID namespaces (its /proc, /run, /var/lib).
kube_node_exec() {
  local i=$1 init
  shift
  init=$(kube_node_init_pid "$i") || die "kube node $(kube_node_name "$i") is not running"
  # The node's own tools (crictl, ctr, kubelet) on PATH, as on a real node.
  local bins
  bins=$(sed -n "s/^BIN_DIR='\(.*\)'\$/\1/p" "$(kube_node_dir "$i")/node.env")
  PATH="$bins:$PATH" nsenter --target "$init" --mount --net --uts --pid -- "$@"
}
