#!/usr/bin/env bats
# differential.bats: the same static program natively and in an enclave must print the same
# stdout and stderr and exit with the same status. Every program runs in four builds: musl and
# glibc, fixed-address and static-PIE.

load helpers

setup() { require_kvm; }

@test "hello: stdio and a raw write to stderr" {
  differential hello
}

@test "args and environment reach the program unchanged" {
  differential --env HOME=/root --env 'EMPTY=' --env 'SPACES=a b  c' --env 'EQ=x=y' \
    args one "two words" "" "-dash" "--long=x" "ünïcode"
}

@test "exit statuses 0 to 255" {
  for v in musl-exec glibc-exec; do
    for code in $(seq 0 255); do
      run "$ALCOVE" run "$(prog exitcode-$v)" "$code"
      [ "$status" -eq "$code" ] || { echo "$v: exit $code gave $status"; return 1; }
    done
  done
  for v in musl-pie glibc-pie; do
    for code in 0 1 2 63 64 127 128 129 200 254 255; do
      run "$ALCOVE" run "$(prog exitcode-$v)" "$code"
      [ "$status" -eq "$code" ] || { echo "$v: exit $code gave $status"; return 1; }
    done
  done
}

@test "large output: 8 MiB in chunks of 1 byte to 1 MiB, with stderr interleaved" {
  differential bigout 8
}

@test "stdin: every byte arrives once, in reads of many sizes" {
  local input=$BATS_TEST_TMPDIR/input
  for i in $(seq 1 20000); do echo "line $i of the input, with some text to make it longer"; done > "$input"
  differential --stdin "$input" stdin_echo
}

@test "stdin: empty input is end of file at once" {
  differential stdin_echo
}

@test "clocks and random numbers" {
  differential clockrand
}

@test "malloc-heavy work: small, large and reallocated blocks" {
  differential mallocstress 100000
}

@test "start-up and I/O syscalls, with their error cases" {
  differential syscalls
}

@test "copy_file_range, splice, tee, vmsplice, pidfds, preadv2/pwritev2 flags, with their errors" {
  differential splice
}

@test "syscall sites the patcher must leave correct" {
  differential patchsites
  ALCOVE_RUN_OPTS=--no-syscall-patch differential patchsites
}

@test "the same with every syscall on the trap path (--no-syscall-patch)" {
  ALCOVE_RUN_OPTS=--no-syscall-patch differential syscalls
  ALCOVE_RUN_OPTS=--no-syscall-patch differential mallocstress 20000
}

@test "an unknown syscall number gives ENOSYS, as natively" {
  differential badsyscall
  grep -q "syscall 999 is not implemented" "$BATS_TEST_TMPDIR/enclave.log"
}
