#!/usr/bin/env bats
# libctest.bats: a quick subset of musl's libc-test (the tests that exercise the enclave kernel:
# processes, threads, signals, files, IPC, sockets) run by scripts/libc-test.sh natively and in
# an enclave; every test of the subset must pass on both sides. The full run is the script's.
# libc-test's sources are not part of alcove and CI has no network: the tests skip, loudly,
# unless LIBCTEST_SRC (or build-libctest/src in the source tree) holds a checkout.
load helpers

SUBSET=(
  functional/argv functional/env functional/clock_gettime functional/fcntl functional/fdopen
  functional/popen functional/spawn functional/vfork functional/pthread_cond
  functional/pthread_tsd functional/pthread_cancel functional/sem_init functional/socket
  functional/stat functional/utime functional/tls_init
  regression/execle-env regression/daemon-failure regression/fflush-exit regression/lseek-large
  regression/raise-race regression/sigaltstack regression/statvfs regression/syscall-sign-extend
)

setup() {
  SRC=${LIBCTEST_SRC:-$SOURCE_ROOT/build-libctest/src}
  if [ ! -f "$SRC/src/common/runtest.c" ]; then
    echo "# NO libc-test sources at $SRC: libctest.bats is SKIPPED, not passed. Get them with" \
      "'git clone https://repo.or.cz/libc-test.git $SOURCE_ROOT/build-libctest/src' (or set" \
      "LIBCTEST_SRC to a checkout)" >&3
    skip "no libc-test sources (git clone https://repo.or.cz/libc-test.git build-libctest/src)"
  fi
  command -v musl-gcc >/dev/null || skip "no musl-gcc (Debian package musl-tools)"
  filter="^($(IFS='|'; echo "${SUBSET[*]}"))\$"
}

# the quick subset through the script; $1: --native or nothing
run_subset() {
  run env LIBCTEST_SRC="$SRC" LIBCTEST_OUT="$BATS_TEST_TMPDIR/out" ALCOVE="$ALCOVE" \
    LIBCTEST_ENCLAVE_TIMEOUT=300 "$SOURCE_ROOT/scripts/libc-test.sh" "$@" --filter "$filter"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "libc-test's quick subset passes natively (static musl)" {
  run_subset --native
  echo "$output" | grep -qx "natively: *${#SUBSET[@]} passed, 0 failed"
}

@test "libc-test's quick subset passes in an enclave as it does natively" {
  require_kvm
  run_subset
  echo "$output" | grep -qx "${#SUBSET[@]} pass natively, ${#SUBSET[@]} of those pass in the enclave (100%)"
}
