#!/usr/bin/env bash
# exec.sh: what `alcove start` buys: the round trip of `alcove exec DIR /bin/busybox true` into a
# running enclave against a fresh `alcove run DIR /bin/busybox true` (a new enclave each time),
# each the median (and p90) of RUNS (default 20), interleaved. There is no native counterpart
# of exec into an enclave; the row to compare with is the fresh run (and `docker exec`).
#   ./bench/exec.sh [RUNS] [--rows]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
rows=0
[ "${2:-}" = "--rows" ] && rows=1
BUILD=${BUILD_DIR:-build}
[ $rows = 1 ] || ninja -C "$BUILD" src/alcove > /dev/null
if [ ! -r /dev/kvm ]; then echo "bench: no /dev/kvm, nothing to measure" >&2; exit 1; fi
A=$BUILD/src/alcove
work=$(mktemp -d)
export ALCOVE_RUNTIME_DIR=$work/run
trap '"$A" stop "$work/app" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$A" init "$work/app" 2> /dev/null
cp /bin/busybox "$work/app/image/bin/busybox"
"$A" build "$work/app" > /dev/null 2>&1
"$A" start "$work/app" > /dev/null 2>&1

ms() { date +%s%N; }
stats() { sort -g | awk '{a[NR]=$1} END {printf "%.1f (%.1f)", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2, a[int(NR * 0.9 + 0.5)]}'; }
ex=() fresh=()
for _ in $(seq "$runs"); do
  t0=$(ms); "$A" exec "$work/app" /bin/busybox true < /dev/null; t1=$(ms)
  "$A" run "$work/app" /bin/busybox true < /dev/null; t2=$(ms)
  ex+=("$(( (t1 - t0) / 1000 ))"); fresh+=("$(( (t2 - t1) / 1000 ))")
done
# shellcheck source=bench/common.sh
. bench/common.sh
e=$(printf '%s\n' "${ex[@]}" | awk '{print $1/1000}' | stats)
f=$(printf '%s\n' "${fresh[@]}" | awk '{print $1/1000}' | stats)
ratio=$(paste <(printf '%s\n' "${fresh[@]}") <(printf '%s\n' "${ex[@]}") | awk '{print $1 / $2}' | median)
if [ $rows = 0 ]; then
  row "exec into a started enclave" "fresh run" "exec" "run/exec"
  row "---" "---:" "---:" "---:"
fi
row "busybox true, ms, median (p90) of $runs" "$f" "$e" "$(printf '%.1f' "$ratio")"
