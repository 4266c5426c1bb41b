#!/usr/bin/env bash
# run.sh: alcove's benchmarks, native and enclave side by side in one run. Each number is the
# median of several runs (machines here are noisy); the ratio says how close the enclave gets.
#   ./bench/run.sh [--quick]     (builds first; needs /dev/kvm)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0; [ "${1:-}" = "--quick" ] && quick=1

[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
A=build/src/alcove
B=build/bench
T=build/tests
if [ ! -r /dev/kvm ]; then echo "bench: no /dev/kvm, nothing to measure" >&2; exit 1; fi

runs=$([ $quick = 1 ] && echo 3 || echo 5)
launches=$([ $quick = 1 ] && echo 20 || echo 40)

# shellcheck source=bench/common.sh
. bench/common.sh
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

bench_machine
echo "date: $(date -u +%Y-%m-%d)"
echo
row "benchmark" "native" "enclave" "ratio"
row "---" "---:" "---:" "---:"

# 1. launch: the whole command, median of $launches runs
read -r n_med n_p90 < <($B/timeit "$launches" $T/hello-musl-exec)
read -r e_med e_p90 < <($B/timeit "$launches" $A run $T/hello-musl-exec)
row "launch: hello, median ms (p90)" "$n_med ($n_p90)" "$e_med ($e_p90)" "$(ratio "$e_med" "$n_med")x"
read -r e_med e_p90 < <($B/timeit "$launches" $A run --memory 16 $T/hello-musl-exec)
row "launch: hello, --memory 16, median ms (p90)" "$n_med ($n_p90)" "$e_med ($e_p90)" "$(ratio "$e_med" "$n_med")x"

# Interleaved pairs: native, enclave, native, enclave ... so both see the same machine weather.
# side_by_side RUNS NATIVE_CMD ENCLAVE_CMD: prints "native_median enclave_median pair_ratio"
# where pair_ratio is the median over the pairs of enclave/native (the CPU speed of these
# machines drifts by 2x over seconds; a pair's two runs see about the same speed).
side_by_side() {
  local runs=$1 native=$2 enclave=$3 nf ef
  nf=$(mktemp); ef=$(mktemp)
  for i in $(seq "$runs"); do
    eval "$native" >> "$nf"
    eval "$enclave" >> "$ef"
  done
  echo "$(median < "$nf") $(median < "$ef") $(paste "$nf" "$ef" | awk '{print $2 / $1}' | median)"
  rm -f "$nf" "$ef"
}

# 2. syscall round trip, ns per call: getppid() through the C library's wrapper (a site the
#    enclave kernel patches), and with --no-syscall-patch: every call traps
calls=$([ $quick = 1 ] && echo 20000 || echo 100000)
for libc in glibc musl; do
    read -r n e r < <(side_by_side "$runs" "$B/getppid_loop-$libc $calls" "$A run $B/getppid_loop-$libc $calls")
  row "syscall: getppid() ($libc wrapper), ns per call" "$n" "$e" "$(printf %.3f "$r")x"
done
read -r n e r < <(side_by_side "$runs" "$B/getppid_loop-glibc $((calls / 10)) raw" \
  "$A run --no-syscall-patch $B/getppid_loop-glibc $((calls / 10)) raw")
row "syscall: getppid(), --no-syscall-patch (trap), ns" "$n" "$e" "$(printf %.0f "$r")x"

# 2b. reading the clock, ns per call: clock_gettime(CLOCK_MONOTONIC) through the C library, which
#     takes it from the vDSO natively and in an enclave (without one it would cost a syscall, the
#     getppid() row above)
for libc in glibc musl; do
  read -r n e r < <(side_by_side "$runs" "$B/clock_loop-$libc $((calls * 10))" "$A run $B/clock_loop-$libc $((calls * 10))")
  row "clock_gettime(CLOCK_MONOTONIC) ($libc, vDSO), ns per call" "$n" "$e" "$(printf %.3f "$r")x"
done

# 3. CPU-bound: SHA-256 over 256 MiB in memory, as 4 passes over 64 MiB per run (short runs pair
#    better); ratio = native time / enclave time, the median over the pairs
mib=64
pairs=$([ $quick = 1 ] && echo 5 || echo 15)
read -r n e r < <(side_by_side "$pairs" "$B/sha256_mem $mib 4 | cut -d' ' -f1" \
  "$A run --memory $((mib * 2 + 64)) $B/sha256_mem $mib 4 | cut -d' ' -f1")
row "cpu: SHA-256 of 256 MiB (4 x 64), seconds" "$n" "$e" "$(awk -v r="$r" 'BEGIN{printf "%.3f", 1 / r}')"

# 4. image building: build-enclave over a 256 MiB directory tree, against sha384sum over the
#    same bytes (the physical limit of one core: measuring is one SHA-384 pass)
tree=$(mktemp -d)
mib=$([ $quick = 1 ] && echo 64 || echo 256)
for i in $(seq 1 $((mib / 4))); do head -c $((4 << 20)) /dev/urandom > "$tree/f$i"; done
cp "$T/hello-musl-exec" "$tree/hello"
bytes=$(du -sb "$tree" | cut -f1)
read -r n e r < <(side_by_side 3 \
  "s=\$(date +%s%N); cat $tree/* | sha384sum > /dev/null; echo \$(( \$(date +%s%N) - s ))" \
  "s=\$(date +%s%N); $A build-enclave --rootfs $tree --cmd /hello --output-file $tree.eif > /dev/null 2>&1; echo \$(( \$(date +%s%N) - s ))")
rm -rf "$tree" "$tree.eif"
row "build-enclave of $mib MiB, MB/s (vs sha384sum)" \
  "$(awk -v b="$bytes" -v t="$n" 'BEGIN{printf "%.0f", b / (t / 1e9) / 1e6}')" \
  "$(awk -v b="$bytes" -v t="$e" 'BEGIN{printf "%.0f", b / (t / 1e9) / 1e6}')" \
  "$(awk -v r="$r" 'BEGIN{printf "%.2f", 1 / r}')"

# 5. memory: the monitor's own resident memory beside the guest's
for m in 64 256; do
  st=$($A run --stats --memory $m $T/hello-musl-exec 2>&1 >/dev/null | sed -n 's/^alcove-stats: //p')
  over=$(echo "$st" | sed -n 's/.*"monitor_overhead_bytes": \([0-9]*\).*/\1/p')
  guest=$(echo "$st" | sed -n 's/.*"guest_resident_bytes": \([0-9]*\).*/\1/p')
  row "memory: monitor RSS beyond guest, MiB (--memory $m)" "-" "$(awk -v b="$over" 'BEGIN{printf "%.2f", b/1048576}')" "guest $((guest >> 20)) MiB"
done

# 6. real programs reading a file: Debian's busybox-static (glibc; its read() is
#    `xor %eax,%eax; syscall`, a site the enclave kernel patches through padding) over 64 MiB,
#    the whole command (the enclave's includes booting the 64 MiB tree), seconds
if [ -x /bin/busybox ]; then
  root=$(mktemp -d)
  mkdir -p "$root/bin"
  cp /bin/busybox "$root/bin/"
  head -c $((64 << 20)) /dev/urandom > "$root/data"
  pairs=$([ $quick = 1 ] && echo 3 || echo 7)
  for cmd in "sha256sum" "cat"; do
    read -r n e r < <(side_by_side "$pairs" \
      "s=\$(date +%s%N); /bin/busybox $cmd $root/data > /dev/null; echo \$(( \$(date +%s%N) - s ))" \
      "s=\$(date +%s%N); $A run --memory 512 --rootfs $root /bin/busybox $cmd /data > /dev/null; echo \$(( \$(date +%s%N) - s ))")
    row "busybox $cmd of 64 MiB, seconds" "$(awk -v t="$n" 'BEGIN{printf "%.3f", t / 1e9}')" \
      "$(awk -v t="$e" 'BEGIN{printf "%.3f", t / 1e9}')" "$(printf %.3f "$r")x"
  done
  rm -rf "$root"
else
  row "busybox sha256sum / cat of 64 MiB" "no /bin/busybox" "-" "-"
fi

# 7. read() of 4 KiB from a 1 MiB file in a loop through glibc's wrapper, ns per call: patched
#    (the default) and on the trap path (--no-syscall-patch)
root=$(mktemp -d)
cp "$T/patch_readloop-glibc-exec" "$root/readloop"
head -c $((1 << 20)) /dev/urandom > "$root/data"
calls=$([ $quick = 1 ] && echo 20000 || echo 100000)
read -r n e r < <(side_by_side "$runs" "$T/patch_readloop-glibc-exec $root/data $calls" \
  "$A run --rootfs $root /readloop /data $calls")
row "read() 4 KiB (glibc wrapper), ns per call" "$n" "$e" "$(printf %.3f "$r")x"
read -r n e r < <(side_by_side "$runs" "$T/patch_readloop-glibc-exec $root/data $((calls / 20))" \
  "$A run --no-syscall-patch --rootfs $root /readloop /data $((calls / 20))")
row "read() 4 KiB, --no-syscall-patch, ns per call" "$n" "$e" "$(printf %.0f "$r")x"
rm -rf "$root"

# 8. the LibOS (issue 4): file reads, small files in /tmp, memory, busybox gzip and sha256sum
#    (bench/libos.sh, which also runs alone)
./bench/libos.sh --rows $([ $quick = 1 ] && echo --quick)

# 9. threads: a CPU-bound loop on 1 and 2 vCPUs (the speed-up), futex ping-pong on 2 vCPUs and 1,
#    4 threads on one mutex (bench/threads.sh, which also runs alone)
if [ $quick = 1 ]; then ./bench/threads.sh --rows --quick; else ./bench/threads.sh --rows; fi
