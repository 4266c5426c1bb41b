#!/usr/bin/env bats
# libos_inet.bats: AF_INET and AF_INET6 sockets over loopback (net/inet.c, net/inet_tcp.c,
# net/inet_udp.c) natively and in an enclave, in the four builds (musl and glibc, fixed-address
# and static-PIE): the same stdout, stderr and exit status, errnos included.

load helpers

setup() { require_kvm; }

# inet_both VARIANT: run_both of inet_sock, the same output, and lines a silent run cannot fake.
inet_both() {
  run_both "$(prog "inet_sock-$1")"
  assert_same || { echo "variant: inet_sock-$1"; return 1; }
  local out=$BATS_TEST_TMPDIR/enclave.out
  grep -qx 'done' "$out"
  grep -qx 'family 10 type 1: SO_TYPE 1 SO_DOMAIN 10 SO_PROTOCOL 6 SO_ACCEPTCONN 0 SO_ERROR 0' "$out"
  grep -qx 'v4 bound getsockname: len 16 family 2 addr 127.0.0.1 port ephemeral' "$out"
  grep -qx 'v6 bound getsockname: len 28 family 10 addr ::1 port ephemeral flowinfo 0 scope 0' "$out"
  grep -qx 'listen(f\[1\], 5) = -1 errno 98' "$out"
  grep -qx 'user 65534: bind low v4 errno 13, v6 elsewhere errno 13, v4 elsewhere errno 99, port 0 = 0' "$out"
  grep -qx 'accept4 address length 28, cloexec yes, nonblock yes, peer port is the client.s yes' "$out"
  grep -qx 'recv(a, b, 300, MSG_WAITALL) = 300' "$out"
  grep -qx 'recv(c, b, sizeof(b), 0) = -1 errno 104' "$out"
  grep -qx 'SIGPIPE 2' "$out"
  grep -qx 'connect(c, SA(dst), dl) = -1 errno 111' "$out"
  grep -qx 'refused poll 0x1c' "$out"
  grep -qx 'a v4 client as a v6 listener sees it: len 28 family 10 ::ffff:127.0.0.1' "$out"
  grep -qx 'tcp stream from a thread: 2097152 bytes, checksum matches yes' "$out"
  grep -qx 'tcp stream from a child over ::1: 2097152 bytes, child says checksum matches yes' "$out"
  grep -qx 'served 3' "$out"
  grep -qx 'sendto(s, b, 65508, 0, SA(a), sizeof(a)) = -1 errno 90' "$out"
  grep -qx 'send(s, "x", 1, 0) = -1 errno 111' "$out"
  grep -qx 'v6 socket sees a v4 sender: len 28 family 10 ::ffff:127.0.0.1' "$out"
  grep -qx 'received lengths 1 2 3' "$out"
  grep -qx 'answered 20, child exit 0' "$out"
}

@test "AF_INET/AF_INET6: options, bind, ports, TCP, UDP, dual stack, readiness (glibc static-PIE)" {
  inet_both glibc-pie
}

@test "AF_INET/AF_INET6: the same in the other three builds" {
  for v in musl-exec glibc-exec musl-pie; do
    inet_both "$v"
  done
}

@test "AF_INET/AF_INET6: waits a thread ends (connect, accept, recv, send), timeouts, EINTR, select" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog "inet_sock-$v")" more
    assert_same || { echo "variant: inet_sock-$v more"; return 1; }
    grep -qx 'more done' "$T/enclave.out"
    grep -qx 'accepted by the thread yes' "$T/enclave.out"
    grep -qx 'recv(a, b, sizeof(b), 0) = -1 errno 4' "$T/enclave.out"
    grep -qx 'the thread drained it yes' "$T/enclave.out"
  done
}
