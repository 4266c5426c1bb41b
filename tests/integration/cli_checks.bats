#!/usr/bin/env bats
# cli_checks.bats: the CLI's checks of what it is given, none of which needs an enclave (so they
# run on machines without KVM): files that are not regular, EIF headers checked before the body
# is read, option syntax, --config JSON, CIDs, and the runtime directory's modes and owner. Each
# bad input is a must-fail test: its [ Exx ] error and exit status, at once, nothing left behind.

load helpers
bats_require_minimum_version 1.5.0

setup() {
  T=$BATS_TEST_TMPDIR
  export ALCOVE_RUNTIME_DIR=$T/rt
}

teardown() {
  [ "$(alcove_processes)" -eq 0 ]
}

# expect_error STATUS CODE COMMAND...: runs alcove with a 10 s limit (a wait is a failure: 124)
# and checks its status and "[ CODE ]" message.
expect_error() {
  local want=$1 code=$2
  shift 2
  run timeout 10 "$ALCOVE" "$@"
  if [ "$status" -ne "$want" ] || [[ "$output" != *"[ $code ]"* ]]; then
    echo "alcove $*: status $status (want $want), output: $output"
    return 1
  fi
}

@test "a FIFO or a directory where a regular file is expected: a clear error at once, never a wait" {
  mkfifo "$T/fifo"
  mkdir "$T/dir"
  for p in "$T/fifo" "$T/dir"; do
    expect_error 19 E19 run-enclave --config "$p"
    expect_error 19 E19 run-enclave --eif-path "$p" --memory 64 --cpu-count 1
    expect_error 19 E19 describe-eif --eif-path "$p"
    expect_error 19 E19 sign-eif --eif-path "$p" --signing-certificate "$p" --private-key "$p"
    expect_error 19 E19 pcr --input "$p"
    expect_error 19 E19 pcr --signing-certificate "$p"
    expect_error 19 E19 verify-attestation --document "$p" --ca "$p"
    expect_error 126 E71 run "$p"
    expect_error 7 E07 build-enclave --binary "$p" --output-file "$T/out.eif"
    expect_error 100 E100 allocator apply --config "$p"
    expect_error 93 E93 vsock-proxy --enclave-cid 5 --config "$p" 8000 127.0.0.1 80
  done
  run timeout 10 "$ALCOVE" describe-eif --eif-path "$T/fifo"
  [[ "$output" == *"not a regular file"* ]]
  [ ! -e "$T/out.eif" ]
}
