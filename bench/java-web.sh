#!/usr/bin/env bash
# java-web.sh: the seed's Java web service experiment (issue 18), natively and in an enclave in
# one run. examples/java-web's Greeter (Debian's OpenJDK 17, com.sun.net.httpserver) is built
# into an `alcove init` directory; one JVM runs natively (pinned to as many CPUs as the enclave
# has vCPUs) and one in an enclave behind -p; wrk drives each in turn, interleaved, ROUNDS times:
# requests/s, transfer/s, p50 and p99 latency (medians over rounds), and the ratio enclave/native.
# Also each JVM's start-up time, from the command to the first answered request.
#   ./bench/java-web.sh
# Environment: CONNS (400) connections, DURATION (40) seconds per run, THREADS (4) wrk threads,
# ROUNDS (1), WARMUP (5) seconds of wrk before measuring, CPUS (2) enclave vCPUs and native CPUs,
# HEAP (512m), BUILD_DIR (build), WORK (a temporary directory) for the init directory;
# NATIVE_ONLY=1 measures the native side only (no KVM needed: to check the script itself).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD_DIR:-build}
ALCOVE=$(readlink -f "$BUILD/src/alcove")
CONNS=${CONNS:-400} DURATION=${DURATION:-40} THREADS=${THREADS:-4} ROUNDS=${ROUNDS:-1}
WARMUP=${WARMUP:-5} CPUS=${CPUS:-2} HEAP=${HEAP:-512m}
for t in wrk curl java javac; do
  command -v $t > /dev/null || { echo "bench: needs $t" >&2; exit 1; }
done
native_only=${NATIVE_ONLY:-0}
if [ "$native_only" != 1 ] && [ ! -r /dev/kvm ]; then echo "bench: no /dev/kvm, nothing to measure" >&2; exit 1; fi
. examples/lib/image.sh
. bench/common.sh
work=${WORK:-$(mktemp -d)}
export ALCOVE_RUNTIME_DIR=$work/run
mkdir -p "$ALCOVE_RUNTIME_DIR" && chmod 700 "$ALCOVE_RUNTIME_DIR"
dir=$work/java-web
pids=()
trap 'kill "${pids[@]}" 2> /dev/null; wait 2> /dev/null; [ -n "${WORK:-}" ] || rm -rf "$work"' EXIT

# the image, as examples/java-web/run.sh makes it
[ -e "$dir/alcove.json" ] || "$ALCOVE" init "$dir" 2> /dev/null
jdk=$(image_add_jdk "$dir/image")
mkdir -p "$dir/image/app"
javac -d "$dir/image/app" examples/java-web/Greeter.java
set_entry_points "$dir" "$jdk/bin/java"
set_key "$dir" resource_limits.user_space_size '"1GB"'
"$ALCOVE" build "$dir" > /dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
# started PORT PID T0: waits for the first answer; prints the seconds since T0
started() {
  until curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; do
    kill -0 "$2" 2> /dev/null || { echo "bench: the server on port $1 died" >&2; return 1; }
    sleep 0.02
  done
  echo "$(now) - $3" | bc
}
jvm_args=(-Xmx"$HEAP" -XX:+UseSerialGC -XX:ActiveProcessorCount="$CPUS")
np=$(free_port)
t0=$(now)
taskset -c "0-$((CPUS - 1))" java "${jvm_args[@]}" -cp "$dir/image/app" Greeter "$np" > /dev/null &
pids+=($!)
native_start=$(started "$np" "${pids[-1]}" "$t0")
ep=$(free_port)
t0=$(now)
[ "$native_only" = 1 ] || "$ALCOVE" run -c "$CPUS" -p "127.0.0.1:$ep:8080" "$dir" "$jdk/bin/java" "${jvm_args[@]}" \
  -cp /app Greeter 8080 > /dev/null 2> "$work/enclave.err" &
if [ "$native_only" = 1 ]; then
  enclave_start=-
else
  pids+=($!)
  enclave_start=$(started "$ep" "${pids[-1]}" "$t0") || { cat "$work/enclave.err" >&2; exit 1; }
  [ "$(curl -fs "http://127.0.0.1:$ep/")" = "Greetings from alcove!" ]
fi

# wrk PORT SECONDS: "requests/s transfer-MB/s p50-ms p99-ms"
to_ms() { awk '{v=$1+0; u=$1; sub(/^[0-9.]+/, "", u); if (u=="us") v/=1000; else if (u=="s") v*=1000; print v}'; }
to_mb() { awk '{v=$1+0; u=$1; sub(/^[0-9.]+/, "", u); if (u=="KB") v/=1024; else if (u=="GB") v*=1024; else if (u=="B") v/=1048576; print v}'; }
measure() {
  local out
  out=$(wrk -t "$THREADS" -c "$CONNS" -d "${2}s" --latency "http://127.0.0.1:$1/")
  echo "$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')" \
    "$(echo "$out" | awk '/^Transfer\/sec:/ {print $2}' | to_mb)" \
    "$(echo "$out" | awk '$1 == "50%" {print $2}' | to_ms)" \
    "$(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms)"
}
if [ "$WARMUP" -gt 0 ]; then
  measure "$np" "$WARMUP" > /dev/null
  [ "$native_only" = 1 ] || measure "$ep" "$WARMUP" > /dev/null
fi
: > "$work/native.txt"; : > "$work/enclave.txt"
for _ in $(seq "$ROUNDS"); do
  measure "$np" "$DURATION" >> "$work/native.txt"
  if [ "$native_only" = 1 ]; then echo "- - - -" >> "$work/enclave.txt"; else
    measure "$ep" "$DURATION" >> "$work/enclave.txt"; fi
done
col() { if [ "$(awk -v c="$1" 'NR == 1 {print $c}' "$2")" = - ]; then echo -; else awk -v c="$1" '{print $c}' "$2" | median; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b != "-") printf "%.2f", b / a; else print "-" }'; }

echo "Java web service (Greeter, com.sun.net.httpserver), wrk -t $THREADS -c $CONNS -d ${DURATION}s," \
  "$ROUNDS round(s), $CPUS CPUs each (native pinned with taskset; enclave -c $CPUS), heap $HEAP"
row "metric" "native" "enclave" "ratio"
row "--------------------------------------------" "--------------" "--------------" "--------"
names=("requests/s" "transfer (MB/s)" "latency p50 (ms)" "latency p99 (ms)")
for i in 1 2 3 4; do
  n=$(col $i "$work/native.txt"); e=$(col $i "$work/enclave.txt")
  row "${names[$((i - 1))]}" "$n" "$e" "$(ratio "$n" "$e")"
done
row "JVM start to first answered request (s)" "$native_start" "$enclave_start" \
  "$(ratio "$native_start" "$enclave_start")"
