#!/usr/bin/env bats
# runtimes.bats: Debian's language runtimes, unmodified, on workloads that exercise what they
# need from the enclave kernel (issue 15; dynamic.bats has their basics): OpenJDK 17 with 64
# threads, its garbage collector under -Xmx256m and -Xmx2g in a 1 GiB enclave, exceptions and
# StackOverflowError; node's timers, crypto, zlib and worker threads; python3's threading,
# subprocess and decimal; GNU make running gcc (cc1, as, collect2 and ld, each a process) on a
# small C project. Each runs natively and in an enclave whose --rootfs holds copies of the
# host's files at the same paths: the same stdout, stderr and exit status. The workloads are in
# tests/integration/runtimes/. A runtime that is not installed is skipped, loudly.

load helpers
load rootfs_helpers

W=$SOURCE_ROOT/tests/integration/runtimes

setup() {
  require_kvm
  T=$BATS_TEST_TMPDIR
}

# compare NATIVE_CMD... -- ENCLAVE_CMD...: runs the first command natively from / with only
# PATH in its environment, the second in an enclave on $R (MEM MiB, 1024 by default; CPUS
# vCPUs, 2 by default) with the same PATH; then assert_same.
compare() {
  local native=() st
  while [ "$1" != -- ]; do native+=("$1"); shift; done
  shift
  st=0
  (cd / && env -i PATH=/usr/bin:/bin "${native[@]}") > "$T/native.out" 2> "$T/native.err" || st=$?
  echo "$st" > "$T/native.status"
  st=0
  "$ALCOVE" run --log-file "$T/enclave.log" -m "${MEM:-1024}" -c "${CPUS:-2}" \
    --env PATH=/usr/bin:/bin --rootfs "$R" "$@" > "$T/enclave.out" 2> "$T/enclave.err" || st=$?
  echo "$st" > "$T/enclave.status"
  cat "$T/enclave.out"
  assert_same || { echo "enclave stderr:"; tail -20 "$T/enclave.err"; return 1; }
}

# the trees are built once per file ($BATS_FILE_TMPDIR) and shared by the tests that use them
java_tree() {
  local java
  java=$(readlink -f "$(command -v java || true)" 2> /dev/null || true)
  [ -x "$java" ] && command -v javac > /dev/null || skip "SKIPPED: no JDK (java and javac) installed"
  JDK=${java%/bin/java}
  R=$BATS_FILE_TMPDIR/jdk-root
  [ -e "$R/app/Runtimes.class" ] && return
  rm -rf "$R" && mkdir -p "$R/tmp" "$R/app"
  add_jdk "$JDK"
  javac -d "$R/app" "$W/Runtimes.java"
}

@test "runtimes: java runs 64 threads at once (Debian's OpenJDK 17, default flags)" {
  java_tree
  compare "$JDK/bin/java" -cp "$R/app" Runtimes threads 64 -- "$JDK/bin/java" -cp /app Runtimes threads 64
  grep -qx '64 threads: at most 64 alive at once, sum 19199995' "$T/enclave.out"
}

@test "runtimes: java catches exceptions, a NullPointerException from a fault and StackOverflowError (twice, and in a thread with a small stack)" {
  java_tree
  compare "$JDK/bin/java" -cp "$R/app" Runtimes exceptions -- "$JDK/bin/java" -cp /app Runtimes exceptions
  grep -qx 'caught NullPointerException' "$T/enclave.out"
  grep -qx 'caught StackOverflowError, round 2' "$T/enclave.out"
  grep -qx 'caught StackOverflowError in a thread with a 256 KiB stack' "$T/enclave.out"
  grep -qx 'exceptions done' "$T/enclave.out"
}

# GC_MIB MiB allocated, GC_LIVE MiB of it reachable at any time: the collector must run
@test "runtimes: java's garbage collector runs under -Xmx256m in a 1 GiB enclave" {
  java_tree
  local a="gc ${GC_MIB:-256} ${GC_LIVE:-48}"
  # shellcheck disable=SC2086
  MEM=1024 compare "$JDK/bin/java" -Xmx256m -cp "$R/app" Runtimes $a -- "$JDK/bin/java" -Xmx256m -cp /app Runtimes $a
  grep -qx 'the collector ran: true' "$T/enclave.out"
  grep -qx 'max heap over 1 GiB: false' "$T/enclave.out"
}

@test "runtimes: java's garbage collector runs under -Xmx2g in a 1 GiB enclave (a heap larger than the enclave)" {
  java_tree
  local a="gc ${GC_MIB:-256} ${GC_LIVE:-48}"
  # shellcheck disable=SC2086
  MEM=1024 compare "$JDK/bin/java" -Xmx2g -cp "$R/app" Runtimes $a -- "$JDK/bin/java" -Xmx2g -cp /app Runtimes $a
  grep -qx 'the collector ran: true' "$T/enclave.out"
  grep -qx 'max heap over 1 GiB: true' "$T/enclave.out"
}

@test "runtimes: node's timers (their order), crypto, zlib and worker_threads" {
  command -v node > /dev/null || skip "SKIPPED: node is not installed"
  local node
  node=$(readlink -f "$(command -v node)")
  R=$T/root
  mkdir -p "$R/tmp"
  add_program "$node" /usr/bin/node
  cp "$W/runtimes.js" "$R/"
  compare "$node" "$R/runtimes.js" -- /usr/bin/node /runtimes.js
  grep -qx 'io: immediate' "$T/enclave.out"
  grep -qx 'ecdsa verifies: true and not a changed message: false' "$T/enclave.out"
  grep -qx 'async gzip round trip true' "$T/enclave.out"
  grep -qx "workers' shared total 461500000" "$T/enclave.out"
  grep -qx 'node done' "$T/enclave.out"
}

@test "runtimes: python3's threading, subprocess (itself, a shell, a timeout) and decimal" {
  local py
  py=$(readlink -f /usr/bin/python3)
  [ -x "$py" ] || skip "SKIPPED: python3 is not installed"
  R=$T/root
  mkdir -p "$R/tmp"
  add_python "$py"
  add_program /bin/sh
  cp "$W/runtimes.py" "$R/"
  compare "$py" "$R/runtimes.py" -- /usr/bin/python3 /runtimes.py
  grep -qx 'lock: 8 threads counted 40000' "$T/enclave.out"
  grep -qx 'shell: cba 0' "$T/enclave.out"
  grep -qx 'timeout: the child was killed' "$T/enclave.out"
  grep -qx '1/7 = 0.14285714285714285714285714285714285714285714285714' "$T/enclave.out"
  grep -qx 'python done' "$T/enclave.out"
}

@test "runtimes: GNU make runs gcc (cc1, as, collect2, ld) on two files, links them and runs the result: the same objects and program as natively" {
  command -v make > /dev/null && command -v gcc > /dev/null || skip "SKIPPED: make or gcc is not installed"
  R=$T/root
  mkdir -p "$R/tmp" "$R/src"
  cp "$W"/cproject/* "$R/src/"
  add_gcc "$R/src"/*.c
  mkdir -p "$T/build"
  CPUS=1 compare make -s --no-print-directory -C "$R/src" O="$T/build" run -- \
    /usr/bin/make -s --no-print-directory -C /src O=/tmp run
  grep -q '  prog$' "$T/enclave.out"
  grep -qx 'fib(10) = 55' "$T/enclave.out"
  grep -qx 'hypotenuse(3, 4) = 5.0' "$T/enclave.out"
}
