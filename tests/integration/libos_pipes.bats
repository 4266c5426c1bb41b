#!/usr/bin/env bats
# libos_pipes.bats: pipes, eventfd and readiness (poll, ppoll, select, pselect6, epoll), each
# program natively and in an enclave, in its four builds (musl and glibc, fixed-address and
# static-PIE): the same stdout, stderr and exit status.

load helpers

setup() { require_kvm; }

# pipe_both PRODUCER PROGRAM [ARGS...]: run_both with stdin a pipe that the shell command
# PRODUCER feeds (natively a file and a pipe differ: poll says POLLHUP at a pipe's end, epoll
# refuses files).
pipe_both() {
  local producer=$1; shift
  T=$BATS_TEST_TMPDIR
  local status
  bash -c "$producer" | env -i "$@" > "$T/native.out" 2> "$T/native.err" && status=0 || status=$?
  echo "$status" > "$T/native.status"
  # shellcheck disable=SC2086
  bash -c "$producer" | "$ALCOVE" run --log-file "$T/enclave.log" ${ALCOVE_RUN_OPTS:-} "$@" \
    > "$T/enclave.out" 2> "$T/enclave.err" && status=0 || status=$?
  echo "$status" > "$T/enclave.status"
}

@test "pipes: capacity, PIPE_BUF atomicity, partial writes, EOF, EPIPE, O_DIRECT, sizes, errors, signals" {
  differential pipe_basic
}

@test "pipes: a write with no reader and SIGPIPE at its default action kills with 141" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog pipe_basic-$v)" sigpipe
    [ "$(cat "$T/native.status")" = 141 ]
    [ "$(cat "$T/enclave.status")" = 141 ] || { cat "$T/enclave.log"; return 1; }
    cmp "$T/native.out" "$T/enclave.out"
    grep -q SIGPIPE "$T/enclave.err" "$T/enclave.log"
  done
}

@test "eventfd: counter, semaphore, non-blocking, overflow, errors" {
  differential pipe_eventfd
}

@test "poll, ppoll, select, pselect6: readiness, timeouts, masks, errors" {
  differential poll_basic
}

@test "epoll: level, edge, one-shot, ordering, hang-ups, nesting, errors, signals" {
  differential poll_epoll
}

@test "stdin readiness: data from a host file, then its end" {
  local input=$BATS_TEST_TMPDIR/input
  head -c 100000 /dev/urandom > "$input"
  differential --stdin "$input" poll_stdin
  head -c 3000 /dev/urandom > "$input"
  differential --stdin "$input" poll_stdin fionread
  differential --stdin "$input" poll_stdin nonblock
}

@test "stdin readiness: empty input (/dev/null)" {
  differential poll_stdin
  differential poll_stdin nonblock
}

@test "stdin readiness: a pipe whose writer is slow; epoll on a stdin pipe until its end" {
  local input=$BATS_TEST_TMPDIR/input
  head -c 20000 /dev/urandom > "$input"
  for v in musl-exec glibc-pie; do
    pipe_both "sleep 1; cat '$input'" "$(prog poll_stdin-$v)" wait
    assert_same || { echo "variant: $v"; return 1; }
    pipe_both "sleep 0.2; cat '$input'" "$(prog poll_stdin-$v)" epoll
    assert_same || { echo "variant: $v"; return 1; }
  done
}
