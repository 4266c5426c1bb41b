#!/usr/bin/env bash
# kvm-vm.sh: runs a command on a machine that has no usable /dev/kvm by starting a small VM
# that has one: QEMU with a software CPU (TCG) that emulates AMD-V, booting Debian's own kernel,
# which loads kvm_amd. The VM shares this machine's root file system (9p, read-write) and runs
# the command chrooted into it, in the current directory, so it sees the same files, build and
# packages; its /dev, /proc, /sys, /tmp, /run and /dev/shm are its own (so a script the command
# names must not be under /tmp).
#
#   scripts/kvm-vm.sh [--mem MIB] [--timeout SECONDS] [--monitor SOCKET] [--loglevel N] -- COMMAND [ARGS...]
#
# --monitor opens QEMU's human monitor on a Unix socket (for a VM that stops making progress:
# `echo 'info registers -a' | socat - UNIX-CONNECT:SOCKET` shows where each vCPU is);
# --loglevel shows the VM kernel's messages up to that level (default 1: emergencies only, such
# as soft lockups; 4 adds errors, such as RCU stalls and hung tasks).
#
# The command runs as root in the VM, with no standard input (as in CI), and its exit status is this script's (124 when it ran out
# of time). Everything in the VM is emulated, so code runs 10-50 times slower than on the host:
# it is for correctness (enclaves really run on KVM there), never for timing. Needs
# qemu-system-x86, busybox-static and cpio (installed when missing) and a Debian kernel image
# (downloaded with apt-get into build-kvm-vm/ the first time, not installed).
set -euo pipefail

mem=6144
timeout=3600
monitor=()
loglevel=1
while [ $# -gt 0 ]; do
  case "$1" in
    --mem) mem=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --monitor) monitor=(-monitor "unix:$2,server,nowait"); shift 2 ;;
    --loglevel) loglevel=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--mem MIB] [--timeout SECONDS] [--monitor SOCKET] [--loglevel N] -- COMMAND [ARGS...]" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/build-kvm-vm"
mkdir -p "$cache"

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
if [ ${#need[@]} -gt 0 ]; then
  echo "kvm-vm: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
    { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; }
fi

# ---- Debian's kernel, unpacked (not installed) ----
kroot="$cache/kernel"
if ! ls "$kroot"/boot/vmlinuz-* >/dev/null 2>&1; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
  if [ -z "$pkg" ]; then
    apt-get update -q >/dev/null
    pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
  fi
  echo "kvm-vm: downloading $pkg (Debian's kernel, unpacked into $kroot)"
  rm -rf "$cache/deb" && mkdir -p "$cache/deb"
  (cd "$cache/deb" && apt-get download -o APT::Sandbox::User=root "$pkg" >/dev/null)
  rm -rf "$kroot" && dpkg-deb -x "$cache"/deb/*.deb "$kroot"
  rm -rf "$cache/deb"
fi
vmlinuz=$(ls "$kroot"/boot/vmlinuz-* | head -1)
kver=${vmlinuz##*/vmlinuz-}
moddir="$kroot/lib/modules/$kver/kernel"

# ---- the initramfs: busybox, the modules for 9p and KVM, and an init that chroots ----
initrd="$cache/initrd-$kver.gz"
if [ ! -f "$initrd" ] || [ "$0" -nt "$initrd" ]; then
  ir=$(mktemp -d)
  mkdir -p "$ir"/{bin,mod,proc,sys,dev,host}
  cp /bin/busybox "$ir/bin/"
  mods="virt/lib/irqbypass drivers/virtio/virtio drivers/virtio/virtio_ring
        drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev
        drivers/virtio/virtio_pci fs/netfs/netfs fs/fscache/fscache net/9p/9pnet
        net/9p/9pnet_virtio fs/9p/9p drivers/crypto/ccp/ccp arch/x86/kvm/kvm arch/x86/kvm/kvm-amd"
  for m in $mods; do
    f=$(ls "$moddir/$m.ko"* 2>/dev/null | head -1) || true
    [ -n "$f" ] || continue
    case "$f" in
      *.xz) xz -dc "$f" > "$ir/mod/$(basename "$m").ko" ;;
      *.zst) zstd -qdc "$f" > "$ir/mod/$(basename "$m").ko" ;;
      *) cp "$f" "$ir/mod/$(basename "$m").ko" ;;
    esac
  done
  cat > "$ir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
# load in dependency order; a few passes settle what the order misses
for pass in 1 2 3; do
  for m in irqbypass virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
           netfs fscache 9pnet 9pnet_virtio 9p ccp kvm kvm-amd; do
    [ -f /mod/$m.ko ] && insmod /mod/$m.ko 2>/dev/null
  done
done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=1048576,cache=loose host /host
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts
mount --bind /dev /host/dev; mount -t proc proc /host/proc; mount -t sysfs sys /host/sys
# a bind does not carry /dev/pts along, and /dev/ptmx finds its instance beside it (pts/)
mount -t devpts -o ptmxmode=0666 devpts /host/dev/pts
mount -t tmpfs tmp /host/tmp; mount -t tmpfs run /host/run; mount -t tmpfs shm /host/dev/shm
ip link set lo up # loopback TCP for the tests that use it (vsock-proxy); the VM has no other network
# no background memory compaction or transparent huge pages: under the software CPU, kcompactd
# was seen stuck for minutes (soft lockups) while enclaves took and gave back hugepages
echo 0 > /proc/sys/vm/compaction_proactiveness 2>/dev/null
echo never > /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null
echo never > /sys/kernel/mm/transparent_hugepage/defrag 2>/dev/null
job=$(sed -n 's/.*kvmvm_job=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -e /dev/kvm ]; then
  chroot /host /bin/bash "$job/run" < /dev/null
  echo $? > "/host$job/status"
else
  echo "kvm-vm: the VM's kernel has no /dev/kvm (kvm_amd did not load)"
  echo 125 > "/host$job/status"
fi
sync
poweroff -f
INIT
  chmod +x "$ir/init"
  (cd "$ir" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$initrd"
  rm -rf "$ir"
fi

# ---- the job: the command, in this directory, with this environment's PATH ----
job=$(mktemp -d "$cache/job.XXXXXX")
{
  # a heartbeat for stall_watch below: the VM's clock and scheduler still work
  echo "( while :; do : > $(printf '%q' "$job/heartbeat"); sleep 10; done ) >/dev/null 2>&1 &"
  echo "cd $(printf '%q' "$PWD") || exit 125"
  echo "export PATH=$(printf '%q' "$PATH") HOME=/root CI=${CI:-} ALCOVE_IN_KVM_VM=1"
  printf 'exec'
  printf ' %q' "$@"
  echo
} > "$job/run"
echo 124 > "$job/status"

# QEMU 7.2's software CPU sometimes stops making progress for good: both vCPUs in the VM's
# kernel, a timer interrupt pending in the local APIC that is never taken, the vCPU threads
# busy; the VM's own timeouts never fire. Its kernel may report soft lockups; the job's
# heartbeat (a file touched every 10 s from the VM) stops. After a 240 s soft lockup, or 300 s
# without a heartbeat, the VM is stopped rather than left to run into --timeout.
stall_stop() {
  local pid
  pid=$(cat "$job/qemu.pid" 2>/dev/null) || return 0
  rm -f "$job/qemu.pid"
  # still this job's QEMU (not a process that took its pid since)?
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "kvmvm_job=$job" || return 0
  echo "kvm-vm: $1: QEMU's software CPU has stalled; stopping the VM"
  kill "$pid" 2>/dev/null || true
}
stall_watch() {
  local line
  while IFS= read -r line; do
    printf '%s\n' "$line"
    if [[ $line =~ watchdog:\ BUG:\ soft\ lockup\ -\ CPU#[0-9]+\ stuck\ for\ ([0-9]+)s ]] &&
      [ "${BASH_REMATCH[1]}" -ge 240 ] && [ -s "$job/qemu.pid" ]; then
      stall_stop "the VM's kernel reports a soft lockup of ${BASH_REMATCH[1]} s"
    fi
  done
}
heartbeat_watch() {
  local age parent=$1
  trap 'kill $! 2>/dev/null; exit 0' TERM
  # until the job ends, or this script does (killed alone, it cannot say so)
  while [ ! -e "$job/status.done" ] && kill -0 "$parent" 2>/dev/null; do
    sleep 30 &
    wait $!
    [ -e "$job/heartbeat" ] && [ -s "$job/qemu.pid" ] || continue
    age=$(($(date +%s) - $(stat -c %Y "$job/heartbeat")))
    if [ "$age" -ge 300 ]; then
      stall_stop "no heartbeat from the VM for $age s"
      return
    fi
  done
}

cpus=$(nproc)
echo "kvm-vm: booting Debian $kver under QEMU (software CPU with AMD-V, $cpus vCPUs, $mem MiB); then: $*"
# -cpu max with 46 physical address bits: the enclave's hypercall page sits at 1 TiB
heartbeat_watch $$ &
watcher=$!
trap 'touch "$job/status.done" 2>/dev/null; kill "$watcher" 2>/dev/null' EXIT
timeout --foreground "$timeout" qemu-system-x86_64 -M q35 -accel tcg,thread=multi \
  -cpu max,+svm,phys-bits=46 -m "$mem" -smp "$cpus" -nographic -no-reboot \
  -kernel "$vmlinuz" -initrd "$initrd" -pidfile "$job/qemu.pid" ${monitor[@]+"${monitor[@]}"} \
  -append "console=ttyS0 quiet loglevel=$loglevel panic=-1 kvmvm_job=$job" \
  -virtfs local,path=/,mount_tag=host,security_model=passthrough,id=host,multidevs=remap \
  < /dev/null 2>&1 | sed -u -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' \
  | grep --line-buffered -a -v -E '^(SeaBIOS|iPXE|Press Ctrl-B|Booting from ROM|qemu-system-x86_64: warning: 9p)' \
  | stall_watch || true
touch "$job/status.done"
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
status=$(cat "$job/status" 2>/dev/null || echo 124)
rm -rf "$job"
echo "kvm-vm: the command exited with status $status"
exit "$status"
