#!/bin/sh
# Run inside the VM guest's root filesystem after its packages are installed (hack/build-images --vm-guest).
# The image is shared by every VM of every test bed: what differs per VM (name, address, the test bed's SSH
# key) comes from the kernel command line at boot (testbed-guest-init below), so nothing per-run is baked in.
set -eu

cat >/etc/fstab <<'FSTAB'
LABEL=testbed-root / ext4 rw,noatime,errors=remount-ro 0 1
FSTAB
printf '127.0.0.1 localhost\n::1 localhost\n' >/etc/hosts

# Name, address, the authorized key and the host key from the command line (tb.name=, tb.addr=, tb.key= and
# tb.hostkey=, both base64): hack/testbed makes the host key, so its known_hosts is right before the VM boots and
# SSH checks host keys strictly, as for the other nodes. Runs before sshd and glusterd, so neither ever starts
# with another VM's identity or without its address.
cat >/usr/local/sbin/testbed-guest-init <<'INIT'
#!/bin/sh
set -eu
name="" addr="" key="" hostkey=""
for word in $(cat /proc/cmdline); do
  case $word in
    tb.name=*) name=${word#tb.name=} ;;
    tb.addr=*) addr=${word#tb.addr=} ;;
    tb.key=*) key=${word#tb.key=} ;;
    tb.hostkey=*) hostkey=${word#tb.hostkey=} ;;
  esac
done
[ -n "$name" ] && [ -n "$addr" ] && [ -n "$key" ] && [ -n "$hostkey" ] ||
  { echo "testbed-guest-init: tb.name, tb.addr, tb.key and tb.hostkey are required" >&2; exit 1; }
hostname "$name"
echo "$name" >/etc/hostname
tries=0
until [ -e /sys/class/net/eth0 ]; do
  tries=$((tries + 1))
  [ "$tries" -le 300 ] || { echo "testbed-guest-init: no eth0 after 30 s" >&2; exit 1; }
  sleep 0.1
done
ip link set lo up
ip addr replace "$addr" dev eth0
ip link set eth0 up
install -d -m 700 /root/.ssh
echo "$key" | base64 -d >/root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
(umask 077 && echo "$hostkey" | base64 -d >/etc/ssh/ssh_host_ed25519_key)
ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key >/etc/ssh/ssh_host_ed25519_key.pub
echo "TESTBED-GUEST-INIT $name $addr"
INIT
chmod 755 /usr/local/sbin/testbed-guest-init
cat >/etc/systemd/system/testbed-guest.service <<'UNIT'
[Unit]
Description=Test bed guest identity: name, address, authorized key, host key
DefaultDependencies=no
After=local-fs.target systemd-udevd.service
Before=ssh.service glusterd.service network.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/testbed-guest-init
StandardOutput=journal+console
StandardError=journal+console
[Install]
WantedBy=multi-user.target
UNIT

# Keys only, the one host key given at boot, no DNS lookups of clients (there is no DNS).
mkdir -p /etc/ssh/sshd_config.d
cat >/etc/ssh/sshd_config.d/testbed.conf <<'SSHD'
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
SSHD

# Under software emulation glusterd's start-up spends ~30 s in the geo-replication helper (python); the test
# bed does not use geo-replication, and without gsyncd glusterd skips it.
dpkg-divert --quiet --local --rename --add /usr/lib/x86_64-linux-gnu/glusterfs/gsyncd

systemctl enable testbed-guest.service ssh.service glusterd.service >/dev/null 2>&1
# Nothing a throwaway VM needs that costs emulated CPU at boot or while idle.
systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
  e2scrub_reap.service getty@tty1.service getty-static.service systemd-networkd-wait-online.service \
  serial-getty@ttyS0.service >/dev/null 2>&1
# Checks: an edit that no longer applies must fail the build, not boot a guest without it.
[ -x /usr/sbin/glusterd ] && [ -x /sbin/lvcreate ] && [ -x /usr/sbin/sshd ] && [ -x /usr/sbin/mkfs.xfs ]
ls /boot/vmlinuz-* /boot/initrd.img-* >/dev/null
