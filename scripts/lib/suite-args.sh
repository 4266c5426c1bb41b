# suite-args.sh: what scripts/ltp.sh and scripts/libc-test.sh share: their options and the check
# that enclaves can run. Sourced after the script has set SUITE (its name in messages) and
# ALCOVE; sets native_only, list_only and filter.
#   --native        run natively only (no KVM needed)
#   --list          print the tests and exit (no build)
#   --filter REGEX  only the tests whose name matches REGEX (bash =~, extended regex)

native_only=no list_only=no filter=
while [ $# -gt 0 ]; do
  case $1 in
    --native) native_only=yes ;;
    --list) list_only=yes ;;
    --filter) [ $# -ge 2 ] || { echo "$SUITE: --filter needs a REGEX" >&2; exit 2; }; filter=$2; shift ;;
    --filter=*) filter=${1#--filter=} ;;
    -h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "$SUITE: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "$SUITE: $*" >&2; exit 1; }

have_kvm() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

if [ $list_only = no ] && [ $native_only = no ]; then
  have_kvm || die "no usable /dev/kvm on this machine: enclaves cannot run here (use --native for the native side only)"
  [ -x "$ALCOVE" ] || die "alcove CLI not found at $ALCOVE (build it, or set ALCOVE=PATH)"
fi
