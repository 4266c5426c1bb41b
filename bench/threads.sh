#!/usr/bin/env bash
# threads.sh: threads in the enclave kernel against Linux, side by side in one run, as
# bench/libos.sh does: interleaved pairs (native, enclave, native, enclave ...), each number the
# median of its runs, timed inside bench/thr_bench (the enclave's launch is not in the numbers).
#   scaling    a CPU-bound hash loop split over 1 and 2 threads (enclave: 1 and 2 vCPUs); the
#              speed-up row's ratio is enclave speed-up / native speed-up (1.00 = scales as well)
#   ping-pong  two threads handing a turn back and forth through FUTEX_WAIT/FUTEX_WAKE, round
#              trips per second, on 2 vCPUs and on 1 (natively pinned to one CPU with taskset)
#   mutex      4 threads contending for one pthread_mutex, lock/unlock pairs per second, 2 vCPUs
#   wake-up    a thread blocked in FUTEX_WAIT long enough for its CPU to idle, woken: microseconds
#              until it runs (thr_bench wake; enclave: 2 vCPUs, the idle one asleep in the monitor)
#   slicing    two spinners sharing one CPU (enclave: 1 vCPU, preempted by the monitor's timer):
#              switches per second and their work rate against one spinner alone
# A ratio is enclave / native for rates and native / enclave for times (1.00 = as fast as
# native, higher is better). An enclave run that fails marks its row "fails", says why on stderr,
# and the script exits 1 after the table.
#   ./bench/threads.sh [--quick] [--rows] [--native]
#     --quick   fewer pairs and less work per run
#     --rows    only the table's rows (bench/run.sh prints the header)
#     --native  only the native side (the enclave columns say "-"); needs no /dev/kvm
# BUILD_DIR (default build) is the meson build directory to use.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
. bench/common.sh
bench_args bench/threads.sh "--quick --rows --native" "$@"

BUILD=${BUILD_DIR:-build}
bench_build
A=$BUILD/src/alcove
P=$BUILD/bench/thr_bench
bench_need_kvm
command -v taskset > /dev/null || { echo "bench: taskset (util-linux) missing" >&2; exit 1; }

pairs=$([ $quick = 1 ] && echo 3 || echo 7)
iters=$([ $quick = 1 ] && echo 50000000 || echo 200000000)
rounds=$([ $quick = 1 ] && echo 20000 || echo 100000)
ops=$([ $quick = 1 ] && echo 500000 || echo 2000000)

if [ $rows = 0 ]; then
  bench_machine
  echo "date: $(date -u +%Y-%m-%d)"
  echo
  row "benchmark" "native" "enclave" "ratio"
  row "---" "---:" "---:" "---:"
fi

failed=0

# fmt COUNT SECONDS: seconds to 3 places, or with a COUNT, COUNT / SECONDS per second
fmt() {
  if [ -n "$1" ]; then
    awk -v c="$1" -v t="$2" 'BEGIN {printf "%.0f", c / t}'
  else
    printf %.3f "$2"
  fi
}

# show NAME RESULT [COUNT]: a row from pairs_of's "native enclave ratio" (see fmt); returns 1
# (and sets failed) when a side did not work
show() {
  local name=$1 count=${3:-} n e r
  read -r n e r <<< "$2"
  if [ "$n" = fail ]; then
    row "$name" "fails" "-" "-"; echo "   $name: $r" >&2; failed=1; return 1
  fi
  if [ "$e" = fail ]; then
    row "$name" "$(fmt "$count" "$n")" "fails" "-"; echo "   $name: enclave: $r" >&2; failed=1
    return 1
  fi
  if [ "$e" = - ]; then row "$name" "$(fmt "$count" "$n")" "-" "-"; return 0; fi
  row "$name" "$(fmt "$count" "$n")" "$(fmt "$count" "$e")" "$(printf %.2f "$r")"
}

# enclave N CMD...: CMD in an enclave on N vCPUs, at most 5 minutes (a lost wake-up hangs)
enclave() {
  local n=$1 st=0; shift
  timeout 300 "$A" run --cpu-count "$n" "$@" || st=$?
  [ $st != 124 ] || echo "timed out after 300 s" >&2
  return $st
}

# 1. scaling: the same work on 1 thread (1 vCPU) and split over 2 threads (2 vCPUs)
one=$(pairs_of "$pairs" "$P scale 1 $iters" "enclave 1 $P scale 1 $iters")
two=$(pairs_of "$pairs" "$P scale 2 $iters" "enclave 2 $P scale 2 $iters")
ok1=0 ok2=0
show "scaling: hash loop, 1 thread (1 vCPU), s" "$one" && ok1=1
show "scaling: hash loop, 2 threads (2 vCPUs), s" "$two" && ok2=1
if [ $ok1 = 1 ] && [ $ok2 = 1 ]; then
  read -r n1 e1 _ <<< "$one"
  read -r n2 e2 _ <<< "$two"
  ns=$(awk -v a="$n1" -v b="$n2" 'BEGIN {printf "%.2f", a / b}')
  if [ "$e1" = - ]; then
    row "scaling: speed-up, 1 -> 2 threads" "${ns}x" "-" "-"
  else
    es=$(awk -v a="$e1" -v b="$e2" 'BEGIN {printf "%.2f", a / b}')
    row "scaling: speed-up, 1 -> 2 threads" "${ns}x" "${es}x" \
      "$(awk -v a="$es" -v b="$ns" 'BEGIN {printf "%.2f", a / b}')"
  fi
fi

# 2. futex ping-pong: round trips per second, 2 vCPUs (native: any CPU) and 1 (native: one CPU)
show "futex ping-pong, round trips/s (2 vCPUs)" \
  "$(pairs_of "$pairs" "$P pingpong $rounds" "enclave 2 $P pingpong $rounds")" "$rounds" || true
show "futex ping-pong, round trips/s (1 vCPU)" \
  "$(pairs_of "$pairs" "taskset -c 0 $P pingpong $rounds" "enclave 1 $P pingpong $rounds")" \
  "$rounds" || true

# 3. contended mutex: 4 threads, lock/increment/unlock pairs per second, 2 vCPUs
show "mutex, 4 threads contending, ops/s (2 vCPUs)" \
  "$(pairs_of "$pairs" "$P mutex 4 $ops" "enclave 2 $P mutex 4 $ops")" "$((ops * 4))" || true

# 4. what the scheduler's mechanisms cost (thr_bench wake and slice print two numbers per run)
C=$P # thr_bench, its cost modes
wake_rounds=$([ $quick = 1 ] && echo 50 || echo 200)
slice_s=$([ $quick = 1 ] && echo 0.5 || echo 1)
# costs NATIVE ENCLAVE: N interleaved pairs; prints the medians "n1 n2 e1 e2" (e: "-" with
# --native), or "fail" and the reason on stderr
costs() {
  local native=$1 encl=$2 f out
  f=$(mktemp)
  for _ in $(seq "$pairs"); do
    out=$(eval "$native") || { echo fail; rm -f "$f"; return; }
    echo "n $out" >> "$f"
    [ $native_only = 1 ] && continue
    out=$(eval "$encl") || { echo fail; rm -f "$f"; return; }
    echo "e $out" >> "$f"
  done
  local n1 n2 e1=- e2=-
  n1=$(awk '$1 == "n" {print $2}' "$f" | median); n2=$(awk '$1 == "n" {print $3}' "$f" | median)
  if [ $native_only = 0 ]; then
    e1=$(awk '$1 == "e" {print $2}' "$f" | median); e2=$(awk '$1 == "e" {print $3}' "$f" | median)
  fi
  rm -f "$f"
  echo "$n1 $n2 $e1 $e2"
}
ratio() {
  if [ "$1" = - ] || [ "$2" = - ]; then echo -; else awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; fi
}
read -r w1 w9 we1 we9 <<< "$(costs "$C wake $wake_rounds" "enclave 2 $C wake $wake_rounds")"
if [ "$w1" = fail ]; then
  row "wake-up of a blocked thread, idle CPU, us" "fails" "-" "-"; failed=1
else
  row "wake-up of a blocked thread, idle CPU, us median" "$w1" "$we1" "$(ratio "$w1" "$we1")"
  row "wake-up of a blocked thread, idle CPU, us p90" "$w9" "$we9" "$(ratio "$w9" "$we9")"
fi
read -r s1 s2 se1 se2 <<< "$(costs "$C slice $slice_s" "enclave 1 $C slice $slice_s")"
if [ "$s1" = fail ]; then
  row "time slicing, 2 spinners on 1 CPU" "fails" "-" "-"; failed=1
else
  row "time slicing, 2 spinners on 1 CPU: switches/s" "$s1" "$se1" "-"
  row "time slicing: work rate vs 1 spinner alone" "$s2" "$se2" "$(ratio "$se2" "$s2")"
fi

if [ $failed = 1 ]; then
  echo "bench: threads.sh: a run failed (above)" >&2
  exit 1
fi
