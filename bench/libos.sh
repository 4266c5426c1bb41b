#!/usr/bin/env bash
# libos.sh: the LibOS benchmarks (issue 4): file reads, small files in /tmp, memory, and real
# programs (busybox gzip and sha256sum), native and enclave side by side in one run, as
# bench/run.sh does: interleaved pairs (native, enclave, native, enclave ...), each number the
# median of its runs, the ratio the median of the per-pair ratios, as native time / enclave time
# (1.00 = as fast as native, higher is better).
#   ./bench/libos.sh [--quick] [--rows]
#     --quick  fewer pairs and a 16 MiB gzip input (about a minute instead of two)
#     --rows   only the table's rows (bench/run.sh prints the header)
# BUILD_DIR (default build) is the meson build directory to use.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
. bench/common.sh
bench_args bench/libos.sh "--quick --rows" "$@"

BUILD=${BUILD_DIR:-build}
bench_build
A=$BUILD/src/alcove
B=$BUILD/bench
bench_need_kvm
[ -x /bin/busybox ] || { echo "bench: /bin/busybox missing (scripts/setup.sh installs it)" >&2; exit 1; }

pairs=$([ $quick = 1 ] && echo 3 || echo 5)
gz_pairs=3
gz_mib=$([ $quick = 1 ] && echo 16 || echo 64)

if [ $rows = 0 ]; then
  bench_machine
  echo "date: $(date -u +%Y-%m-%d)"
  echo
  row "benchmark" "native" "enclave" "ratio"
  row "---" "---:" "---:" "---:"
fi

# The enclave's file systems: each a directory tree given to --rootfs (its files live in the
# enclave's memory, so --memory covers them). Natively the same files are read from the host's
# page cache (each is read once before timing); small files are written to a host tmpfs.
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/io/bin" "$W/io/data" "$W/gz/bin" "$W/gz/data" "$W/mem/bin"
for r in io gz mem; do cp "$B/libos_io" /bin/busybox "$W/$r/bin/"; done
head -c $((64 << 20)) /dev/urandom > "$W/io/data/in.bin"
# text for gzip: 600 KB of generated lines, repeated (the period is past gzip's window)
awk 'BEGIN { split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu", w, " ");
  x = 1; for (i = 1; i <= 24000; i++) { x = (x * 1103515245 + 12345) % 2147483648;
  printf "%07d %s %s %d\n", i, w[int(x / 65536) % 12 + 1], w[int(x / 8192) % 12 + 1], int(x / 1024) % 100000 } }' > "$W/part"
while [ "$(stat -c %s "$W/gz/data/in.txt" 2>/dev/null || echo 0)" -lt $((gz_mib << 20)) ]; do
  cat "$W/part" >> "$W/gz/data/in.txt"
done
truncate -s $((gz_mib << 20)) "$W/gz/data/in.txt"
cat "$W/io/data/in.bin" "$W/gz/data/in.txt" > /dev/null
shm=$W/files
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then shm=$(mktemp -d /dev/shm/libos-bench.XXXXXX); fi
trap 'rm -rf "$W" "$shm"' EXIT
mkdir -p "$shm"
io_mem=256 gz_mem=$((gz_mib * 2 + 128)) mem_mem=256

# enclave ROOT MEM CMD...: runs CMD in an enclave on $W/ROOT; prints its stdout.
enclave() { local r=$1 m=$2; shift 2; "$A" run --memory "$m" --rootfs "$W/$r" "$@"; }

# timed CMD...: runs CMD (output to /dev/null) and prints its wall time in seconds
timed() {
  local s e
  s=$(date +%s%N)
  "$@" > /dev/null || return 1
  e=$(date +%s%N)
  awk -v n=$((e - s)) 'BEGIN { printf "%.6f\n", n / 1e9 }'
}

# show NAME RESULT: a row from pairs_of's "native enclave ratio", seconds to 3 places
show() {
  local name=$1 n e r
  read -r n e r <<< "$2"
  if [ "$e" = fail ]; then row "$name" "$n" "fails" "-"; echo "   $name: enclave: $r" >&2; return; fi
  row "$name" "$(printf %.3f "$n")" "$(printf %.3f "$e")" "$(printf %.2f "$r")"
}

# 1. file reads: 64 MiB, twice over, in 4 KiB and in 1 MiB read()s (timed inside the program)
f=data/in.bin
show "file: read 64 MiB x 2 in 4 KiB reads, s" "$(pairs_of "$pairs" \
  "$B/libos_io read $W/io/$f 4096 2" "enclave io $io_mem /bin/libos_io read /$f 4096 2")"
show "file: read 64 MiB x 2 in 1 MiB reads, s" "$(pairs_of "$pairs" \
  "$B/libos_io read $W/io/$f 1048576 2" "enclave io $io_mem /bin/libos_io read /$f 1048576 2")"

# 2. 10 000 files of 1 KiB: create+write+close, then stat+unlink (native: a host tmpfs)
show "file: 10k x 1 KiB create/write/rm in /tmp, s" "$(pairs_of "$pairs" \
  "$B/libos_io files $shm 10000 1024" "enclave mem $mem_mem /bin/libos_io files /tmp 10000 1024")"

# 3. memory: mmap, touch every page, munmap 64 MiB, 8 times; a malloc-heavy workload
show "memory: mmap/touch/munmap 64 MiB x 8, s" "$(pairs_of "$pairs" \
  "$B/libos_io mmap 64 8" "enclave mem $mem_mem /bin/libos_io mmap 64 8")"
show "memory: 3M malloc/free (16 B-16 KiB), s" "$(pairs_of "$pairs" \
  "$B/libos_io malloc 3000000" "enclave mem $mem_mem /bin/libos_io malloc 3000000")"

# 4. real programs, whole command (the enclave's launch and image included), then net of the
#    launch (minus the median of `busybox true` on the same image)
base_n=$(for _ in $(seq "$pairs"); do timed /bin/busybox true; done | median)
base_io=$(for _ in $(seq "$pairs"); do timed enclave io $io_mem /bin/busybox true; done | median)
base_gz=$(for _ in $(seq "$gz_pairs"); do timed enclave gz $gz_mem /bin/busybox true; done | median)
row "launch: busybox true, image with 64 MiB, s" "$(printf %.3f "$base_n")" \
  "$(printf %.3f "$base_io")" "-"

net() { # net NAME RESULT BASE: the same pairs, launch subtracted from both medians
  local n e r
  read -r n e r <<< "$2"
  [ "$e" = fail ] && return
  row "$1" "$(awk -v a="$n" -v b="$base_n" 'BEGIN{printf "%.3f", a - b}')" \
    "$(awk -v a="$e" -v b="$3" 'BEGIN{printf "%.3f", a - b}')" \
    "$(awk -v a="$n" -v b="$base_n" -v c="$e" -v d="$3" 'BEGIN{printf "%.2f", (a - b) / (c - d)}')"
}
sha=$(pairs_of "$pairs" "timed /bin/busybox sha256sum $W/io/$f" \
  "timed enclave io $io_mem /bin/busybox sha256sum /$f")
show "busybox sha256sum 64 MiB, s" "$sha"
net "busybox sha256sum 64 MiB, net of launch, s" "$sha" "$base_io"
gz=$(pairs_of "$gz_pairs" "timed /bin/busybox gzip -c $W/gz/data/in.txt" \
  "timed enclave gz $gz_mem /bin/busybox gzip -c /data/in.txt")
show "busybox gzip $gz_mib MiB text, s" "$gz"
net "busybox gzip $gz_mib MiB text, net of launch, s" "$gz" "$base_gz"
