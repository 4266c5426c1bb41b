#!/usr/bin/env bats
# vsock.bats: AF_VSOCK in real enclaves, against the monitor's device and its hybrid Unix
# socket (docs/vsock.md): the socket API's edge cases (vsock_api), the heartbeat, host-to-enclave
# echo through "CONNECT <port>" (vsock_echo, epoll and poll, many connections at once),
# enclave-to-host echo through "<cid>.vsock_<port>" (vsock_client), and refusals. The host end
# is vsock_enclave_peer.py.

load helpers

PEER="$BATS_TEST_DIRNAME/vsock_enclave_peer.py"

setup() {
  require_kvm
  T=$BATS_TEST_TMPDIR
  export ALCOVE_RUNTIME_DIR=$T/rt
  mkdir -p "$ALCOVE_RUNTIME_DIR"
  BG_PIDS=()
}

teardown() {
  local p
  for p in "${BG_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}

# start_echo CID ARGS...: vsock_echo in an enclave with that CID; waits until it listens.
start_echo() {
  local cid=$1; shift
  "$ALCOVE" run --enclave-cid "$cid" --log-file "$T/echo.log" "$(prog vsock_echo-musl-exec)" "$@" \
    > "$T/echo.out" 2> "$T/echo.err" &
  ECHO_PID=$!
  BG_PIDS+=("$ECHO_PID")
  local i
  for i in $(seq 200); do
    grep -q "listening on" "$T/echo.out" 2>/dev/null && return 0
    kill -0 "$ECHO_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$T/echo.out" "$T/echo.err" "$T/echo.log"
  return 1
}

# start_host_echo PATH: the host's echo server on the Unix socket PATH.
start_host_echo() {
  python3 "$PEER" echo-server "$@" &
  BG_PIDS+=("$!")
  local i
  for i in $(seq 100); do
    [ -S "$1" ] && return 0
    sleep 0.05
  done
  return 1
}

@test "vsock: socket API edge cases match Linux's (vsock_api), every build" {
  for v in "${VARIANTS[@]}"; do
    run "$ALCOVE" run "$(prog vsock_api-$v)"
    [ "$status" -eq 0 ] || { echo "$output" | grep -v '^ok'; return 1; }
    [[ "$output" == *"0 failures"* ]]
  done
}

@test "vsock: the enclave kernel sends the heartbeat before the program starts" {
  run "$ALCOVE" run --log-level debug "$(prog hello-musl-exec)"
  [ "$status" -eq 0 ]
  [[ "$output" == *"heartbeat"*"after the launch began"* ]]
  [[ "$output" == *"hello from an enclave"* ]]
}

@test "vsock: host to enclave, one connection of 4 MiB echoed (epoll server)" {
  start_echo 21 -n 1 -c 5000
  run python3 "$PEER" client "$ALCOVE_RUNTIME_DIR/21.vsock" 5000 4194304
  [ "$status" -eq 0 ] || { echo "$output"; cat "$T/echo.err"; return 1; }
  wait "$ECHO_PID"
  grep -q "conn 0 bytes 4194304 " "$T/echo.out"
  grep -q "total conns 1 bytes 4194304" "$T/echo.out"
}

@test "vsock: host to enclave, 32 connections at once (epoll, then poll)" {
  start_echo 22 -n 32 -c 5000
  run python3 "$PEER" client "$ALCOVE_RUNTIME_DIR/22.vsock" 5000 300000 --clients 32
  [ "$status" -eq 0 ] || { echo "$output"; cat "$T/echo.err"; return 1; }
  wait "$ECHO_PID"
  grep -q "total conns 32 bytes 9600000" "$T/echo.out"

  start_echo 23 -n 32 -c -p 5001
  run python3 "$PEER" client "$ALCOVE_RUNTIME_DIR/23.vsock" 5001 300000 --clients 32
  [ "$status" -eq 0 ] || { echo "$output"; cat "$T/echo.err"; return 1; }
  wait "$ECHO_PID"
  grep -q "total conns 32 bytes 9600000" "$T/echo.out"
}

@test "vsock: CONNECT to a port nobody listens on closes the host socket without a reply" {
  start_echo 24 -n 1 5000
  run python3 "$PEER" connect "$ALCOVE_RUNTIME_DIR/24.vsock" 5999
  [ "$output" = closed ]
  run python3 "$PEER" client "$ALCOVE_RUNTIME_DIR/24.vsock" 5000 10
  [ "$status" -eq 0 ]
}

@test "vsock: enclave to host echo, 0 bytes to 16 MiB, both libcs" {
  start_host_echo "$ALCOVE_RUNTIME_DIR/25.vsock_6000"
  for n in 0 1 65536 1000000 16777216; do
    for v in musl-exec glibc-pie; do
      run "$ALCOVE" run --enclave-cid 25 "$(prog vsock_client-$v)" 6000 "$n"
      [ "$status" -eq 0 ] || { echo "$n $v: $output"; return 1; }
      [[ "$output" == "sent $n received $n checksum "*" match" ]]
    done
  done
  # CID 2, the spec's host, reaches the parent too
  run "$ALCOVE" run --enclave-cid 25 "$(prog vsock_client-musl-exec)" -C 2 6000 1000
  [ "$status" -eq 0 ]
}

@test "vsock: connect to a host port nobody listens on is ECONNREFUSED (blocking, non-blocking)" {
  run "$ALCOVE" run --enclave-cid 26 "$(prog vsock_client-musl-exec)" -e 6001
  [ "$status" -eq 1 ]
  [ "$output" = "connect: ECONNREFUSED" ]
  run "$ALCOVE" run --enclave-cid 26 "$(prog vsock_client-glibc-exec)" -n 6001
  [ "$status" -eq 1 ]
  [ "$output" = "connect: ECONNREFUSED" ]
}

@test "vsock: socat speaks the hybrid protocol: CONNECT, OK, then the stream" {
  command -v socat > /dev/null || skip "socat missing (scripts/setup.sh installs it)"
  start_echo 27 -n 1 5000
  run bash -c "printf 'CONNECT 5000\nhello over socat\n' | socat -t 5 - UNIX-CONNECT:$ALCOVE_RUNTIME_DIR/27.vsock"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^OK\ [0-9]+$ ]]
  [ "${lines[1]}" = "hello over socat" ]
}

@test "vsock: 1000 connections one after another, then 100 at once" {
  start_echo 28 5000
  run python3 "$PEER" seq "$ALCOVE_RUNTIME_DIR/28.vsock" 5000 1000
  echo "$output"
  [ "$status" -eq 0 ]; [ "$output" = "ok 1000" ]
  run python3 "$PEER" client "$ALCOVE_RUNTIME_DIR/28.vsock" 5000 65536 --clients 100
  echo "$output"
  [ "$status" -eq 0 ]; [ "$output" = "ok 100" ]
}

@test "vsock: 1 GiB from the enclave to the host and back, checked in the enclave, counted on the host" {
  start_host_echo "$ALCOVE_RUNTIME_DIR/29.vsock_6000" --log "$T/host.log"
  n=$((1 << 30))
  run "$ALCOVE" run --enclave-cid 29 --memory 128 "$(prog vsock_client-musl-exec)" 6000 "$n"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "sent $n received $n checksum "*" match" ]]
  for _ in $(seq 50); do [ -s "$T/host.log" ] && break; sleep 0.1; done
  [ "$(cat "$T/host.log")" = "bytes $n" ]
}

@test "vsock: malformed and over-long CONNECT lines are closed without a reply; the enclave goes on" {
  start_echo 30 5000
  S=$ALCOVE_RUNTIME_DIR/30.vsock
  for line in "CONNEC 5000\n" "CONNECT\n" "CONNECT -1\n" "CONNECT 5000x\n" "CONNECT 99999999999\n" \
      "CONNECT $(printf '0%.0s' {1..40})5000\n" "GET / HTTP/1.0\r\n\r\n"; do
    hex=$(printf "$line" | xxd -p | tr -d '\n')
    run python3 "$PEER" raw "$S" "$hex"
    [ "$output" = closed ] || { echo "$line -> $output"; return 1; }
  done
  # a line that never ends is cut at 32 bytes
  run python3 "$PEER" raw "$S" "$(printf 'CONNECT 5%.0s' {1..10} | xxd -p | tr -d '\n')"
  [ "$output" = closed ]
  run python3 "$PEER" client "$S" 5000 100
  [ "$status" -eq 0 ]
}

@test "vsock: a host client that vanishes mid-transfer harms nobody else" {
  start_echo 31 5000
  S=$ALCOVE_RUNTIME_DIR/31.vsock
  run python3 "$PEER" abort "$S" 5000
  echo "$output"
  [ "$status" -eq 0 ]
  run python3 "$PEER" client "$S" 5000 1000000 --clients 4
  [ "$status" -eq 0 ]
  kill -0 "$ECHO_PID"
}

@test "vsock: an enclave that exits with connections open: the host reads end of file" {
  start_echo 32 -n 1 5000
  S=$ALCOVE_RUNTIME_DIR/32.vsock
  # a client that never half-closes; the enclave is stopped under it
  python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect('$S'); s.sendall(b'CONNECT 5000\n')
s.settimeout(20)
assert s.recv(64).startswith(b'OK ')
s.sendall(b'x' * 1000)
got = 0
while True:
    b = s.recv(65536)
    if not b: break
    got += len(b)
    if got == 1000: print('echoed', flush=True)
print('eof after', got)
" > "$T/client.out" &
  client=$!
  # stopped once the echo is back (python's start alone takes over a second in the QEMU VM)
  for _ in $(seq 600); do grep -q '^echoed$' "$T/client.out" && break; sleep 0.05; done
  kill -TERM "$ECHO_PID"
  wait "$client"
  grep -q "^eof after 1000$" "$T/client.out"
  [ ! -e "$S" ]
}

@test "vsock: a guest that posts a descriptor outside its memory is stopped; the monitor reports it" {
  ALCOVE_FAULT=bad-descriptor run "$ALCOVE" run --enclave-cid 33 "$(prog hello-musl-exec)"
  [ "$status" -eq 137 ]
  [[ "$output" == *"virtio-vsock rx queue: descriptor "*" points outside guest memory"* ]]
  [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v '^allocator.lock$')" ]
}

@test "vsock: stream bytes sent in the same write as the CONNECT line, then EOF, are delivered" {
  start_echo 34 -n 1 5000
  run python3 -c "
import socket
s = socket.socket(socket.AF_UNIX); s.connect('$ALCOVE_RUNTIME_DIR/34.vsock')
s.sendall(b'CONNECT 5000\nhello in one go')
s.shutdown(socket.SHUT_WR)
s.settimeout(10)
data = b''
while True:
    b = s.recv(4096)
    if not b: break
    data += b
print(data.decode().replace('\n', '|'))
"
  echo "$output"
  [[ "$output" =~ ^OK\ [0-9]+\|hello\ in\ one\ go$ ]]
}

@test "vsock: a C client on libalcove reaches the enclave's echo server (real enclave)" {
  sdk=$(cd "$(dirname "$ALCOVE")/.." && pwd)/tests/tools/vsock_sdk_client
  [ -x "$sdk" ] || skip "tests/tools/vsock_sdk_client not built"
  start_echo 35 5000
  head -c $((1 << 20)) /dev/urandom > "$T/in"
  "$sdk" connect 35 5000 < "$T/in" > "$T/out"
  cmp "$T/in" "$T/out"
  "$sdk" uds "$ALCOVE_RUNTIME_DIR/35.vsock" 5000 < "$T/in" > "$T/out2"
  cmp "$T/in" "$T/out2"
  run "$sdk" connect 35 5999
  [ "$status" -eq 2 ]; [ "${lines[0]}" = ECONNREFUSED ]
}

@test "vsock: two threads blocked in recvmsg on two connections each get their own bytes (both libcs)" {
  start_host_echo "$ALCOVE_RUNTIME_DIR/36.vsock_6002"
  for v in musl-exec glibc-pie; do
    run timeout 120 "$ALCOVE" run --enclave-cid 36 --cpu-count 2 "$(prog "thr_blocking-$v")" recvmsg 6002
    [ "$status" -eq 0 ] && [ "$output" = "ok recvmsg" ] || { echo "$v: $status: $output"; return 1; }
  done
}
