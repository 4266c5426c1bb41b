#!/usr/bin/env bash
# proc.sh: processes in the enclave kernel against Linux, side by side in one run: interleaved
# pairs (native, enclave, native, enclave ...), each number the median of its runs.
#   fork        fork + _exit + wait, per process (bench/proc_bench, timed inside the program)
#   fork 64 MiB the same from a parent with 64 MiB resident (what fork copies: no copy-on-write)
#   vfork+exec  vfork + execve of a static program + wait
#   posix_spawn posix_spawn of the same program + wait
#   pipeline    busybox sh -c 'seq 1 200000 | sort -n | uniq -c | wc -l', wall time of the
#               whole command (the enclave's includes its launch, ~15 ms)
#   1000 cmds   busybox sh running 1000 external commands (/bin/true, busybox's applet), wall
# and what the memory model's steps cost (bench/mm_bench, timed inside the program, ns each):
#   touch       the first touch of a 4 KiB page (a fault, a frame, a page-table write)
#   protect     mprotect of a touched page to read-only and back (page-table writes, invlpg)
#   segv        a store to a PROT_NONE page caught by a SIGSEGV handler (siglongjmp out)
#   switch      a one-byte round trip between two processes over pipes on one CPU (two
#               address-space switches) and the same between two threads (none)
# A ratio is native / enclave time (1.00 = as fast as native, higher is better); the issue's
# target for the first four is within 3x (a ratio of at least 0.33).
#   ./bench/proc.sh [--quick] [--native]
# BUILD_DIR (default build) is the meson build directory to use.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
. bench/common.sh
bench_args bench/proc.sh "--quick --native" "$@"
BUILD=${BUILD_DIR:-build}
bench_build
A=$BUILD/src/alcove
P=$BUILD/bench/proc_bench
M=$BUILD/bench/mm_bench
bench_need_kvm
[ -x /bin/busybox ] || { echo "bench: busybox-static missing (apt-get install busybox-static)" >&2; exit 1; }

pairs=$([ $quick = 1 ] && echo 3 || echo 7)
n=$([ $quick = 1 ] && echo 100 || echo 400)

# the shell rows' image: busybox, its applets by name, and nothing else
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/bin"
cp /bin/busybox "$ROOT/bin/busybox"
for a in sh seq sort uniq wc true; do ln -s busybox "$ROOT/bin/$a"; done

bench_machine
echo "date: $(date -u +%Y-%m-%d)"
echo
row "benchmark" "native" "enclave" "ratio"
row "---" "---:" "---:" "---:"
failed=0

# scaled SECONDS SCALE: seconds times SCALE, no decimals ("-" stays "-")
scaled() {
  if [ "$1" = - ]; then echo -; else awk -v s="$2" -v v="$1" 'BEGIN {printf "%.0f", v * s}'; fi
}

# show NAME RESULT SCALE: a row from pairs_of's "native enclave ratio", seconds scaled (1e6/N:
# us per process; 1e3: ms); a side that failed says so (and the script exits 1 at the end)
show() {
  local name=$1 scale=$3 n e r
  read -r n e r <<< "$2"
  if [ "$n" = fail ]; then
    row "$name" "fails" "-" "-"; echo "   $name: $r" >&2; failed=1; return
  fi
  if [ "$e" = fail ]; then
    row "$name" "$(scaled "$n" "$scale")" "fails" "-"; echo "   $name: $r" >&2; failed=1; return
  fi
  row "$name" "$(scaled "$n" "$scale")" "$(scaled "$e" "$scale")" \
    "$(if [ "$r" = - ]; then echo -; else printf %.2f "$r"; fi)"
}

# the two below run through pairs_of's eval
# shellcheck disable=SC2317
enclave() { timeout 300 "$A" run --memory 512 "$@"; }
# wall CMD...: runs CMD, prints "SECONDS CHECK" (CHECK: the first word of its output)
# shellcheck disable=SC2317
wall() {
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$("$@") || return 1
  t1=$(date +%s.%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}') $(echo "$out" | tr -s ' \n' '_' | cut -c1-40)"
}

us=$(awk -v n="$n" 'BEGIN {print 1e6 / n}')
show "fork + exit + wait, us per process" \
  "$(pairs_of "$pairs" "$P fork $n" "enclave $P fork $n")" "$us"
show "fork from 64 MiB resident, us per process" \
  "$(pairs_of "$pairs" "$P fork $((n / 4)) 64" "enclave $P fork $((n / 4)) 64")" \
  "$(awk -v n="$((n / 4))" 'BEGIN {print 1e6 / n}')"
show "vfork + execve + wait, us per process" \
  "$(pairs_of "$pairs" "$P vfork $n" "enclave $P vfork $n")" "$us"
show "posix_spawn + wait, us per process" \
  "$(pairs_of "$pairs" "$P spawn $n" "enclave $P spawn $n")" "$us"
pipeline='seq 1 200000 | sort -n | uniq -c | wc -l'
show "sh: seq 200000 | sort -n | uniq -c | wc -l, ms" \
  "$(pairs_of "$pairs" "wall env -i PATH=$ROOT/bin $ROOT/bin/sh -c '$pipeline'" \
              "wall enclave --rootfs $ROOT /bin/sh -c '$pipeline'")" 1000
loop='i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i + 1)); done; echo $i'
show "sh: 1000 external commands, ms" \
  "$(pairs_of "$pairs" "wall env -i PATH=$ROOT/bin $ROOT/bin/sh -c 'PATH=$ROOT/bin; $loop'" \
              "wall enclave --rootfs $ROOT /bin/sh -c 'PATH=/bin; $loop'")" 1000
ns=$(awk -v n="$((n * 50))" 'BEGIN {print 1e9 / n}')
# touch: 1500 pages, each a mapping of its own (with the PROT_NONE pages between, 3000: an
# enclave's process has at most 4096 mappings, Linux's 65530)
show "memory: touch, ns each" \
  "$(pairs_of "$pairs" "$M touch 1500" "enclave $M touch 1500")" "$(awk 'BEGIN {print 1e9 / 1500}')"
for mode in protect segv; do
  show "memory: $mode, ns each" \
    "$(pairs_of "$pairs" "$M $mode $((n * 50))" "enclave $M $mode $((n * 50))")" "$ns"
done
show "switch: round trip between 2 processes, 1 CPU, ns" \
  "$(pairs_of "$pairs" "taskset -c 0 $M procs $((n * 50))" \
              "enclave --cpu-count 1 $M procs $((n * 50))")" "$ns"
show "switch: round trip between 2 threads, 1 CPU, ns" \
  "$(pairs_of "$pairs" "taskset -c 0 $M threads $((n * 50))" \
              "enclave --cpu-count 1 $M threads $((n * 50))")" "$ns"
exit $failed
