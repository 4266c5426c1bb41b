# shellcheck shell=bash
# common.sh: what the benchmark scripts share (sourced, not run): the median of numbers on
# stdin, a row of the native/enclave/ratio table, and interleaved native/enclave pairs
# (pairs_of; a caller that sets native_only=1 runs the native side only).
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
row() { printf '| %-44s | %14s | %14s | %8s |\n' "$@"; }

# pairs_of N NATIVE ENCLAVE: runs the two commands (strings, eval'ed) in N interleaved pairs;
# each prints "SECONDS CHECK". Prints "native_median enclave_median ratio", the ratio the median
# over pairs of native/enclave seconds; "fail fail MESSAGE" when the native side did not work,
# "NATIVE_MEDIAN fail MESSAGE" when the enclave side did not, "NATIVE_MEDIAN - -" with --native.
pairs_of() {
  local n=$1 native=$2 encl=$3 nf ef xf nc ec out
  nf=$(mktemp); ef=$(mktemp); xf=$(mktemp)
  for _ in $(seq "$n"); do
    out=$(eval "$native" 2> "$xf") ||
      { echo "fail fail native: $(head -1 "$xf")"; rm -f "$nf" "$ef" "$xf"; return; }
    echo "$out" >> "$nf"
    [ "${native_only:-0}" = 1 ] && continue
    out=$(eval "$encl" 2> "$xf") || {
      echo "$(awk '{print $1}' "$nf" | median) fail $(grep -v '^$' "$xf" | head -1)"
      rm -f "$nf" "$ef" "$xf"; return
    }
    echo "$out" >> "$ef"
  done
  rm -f "$xf"
  if [ "${native_only:-0}" = 1 ]; then
    echo "$(awk '{print $1}' "$nf" | median) - -"; rm -f "$nf" "$ef"; return
  fi
  nc=$(awk '{print $2}' "$nf" | sort -u | paste -sd,)
  ec=$(awk '{print $2}' "$ef" | sort -u | paste -sd,)
  [ "$nc" = "$ec" ] || echo "bench: native and enclave did different work ($nc vs $ec)" >&2
  echo "$(awk '{print $1}' "$nf" | median) $(awk '{print $1}' "$ef" | median)" \
    "$(paste <(awk '{print $1}' "$nf") <(awk '{print $1}' "$ef") | awk '{print $1 / $2}' | median)"
  rm -f "$nf" "$ef"
}
