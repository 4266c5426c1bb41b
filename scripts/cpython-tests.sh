#!/usr/bin/env bash
# cpython-tests.sh: runs CPython's own regression tests (Debian's libpython3.11-testsuite) with
# Debian's dynamic python3, natively and in an alcove enclave, one test module per run, and
# prints per module how many tests ran, failed, had errors and were skipped on each side.
#
# The image (build-cpython/image) holds Debian's python3 at /usr/bin/python3, its standard
# library with the test package (the modules run compiled beforehand: neither side compiles
# them, and the enclave could not keep the result on its read-only image), the libraries its
# extension modules need, /bin/sh and a few coreutils the tests start, /tmp, and the host's
# /etc files that name users, hosts, protocols, services and the time zone. Each module runs
# as `python3 -m test -v MODULE` (regrtest, no -u resources: no network, no large files, no
# CPU-heavy extras; its working directory under TMPDIR):
#   - natively: the image's copy of the host's python3 (IMAGE/usr/bin/python3: Python finds its
#     standard library, and so the test package, beside itself, and sys.executable is that copy
#     for the interpreters the tests start, -I isolated ones included; the host's loader and
#     libraries), in a fresh temporary directory (TMPDIR set to it), with
#     env -i PATH=/usr/bin:/bin HOME=/root TMPDIR=... LANG=C.UTF-8;
#   - in an enclave: $ALCOVE run --memory $CPYTHON_MEMORY --cpu-count $CPYTHON_CPUS --rootfs
#     IMAGE /usr/bin/python3 -m test -v MODULE, with the same variables (TMPDIR=/tmp).
# Both sides run as the user who runs the script (root in CI and in the KVM VM).
# Two modules get regrtest options of their own, on both sides (MODULE_ARGS below):
# test_socketserver is gated as a whole on the "network" resource, though its servers and
# clients are on 127.0.0.1 and AF_UNIX only, so it runs with -u network; test_socket's AF_VSOCK
# classes (-i '*VSOCK*') connect to the machine's own vsock CID, which needs a loopback vsock
# transport (a container with /dev/vsock but none hangs in them natively; an enclave's vsock
# reaches only its parent).
# Counts come from unittest's own lines in the -v output: "Ran N tests" and "OK (skipped=S)" or
# "FAILED (failures=F, errors=E, skipped=S)"; passed = run - failures - errors - skipped
# (expected failures count as passed, as unittest counts them). A module that regrtest skips as
# a whole, or that crashes or times out before unittest's summary, is shown as such.
#
# The modules: those whose tests go through what an enclave kernel provides, and that run in
# minutes without the network or a display.
#   processes and their environment: test_os, test_posix, test_posixpath, test_subprocess,
#     test_wait3, test_wait4, test_fork1, test_popen, test_resource, test_pwd, test_grp,
#     test_platform;
#   signals and time: test_signal, test_eintr, test_time, test_faulthandler;
#   threads: test_threading, test_thread, test_threading_local, test_queue,
#     test_concurrent_futures (thread and process pools, a few minutes);
#   polling and sockets (AF_UNIX, loopback, socketpair; the network resource is off but for
#     test_socketserver, see above): test_select, test_selectors, test_poll, test_epoll,
#     test_socket, test_socketserver;
#   files and memory: test_fcntl, test_mmap, test_fileio, test_io, test_file, test_stat,
#     test_tempfile, test_shutil, test_pathlib, test_glob, test_fileinput, test_pty,
#     test_tarfile, test_zipfile;
#   computation through extension modules the loader maps (lib-dynload, libz, libbz2, liblzma,
#     libcrypto, libmpdec): test_json, test_re, test_hashlib, test_zlib, test_bz2, test_lzma,
#     test_decimal, test_struct, test_uuid (test_sqlite3 belongs here, but Debian's package
#     does not ship it).
# Left out: modules that need the network (test_ssl, test_urllib2net, test_imaplib, ...), a
# display (test_tkinter, test_idle), or a long time (test_asyncio, test_multiprocessing_*: tens
# of minutes natively), and the ones about the interpreter more than the kernel (test_capi,
# test_gdb, test_peepholer, ...).
#
# Usage: scripts/cpython-tests.sh [--native] [--list] [--filter REGEX]
#   --native        run natively only (no KVM needed)
#   --list          print the modules and exit (no image)
#   --filter REGEX  only the modules whose name matches REGEX (bash =~, extended regex)
# Environment:
#   CPYTHON_MODULES="test_os test_json"  the modules to run instead of the list above
#   CPYTHON_TESTSUITE=DIR  the root of an unpacked libpython3.11-testsuite package (dpkg-deb -x),
#                          instead of the installed package (apt-get download and dpkg-deb -x
#                          give one without installing it)
#   CPYTHON_OUT=DIR        where the logs and results.txt go (default: build-cpython)
#   CPYTHON_IMAGE=DIR      the image, made when missing or out of date (default:
#                          build-cpython/image)
#   ALCOVE=PATH            the alcove CLI (default: build/src/alcove)
#   CPYTHON_NATIVE_TIMEOUT=S   per-module timeout natively (default 600)
#   CPYTHON_ENCLAVE_TIMEOUT=S  per-module timeout in the enclave (default 1800)
#   CPYTHON_MEMORY=MIB         the enclave's memory (default 2048)
#   CPYTHON_CPUS=N             the enclave's vCPUs (default 2)
#   CPYTHON_TIME_BUDGET=S      start no module after S seconds (default: no limit; for the
#                              emulated VM); the modules left are named in the summary
# Output: one line per module, a summary, the same in build-cpython/results.txt; each run's
# output in build-cpython/logs/{native,enclave}/MODULE.log (alcove's log beside it as
# MODULE.alcove), and the tests that failed or were skipped in the enclave only in
# build-cpython/logs/differences.txt.
# Needs Debian packages python3 and libpython3.11-testsuite (installed with apt-get when
# missing and run as root, unless CPYTHON_TESTSUITE is given).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${CPYTHON_OUT:-$ROOT/build-cpython}
ALCOVE=${ALCOVE:-$ROOT/build/src/alcove}
IMAGE=${CPYTHON_IMAGE:-$ROOT/build-cpython/image}
LOGS=$OUT/logs
RESULTS=$OUT/results.txt
NATIVE_TIMEOUT=${CPYTHON_NATIVE_TIMEOUT:-600}
ENCLAVE_TIMEOUT=${CPYTHON_ENCLAVE_TIMEOUT:-1800}
MEMORY=${CPYTHON_MEMORY:-2048}
CPUS=${CPYTHON_CPUS:-2}

MODULES=${CPYTHON_MODULES:-"test_os test_posix test_posixpath test_subprocess test_wait3
test_wait4 test_fork1 test_popen test_resource test_pwd test_grp test_platform test_signal
test_eintr test_time test_faulthandler test_threading test_thread test_threading_local test_queue
test_concurrent_futures test_select test_selectors test_poll test_epoll test_socket
test_socketserver test_fcntl test_mmap test_fileio test_io test_file test_stat test_tempfile
test_shutil test_pathlib test_glob test_fileinput test_pty test_tarfile test_zipfile test_json
test_re test_hashlib test_zlib test_bz2 test_lzma test_decimal test_struct
test_uuid"}

declare -A MODULE_ARGS=([test_socketserver]="-u network" [test_socket]="-i *VSOCK*")

SUITE=cpython-tests.sh
# shellcheck source=lib/suite-args.sh
. "$ROOT/scripts/lib/suite-args.sh"
INSTALL_HINT="or set CPYTHON_TESTSUITE"
# shellcheck source=../tests/integration/rootfs_helpers.bash
. "$ROOT/tests/integration/rootfs_helpers.bash"

ALL=()
for m in $MODULES; do
  if [ -n "$filter" ] && ! [[ $m =~ $filter ]]; then continue; fi
  ALL+=("$m")
done
# shellcheck disable=SC2016  # the quotes around $filter are text: it expands
[ ${#ALL[@]} -gt 0 ] || die "no modules match${filter:+ --filter '$filter'}"
if [ $list_only = yes ]; then
  printf '%s\n' "${ALL[@]}"
  exit 0
fi


# --- the interpreter and its test package -----------------------------------------------------
mkdir -p "$LOGS/native" "$LOGS/enclave"
[ -x /usr/bin/python3 ] || install_packages python3
PY=$(readlink -f /usr/bin/python3)
VER=${PY##*/}                 # python3.11
LIBDIR=/usr/lib/$VER
PKG=lib$VER-testsuite
TESTSRC=$LIBDIR               # where the test_*.py files are: the installed package's place
if [ -n "${CPYTHON_TESTSUITE:-}" ]; then
  [ -f "$CPYTHON_TESTSUITE$LIBDIR/test/test_os.py" ] ||
    die "CPYTHON_TESTSUITE=$CPYTHON_TESTSUITE has no $LIBDIR/test/test_os.py (an unpacked $PKG?)"
  TESTSRC=$CPYTHON_TESTSUITE$LIBDIR
elif [ ! -f "$LIBDIR/test/test_os.py" ]; then
  install_packages "$PKG"
fi

# The image: python3, its standard library with the test package, the tools tests start.
# Made again when the interpreter, the test package's source, this function or add_python
# changed.
make_image() {
  local stamp p
  stamp="$PY $(stat -c %Y "$PY") $TESTSRC $(stat -c %Y "$TESTSRC/test/test_os.py") $(declare -f make_image add_python | md5sum)"
  if [ -f "$IMAGE/.stamp" ] && [ "$(cat "$IMAGE/.stamp")" = "$stamp" ]; then
    echo "== image $IMAGE (up to date)"
    return
  fi
  echo "== making the image $IMAGE"
  rm -rf "$IMAGE"
  mkdir -p "$IMAGE/tmp" "$IMAGE/etc" "$IMAGE/root"
  R=$IMAGE add_python "$PY" --with-tests >"$LOGS/image.log" 2>&1 || die "add_python failed (see $LOGS/image.log)"
  if [ "$TESTSRC" != "$LIBDIR" ]; then
    cp -a "$TESTSRC/." "$IMAGE$LIBDIR/" || die "copying $TESTSRC failed"
  fi
  # the programs tests start: a shell (subprocess, os.system, popen), a few commands, and the
  # archivers test_shutil compares its archives with (when the host has them)
  for p in /bin/sh /bin/dash /bin/bash /bin/cat /bin/echo /bin/true /bin/false /bin/ls /bin/sleep \
           /bin/pwd /bin/uname /usr/bin/env /usr/bin/printenv /usr/bin/id /bin/tar /usr/bin/zip \
           /usr/bin/unzip; do
    [ -e "$p" ] || continue
    R=$IMAGE add_program "$p" "$p" >>"$LOGS/image.log" 2>&1 || true
  done
  # the host's users, names and services, so that both sides look up the same ones (glibc's
  # "files" NSS is in libc.so.6 itself): test_pwd, test_grp, localhost and getservbyname in
  # test_socket, the local time zone in test_time
  for p in /etc/passwd /etc/group /etc/hosts /etc/host.conf /etc/nsswitch.conf /etc/protocols \
           /etc/services /etc/gai.conf /etc/localtime; do
    [ -e "$p" ] && cp -L "$p" "$IMAGE$p"
  done
  echo "$stamp" >"$IMAGE/.stamp"
  echo "== image $IMAGE: $(du -sh "$IMAGE" | cut -f1)"
}

# --- running ----------------------------------------------------------------------------------
# counts LOG RC: "RUN FAIL ERR SKIP VERDICT" from unittest's lines in LOG (summed over every
# "Ran" of the run) and regrtest's status RC.
counts() {
  local log=$1 rc=$2 verdict
  case $rc in
    0) verdict=ok ;;
    124|137) verdict=timeout ;;
    *) verdict="rc$rc" ;;
  esac
  grep -q -E '^test_[a-z0-9_]+ skipped( \(resource denied\))? -- ' "$log" &&
    ! grep -q -E '^Ran [0-9]+ tests?' "$log" && verdict=module-skipped
  awk -v verdict="$verdict" '
    /^Ran [0-9]+ tests? in / { run += $2; seen = 1 }
    /^(OK|FAILED)( \(|$)/ {
      s = $0; sub(/^[A-Z]+ ?\(?/, "", s); sub(/\)$/, "", s)
      n = split(s, parts, ", ")
      for (i = 1; i <= n; i++) {
        split(parts[i], kv, "=")
        if (kv[1] == "failures") fail += kv[2]
        else if (kv[1] == "errors") err += kv[2]
        else if (kv[1] == "skipped") skip += kv[2]
      }
    }
    END {
      if (!seen && verdict == "ok") verdict = "no-tests"
      printf "%d %d %d %d %s\n", run, fail, err, skip, verdict
    }' "$log"
}

# the tests a log names as failed, with errors, or skipped: "KIND ID" lines, sorted
outcomes() {
  sed -n -E 's/^(FAIL|ERROR): [^ ]+ \(([^)]+)\).*/\1 \2/p;
             s/^([^ ]+) \(([^)]+)\) \.\.\. skipped .*/SKIP \2/p' "$1" | sort -u
}

env_vars() { # TMPDIR
  echo PATH=/usr/bin:/bin HOME=/root TMPDIR="$1" LANG=C.UTF-8
}

run_native() { # module
  local m=$1 rc tmp log=$LOGS/native/$1.log extra=()
  read -r -a extra <<<"${MODULE_ARGS[$m]:-}" # words, never globbed
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/cpython.XXXXXX")
  # shellcheck disable=SC2046  # the variables are words
  (cd "$tmp" && exec timeout -k 10 "$NATIVE_TIMEOUT" env -i $(env_vars "$tmp") \
    "$IMAGE/usr/bin/python3" -m test -v "${extra[@]}" "$m") </dev/null >"$log" 2>&1
  rc=$?
  rm -rf "$tmp"
  counts "$log" $rc
}

run_enclave() { # module
  local m=$1 rc log=$LOGS/enclave/$1.log v args=() extra=()
  read -r -a extra <<<"${MODULE_ARGS[$m]:-}"
  for v in $(env_vars /tmp); do args+=(--env "$v"); done
  timeout -k 10 "$ENCLAVE_TIMEOUT" "$ALCOVE" run --memory "$MEMORY" --cpu-count "$CPUS" \
    --log-file "${log%.log}.alcove" "${args[@]}" --rootfs "$IMAGE" \
    /usr/bin/python3 -m test -v "${extra[@]}" "$m" </dev/null >"$log" 2>&1
  rc=$?
  counts "$log" $rc
}

fmt() { # RUN FAIL ERR SKIP VERDICT
  printf '%4d run %3d fail %3d err %3d skip %-6s' "$1" "$2" "$3" "$4" "$5"
}

# --- main -------------------------------------------------------------------------------------
make_image
# the modules to run compiled (the rest of the test package stays source: compiling all of it
# takes minutes in the emulated VM); compileall skips what is up to date
for m in "${ALL[@]}"; do
  for p in "$IMAGE$LIBDIR/test/$m.py" "$IMAGE$LIBDIR/test/$m"; do
    [ -e "$p" ] && "$PY" -m compileall -q "$p" >>"$LOGS/compile.log" 2>&1
  done
done

declare -A N=([run]=0 [fail]=0 [err]=0 [skip]=0 [pass]=0) E=([run]=0 [fail]=0 [err]=0 [skip]=0 [pass]=0)
fewer=() differ=() not_run=()
: >"$RESULTS"
: >"$LOGS/differences.txt"
out() { echo "$*" | tee -a "$RESULTS"; }
for m in "${ALL[@]}"; do
  if [ -n "${CPYTHON_TIME_BUDGET:-}" ] && [ $SECONDS -ge "$CPYTHON_TIME_BUDGET" ]; then
    not_run+=("$m"); continue
  fi
  start=$SECONDS
  read -r nr nf ne ns nv < <(run_native "$m")
  np=$((nr - nf - ne - ns))
  N[run]=$((N[run] + nr)); N[fail]=$((N[fail] + nf)); N[err]=$((N[err] + ne))
  N[skip]=$((N[skip] + ns)); N[pass]=$((N[pass] + np))
  tn=$((SECONDS - start))
  line="$(printf '%-24s native %s' "$m" "$(fmt "$nr" "$nf" "$ne" "$ns" "$nv")")"
  if [ $native_only = no ]; then
    start=$SECONDS
    read -r er ef ee es ev < <(run_enclave "$m")
    ep=$((er - ef - ee - es))
    E[run]=$((E[run] + er)); E[fail]=$((E[fail] + ef)); E[err]=$((E[err] + ee))
    E[skip]=$((E[skip] + es)); E[pass]=$((E[pass] + ep))
    line="$line  enclave $(fmt "$er" "$ef" "$ee" "$es" "$ev") ${tn}s/$((SECONDS - start))s"
    [ $ep -ge $np ] || fewer+=("$m($ep/$np)")
    if [ "$nr $nf $ne $ns $nv" != "$er $ef $ee $es $ev" ]; then
      differ+=("$m")
      {
        echo "== $m: in the enclave only"
        comm -13 <(outcomes "$LOGS/native/$m.log") <(outcomes "$LOGS/enclave/$m.log")
        echo "== $m: natively only"
        comm -23 <(outcomes "$LOGS/native/$m.log") <(outcomes "$LOGS/enclave/$m.log")
      } >>"$LOGS/differences.txt"
    fi
  else
    line="$line ${tn}s"
  fi
  out "$line"
done

sum() { # array name
  local -n a=$1
  echo "${a[run]} run, ${a[pass]} passed, ${a[fail]} failures, ${a[err]} errors, ${a[skip]} skipped"
}
out ""
# shellcheck disable=SC2016
out "== summary: ${#ALL[@]} modules of CPython $("$PY" -c 'import platform; print(platform.python_version())')'s test suite${filter:+, --filter '$filter'}"
[ ${#not_run[@]} -eq 0 ] || out "modules not run, out of CPYTHON_TIME_BUDGET (${#not_run[@]}): ${not_run[*]}"
out "natively:       $(sum N)"
if [ $native_only = no ]; then
  out "in the enclave: $(sum E)"
  out "modules where the enclave differs (${#differ[@]}): ${differ[*]}"
  out "modules where the enclave passes fewer tests (${#fewer[@]}): ${fewer[*]}"
  out "the tests behind the differences: $LOGS/differences.txt"
fi
out "results: $RESULTS; logs: $LOGS/{native,enclave}/"
