#!/usr/bin/env bash
# oci.sh: containers: `podman run --rm` of a static busybox image, start to exit, with a plain
# runtime (runc; crun when runc is absent; else busybox run directly, no container) and with
# alcove-oci (the container is an enclave), in RUNS interleaved pairs (default 10): `true`, and
# a small workload (a shell loop of 20000 additions). Medians and the median ratio of the pairs
# (baseline / alcove-oci: below 1, alcove-oci is slower). Needs /dev/kvm and podman.
#   ./bench/oci.sh [RUNS] [--rows]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
rows=0
[ "${2:-}" = "--rows" ] && rows=1
BUILD=${BUILD_DIR:-build}
[ $rows = 1 ] || ninja -C "$BUILD" src/alcove-oci > /dev/null
if [ ! -r /dev/kvm ]; then echo "bench: no /dev/kvm, nothing to measure" >&2; exit 1; fi
command -v podman > /dev/null || { echo "bench: podman is not installed" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "bench: no /bin/busybox for the image" >&2; exit 1; }
OCI=$(realpath "$BUILD/src/alcove-oci")

work=$(mktemp -d)
trap '"${POD[@]}" rm -af > /dev/null 2>&1; "${POD[@]}" rmi -af > /dev/null 2>&1; rm -rf "$work"' EXIT
export ALCOVE_RUNTIME_DIR=$work/rt
printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > "$work/containers.conf"
export CONTAINERS_CONF=$work/containers.conf
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup 2> /dev/null || true
POD=(podman --root "$work/graph" --runroot "$work/run" --storage-driver vfs)
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/"
for a in sh true; do ln -s busybox "$work/rootfs/bin/$a"; done
tar -C "$work/rootfs" -c . | "${POD[@]}" import - localhost/alcove-bench:oci > /dev/null 2>&1

# shellcheck disable=SC2016 # expanded by the container's shell
loop='i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo $i'
# one_run RUNTIME ARG...: "SECONDS OUTPUT" of one podman run --rm (native: busybox itself);
# fails when the run did (pairs_of runs it where set -e does not apply)
one_run() {
  local rt=$1 t0 t1 out
  shift
  t0=$(date +%s%N)
  if [ "$rt" = native ]; then
    out=$(/bin/busybox "$@") || return 1
  else
    out=$("${POD[@]}" --runtime "$rt" run --rm --network none --ulimit nofile=20000:20000 \
      localhost/alcove-bench:oci "$@") || return 1
  fi
  t1=$(date +%s%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}') ${out:-ok}"
}

# the baseline: the first of runc and crun that runs a container here, else busybox itself
base=native
for rt in runc crun; do
  path=$(command -v "$rt" || true)
  if [ -n "$path" ] && one_run "$path" true > /dev/null 2> "$work/probe.err"; then
    base=$path
    break
  fi
  [ -z "$path" ] || echo "bench: $rt does not run containers here: $(tail -1 "$work/probe.err")" >&2
done

# shellcheck source=bench/common.sh
. bench/common.sh
name=$(basename "$base")
if [ $rows = 0 ]; then
  row "containers (podman run --rm, median of $runs pairs)" "$name" "alcove-oci" "ratio"
  row "---" "---:" "---:" "---:"
fi
line() {
  local label=$1 r
  r=$(pairs_of "$runs" "one_run $base $2" "one_run $OCI $2")
  # shellcheck disable=SC2086
  set -- $r
  if [ "$2" = fail ]; then
    row "$label" "$1 s" "failed" "-"
    shift 2
    echo "bench: $label: $*" >&2
  else
    row "$label" "$1 s" "$2 s" "$3"
  fi
}
line "start to exit: \`true\`" "true"
line "a shell loop of 20000 additions" "sh -c '$loop'"
