#!/usr/bin/env bash
# attest.sh: attestation throughput, enclave and host side by side in one run: documents per
# second made inside an enclave (libnsm -> /dev/nsm -> virtio-nsm -> the monitor's signer), the
# same documents made directly on the host (the NSM handler without the transport), the bare
# transport (DescribePCR requests per second), and verifications per second on the host. Each
# number is the median of RUNS runs (default 5); the ratio is enclave / host generation.
#   ./bench/attest.sh [RUNS] [--rows]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
rows=0
[ "${2:-}" = "--rows" ] && rows=1
BUILD=${BUILD_DIR:-build}
[ $rows = 1 ] || ninja -C "$BUILD" src/alcove bench/nsm_bench bench/attest_bench > /dev/null
if [ ! -r /dev/kvm ]; then echo "bench: no /dev/kvm, nothing to measure" >&2; exit 1; fi
export ALCOVE_CA_DIR=${ALCOVE_CA_DIR:-$(mktemp -d)/ca}
[ -f "$ALCOVE_CA_DIR/ca.pem" ] || "$BUILD/src/alcove" ca init > /dev/null

# shellcheck source=bench/common.sh
. bench/common.sh
ea=() ed=() hg=() hv=()
for _ in $(seq "$runs"); do
  read -r a d < <("$BUILD/src/alcove" run "$BUILD/bench/nsm_bench" 1)
  ea+=("$a"); ed+=("$d")
  out=$("$BUILD/bench/attest_bench" 1)
  hg+=("$(echo "$out" | awk '/generated/ {print $NF}')")
  hv+=("$(echo "$out" | awk '/verified/ {print $NF}')")
done
e_att=$(printf '%s\n' "${ea[@]}" | median)
e_desc=$(printf '%s\n' "${ed[@]}" | median)
h_gen=$(printf '%s\n' "${hg[@]}" | median)
h_ver=$(printf '%s\n' "${hv[@]}" | median)
if [ $rows = 0 ]; then
  row "attestation (median of $runs runs)" "host" "enclave" "ratio"
  row "---" "---:" "---:" "---:"
fi
row "attestation documents per second" "$h_gen" "$e_att" "$(awk -v a="$e_att" -v b="$h_gen" 'BEGIN {printf "%.2f", a / b}')"
row "NSM requests per second (DescribePCR)" "-" "$e_desc" "-"
row "document verifications per second (host)" "$h_ver" "-" "-"
