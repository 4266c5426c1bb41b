# shellcheck shell=bash
# common.sh: what the benchmark scripts share (sourced, not run): the options of the scripts that
# take --quick, --rows and --native (bench_args, bench_build, bench_need_kvm), the machine line
# (bench_machine), the median of numbers on stdin, a row of the native/enclave/ratio table, and
# interleaved native/enclave pairs (pairs_of; a caller that sets native_only=1 runs the native
# side only).

# bench_args SCRIPT "OPTION..." ARG...: the script's arguments ARG, each one of its OPTIONs
# (--quick: fewer runs, --rows: only the table's rows, --native: the native side only), as
# quick, rows and native_only (0 or 1); anything else: its usage line, and exit 2.
# shellcheck disable=SC2034 # quick, rows and native_only are the calling script's
bench_args() {
  local script=$1 known=$2 a o usage=""
  shift 2
  quick=0 rows=0 native_only=0 bench_native_opt=0
  for o in $known; do
    usage+=" [$o]"
    [ "$o" = --native ] && bench_native_opt=1
  done
  for a in "$@"; do
    case " $known " in
      *" $a "*) ;;
      *) echo "usage: $script$usage" >&2; exit 2 ;;
    esac
    case "$a" in
      --quick) quick=1 ;;
      --rows) rows=1 ;;
      --native) native_only=1 ;;
    esac
  done
}

# bench_build: the meson build directory $BUILD set up and built, unless rows=1 (bench/run.sh
# has built already).
bench_build() {
  [ "${rows:-0}" = 1 ] && return 0
  [ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" > /dev/null
  ninja -C "$BUILD" > /dev/null
}

# bench_need_kvm: exits 1 without /dev/kvm, unless native_only=1 (only the native side runs).
bench_need_kvm() {
  [ "${native_only:-0}" = 0 ] && [ ! -r /dev/kvm ] || return 0
  if [ "${bench_native_opt:-0}" = 1 ]; then
    echo "bench: no /dev/kvm, nothing to measure (--native measures the native side only)" >&2
  else
    echo "bench: no /dev/kvm, nothing to measure" >&2
  fi
  exit 1
}
# bench_machine: the machine line every table starts with (CPUs, memory, kernel, CPU model).
bench_machine() {
  echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
}
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
