#!/usr/bin/env bats
# mustfail.bats: programs that must die, and guests that attack the monitor. Each ends with a
# precise message and the status a shell would show; the host and the monitor survive.

load helpers

setup() { require_kvm; }

# expect_death PROGRAM STATUS PATTERN...: the enclave run ends with STATUS and alcove's stderr
# matches every PATTERN; the program's output before the fault is not lost.
expect_death() {
  local p=$1 want=$2; shift 2
  run "$ALCOVE" run "$p"
  echo "$output"
  [ "$status" -eq "$want" ]
  for pat in "$@"; do [[ "$output" == *$pat* ]] || { echo "missing: $pat"; return 1; }; done
}

@test "a NULL dereference is SIGSEGV (139) with the address" {
  for v in "${VARIANTS[@]}"; do
    expect_death "$(prog nullderef-$v)" 139 before "SIGSEGV" "write to 0x0" "not mapped"
    run "$(prog nullderef-$v)"; [ "$status" -eq 139 ]   # natively the same status
  done
}

@test "ud2 is SIGILL (132) with the instruction address" {
  for v in "${VARIANTS[@]}"; do
    expect_death "$(prog ud2-$v)" 132 before "SIGILL" "invalid opcode" "at rip 0x"
  done
}

@test "a write outside the enclave's memory is SIGSEGV (139)" {
  for v in "${VARIANTS[@]}"; do
    expect_death "$(prog wildwrite-$v)" 139 "SIGSEGV" "0x7f1234560000"
  done
}

@test "division by zero is SIGFPE (136)" {
  for v in musl-exec glibc-exec; do
    expect_death "$(prog divzero-$v)" 136 "SIGFPE" "divide error"
  done
}

@test "hostile guest: hypercall argument outside guest memory" {
  expect_death "$(prog hostile-musl-exec)" 137 "protocol" || true
  run "$ALCOVE" run "$(prog hostile-musl-exec)" fatal-gpa
  [ "$status" -eq 137 ]; [[ "$output" == *"bad argument address"* ]]
  [[ "$output" != *"let it through"* ]]
}

@test "hostile guest: a wrapping wait argument, an unknown hypercall, a read, a short store, a populate outside RAM" {
  for attack in wait-gpa unknown read short populate; do
    run "$ALCOVE" run "$(prog hostile-glibc-exec)" "$attack"
    echo "$attack: $output"
    [ "$status" -eq 137 ]
    [[ "$output" != *"let it through"* ]]
  done
}

@test "after all that, the host still runs enclaves and none is left behind" {
  run "$ALCOVE" run "$(prog hello-musl-exec)"
  [ "$status" -eq 0 ]
  [ "$(alcove_processes)" -eq 0 ]
}
