#!/usr/bin/env bash
# net.sh: networking, native against enclave in one run (docs/networking.md). Each server runs
# once natively on the host's loopback and once in an enclave behind a published port
# (alcove run -p 127.0.0.1:P:...); the same host client then measures both in interleaved pairs
# (native, enclave, native, enclave ...), so both see the same machine weather. Each number is
# the median of RUNS pairs; the ratio is enclave / native (for throughput, the fraction of native
# the enclave reaches: issue 16's target is 0.8; for latency, how many times native).
#   - wrk (Debian's) against busybox httpd serving a 4 KiB file: requests per second;
#   - redis-benchmark GET and SET against Debian's redis-server: requests per second;
#   - 1-byte request/response over TCP (bench/net_client ping): median and p99 µs;
#   - loopback TCP inside one program (net_client_static lo: a forked server on 127.0.0.1),
#     natively and inside an enclave: 1-byte ping-pong µs and 64 KiB-write throughput MB/s.
#   ./bench/net.sh [RUNS] [--short]    (BUILD_DIR: the build, default build; needs /dev/kvm)
# --short: fewer and shorter runs, to check that it works (e.g. in the TCG VM, whose numbers
# say nothing about real hardware).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
short=0
for a in "$@"; do [ "$a" = --short ] && short=1; done
[ "$runs" = --short ] && runs=1
BUILD=${BUILD_DIR:-build}
A=$BUILD/src/alcove
B=$BUILD/bench
[ -x "$A" ] && [ -x "$B/net_client_static" ] ||
  ninja -C "$BUILD" src/alcove bench/net_server bench/net_client bench/net_client_static > /dev/null
if [ ! -r /dev/kvm ]; then echo "bench: no /dev/kvm, nothing to measure" >&2; exit 1; fi
for t in wrk redis-server redis-benchmark busybox; do
  command -v $t > /dev/null || { echo "bench: $t is missing (scripts/setup.sh)" >&2; exit 1; }
done
if [ $short = 1 ]; then
  wrk_s=2 redis_n=500 ping_n=200 lo_bytes=$((4 << 20))
else
  wrk_s=10 redis_n=50000 ping_n=20000 lo_bytes=$((256 << 20))
fi

W=$(mktemp -d)
export ALCOVE_RUNTIME_DIR=$W/rt
mkdir -p "$ALCOVE_RUNTIME_DIR"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
free_port() {
  python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}
# wait_tcp PORT CHECK...: until CHECK (a command) succeeds, at most 5 minutes (TCG is slow)
wait_for() {
  local i
  for i in $(seq 1500); do "$@" > /dev/null 2>&1 && return 0; sleep 0.2; done
  echo "bench: the server never answered: $*" >&2
  return 1
}
# add_program R FILE: FILE under R at its own path, with its interpreter and libraries
add_program() {
  local r=$1 f
  for f in "$2" $(readelf -l "$2" | sed -n 's/.*program interpreter: \(.*\)]$/\1/p') \
      $(ldd "$2" | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do
    mkdir -p "$r$(dirname "$f")"
    cp -L "$f" "$r$f"
  done
}
# enclave_server NAME ENCLAVE_PORT ALCOVE_ARGS...: starts it behind -p 127.0.0.1:P; prints P
enclave_server() {
  local name=$1 eport=$2 p
  shift 2
  p=$(free_port)
  "$A" run -m 512 -p "127.0.0.1:$p:$eport" "$@" > "$W/$name.out" 2>&1 &
  pids+=("$!")
  echo "$p"
}

# shellcheck source=bench/common.sh
. bench/common.sh
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
# pairs N NATIVE ENCLAVE: each command prints one number; "native_median enclave_median ratio"
pairs() {
  local n=$1 nf ef
  nf=$W/n.$RANDOM ef=$W/e.$RANDOM
  for _ in $(seq "$n"); do
    eval "$2" >> "$nf"
    eval "$3" >> "$ef"
  done
  local nm em
  nm=$(median < "$nf") em=$(median < "$ef")
  echo "$nm $em $(ratio "$em" "$nm")"
}

# the servers: busybox httpd, redis-server, net_server; natively and in enclaves
R=$W/httpd
mkdir -p "$R/bin" "$R/www"
cp /bin/busybox "$R/bin/busybox"
head -c 4096 /dev/urandom > "$R/www/f4k"
hn=$(free_port)
busybox httpd -f -p "127.0.0.1:$hn" -h "$R/www" & pids+=("$!")
he=$(enclave_server httpd 80 --rootfs "$R" /bin/busybox httpd -f -p 80 -h /www)
RR=$W/redis
mkdir -p "$RR/tmp"
add_program "$RR" "$(command -v redis-server)"
redis_args=(--bind 0.0.0.0 --protected-mode no --save "" --appendonly no --dir /tmp)
rn=$(free_port)
# natively on loopback only (the enclave's copy listens on every address inside the enclave,
# where only the published 127.0.0.1 port reaches it): no open redis on the host's network
(cd "$W" && redis-server --port "$rn" "${redis_args[@]}" --bind 127.0.0.1 --dir "$W" \
  > "$W/redis-native.out" 2>&1) &
pids+=("$!")
re=$(enclave_server redis 6379 --rootfs "$RR" "$(command -v redis-server)" --port 6379 \
  "${redis_args[@]}")
nn=$(free_port)
"$B/net_server" tcp "$nn" > /dev/null & pids+=("$!")
ne=$(enclave_server net 7000 "$B/net_server" tcp-any 7000)

wait_for curl -sf -o /dev/null "http://127.0.0.1:$hn/f4k"
wait_for curl -sf -o /dev/null "http://127.0.0.1:$he/f4k"
wait_for redis-cli -p "$rn" ping
wait_for sh -c "[ \"\$(redis-cli -p $re ping)\" = PONG ]"
wait_for "$B/net_client" "tcp:$nn" ping 1
wait_for "$B/net_client" "tcp:$ne" ping 1

wrk_rps() { wrk -t1 -c8 -d"${wrk_s}s" "http://127.0.0.1:$1/f4k" | awk '/^Requests\/sec:/ {print $2}'; }
redis_rps() { # PORT TEST
  redis-benchmark -p "$1" -n "$redis_n" -c 8 -t "$2" --csv | awk -F'"' 'NR > 1 {print $4; exit}'
}

echo "machine: $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "date: $(date -u +%Y-%m-%d); pairs: $runs$([ $short = 1 ] && echo ', --short')"
echo
row "network (median of $runs pairs)" "native" "enclave" "ratio"
row "---" "---:" "---:" "---:"
read -r n e r < <(pairs "$runs" "wrk_rps $hn" "wrk_rps $he")
row "wrk, busybox httpd, 4 KiB file, 8 conns, req/s" "$n" "$e" "$r"
for t in set get; do
  read -r n e r < <(pairs "$runs" "redis_rps $rn $t" "redis_rps $re $t")
  row "redis-benchmark ${t^^}, 8 clients, req/s" "$n" "$e" "$r"
done
pn=$W/ping.n pe=$W/ping.e
for _ in $(seq "$runs"); do
  "$B/net_client" "tcp:$nn" ping "$ping_n" >> "$pn"
  "$B/net_client" "tcp:$ne" ping "$ping_n" >> "$pe"
done
n=$(awk '{print $1}' "$pn" | median) e=$(awk '{print $1}' "$pe" | median)
row "1-byte request/response, median µs" "$n" "$e" "$(ratio "$e" "$n")"
n=$(awk '{print $2}' "$pn" | median) e=$(awk '{print $2}' "$pe" | median)
row "1-byte request/response, p99 µs" "$n" "$e" "$(ratio "$e" "$n")"
: > "$pn"; : > "$pe"
for _ in $(seq "$runs"); do
  "$B/net_client_static" lo ping "$ping_n" >> "$pn"
  "$A" run -m 256 "$B/net_client_static" lo ping "$ping_n" >> "$pe"
done
n=$(awk '{print $1}' "$pn" | median) e=$(awk '{print $1}' "$pe" | median)
row "loopback TCP inside, 1-byte ping-pong, median µs" "$n" "$e" "$(ratio "$e" "$n")"
read -r n e r < <(pairs "$runs" "$B/net_client_static lo send $lo_bytes 65536" \
  "$A run -m 256 $B/net_client_static lo send $lo_bytes 65536")
row "loopback TCP inside, 64 KiB writes, MB/s" "$n" "$e" "$r"
