#!/usr/bin/env bats
# run.bats: the alcove command itself: help, version, options of `alcove run`, streaming,
# signals from the host.

load helpers

@test "--help, --version, run --help, explain" {
  run "$ALCOVE" --help
  [ "$status" -eq 0 ]; [[ "$output" == *"Commands:"*"run"* ]]
  run "$ALCOVE" --version
  [ "$status" -eq 0 ]; [[ "$output" == "alcove "[0-9]* ]]
  run "$ALCOVE" run --help
  [ "$status" -eq 0 ]; [[ "$output" == *"--memory"*"--cpu-count"*"--env"* ]]
  run "$ALCOVE" explain --error-code E26
  [ "$status" -eq 0 ]; [[ "$output" == *"Insufficient memory requested"* ]]
  run "$ALCOVE" explain --error-code E999
  [ "$status" -ne 0 ]
}

@test "program options are not alcove's: everything after BINARY goes to the program" {
  require_kvm
  run "$ALCOVE" run "$(prog args-musl-exec)" --memory 5 -e x
  [ "$status" -eq 0 ]
  [[ "$output" == *"argv[1]=[--memory]"*"argv[2]=[5]"*"argv[3]=[-e]"* ]]
}

@test "--env K copies K from alcove's environment; the rest of it stays outside" {
  require_kvm
  FROM_HOST=hello-from-host run "$ALCOVE" run --env FROM_HOST --env UNSET_VAR "$(prog args-glibc-exec)"
  [ "$status" -eq 0 ]
  [[ "$output" == *"env[0]=[FROM_HOST=hello-from-host]"* ]]
  [[ "$output" == *"envc=1"* ]]
}

@test "--cpu-count 4 and --memory 256 run the same program" {
  require_kvm
  run "$ALCOVE" run --cpu-count 4 --memory 256 "$(prog hello-glibc-exec)"
  [ "$status" -eq 0 ]
  [[ "$output" == *"hello from an enclave"* ]]
}

@test "--log-level trace shows every syscall" {
  require_kvm
  run "$ALCOVE" run --log-level trace "$(prog hello-musl-exec)"
  [ "$status" -eq 0 ]
  [[ "$output" == *"arch_prctl("*"writev("*"exit_group("* ]] || [[ "$output" == *"exit("* ]]
}

@test "stdin is read only when the program asks" {
  require_kvm
  # the program never reads: the rest of our stdin is still there for the next command
  run bash -c "printf 'kept\n' | { '$ALCOVE' run '$(prog hello-musl-exec)' >/dev/null 2>&1; cat; }"
  [ "$status" -eq 0 ]
  [ "$output" = "kept" ]
}

# Starts the stdin reader in an enclave, waiting on a FIFO nobody writes, sends it SIG and
# checks the status.
signal_ends_enclave() {
  local sig=$1 want=$2 fifo=$BATS_TEST_TMPDIR/fifo.$1
  mkfifo "$fifo"
  exec 7<>"$fifo"   # keeps the FIFO open without ever writing to it
  "$ALCOVE" run "$(prog stdin_echo-musl-exec)" <&7 > /dev/null 2>&1 3>&- &
  local pid=$!
  sleep 0.5
  kill "-$sig" $pid
  local st=0; wait $pid || st=$?
  exec 7>&-
  echo "SIG$sig gave $st"
  [ "$st" -eq "$want" ]
}

@test "SIGINT and SIGTERM to alcove end the enclave with 130 and 143" {
  require_kvm
  signal_ends_enclave INT 130
  signal_ends_enclave TERM 143
  [ "$(alcove_processes)" -eq 0 ]
}

@test "--stats reports the monitor's own memory beside the guest's" {
  require_kvm
  run "$ALCOVE" run --stats "$(prog hello-musl-exec)"
  [ "$status" -eq 0 ]
  [[ "$output" == *'"monitor_overhead_bytes": '* ]]
}
