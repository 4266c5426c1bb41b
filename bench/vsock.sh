#!/usr/bin/env bash
# vsock.sh: vsock against the host's own sockets, side by side in one run. The same static
# server (bench/net_server.c) runs natively on TCP loopback and in an enclave on AF_VSOCK; one
# host client (bench/net_client.c) drives both, and a Unix socket pair to a forked process
# gives the host's fastest local channel. Each number is the median of RUNS runs (default 5);
# the ratio is enclave / TCP loopback (higher is better for throughput, lower for latency).
#   ./bench/vsock.sh [RUNS] [--rows]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
rows=0
[ "${2:-}" = "--rows" ] && rows=1
BUILD=${BUILD_DIR:-build}
[ $rows = 1 ] || ninja -C "$BUILD" src/alcove bench/net_server bench/net_client > /dev/null
if [ ! -r /dev/kvm ]; then echo "bench: no /dev/kvm, nothing to measure" >&2; exit 1; fi
C=$BUILD/bench/net_client
export ALCOVE_RUNTIME_DIR=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
cid=$((1000 + RANDOM % 100000))

"$BUILD/bench/net_server" tcp "$port" > /dev/null &
native=$!
"$BUILD/src/alcove" run --enclave-cid "$cid" --memory 256 "$BUILD/bench/net_server" vsock 5000 > /dev/null &
enclave=$!
trap 'kill $native $enclave 2> /dev/null; wait 2> /dev/null; rm -rf "$ALCOVE_RUNTIME_DIR"' EXIT
VS="vsock:$ALCOVE_RUNTIME_DIR/$cid.vsock:5000"
for _ in $(seq 100); do "$C" "$VS" conn 1 > /dev/null 2>&1 && break; sleep 0.1; done

# shellcheck source=bench/common.sh
. bench/common.sh
measure() { # TARGET ARGS... -> median of the first field (or of field $FIELD)
  local t=$1; shift
  for _ in $(seq "$runs"); do "$C" "$t" "$@" | awk -v f="${FIELD:-1}" '{print $f}'; done | median
}
row() { printf '| %-44s | %10s | %10s | %10s | %8s |\n' "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

if [ $rows = 0 ]; then
  row "vsock (median of $runs runs)" "TCP lo" "unix pair" "enclave" "ratio"
  row "---" "---:" "---:" "---:" "---:"
fi
big=$((512 << 20))
small=$((64 << 20))
for dir in send recv; do
  for w in 65536 1024; do
    n=$([ $w = 65536 ] && echo $big || echo $small)
    t=$(measure "tcp:$port" $dir $n $w); u=$(measure pair $dir $n $w); e=$(measure "$VS" $dir $n $w)
    what=$([ $dir = send ] && echo "host -> enclave" || echo "enclave -> host")
    row "$what, $((w / 1024)) KiB writes, MB/s" "$t" "$u" "$e" "$(ratio "$e" "$t")"
  done
done
t=$(measure "tcp:$port" ping 2000); u=$(measure pair ping 2000); e=$(measure "$VS" ping 2000)
row "1-byte ping-pong, median µs" "$t" "$u" "$e" "$(ratio "$e" "$t")"
t=$(FIELD=2 measure "tcp:$port" ping 2000); u=$(FIELD=2 measure pair ping 2000); e=$(FIELD=2 measure "$VS" ping 2000)
row "1-byte ping-pong, p99 µs" "$t" "$u" "$e" "$(ratio "$e" "$t")"
t=$(measure "tcp:$port" conn 300); e=$(measure "$VS" conn 300)
row "connections per second" "$t" "-" "$e" "$(ratio "$e" "$t")"
