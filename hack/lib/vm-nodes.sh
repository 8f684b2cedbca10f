# shellcheck shell=bash
# The test bed's VM Gluster nodes, sourced by hack/testbed (`up --vm-nodes N`): Gluster servers with
# device-mapper, which this machine's kernel lacks, so that LVM thin bricks and Gluster snapshots run for real.
# VM I is glvmI at 10.77.0.(30+I) on the test bed's bridge (a tap), booted by QEMU under software emulation
# (TCG: this machine's /dev/kvm cannot run an unmodified guest kernel) from the guest disk of
# `hack/build-images --vm-guest` (Debian's own kernel, glusterd, LVM, sshd), with a copy-on-write overlay of
# it and VM_DATA_DISKS empty raw data disks (/dev/vdb, /dev/vdc, ...). Name, address, the test bed's SSH key
# and the VM's host key reach the guest on its kernel command line (hack/images/vm-guest-setup.sh), so one
# cached image serves every VM. Everything of a VM lives in .testbed/vm-nodes/glvmI.
#
# Fitted to this machine (2 cores, see ../shared/reference/lvm-vm): one vCPU per VM, so a busy VM takes at most
# one core from the test bed; 768 MiB of guest memory and a 256 MiB translation cache (about 0.7 GiB of host
# memory per VM; QEMU's default cache alone is 1 GiB). One VM with several disks is enough for the LVM path:
# its suites place bricks of one volume on several disks of one server.

VM_NODE_PREFIX=glvm
VM_TAP_PREFIX=tap-glvm
VM_DATA_DISKS=${TESTBED_VM_DATA_DISKS:-3}
VM_DISK_SIZE=${TESTBED_VM_DISK_SIZE:-2G}
VM_MEMORY_MIB=${TESTBED_VM_MEMORY_MIB:-768}
# Under emulation a boot to a serving glusterd takes 45-75 s on an idle machine, longer beside the test bed.
VM_BOOT_TIMEOUT=${TESTBED_VM_BOOT_TIMEOUT:-300}

vm_node_name() { echo "$VM_NODE_PREFIX$1"; }
vm_node_ip() { echo "$NET_PREFIX.$((30 + $1))"; }
vm_node_dir() { echo "$TB/vm-nodes/$(vm_node_name "$1")"; }
vm_node_tap() { echo "$VM_TAP_PREFIX$1"; }
vm_node_mac() { printf '52:54:00:77:00:%02x' $((0x30 + $1)); }
# The guest's name of data disk D (1-based): vdb, vdc, ... (vda is the root disk).
vm_data_disk() {
  local letters=bcdefghijklmnop
  echo "/dev/vd${letters:$(($1 - 1)):1}"
}

# Every QEMU whose command line points into this test bed, with or without a pid file (up killed half-way).
vm_node_pids() { pgrep -f -- "-name testbed-$VM_NODE_PREFIX[0-9]+,debug-threads=off .*$TB/vm-nodes/" || true; }

vm_taps() { ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^${VM_TAP_PREFIX}[0-9]+\$" || true; }

# Sets VM_GUEST_DIR to the guest disk, kernel and initrd (built once per input, then cached).
ensure_vm_guest() {
  VM_GUEST_DIR=${TESTBED_VM_GUEST_DIR:-}
  if [[ -z $VM_GUEST_DIR ]]; then
    VM_GUEST_DIR=$("$HACK_DIR/build-images" --vm-guest | tail -n1) || die "hack/build-images --vm-guest failed (see above)"
  fi
  local f
  for f in root.qcow2 vmlinuz initrd.img; do [[ -f $VM_GUEST_DIR/$f ]] || die "no $f in '$VM_GUEST_DIR'"; done
}

start_vm_node() {
  local i=$1 name ip dir tap d append
  name=$(vm_node_name "$i") ip=$(vm_node_ip "$i") dir=$(vm_node_dir "$i") tap=$(vm_node_tap "$i")
  mkdir -p "$dir/log"
  # The image stays read-only in the cache; this VM writes into its own overlay.
  qemu-img create -q -f qcow2 -b "$VM_GUEST_DIR/root.qcow2" -F qcow2 "$dir/root.qcow2"
  local drives=(-drive "file=$dir/root.qcow2,if=virtio,format=qcow2,cache=unsafe")
  for ((d = 1; d <= VM_DATA_DISKS; d++)); do
    truncate -s "$VM_DISK_SIZE" "$dir/data$d.img"
    drives+=(-drive "file=$dir/data$d.img,if=virtio,format=raw,cache=unsafe")
  done
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/ssh_host_ed25519_key"
  printf '%s %s\n' "$ip" "$(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")" >>"$TB/ssh/known_hosts"

  ip tuntap add dev "$tap" mode tap
  ip link set "$tap" master "$BRIDGE" up
  # panic=-1 with -no-reboot: a guest that panics ends its QEMU, which wait_for_vm_nodes reports at once.
  append="root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1 tb.name=$name tb.addr=$ip/24"
  append+=" tb.key=$(base64 -w0 "$TB/ssh/id_ed25519.pub") tb.hostkey=$(base64 -w0 "$dir/ssh_host_ed25519_key")"
  # -la57: with 5-level paging, Debian's 6.1 kernel finds its own addresses non-canonical for the 48 virtual
  # address bits QEMU 7.2's TCG reports, copy_from_kernel_nofault fails, and every mount point reads "xxx" in
  # /proc/self/mountinfo (systemd then fails udev and its mounts, and LVM waits for device nodes forever).
  # -svm: no nested virtualization module in the guest.
  qemu-system-x86_64 -name "testbed-$name,debug-threads=off" -nodefaults -no-user-config -display none \
    -accel tcg,thread=multi,tb-size=256 -cpu max,-svm,-la57 -smp 1 -m "$VM_MEMORY_MIB" -no-reboot \
    -kernel "$VM_GUEST_DIR/vmlinuz" -initrd "$VM_GUEST_DIR/initrd.img" -append "$append" \
    "${drives[@]}" \
    -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" -device "virtio-net-pci,netdev=n0,mac=$(vm_node_mac "$i")" \
    -serial "file:$dir/log/serial.log" -pidfile "$dir/qemu.pid" -daemonize \
    </dev/null >"$dir/log/qemu.log" 2>&1 9<&- ||
    { cat "$dir/log/qemu.log" >&2; die "QEMU did not start $name (log: $dir/log/qemu.log)"; }
  # Only the key file's public half is needed from here on (known_hosts); the guest holds the private one.
  rm -f "$dir/ssh_host_ed25519_key"
}

# Waits until each VM's glusterd answers the gluster CLI over SSH (host key checked), saying what it last saw.
wait_for_vm_nodes() {
  local i name ip dir deadline out pid
  for ((i = 1; i <= VM_NODE_COUNT; i++)); do
    name=$(vm_node_name "$i") ip=$(vm_node_ip "$i") dir=$(vm_node_dir "$i")
    deadline=$((SECONDS + VM_BOOT_TIMEOUT))
    out="nothing yet"
    while :; do
      pid=$(cat "$dir/qemu.pid" 2>/dev/null || true)
      if [[ -z $pid ]] || ! alive "$pid"; then
        tail -n 30 "$dir/log/serial.log" >&2 || true
        die "$name: QEMU exited during boot (serial console: $dir/log/serial.log)"
      fi
      if out=$(ssh_node "$ip" gluster --mode=script pool list 2>&1); then break; fi
      if ((SECONDS >= deadline)); then
        tail -n 30 "$dir/log/serial.log" >&2 || true
        die "$name: glusterd did not answer over SSH within ${VM_BOOT_TIMEOUT}s; last: ${out:-no output} (serial console: $dir/log/serial.log)"
      fi
      sleep 2
    done
    log "$name ($ip) serves glusterd: $(grep -c . <<<"$out") line(s) of pool list"
  done
}

# snapshot-controller and csi-snapshotter that a suite started against this test bed and did not stop (killed).
snapshot_component_pids() {
  local pid
  # One name per pgrep: it refuses patterns longer than a process name (15 characters) as never matching.
  for pid in $(pgrep -x csi-snapshotter || true) $(pgrep -x snapshot-contro || true); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--kubeconfig=$TB/"; then echo "$pid"; fi
  done
}

down_vm_nodes() {
  local quiet=${1:-} pids tap
  mapfile -t pids < <(snapshot_component_pids)
  kill_pids 5 "${pids[@]}"
  mapfile -t pids < <(vm_node_pids)
  [[ -n $quiet || ${#pids[@]} -eq 0 ]] || log "stopping VM nodes (pids ${pids[*]})"
  # The disks are thrown away with the VM: a clean guest shutdown (about 15 s under emulation) buys nothing.
  kill_pids 5 "${pids[@]}"
  for tap in $(vm_taps); do ip link del "$tap" 2>/dev/null || true; done
}

vm_nodes_left() {
  local left=()
  [[ -z $(vm_node_pids) ]] || left+=("VM pids: $(vm_node_pids | tr '\n' ' ')")
  [[ -z $(vm_taps) ]] || left+=("taps: $(vm_taps | tr '\n' ' ')")
  [[ -z $(snapshot_component_pids) ]] || left+=("snapshot components: $(snapshot_component_pids | tr '\n' ' ')")
  echo "${left[*]}"
}
