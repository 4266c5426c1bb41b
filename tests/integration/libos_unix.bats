#!/usr/bin/env bats
# libos_unix.bats: AF_UNIX sockets (net/unix.c, net/unix_msg.c) natively and in an enclave, in
# the four builds (musl and glibc, fixed-address and static-PIE): the same stdout, stderr and
# exit status, errnos included.

load helpers

setup() { require_kvm; }

# unix_both VARIANT: run_both of unix_sock, the same output, and lines a silent run cannot fake.
unix_both() {
  run_both "$(prog "unix_sock-$1")"
  assert_same || { echo "variant: unix_sock-$1"; return 1; }
  local out=$BATS_TEST_TMPDIR/enclave.out
  grep -qx 'done' "$out"
  grep -qx 'type 3: SO_TYPE 2 SO_DOMAIN 1 SO_PROTOCOL 0 SO_ACCEPTCONN 0 SO_ERROR 0' "$out"
  grep -qx "path getsockname: len 5 path 's1'" "$out"
  grep -qx 'autobind: len 8, a NUL and 5 hex digits: yes' "$out"
  grep -qx 'bind(s2, (struct sockaddr \*)&a, l) = -1 errno 98' "$out"
  grep -qx 'a chain of 500 sockets in flight, closed: the program goes on' "$out"
  grep -qx 'accept(l, NULL, NULL) = -1 errno 24' "$out"
  grep -qx 'after the limit was raised, accept gets the connection: yes' "$out"
  grep -qx 'connect(c3, (struct sockaddr \*)&a, l) = -1 errno 11' "$out"
  grep -qx 'recv(a1, b, 300, MSG_WAITALL) = 300' "$out"
  grep -qx 'SIGPIPE 2' "$out"
  grep -qx 'stream from a thread: 2097152 bytes, checksum matches yes' "$out"
  grep -qx 'queued before EAGAIN: 11 (errno 11)' "$out"
  grep -qx 'recvmsg 1 bytes, 2 fds, 0 creds, CTRUNC no' "$out"
  grep -qx 'recvmsg 1 bytes, 0 fds, 0 creds, CTRUNC yes' "$out"
  grep -qx 'SCM_CREDENTIALS pid is the child yes, uid yes, gid yes' "$out"
  grep -qx 'served 3' "$out"
  grep -qx 'connect without write permission: 13' "$out"
}

@test "AF_UNIX: types, names, streams, datagrams, seqpackets, SCM_RIGHTS, SCM_CREDENTIALS, readiness (glibc static-PIE)" {
  unix_both glibc-pie
}

@test "AF_UNIX: the same in the other three builds" {
  for v in musl-exec glibc-exec musl-pie; do
    unix_both "$v"
  done
}

@test "AF_UNIX: waits a thread ends (connect, datagram and stream senders), timeouts, EINTR, select" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog "unix_sock-$v")" more
    assert_same || { echo "variant: unix_sock-$v more"; return 1; }
    grep -qx 'more done' "$T/enclave.out"
    grep -qx 'accepted by the thread yes' "$T/enclave.out"
    grep -qx 'recv(sv\[1\], b, sizeof(b), 0) = -1 errno 4' "$T/enclave.out"
    grep -qx 'the thread drained it yes' "$T/enclave.out"
  done
}
