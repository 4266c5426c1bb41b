#!/usr/bin/env bash
# runtimes.sh: Debian's python3, OpenJDK 17 and node, natively and in an enclave, side by side in
# one run (interleaved pairs, medians; issue 15):
#   start-up    python3 -c pass, java -version, node -e 0: wall time of the whole command (the
#               enclave's includes its launch and the copy of the image into it)
#   cpu         a pure-Python loop, a Java loop, a JavaScript loop: timed inside the program,
#               a few seconds natively (start-up and JIT warm-up excluded)
# and for each workload the fraction of syscalls that trap in the enclave, from the kernel's
# "syscall patching: N syscalls, M trapped" line at --log-level debug (the enclave side always
# runs at debug, which logs once per patched site, not per syscall; the line is the last run's,
# start-up included: each site traps once before it is patched, so short runs show ~10%).
# A ratio is native / enclave time (1.00 = as fast as native, higher is better); the issue's
# targets: start-up within 1.5x of native plus the enclave's launch, cpu at least 0.95.
#   ./bench/runtimes.sh [--quick] [--native]
# Environment: BUILD_DIR (build), CPUS (2) enclave vCPUs and CPUs the native side is pinned to,
# PAIRS (7; 3 with --quick), SCALE (1.0) multiplies the cpu workloads' sizes (a tiny one such as
# 0.02 checks the script under an emulated CPU, where the numbers mean nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
. bench/common.sh
bench_args bench/runtimes.sh "--quick --native" "$@"
BUILD=${BUILD_DIR:-build}
bench_build
A=$(readlink -f "$BUILD/src/alcove")
CPUS=${CPUS:-2}
SCALE=${SCALE:-1.0}
bench_need_kvm
for t in taskset javac; do
  command -v $t > /dev/null || { echo "bench: needs $t" >&2; exit 1; }
done
py=$(readlink -f /usr/bin/python3)
java=$(readlink -f "$(command -v java || true)" 2> /dev/null || true)
node=$(readlink -f "$(command -v node || true)" 2> /dev/null || true)
if ! [ -x "$py" ] || ! [ -x "$java" ] || ! [ -x "$node" ]; then
  echo "bench: needs Debian's python3, java (openjdk-17) and node" >&2; exit 1
fi
jdk=${java%/bin/java}
# shellcheck source=tests/integration/rootfs_helpers.bash
. tests/integration/rootfs_helpers.bash

pairs=${PAIRS:-$([ $quick = 1 ] && echo 3 || echo 7)}
size() { awk -v n="$1" -v s="$SCALE" 'BEGIN {printf "%d", n * s < 1 ? 1 : n * s}'; }

# an image per runtime (the enclave's launch copies its image in): the runtime, its libraries
# and its workload
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for R in "$WORK/py" "$WORK/java" "$WORK/node"; do mkdir -p "$R/tmp" "$R/app"; done
R=$WORK/py add_python "$py" > /dev/null
R=$WORK/java add_jdk "$jdk" > /dev/null
R=$WORK/node add_program "$node" /usr/bin/node > /dev/null
# each prints "SECONDS CHECK": the loop's own time and its result
cat > "$WORK/py/app/cpu.py" <<'PY'
import sys, time
n = int(sys.argv[1])
t = time.perf_counter()
acc = 0
for i in range(n):
    acc = (acc * 31 + (i ^ (i >> 3))) % 1000003
print("%.6f %d" % (time.perf_counter() - t, acc))
PY
cat > "$WORK/Cpu.java" <<'JAVA'
public class Cpu {
  public static void main(String[] a) {
    long n = Long.parseLong(a[0]);
    long t = System.nanoTime(), acc = 0;
    for (long i = 0; i < n; i++) acc = (acc * 31 + (i ^ (i >> 3))) % 1000003;
    System.out.printf("%.6f %d%n", (System.nanoTime() - t) / 1e9, acc);
  }
}
JAVA
javac -d "$WORK/java/app" "$WORK/Cpu.java"
cat > "$WORK/node/app/cpu.js" <<'JS'
const n = parseInt(process.argv[2]);
const t = process.hrtime.bigint();
let acc = 0;
for (let i = 0; i < n; i++) acc = (acc * 31 + (i ^ (i >> 3))) % 1000003;
console.log((Number(process.hrtime.bigint() - t) / 1e9).toFixed(6) + " " + acc);
JS

bench_machine
echo "date: $(date -u +%Y-%m-%d); $("$py" --version), $("$java" -version 2>&1 | head -1), node $("$node" --version); images $(du -sm "$WORK/py" | cut -f1), $(du -sm "$WORK/java" | cut -f1) and $(du -sm "$WORK/node" | cut -f1) MB; enclave: $CPUS vCPUs, 1 GiB; native: pinned to $CPUS CPUs"
echo
row "benchmark" "native" "enclave" "ratio"
row "---" "---:" "---:" "---:"
failed=0
traps=()

# the two below run through pairs_of's eval
# shellcheck disable=SC2317
native() { (cd / && env -i PATH=/usr/bin:/bin taskset -c "0-$((CPUS - 1))" "$@"); }
# enclave NAME CMD...: the enclave side on the image $WORK/RUNTIME (NAME is RUNTIME-what), its
# debug log in $WORK/NAME.log
# shellcheck disable=SC2317
enclave() {
  local name=$1
  shift
  timeout 600 "$A" run --log-level debug --log-file "$WORK/$name.log" -m 1024 -c "$CPUS" \
    --env PATH=/usr/bin:/bin --rootfs "$WORK/${name%-*}" "$@"
}
# wall CMD...: runs CMD, prints "SECONDS CHECK" (CHECK: the first word of its output or, when it
# prints nothing there, of its stderr, as java -version does)
# shellcheck disable=SC2317
wall() {
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$("$@" 2>&1) || return 1
  t1=$(date +%s.%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}') $(echo "$out" | head -1 | tr -s ' ' '_' | cut -c1-40)"
}

# show NAME LOG RESULT SCALE: a row from pairs_of's "native enclave ratio", seconds times SCALE;
# a side that failed says so (and the script exits 1 at the end); LOG's trap line is kept
show() {
  local name=$1 log=$2 scale=$4 n e r line
  read -r n e r <<< "$3"
  if [ "$n" = fail ]; then
    row "$name" "fails" "-" "-"; echo "   $name: $r" >&2; failed=1; return
  fi
  if [ "$e" = fail ]; then
    row "$name" "$(awk -v v="$n" -v s="$scale" 'BEGIN {printf "%.0f", v * s}')" "fails" "-"
    echo "   $name: $r" >&2; failed=1; return
  fi
  row "$name" "$(awk -v v="$n" -v s="$scale" 'BEGIN {printf "%.0f", v * s}')" \
    "$(if [ "$e" = - ]; then echo -; else awk -v v="$e" -v s="$scale" 'BEGIN {printf "%.0f", v * s}'; fi)" \
    "$(if [ "$r" = - ]; then echo -; else printf %.2f "$r"; fi)"
  [ -f "$WORK/$log.log" ] || return 0
  line=$(grep 'syscall patching:' "$WORK/$log.log" | tail -1 |
    sed -n 's/.*syscall patching: \([0-9]*\) syscalls, \([0-9]*\) trapped (\([0-9.]*%\)).*/\1 syscalls, \2 trapped (\3)/p')
  traps+=("$(printf '| %-44s | %-40s |' "$name" "${line:-no \"syscall patching\" line in the log}")")
}

show "start-up: python3 -c pass, ms" py-start \
  "$(pairs_of "$pairs" "wall native $py -c pass" "wall enclave py-start /usr/bin/python3 -c pass")" 1000
show "start-up: java -version, ms" java-start \
  "$(pairs_of "$pairs" "wall native $java -version" "wall enclave java-start $java -version")" 1000
show "start-up: node -e 0, ms" node-start \
  "$(pairs_of "$pairs" "wall native $node -e 0" "wall enclave node-start /usr/bin/node -e 0")" 1000
n=$(size 20000000)
show "cpu: python3, $n loop rounds, ms" py-cpu \
  "$(pairs_of "$pairs" "native $py $WORK/py/app/cpu.py $n" "enclave py-cpu /usr/bin/python3 /app/cpu.py $n")" 1000
n=$(size 500000000)
show "cpu: java, $n loop rounds, ms" java-cpu \
  "$(pairs_of "$pairs" "native $java -cp $WORK/java/app Cpu $n" "enclave java-cpu $java -cp /app Cpu $n")" 1000
n=$(size 300000000)
show "cpu: node, $n loop rounds, ms" node-cpu \
  "$(pairs_of "$pairs" "native $node $WORK/node/app/cpu.js $n" "enclave node-cpu /usr/bin/node /app/cpu.js $n")" 1000
if [ ${#traps[@]} -gt 0 ]; then
  echo
  printf '| %-44s | %-40s |\n' "workload (enclave, last run)" "syscalls that trap, start-up included" "---" "---"
  printf '%s\n' "${traps[@]}"
fi
exit $failed
