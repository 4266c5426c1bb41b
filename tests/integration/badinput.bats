#!/usr/bin/env bats
# badinput.bats: bad files and bad options get a clear [ Exx ] error and the docker-run status
# (125 alcove failed, 126 cannot run, 127 not found), and leave no process or file behind.

load helpers

setup() {
  WORK=$BATS_TEST_TMPDIR/cwd
  mkdir -p "$WORK"
  cd "$WORK"
}

teardown() {
  # nothing created in the working directory, no alcove process left
  [ -z "$(ls -A "$WORK")" ]
  [ "$(alcove_processes)" -eq 0 ]
}

@test "a missing file is 127" {
  run "$ALCOVE" run ./no-such-program
  [ "$status" -eq 127 ]
  [[ "$output" == *"[ E72 ]"*"no-such-program"*"No such file"* ]]
}

@test "a text file is 126" {
  printf 'not a program\n' > "$BATS_TEST_TMPDIR/text"
  run "$ALCOVE" run "$BATS_TEST_TMPDIR/text"
  [ "$status" -eq 126 ]
  [[ "$output" == *"[ E71 ]"*"not an ELF"* ]]
}

@test "a directory is 126" {
  run "$ALCOVE" run /tmp
  [ "$status" -eq 126 ]
  [[ "$output" == *"[ E71 ]"* ]]
}

@test "a dynamically linked ELF is 126" {
  run "$ALCOVE" run /bin/true
  [ "$status" -eq 126 ]
  [[ "$output" == *"dynamically linked"* ]]
}

@test "an ELF for another architecture is 126" {
  local f=$BATS_TEST_TMPDIR/arm64
  cp "$(prog hello-musl-exec)" "$f"
  printf '\xb7\x00' | dd of="$f" bs=1 seek=18 conv=notrunc status=none   # e_machine = AArch64
  run "$ALCOVE" run "$f"
  [ "$status" -eq 126 ]
  [[ "$output" == *"another architecture"* ]]
}

@test "a truncated ELF is 126" {
  head -c 100 "$(prog hello-musl-exec)" > "$BATS_TEST_TMPDIR/short"
  run "$ALCOVE" run "$BATS_TEST_TMPDIR/short"
  [ "$status" -eq 126 ]
  [[ "$output" == *"malformed"* ]]
}

@test "--memory 0 is 125, E03" {
  run "$ALCOVE" run --memory 0 "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]
  [[ "$output" == *"[ E03 ]"*"--memory"* ]]
}

@test "--memory that is not a number is 125, E03" {
  run "$ALCOVE" run --memory lots "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]
  [[ "$output" == *"[ E03 ]"* ]]
}

@test "more memory than the host has is 125, E27" {
  require_kvm
  run "$ALCOVE" run --memory 400G "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]
  [[ "$output" == *"[ E27 ]"*"available"* ]]
}

@test "memory too small for the program is 125, E26" {
  require_kvm
  run "$ALCOVE" run --memory 64 "$(prog bigbss-musl-exec)"
  [ "$status" -eq 125 ]
  [[ "$output" == *"[ E26 ]"* ]]
  run "$ALCOVE" run --memory 160 "$(prog bigbss-musl-exec)"
  [ "$status" -eq 0 ]
}

@test "--cpu-count 0 and 65 are 125, E03" {
  run "$ALCOVE" run --cpu-count 0 "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]
  run "$ALCOVE" run --cpu-count 65 "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]
  [[ "$output" == *"[ E03 ]"* ]]
}

@test "an unknown option is 125, E03; no program is 125, E01" {
  run "$ALCOVE" run --frobnicate "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]
  [[ "$output" == *"[ E03 ]"*"frobnicate"* ]]
  run "$ALCOVE" run
  [ "$status" -eq 125 ]
  [[ "$output" == *"[ E01 ]"* ]]
}

@test "an unknown command is E03, status 2 (as nitro-cli's clap)" {
  run "$ALCOVE" frobnicate
  [ "$status" -eq 2 ]
  [[ "$output" == *"[ E03 ]"* ]]
}
