#!/usr/bin/env bats
# cpython.bats: a quick subset of CPython's own regression tests (Debian's
# libpython3.11-testsuite) run by scripts/cpython-tests.sh with Debian's python3, natively and
# in an enclave: the enclave must pass at least as many tests of each module as the native run.
# The modules are fast ones that go through the enclave kernel (files and descriptors, fcntl
# locks, select/poll, temporary files, processes and their ids); the full list is the script's.
# The test package is a Debian package of its own: without it (installed, or unpacked with
# CPYTHON_TESTSUITE) the tests skip, loudly. The image is made once in build-cpython/image.
load helpers

SUBSET=(test_fcntl test_select test_tempfile test_glob test_posix)

setup() {
  local py
  py=$(readlink -f /usr/bin/python3 2>/dev/null) || py=
  [ -x "$py" ] || skip "SKIPPED: python3 is not installed"
  if [ -z "${CPYTHON_TESTSUITE:-}" ] && [ ! -f "/usr/lib/${py##*/}/test/test_os.py" ]; then
    echo "# NO CPython test suite (/usr/lib/${py##*/}/test/test_os.py): cpython.bats is SKIPPED," \
      "not passed. Install lib${py##*/}-testsuite (scripts/setup.sh) or set CPYTHON_TESTSUITE" \
      "to an unpacked copy (dpkg-deb -x)" >&3
    skip "no lib${py##*/}-testsuite"
  fi
}

# the subset through the script; $1: --native or nothing
run_subset() {
  run env CPYTHON_MODULES="${SUBSET[*]}" CPYTHON_OUT="$BATS_TEST_TMPDIR/out" ALCOVE="$ALCOVE" \
    CPYTHON_ENCLAVE_TIMEOUT=1200 "$SOURCE_ROOT/scripts/cpython-tests.sh" "$@"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "cpython: the quick subset of CPython's tests runs natively, without failures or errors" {
  run_subset --native
  local m
  for m in "${SUBSET[@]}"; do
    # "MODULE native N run 0 fail 0 err S skip ok"
    echo "$output" | grep -Eq "^$m +native +[1-9][0-9]* run +0 fail +0 err +[0-9]+ skip ok "
  done
}

@test "cpython: in an enclave the quick subset passes as many tests of each module as natively" {
  require_kvm
  run_subset
  echo "$output" | grep -qx 'modules where the enclave passes fewer tests (0): '
  # every module ran in the enclave, to unittest's summary
  local m
  for m in "${SUBSET[@]}"; do
    echo "$output" | grep -Eq "^$m +native .* enclave +[1-9][0-9]* run .* (ok|rc[0-9]+) "
  done
}
