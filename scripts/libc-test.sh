#!/usr/bin/env bash
# libc-test.sh: runs musl's libc-test (its functional and regression tests) natively and in an
# alcove enclave, and prints how many pass on each side.
#
# It builds (once, incrementally afterwards) every test of the directories in LIBCTEST_DIRS as a
# static musl program with Debian's musl-gcc, through libc-test's own Makefile (the tests that
# libc-test itself builds statically: the dlopen and dynamic-TLS tests exist only as dynamic
# programs and are left out; math has no static programs upstream, its tests are linked
# statically here). Then it runs every test:
#   - natively, with a timeout, in a fresh temporary directory (TMPDIR set to it);
#   - in an enclave: $ALCOVE run --memory $LIBCTEST_MEMORY --rootfs build-libctest/image
#     /bin/sh -c '/t/DIR/NAME; exit $?' (busybox's sh runs the test, so the test is not the
#     enclave's PID 1, as natively), with alcove's own messages in a separate log (--log-file).
#     The image holds the stripped tests under /t/DIR/, busybox as /bin/sh and its applets
#     (popen, posix_spawnp and execle tests run "echo" and "sh"), /tmp, /etc/passwd.
# A test passes as libc-test's Makefile judges it (src/common/runtest.c and the REPORT rule): it
# exits with status 0 and prints nothing (a failed check prints a line and sets the status).
# Natively the test runs directly, not under libc-test's runtest (which also lowers
# RLIMIT_STACK to 100 KiB for the test); the timeout replaces runtest's 5 s.
#
# Usage: scripts/libc-test.sh [--native] [--list] [--filter REGEX]
#   --native        run natively only (no KVM needed)
#   --list          print the tests' names (DIR/NAME) and exit (no build)
#   --filter REGEX  only the tests whose DIR/NAME matches REGEX (bash =~, extended regex)
# Environment:
#   LIBCTEST_SRC=DIR   an existing libc-test checkout to build in (default: build-libctest/src,
#                      made with git clone https://repo.or.cz/libc-test.git when missing)
#   LIBCTEST_DIRS="functional regression"  which of libc-test's src/ directories (math too)
#   LIBCTEST_OUT=DIR   where the image, the logs and results.txt go (default: build-libctest)
#   ALCOVE=PATH        the alcove CLI (default: build/src/alcove)
#   LIBCTEST_NATIVE_TIMEOUT=S   per-test timeout natively (default 20)
#   LIBCTEST_ENCLAVE_TIMEOUT=S  per-test timeout in the enclave (default 120)
#   LIBCTEST_MEMORY=MIB         the enclave's memory (default 256)
# Output: one line per test, a summary, the same in build-libctest/results.txt; each run's output
# in build-libctest/logs/{native,enclave}/DIR/NAME.log (alcove's log beside it as NAME.alcove),
# the build's in build-libctest/logs/build.log.
# Needs Debian packages musl-tools make git busybox-static (installed with apt-get when missing
# and run as root). make runs with nice and -j2.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/build-libctest
SRC=${LIBCTEST_SRC:-$CACHE/src}
OUT=${LIBCTEST_OUT:-$CACHE}
ALCOVE=${ALCOVE:-$ROOT/build/src/alcove}
IMAGE=$OUT/image
LOGS=$OUT/logs
RESULTS=$OUT/results.txt
DIRS=${LIBCTEST_DIRS:-functional regression}
NATIVE_TIMEOUT=${LIBCTEST_NATIVE_TIMEOUT:-20}
ENCLAVE_TIMEOUT=${LIBCTEST_ENCLAVE_TIMEOUT:-120}
MEMORY=${LIBCTEST_MEMORY:-256}
LIBCTEST_URL=https://repo.or.cz/libc-test.git

SUITE=libc-test.sh
# shellcheck source=lib/suite-args.sh
. "$ROOT/scripts/lib/suite-args.sh"
for d in $DIRS; do
  case $d in functional|regression|math) ;; *) die "LIBCTEST_DIRS: unknown directory '$d' (functional, regression, math)" ;; esac
done

# --- the source -------------------------------------------------------------------------------
is_checkout() { [ -f "$1/Makefile" ] && [ -f "$1/src/common/runtest.c" ] && [ -d "$1/src/functional" ]; }

get_source() {
  if [ -n "${LIBCTEST_SRC:-}" ]; then
    is_checkout "$SRC" || die "LIBCTEST_SRC=$SRC is not a libc-test checkout (no Makefile, src/common/runtest.c)"
    return
  fi
  is_checkout "$SRC" && return
  command -v git >/dev/null || install_packages git
  echo "== cloning $LIBCTEST_URL into $SRC"
  mkdir -p "$(dirname "$SRC")"
  git clone -q "$LIBCTEST_URL" "$SRC" || die "git clone $LIBCTEST_URL failed (or set LIBCTEST_SRC to a checkout)"
}


# libc-test's settings for musl (its config.mak.def less the glibc-only libraries), written when
# the checkout has no config.mak of its own.
write_config() {
  [ -f "$SRC/config.mak" ] && return
  cat >"$SRC/config.mak" <<'EOF'
# written by alcove's scripts/libc-test.sh: static musl programs with Debian's musl-gcc
CC = musl-gcc
CFLAGS += -pipe -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wno-unused-function -Wno-missing-braces -Wno-unused -Wno-overflow
CFLAGS += -Wno-unknown-pragmas -fno-builtin -frounding-math
CFLAGS += -Werror=implicit-function-declaration -Werror=implicit-int -Werror=pointer-sign -Werror=pointer-arith
LDLIBS += -lpthread -lm -lrt
EOF
}

# --- the tests: DIR/NAME, from the programs libc-test's Makefile would build ------------------
# A directory with static programs (functional, regression) gives those; one with only dynamic
# ones (math) gives all of them, to be linked statically here.
ALL_TESTS=()
find_tests() {
  local bins d b names
  bins=$(make -s -C "$SRC" debug 2>/dev/null | sed -n 's/^BINS //p') || true
  [ -n "$bins" ] || die "make debug in $SRC listed no programs"
  for d in $DIRS; do
    names=$(tr ' ' '\n' <<<"$bins" | sed -n "s|^src/$d/\(.*\)-static\.exe\$|$d/\1|p")
    [ -n "$names" ] || names=$(tr ' ' '\n' <<<"$bins" | sed -n "s|^src/$d/\(.*\)\.exe\$|$d/\1|p")
    for b in $names; do
      if [ -n "$filter" ] && ! [[ $b =~ $filter ]]; then continue; fi
      ALL_TESTS+=("$b")
    done
  done
}

# --- the build --------------------------------------------------------------------------------
build() {
  local start=$SECONDS t targets=() failed=0
  install_packages musl-tools
  for t in "${ALL_TESTS[@]}"; do targets+=("src/$t-static.exe"); done
  echo "== building ${#targets[@]} tests (static, musl-gcc)"
  # libc-test's rules print BUILDERROR and go on: a missing program is the failure
  nice make -k -j2 -C "$SRC" "${targets[@]}" >"$LOGS/build.log" 2>&1
  for t in "${ALL_TESTS[@]}"; do [ -x "$SRC/src/$t-static.exe" ] || failed=$((failed + 1)); done
  echo "== build done in $((SECONDS - start)) s; $failed tests did not build (see $LOGS/build.log)"
}

# The image: the stripped tests under /t/DIR/, busybox and its applets in /bin, /tmp, the users.
# Updated in place: a test is copied again only when its build is newer.
make_image() {
  local t dst
  install_packages busybox-static
  mkdir -p "$IMAGE/bin" "$IMAGE/tmp" "$IMAGE/etc"
  for t in "${ALL_TESTS[@]}"; do
    [ -x "$SRC/src/$t-static.exe" ] || continue
    dst=$IMAGE/t/$t
    mkdir -p "${dst%/*}"
    [ "$dst" -nt "$SRC/src/$t-static.exe" ] || strip -s -o "$dst" "$SRC/src/$t-static.exe" ||
      cp "$SRC/src/$t-static.exe" "$dst"
  done
  if [ ! -x "$IMAGE/bin/busybox" ]; then
    cp /bin/busybox "$IMAGE/bin/busybox"
    for t in $("$IMAGE/bin/busybox" --list); do
      [ -e "$IMAGE/bin/$t" ] || ln -s busybox "$IMAGE/bin/$t"
    done
  fi
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' \
    >"$IMAGE/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$IMAGE/etc/group"
  echo "== image $IMAGE: $(find "$IMAGE/t" -type f | wc -l) tests, $(du -sh "$IMAGE" | cut -f1)"
}

# --- running ----------------------------------------------------------------------------------
# classify RC LOG: pass (status 0, no output), or fail with why: the status, the signal, a
# timeout, or "output" for status 0 with a failed check's lines.
classify() {
  local rc=$1 log=$2
  case $rc in
    0) if [ -s "$log" ]; then echo "fail(output)"; else echo "pass"; fi ;;
    124|137) echo "fail(timeout)" ;;
    129|13[0-9]|14[0-9]|15[0-9]) echo "fail(SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128))))" ;;
    *) echo "fail($rc)" ;;
  esac
}

run_native() { # test
  local t=$1 rc tmp log=$LOGS/native/$1.log
  mkdir -p "${log%/*}"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/libctest.XXXXXX")
  (cd "$tmp" && TMPDIR=$tmp exec timeout -k 5 "$NATIVE_TIMEOUT" "$IMAGE/t/$t") </dev/null >"$log" 2>&1
  rc=$?
  rm -rf "$tmp"
  classify $rc "$log"
}

run_enclave() { # test
  local t=$1 rc log=$LOGS/enclave/$1.log
  mkdir -p "${log%/*}"
  timeout -k 10 "$ENCLAVE_TIMEOUT" "$ALCOVE" run --memory "$MEMORY" --log-file "${log%.log}.alcove" \
    --env TMPDIR=/tmp --env PATH=/bin --rootfs "$IMAGE" /bin/sh -c '"$@"; exit $?' sh "/t/$t" \
    </dev/null >"$log" 2>&1
  rc=$?
  classify $rc "$log"
}

# --- main -------------------------------------------------------------------------------------
mkdir -p "$LOGS"
get_source
command -v make >/dev/null || install_packages make
write_config # before make reads the Makefile: it would copy config.mak.def (glibc's settings)
find_tests
# shellcheck disable=SC2016  # the quotes around $filter are text: it expands
[ ${#ALL_TESTS[@]} -gt 0 ] || die "no tests match${filter:+ --filter '$filter'}"

if [ $list_only = yes ]; then
  printf '%s\n' "${ALL_TESTS[@]}"
  exit 0
fi

build
make_image

declare -A N=([pass]=0 [fail]=0) E=([pass]=0 [fail]=0)
both=0 native_pass=0 regressions=() not_built=() enclave_only=()
: >"$RESULTS"
out() { echo "$*" | tee -a "$RESULTS"; }
for t in "${ALL_TESTS[@]}"; do
  if [ ! -x "$IMAGE/t/$t" ]; then not_built+=("$t"); continue; fi
  nr=$(run_native "$t")
  nk=${nr%%(*}; N[$nk]=$((N[$nk] + 1))
  er=-
  if [ $native_only = no ]; then
    er=$(run_enclave "$t")
    ek=${er%%(*}; E[$ek]=$((E[$ek] + 1))
    if [ "$nk" = pass ]; then
      native_pass=$((native_pass + 1))
      if [ "$ek" = pass ]; then both=$((both + 1)); else regressions+=("$t"); fi
    elif [ "$ek" = pass ]; then
      enclave_only+=("$t")
    fi
  fi
  out "$(printf '%-44s native %-16s enclave %s' "$t" "$nr" "$er")"
done

total=$((N[pass] + N[fail]))
out ""
# shellcheck disable=SC2016
out "== summary: $total tests of libc-test's ${DIRS} (static musl)${filter:+, --filter '$filter'}"
[ ${#not_built[@]} -eq 0 ] || out "tests not run, not built (${#not_built[@]}): ${not_built[*]}"
out "natively:       ${N[pass]} passed, ${N[fail]} failed"
if [ $native_only = no ]; then
  out "in the enclave: ${E[pass]} passed, ${E[fail]} failed"
  pct=0; [ $native_pass -eq 0 ] || pct=$((100 * both / native_pass))
  out "${native_pass} pass natively, ${both} of those pass in the enclave (${pct}%)"
  out "pass natively, fail in the enclave (${#regressions[@]}): ${regressions[*]}"
  [ ${#enclave_only[@]} -eq 0 ] || out "fail natively, pass in the enclave (${#enclave_only[@]}): ${enclave_only[*]}"
fi
out "results: $RESULTS; logs: $LOGS/{native,enclave}/"
