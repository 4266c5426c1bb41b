#!/usr/bin/env bash
# lifecycle.sh: detached enclaves: the time from `alcove run-enclave` to its return (the
# enclave's heartbeat has arrived), the time `terminate-enclave` takes, each the median (and
# p90) of RUNS launches (default 20); then density: N enclaves of 32 MiB at once (default 20),
# and what each costs the host beyond its guest memory (the monitor's RSS minus the guest pages
# it backed, from /proc). Native has no counterpart here: the row to compare with is
# Firecracker's (under 125 ms to init; 5 MiB per VM).
#   ./bench/lifecycle.sh [RUNS] [N] [--rows]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
dense=${2:-20}
rows=0
[ "${3:-}" = "--rows" ] && rows=1
BUILD=${BUILD_DIR:-build}
[ $rows = 1 ] || ninja -C "$BUILD" src/alcove tests/ticker-musl-exec > /dev/null
if [ ! -r /dev/kvm ]; then echo "bench: no /dev/kvm, nothing to measure" >&2; exit 1; fi
A=$BUILD/src/alcove
work=$(mktemp -d)
export ALCOVE_RUNTIME_DIR=$work/run
trap '"$A" terminate-enclave --all > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$A" build-enclave --binary "$BUILD/tests/ticker-musl-exec" --cmd '/ticker-musl-exec 1000' \
  --output-file "$work/t.eif" > /dev/null 2>&1

ms() { date +%s%N; }
stats() { sort -g | awk '{a[NR]=$1} END {printf "%.1f (%.1f)", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2, a[int(NR * 0.9 + 0.5)]}'; }
up=() down=()
for _ in $(seq "$runs"); do
  t0=$(ms); "$A" run-enclave --eif-path "$work/t.eif" --cpu-count 1 --memory 64 > /dev/null 2>&1; t1=$(ms)
  "$A" terminate-enclave --all > /dev/null 2>&1; t2=$(ms)
  up+=("$(( (t1 - t0) / 1000 ))"); down+=("$(( (t2 - t1) / 1000 ))")
done
# shellcheck source=bench/common.sh
. bench/common.sh
if [ $rows = 0 ]; then
  row "enclave lifecycle" "" "enclave" ""
  row "---" "---:" "---:" "---:"
fi
row "run-enclave to heartbeat, ms, median (p90) of $runs" "-" "$(printf '%s\n' "${up[@]}" | awk '{print $1/1000}' | stats)" "-"
row "terminate-enclave, ms, median (p90)" "-" "$(printf '%s\n' "${down[@]}" | awk '{print $1/1000}' | stats)" "-"

# density
for i in $(seq "$dense"); do
  "$A" run-enclave --eif-path "$work/t.eif" --cpu-count 1 --memory 32 --enclave-name "d$i" > /dev/null 2>&1 || break
done
n=$("$A" describe-enclaves | python3 -c 'import json,sys; print(sum(e["State"] == "RUNNING" for e in json.load(sys.stdin)))')
over=$("$A" describe-enclaves | python3 -c '
import json, sys
tot = []
for e in json.load(sys.stdin):
    pid = e["ProcessID"]
    rss = anon_huge = 0
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"): rss = int(line.split()[1]) * 1024
    # the guest pages the monitor backed: its largest mapping (the guest RAM) resident size
    best = 0
    cur = None
    for line in open("/proc/%d/smaps" % pid):
        f = line.split()
        if "-" in f[0] and len(f) >= 5:
            a, b = (int(x, 16) for x in f[0].split("-")); cur = b - a
        elif f[0] == "Rss:" and cur == e["MemoryMiB"] << 20:
            best = max(best, int(f[1]) * 1024)
    tot.append(rss - best)
tot.sort()
print("%.1f" % (tot[len(tot) // 2] / 2**20))')
row "enclaves of 32 MiB running at once (asked $dense)" "-" "$n" "-"
row "host memory per enclave beyond its guest, MiB" "-" "$over" "-"
