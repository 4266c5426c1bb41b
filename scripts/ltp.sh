#!/usr/bin/env bash
# ltp.sh: runs Linux Test Project (LTP) syscall tests natively and in an alcove enclave, and
# prints how many pass, are skipped (TCONF) and fail on each side.
#
# It builds (once, incrementally afterwards) a static glibc build of LTP's library and of the
# syscall test directories listed in DIRS below, takes each test's command line from LTP's
# runtest/syscalls, and runs every test:
#   - natively, with a timeout, in a fresh temporary directory (TMPDIR set to it);
#   - in an enclave: $ALCOVE run --memory $LTP_MEMORY --rootfs build-ltp/image /bin/sh -c
#     '/ltp/NAME ARGS; exit $?' (busybox's sh as the enclave's PID 1: LTP's library must not be
#     PID 1 itself, it takes a parent of PID 1 for a main process that died), with
#     TMPDIR=/tmp LTPROOT=/ltp PATH=/ltp:/bin LTP_TIMEOUT_MUL=10. The image holds every built test
#     and helper binary (stripped) under /ltp/, the helpers also linked from /ltp/testcases/bin/,
#     where LTP's .resource_files lookup ($LTPROOT/testcases/bin) finds them.
# Both sides get LTP_RUNTIME_MUL (default 0.05): fork13 would otherwise run for 600 s.
# Exit status 0 is a pass, 32 (TCONF) a skip, anything else (and a timeout) a failure, as in LTP.
# One exception, shown as "pass*"/"fail*": a new-API test that exits 0 with an all-zero
# "Summary:" block reported its results into memory the library process never saw (LTP keeps its
# counters in a MAP_SHARED page); it is then judged from its printed TPASS/TFAIL/TBROK/TWARN lines.
#
# Usage: scripts/ltp.sh [--native] [--list] [--filter REGEX]
#   --native        run natively only (no KVM needed)
#   --list          print the tests' command lines (name: command args) and exit (no build)
#   --filter REGEX  only the tests whose name matches REGEX (bash =~, extended regex)
# Environment:
#   LTP_SRC=DIR     an existing LTP checkout to build in (default: build-ltp/src, made with
#                   git clone --depth 1 https://github.com/linux-test-project/ltp when missing)
#   ALCOVE=PATH     the alcove CLI (default: build/src/alcove)
#   LTP_NATIVE_TIMEOUT=S   per-test timeout natively (default 60)
#   LTP_ENCLAVE_TIMEOUT=S  per-test timeout in the enclave (default 600: LTP's own 30 s x 10 first)
#   LTP_RUNTIME_MUL=F      LTP's multiplier of the tests' run times, both sides (default 0.05)
#   LTP_MEMORY=MIB         the enclave's memory (default 512)
# Output: one line per test, a summary, the same in build-ltp/results.txt; each run's output in
# build-ltp/logs/{native,enclave}/NAME.log, the build's in build-ltp/logs/build-*.log.
# Needs Debian packages autoconf automake m4 make gcc libc6-dev pkg-config git (installed with
# apt-get when missing and run as root). Building takes a while; make runs with nice and -j2.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/build-ltp
SRC=${LTP_SRC:-$CACHE/src}
ALCOVE=${ALCOVE:-$ROOT/build/src/alcove}
IMAGE=$CACHE/image
LOGS=$CACHE/logs
RESULTS=$CACHE/results.txt
NATIVE_TIMEOUT=${LTP_NATIVE_TIMEOUT:-60}
ENCLAVE_TIMEOUT=${LTP_ENCLAVE_TIMEOUT:-600}
RUNTIME_MUL=${LTP_RUNTIME_MUL:-0.05}
MEMORY=${LTP_MEMORY:-512}
LTP_URL=https://github.com/linux-test-project/ltp

DIRS="fork vfork execve execv execl execlp execvp wait wait4 waitpid waitid kill setpgid setsid
getpgid getpgrp getsid getppid getpid mmap mprotect munmap madvise msync mincore mremap brk pipe
pipe2 dup dup2 clone exit exit_group shmget shmat shmdt shmctl memfd_create
semget semop semctl msgget msgsnd msgrcv msgctl"

SUITE=ltp.sh
# shellcheck source=lib/suite-args.sh
. "$ROOT/scripts/lib/suite-args.sh"

# --- the source -------------------------------------------------------------------------------
get_source() {
  if [ -n "${LTP_SRC:-}" ]; then
    [ -f "$SRC/runtest/syscalls" ] || die "LTP_SRC=$SRC is not an LTP checkout (no runtest/syscalls)"
    return
  fi
  [ -f "$SRC/runtest/syscalls" ] && return
  command -v git >/dev/null || install_packages git
  echo "== cloning $LTP_URL into $SRC"
  mkdir -p "$(dirname "$SRC")"
  git clone -q --depth 1 "$LTP_URL" "$SRC" || die "git clone $LTP_URL failed"
}


# --- the tests: runtest/syscalls lines whose program is built from one of DIRS -----------------
# Prints "name dir program args..." lines.
test_lines() {
  local d f name prog args
  declare -A dir_of
  for d in $DIRS; do
    for f in "$SRC/testcases/kernel/syscalls/$d"/*.c; do
      [ -e "$f" ] || continue
      f=${f##*/}; f=${f%.c}
      dir_of[$f]=$d
    done
  done
  while read -r name prog args; do
    case $name in ''|'#'*) continue ;; esac
    [ -n "${dir_of[$prog]:-}" ] || continue
    if [ -n "$filter" ] && ! [[ $name =~ $filter ]]; then continue; fi
    echo "$name ${dir_of[$prog]} $prog${args:+ $args}"
  done <"$SRC/runtest/syscalls"
}

# --- the build --------------------------------------------------------------------------------
FAILED_DIRS=()
build() {
  local d start=$SECONDS
  install_packages autoconf automake m4 make gcc libc6-dev pkg-config
  cd "$SRC" || die "cannot cd to $SRC"
  if [ ! -x configure ]; then
    echo "== make autotools"
    nice make autotools >"$LOGS/build-autotools.log" 2>&1 ||
      { tail -20 "$LOGS/build-autotools.log"; die "make autotools failed"; }
  fi
  if [ ! -f include/mk/config.mk ]; then
    echo "== ./configure (static)"
    # LDFLAGS=-static: every test static (an enclave runs static ELF only); configure then finds
    # only the optional libraries that have a .a, and the ones below are left out altogether.
    nice ./configure -q LDFLAGS=-static --without-numa --without-tirpc --without-modules \
      --disable-dependency-tracking >"$LOGS/build-configure.log" 2>&1 ||
      { tail -20 "$LOGS/build-configure.log"; die "./configure failed"; }
  fi
  echo "== make lib/libltp.a"
  nice make -j2 -C lib libltp.a >"$LOGS/build-lib.log" 2>&1 ||
    { tail -20 "$LOGS/build-lib.log"; die "building LTP's library failed"; }
  for d in $DIRS; do
    if nice make -k -j2 -C "testcases/kernel/syscalls/$d" >"$LOGS/build-$d.log" 2>&1; then
      printf '  built %s\n' "$d"
    else
      printf '  FAILED %s (see %s)\n' "$d" "$LOGS/build-$d.log"
      FAILED_DIRS+=("$d")
    fi
  done
  cd "$ROOT" || exit 1
  echo "== build done in $((SECONDS - start)) s; ${#FAILED_DIRS[@]} directories failed${FAILED_DIRS[*]:+: ${FAILED_DIRS[*]}}"
}

# The image: every executable of the built DIRS, stripped, under /ltp/; the ones runtest does not
# name (helpers such as execve_child) also as symbolic links in /ltp/testcases/bin/, for
# .resource_files. (It is about 210 MB, all of it copied into the enclave's memory at boot.)
# Updated in place: a file is copied again only when its build is newer.
make_image() {
  local d f name dst
  declare -A is_test
  while read -r _ _ prog _; do is_test[$prog]=1; done < <(filter='' test_lines)
  mkdir -p "$IMAGE/ltp/testcases/bin" "$IMAGE/tmp" "$IMAGE/bin"
  for d in $DIRS; do
    is_failed_dir "$d" && continue
    for f in "$SRC/testcases/kernel/syscalls/$d"/*; do
      if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
      head -c 4 "$f" | grep -q 'ELF' || continue
      name=${f##*/}
      dst=$IMAGE/ltp/$name
      [ "$dst" -nt "$f" ] || strip -s -o "$dst" "$f" || cp "$f" "$dst"
      if [ -z "${is_test[$name]:-}" ] && [ ! -L "$IMAGE/ltp/testcases/bin/$name" ]; then
        rm -f "$IMAGE/ltp/testcases/bin/$name"
        ln -s "../../$name" "$IMAGE/ltp/testcases/bin/$name"
      fi
    done
  done
  # a shell runs each test: the enclave's first process is its PID 1, and LTP's library takes a
  # parent of PID 1 for a main process that died (heartbeat: "Main test process might have exit")
  [ -x /bin/busybox ] || install_packages busybox-static
  cp /bin/busybox "$IMAGE/bin/busybox"
  ln -sf busybox "$IMAGE/bin/sh"
  # the users and groups tests look up (getpwnam("nobody"))
  mkdir -p "$IMAGE/etc"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' \
    > "$IMAGE/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$IMAGE/etc/group"
  echo "== image $IMAGE: $(find "$IMAGE/ltp" -type f | wc -l) files, $(du -sh "$IMAGE" | cut -f1)"
}

is_failed_dir() {
  local x
  for x in "${FAILED_DIRS[@]}"; do [ "$x" = "$1" ] && return 0; done
  return 1
}

# --- running ----------------------------------------------------------------------------------
# classify RC LOG: pass, skip or fail (with the exit status), as LTP's exit statuses say.
classify() {
  local rc=$1 log=$2 sum
  case $rc in
    124|137) echo "fail(timeout)"; return ;;
    32) echo "skip"; return ;;
    0) ;;
    *) echo "fail($rc)"; return ;;
  esac
  # Exit 0 with an all-zero summary: the results did not reach the library process.
  sum=$(awk '/^Summary:/{s=1;n=0;next} s&&/^(passed|failed|broken|skipped|warnings) /{n+=$2;c++} END{if(c==5)print n}' "$log")
  if [ "$sum" = 0 ]; then
    if grep -Eq '\bT(FAIL|BROK|WARN)\b' "$log"; then echo "fail*"
    elif grep -Eq '\bTPASS\b' "$log"; then echo "pass*"
    elif grep -Eq '\bTCONF\b' "$log"; then echo "skip*"
    else echo "fail*"; fi
    return
  fi
  echo "pass"
}

run_native() { # name prog args...
  local name=$1 prog=$2 rc tmp
  shift 2
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/ltp-$name.XXXXXX")
  chmod 0755 "$tmp" # tests that drop to user nobody still reach their own directory in it
  (cd "$tmp" && TMPDIR=$tmp LTPROOT=$IMAGE/ltp PATH=$IMAGE/ltp:$PATH LTP_RUNTIME_MUL=$RUNTIME_MUL \
    exec timeout -k 10 "$NATIVE_TIMEOUT" "$IMAGE/ltp/$prog" "$@") </dev/null >"$LOGS/native/$name.log" 2>&1
  rc=$?
  rm -rf "$tmp"
  classify $rc "$LOGS/native/$name.log"
}

run_enclave() { # name prog args...
  local name=$1 prog=$2 rc
  shift 2
  timeout -k 10 "$ENCLAVE_TIMEOUT" "$ALCOVE" run --memory "$MEMORY" \
    --env TMPDIR=/tmp --env LTPROOT=/ltp --env PATH=/ltp:/bin --env LTP_TIMEOUT_MUL=10 \
    --env LTP_RUNTIME_MUL="$RUNTIME_MUL" \
    --rootfs "$IMAGE" /bin/sh -c '"$@"; exit $?' sh "/ltp/$prog" "$@" \
    </dev/null >"$LOGS/enclave/$name.log" 2>&1
  rc=$?
  classify $rc "$LOGS/enclave/$name.log"
}

# --- main -------------------------------------------------------------------------------------
mkdir -p "$LOGS"
get_source

if [ $list_only = yes ]; then
  test_lines | while read -r name _ prog args; do echo "$name: $prog${args:+ $args}"; done
  exit 0
fi

build
make_image
mkdir -p "$LOGS/native" "$LOGS/enclave"

declare -A N=([pass]=0 [skip]=0 [fail]=0) E=([pass]=0 [skip]=0 [fail]=0)
both=0 native_pass=0 regressions=() not_built=()
: >"$RESULTS"
out() { echo "$*" | tee -a "$RESULTS"; }
while read -r name dir prog args; do
  if is_failed_dir "$dir" || [ ! -x "$IMAGE/ltp/$prog" ]; then not_built+=("$name"); continue; fi
  # shellcheck disable=SC2086  # the runtest arguments are words
  nr=$(run_native "$name" "$prog" $args)
  nk=${nr%%[(*]*}; N[$nk]=$((N[$nk] + 1))
  er=-
  if [ $native_only = no ]; then
    # shellcheck disable=SC2086
    er=$(run_enclave "$name" "$prog" $args)
    ek=${er%%[(*]*}; E[$ek]=$((E[$ek] + 1))
    if [ "$nk" = pass ]; then
      native_pass=$((native_pass + 1))
      if [ "$ek" = pass ]; then both=$((both + 1)); else regressions+=("$name"); fi
    fi
  fi
  out "$(printf '%-14s native %-14s enclave %s' "$name" "$nr" "$er")"
done < <(test_lines)

total=$((N[pass] + N[skip] + N[fail]))
out ""
out "== summary: $total tests (runtest/syscalls lines of: ${DIRS//$'\n'/ })"
[ ${#FAILED_DIRS[@]} -eq 0 ] || out "directories that did not build (${#FAILED_DIRS[@]}): ${FAILED_DIRS[*]}"
[ ${#not_built[@]} -eq 0 ] || out "tests not run, not built (${#not_built[@]}): ${not_built[*]}"
out "natively:       ${N[pass]} passed, ${N[skip]} skipped, ${N[fail]} failed"
if [ $native_only = no ]; then
  out "in the enclave: ${E[pass]} passed, ${E[skip]} skipped, ${E[fail]} failed"
  pct=0; [ $native_pass -eq 0 ] || pct=$((100 * both / native_pass))
  out "of the $native_pass tests that pass natively, $both pass in the enclave ($pct%)"
  out "pass natively, fail or skip in the enclave (${#regressions[@]}): ${regressions[*]}"
fi
out "results: $RESULTS; logs: $LOGS/{native,enclave}/"
