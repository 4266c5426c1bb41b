# suite-args.sh: what scripts/ltp.sh, scripts/libc-test.sh and scripts/cpython-tests.sh share:
# their options, the check that enclaves can run, and installing missing Debian packages.
# Sourced after the script has set SUITE (its name in messages) and ALCOVE; sets native_only,
# list_only and filter.
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

# install_packages PKG...: the Debian packages that are missing, with apt-get when run as root
# (its output in $LOGS/apt-get.log), or a stop that names them ($INSTALL_HINT: another way out).
install_packages() {
  local missing=() p
  command -v dpkg >/dev/null || return 0
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "missing Debian packages: ${missing[*]} (install them, or run as root${INSTALL_HINT:+, $INSTALL_HINT})"
  fi
  echo "== installing Debian packages: ${missing[*]}"
  mkdir -p "$LOGS"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    >"$LOGS/apt-get.log" 2>&1 || { tail -20 "$LOGS/apt-get.log"; die "apt-get install failed"; }
}

have_kvm() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

if [ $list_only = no ] && [ $native_only = no ]; then
  have_kvm || die "no usable /dev/kvm on this machine: enclaves cannot run here (use --native for the native side only)"
  [ -x "$ALCOVE" ] || die "alcove CLI not found at $ALCOVE (build it, or set ALCOVE=PATH)"
fi
