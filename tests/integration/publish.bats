#!/usr/bin/env bats
# publish.bats: published ports (alcove run -p, run-enclave --publish; docs/networking.md,
# "Published ports"). The host accepts TCP on HOST_PORT and each connection reaches the
# enclave as a vsock connection to port 0x10000 + ENCLAVE_PORT; until the enclave has AF_INET
# sockets, vsock_echo listening on that vsock port stands for the program's TCP listener. The
# TCP client is publish_peer.py. The spec and port-in-use checks run without KVM.

load helpers
bats_require_minimum_version 1.5.0

PEER="$BATS_TEST_DIRNAME/publish_peer.py"
TCP_PORT0=65536 # ALC_VSOCK_TCP_PORT0

setup_file() {
  D=$BATS_FILE_TMPDIR
  "$ALCOVE" build-enclave --binary "$(prog vsock_echo-musl-exec)" \
    --cmd "/vsock_echo-musl-exec $((TCP_PORT0 + 80))" --output-file "$D/echo80.eif" > /dev/null
}

setup() {
  T=$BATS_TEST_TMPDIR
  D=$BATS_FILE_TMPDIR
  export ALCOVE_RUNTIME_DIR=$T/rt
  mkdir -p "$ALCOVE_RUNTIME_DIR"
  BG_PIDS=()
}

teardown() {
  local p
  for p in "${BG_PIDS[@]}"; do
    kill "$p" 2> /dev/null || true
    wait "$p" 2> /dev/null || true
  done
  "$ALCOVE" terminate-enclave --all > /dev/null 2>&1 || true
}

# A TCP port nobody listens on now (IPv4 or, with "6", IPv6 loopback).
free_port() {
  python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET6 if '$1' == '6' else socket.AF_INET)
s.bind(('::1' if '$1' == '6' else '127.0.0.1', 0)); print(s.getsockname()[1])"
}

# The sockets on the host whose local port is $1, other than listeners and TIME_WAIT: what a
# finished connection must not leave behind.
open_conns() {
  python3 -c "
n = 0
for f in ('/proc/net/tcp', '/proc/net/tcp6'):
    try:
        lines = open(f).read().splitlines()[1:]
    except OSError:
        continue
    for l in lines:
        p = l.split()
        if int(p[1].split(':')[1], 16) == $1 and p[3] not in ('0A', '06'):
            n += 1
print(n)"
}

# Nothing of a failed launch is left: no monitor, the runtime directory empty, the free
# hugepages as before ($1).
assert_nothing_left() {
  local left
  left=$(ls -A "$ALCOVE_RUNTIME_DIR" 2> /dev/null | grep -v "^allocator.lock$" || true)
  [ -z "$left" ] || { echo "left in the runtime directory: $left"; return 1; }
  [ "$(alcove_processes)" -eq 0 ] || { echo "an alcove process is left"; return 1; }
  [ "$(grep HugePages_Free /proc/meminfo)" = "$1" ] || { echo "hugepages changed"; return 1; }
}

# start_echo HOST_PORT_SPEC... -- ECHO_ARGS...: vsock_echo in an enclave with those -p specs;
# waits until it listens.
start_echo() {
  local opts=()
  while [ "$1" != -- ]; do opts+=(-p "$1"); shift; done
  shift
  "$ALCOVE" run "${opts[@]}" --log-level debug --log-file "$T/echo.log" \
    "$(prog vsock_echo-musl-exec)" "$@" > "$T/echo.out" 2> "$T/echo.err" &
  ECHO_PID=$!
  BG_PIDS+=("$ECHO_PID")
  local i
  for i in $(seq 400); do
    grep -q "listening on" "$T/echo.out" 2> /dev/null && return 0
    kill -0 "$ECHO_PID" 2> /dev/null || break
    sleep 0.05
  done
  cat "$T/echo.out" "$T/echo.err"
  return 1
}

@test "publish: malformed -p and --publish specs are refused before anything starts" {
  hp=$(grep HugePages_Free /proc/meminfo)
  for spec in 0:80 80 1.2.3:80:80 70000:80 80:0 80:70000 :80 80: 1.2.3.4:80 localhost:80:80 \
      ::1:80:80 "[::1]:80" "[1.2.3.4]:80:80" 80:80/udp "8080:80 " -1:80; do
    run "$ALCOVE" run -p "$spec" "$(prog hello-musl-exec)"
    [ "$status" -eq 125 ] || { echo "-p '$spec': $status $output"; return 1; }
    [[ "$output" == *"[ E03 ]"*"--publish '$spec'"* ]] || { echo "$output"; return 1; }
    run "$ALCOVE" run-enclave --eif-path "$D/echo80.eif" --cpu-count 1 --memory 64 \
      --publish "$spec"
    [ "$status" -eq 3 ] || { echo "--publish '$spec': $status $output"; return 1; }
  done
  # the same host port twice (also through the wildcard), in either command
  run "$ALCOVE" run -p 8080:80 -p 8080:81 "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]; [[ "$output" == *"[ E03 ]"*"published twice"* ]]
  run "$ALCOVE" run -p 127.0.0.1:8080:80 --publish 8080:81 "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]; [[ "$output" == *"published twice"* ]]
  run "$ALCOVE" run-enclave --eif-path "$D/echo80.eif" --cpu-count 1 --memory 64 \
    --publish 9000:80 --publish=0.0.0.0:9000:80
  [ "$status" -eq 3 ]; [[ "$output" == *"published twice"* ]]
  assert_nothing_left "$hp"
  # documented
  run "$ALCOVE" run --help
  [[ "$output" == *"--publish [IP:]HOST_PORT:ENCLAVE_PORT"* ]]
  run "$ALCOVE" explain --error-code E76
  [ "$status" -eq 0 ]; [[ "$output" == *"Published port unavailable"* ]]
}

@test "publish: a host port in use fails the launch with E76 and leaves nothing behind" {
  hp=$(grep HugePages_Free /proc/meminfo)
  port=$(free_port)
  python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(60)" &
  BG_PIDS+=("$!")
  for _ in $(seq 100); do ss -ltn | grep -q "127.0.0.1:$port " && break; sleep 0.05; done
  port2=$(free_port)
  run "$ALCOVE" run -p "$port2:80" -p "127.0.0.1:$port:80" "$(prog hello-musl-exec)"
  echo "$output"
  [ "$status" -eq 125 ]
  [[ "$output" == *"[ E76 ] Published port unavailable"*"127.0.0.1:$port"*"in use"* ]]
  assert_nothing_left "$hp"
  # the first port, already listened on when the second failed, is free again
  python3 -c "import socket; s = socket.socket(); s.bind(('0.0.0.0', $port2)); s.listen()"
  # run-enclave: the monitor fails the same way, and the command exits with the code
  run "$ALCOVE" run-enclave --eif-path "$D/echo80.eif" --cpu-count 1 --memory 64 \
    --publish "127.0.0.1:$port:80"
  echo "$output"
  [ "$status" -eq 76 ]; [[ "$output" == *"[ E76 ]"* ]]
  sleep 0.2
  assert_nothing_left "$hp"
}

@test "publish: checksummed echo through a published port, 4 MiB, 8 at once, 150 in a row" {
  require_kvm
  port=$(free_port)
  start_echo "127.0.0.1:$port:80" -- $((TCP_PORT0 + 80))
  run python3 "$PEER" echo 127.0.0.1 "$port" $((4 << 20))
  echo "$output"; [ "$status" -eq 0 ]; [ "$output" = "ok 1" ]
  run python3 "$PEER" echo 127.0.0.1 "$port" $((512 << 10)) --clients 8
  echo "$output"; [ "$status" -eq 0 ]; [ "$output" = "ok 8" ]
  run python3 "$PEER" seq 127.0.0.1 "$port" 150
  echo "$output"; [ "$status" -eq 0 ]; [ "$output" = "ok 150" ]
  [ "$(open_conns "$port")" = 0 ]
  # the enclave's own end: an empty connection, by an ordinary tool
  if command -v socat > /dev/null; then
    run bash -c "printf 'over socat\n' | socat -t 10 - TCP:127.0.0.1:$port"
    [ "$output" = "over socat" ]
  fi
}

@test "publish: a client that disconnects mid-transfer: the enclave sees the end, nothing is left" {
  require_kvm
  port=$(free_port)
  start_echo "$port:80" -- -c $((TCP_PORT0 + 80))
  run python3 "$PEER" abort 127.0.0.1 "$port"
  echo "$output"; [ "$status" -eq 0 ]
  for _ in $(seq 200); do grep -q "^conn 0 bytes" "$T/echo.out" && break; sleep 0.05; done
  grep "^conn 0 bytes" "$T/echo.out"
  for _ in $(seq 100); do [ "$(open_conns "$port")" = 0 ] && break; sleep 0.05; done
  [ "$(open_conns "$port")" = 0 ]
  # the enclave and the port go on
  run python3 "$PEER" echo 127.0.0.1 "$port" 100000 --clients 2
  [ "$status" -eq 0 ]; [ "$output" = "ok 2" ]
  kill -0 "$ECHO_PID"
}

@test "publish: a published port nothing listens on inside is reset at once" {
  require_kvm
  port=$(free_port)
  other=$(free_port)
  start_echo "127.0.0.1:$port:80" "127.0.0.1:$other:81" -- $((TCP_PORT0 + 80))
  run python3 "$PEER" refused 127.0.0.1 "$other"
  echo "$output"
  [[ "$output" =~ ^reset\ [0-4]\. ]]
  [ "$(open_conns "$other")" = 0 ]
  run python3 "$PEER" seq 127.0.0.1 "$port" 3
  [ "$output" = "ok 3" ]
}

@test "publish: the client's address and port reach the enclave kernel with the REQUEST" {
  require_kvm
  port=$(free_port)
  src=$(free_port)
  start_echo "127.0.0.1:$port:80" -- $((TCP_PORT0 + 80))
  run python3 "$PEER" from 127.0.0.1 "$port" "$src"
  [ "$output" = ok ]
  for _ in $(seq 100); do grep -q "TCP client" "$T/echo.log" && break; sleep 0.05; done
  grep "vsock: port $((TCP_PORT0 + 80)): TCP client 127.0.0.1:$src" "$T/echo.log"
  # IPv6, where the host has it
  if python3 -c "import socket; socket.socket(socket.AF_INET6).bind(('::1', 0))" 2> /dev/null; then
    kill "$ECHO_PID"; wait "$ECHO_PID" || true
    port6=$(free_port 6)
    src6=$(free_port 6)
    start_echo "[::1]:$port6:80" -- $((TCP_PORT0 + 80))
    run python3 "$PEER" from ::1 "$port6" "$src6"
    [ "$output" = ok ]
    for _ in $(seq 100); do grep -q "TCP client \[" "$T/echo.log" && break; sleep 0.05; done
    grep "vsock: port $((TCP_PORT0 + 80)): TCP client \[0:0:0:0:0:0:0:1\]:$src6" "$T/echo.log"
  fi
  # a vsock client of the same port (through the hybrid socket) carries no origin
  before=$(grep -c "TCP client" "$T/echo.log")
  cid=$(python3 -c "import json,sys; print(json.load(sys.stdin)[0]['EnclaveCID'])" \
    < <("$ALCOVE" describe-enclaves))
  out=$(printf "CONNECT $((TCP_PORT0 + 80))\nx" |
    socat -t 5 - "UNIX-CONNECT:$ALCOVE_RUNTIME_DIR/$cid.vsock" | tr '\n' '|')
  [[ "$out" =~ ^OK\ [0-9]+\|x$ ]] || { echo "hybrid client: $out"; return 1; }
  sleep 1
  [ "$(grep -c "TCP client" "$T/echo.log")" -eq "$before" ]
}

@test "publish: run-enclave --publish, shown by describe-enclaves; terminate frees the port" {
  require_kvm
  port=$(free_port)
  run --separate-stderr "$ALCOVE" run-enclave --eif-path "$D/echo80.eif" --cpu-count 1 \
    --memory 64 --publish "127.0.0.1:$port:80" --publish "[::1]:$port:80"
  [ "$status" -eq 0 ]
  # nitro-cli's JSON is unchanged
  keys=$(echo "$output" | python3 -c "import json,sys; print(' '.join(json.load(sys.stdin)))")
  [ "$keys" = "EnclaveName EnclaveID ProcessID EnclaveCID NumberOfCPUs CPUIDs MemoryMiB" ]
  run "$ALCOVE" describe-enclaves
  echo "$output" | python3 -c "
import json, sys
e = json.load(sys.stdin)[0]
want = [{'HostIp': '127.0.0.1', 'HostPort': $port, 'EnclavePort': 80, 'Protocol': 'tcp'},
        {'HostIp': '::1', 'HostPort': $port, 'EnclavePort': 80, 'Protocol': 'tcp'}]
assert e['PublishedPorts'] == want, e['PublishedPorts']
"
  for _ in $(seq 100); do
    python3 "$PEER" seq 127.0.0.1 "$port" 1 > /dev/null 2>&1 && break
    sleep 0.1
  done
  run python3 "$PEER" echo 127.0.0.1 "$port" $((1 << 20)) --clients 4
  [ "$output" = "ok 4" ]
  "$ALCOVE" terminate-enclave --all > /dev/null
  python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen()"
  # an enclave without -p has an empty list
  "$ALCOVE" run-enclave --eif-path "$D/echo80.eif" --cpu-count 1 --memory 64 > /dev/null
  run "$ALCOVE" describe-enclaves
  [ "$(echo "$output" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['PublishedPorts'])")" = "[]" ]
}

# start_server SPEC... -- PROGRAM ARGS...: PROGRAM (a path, or --rootfs DIR and a web server in
# it) in an enclave with those -p specs; waits until it listens (it says so, or the web server
# answers through the first spec's host port).
start_server() {
  local opts=()
  while [ "$1" != -- ]; do opts+=(-p "$1"); shift; done
  shift
  local first=${opts[1]}
  local hport=${first%:*}
  hport=${hport##*:}
  "$ALCOVE" run -m 256 "${opts[@]}" --log-file "$T/srv.log" "$@" > "$T/srv.out" 2> "$T/srv.err" &
  SRV_PID=$!
  BG_PIDS+=("$SRV_PID")
  local i
  for i in $(seq 600); do
    grep -q "listening on" "$T/srv.out" 2> /dev/null && return 0
    # a web server says nothing: ask it (the host accepts at once, the enclave answers or
    # resets while nothing listens inside)
    [ "$1" = --rootfs ] && curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$hport/" && return 0
    kill -0 "$SRV_PID" 2> /dev/null || break
    sleep 0.05
  done
  cat "$T/srv.out" "$T/srv.err" "$T/srv.log"
  return 1
}

@test "publish: an unmodified TCP server (AF_INET6 on ::) behind -p: checksummed echo, 8 at once, 100 in a row; accept() sees the client's address and port" {
  require_kvm
  port=$(free_port)
  src=$(free_port)
  start_server "127.0.0.1:$port:8080" -- "$(prog tcp_echo-glibc-pie)" 8080 v6
  run python3 "$PEER" from 127.0.0.1 "$port" "$src"
  [ "$output" = ok ]
  for _ in $(seq 100); do grep -q "^connection 1 " "$T/srv.out" && break; sleep 0.05; done
  # a v4 client of a v6 socket: its address v4-mapped, as on Linux; the local end loopback
  grep -qx "connection 1 from ::ffff:127.0.0.1 port $src to ::ffff:127.0.0.1 port 8080" "$T/srv.out" ||
    { cat "$T/srv.out"; return 1; }
  run python3 "$PEER" echo 127.0.0.1 "$port" $((4 << 20))
  echo "$output"; [ "$output" = "ok 1" ]
  run python3 "$PEER" echo 127.0.0.1 "$port" $((256 << 10)) --clients 8
  echo "$output"; [ "$output" = "ok 8" ]
  run python3 "$PEER" seq 127.0.0.1 "$port" 100
  echo "$output"; [ "$output" = "ok 100" ]
  for _ in $(seq 100); do [ "$(open_conns "$port")" = 0 ] && break; sleep 0.05; done
  [ "$(open_conns "$port")" = 0 ]
  # a client that resets mid-transfer: the server's child sees it, the server goes on
  run python3 "$PEER" abort 127.0.0.1 "$port"
  echo "$output"; [ "$status" -eq 0 ]
  run python3 "$PEER" echo 127.0.0.1 "$port" 100000 --clients 2
  [ "$output" = "ok 2" ]
  kill -0 "$SRV_PID"
}

@test "publish: a thread polling a vsock socket without pause does not take the wake-ups of a writer blocked on a published connection (4 MiB echo, 1 and 2 vCPUs)" {
  require_kvm
  # each poll runs the kernel's vsock driver, which clears the device's event bit: the echo's
  # writer, blocked for credit, slept through the update it waited for until the driver woke it
  local cpus
  for cpus in 1 2; do
    port=$(free_port)
    start_server "127.0.0.1:$port:8080" -- --cpu-count "$cpus" "$(prog tcp_echo-musl-exec)" 8080 v4 0 spin
    run timeout -k 5 150 python3 "$PEER" echo 127.0.0.1 "$port" $((4 << 20))
    echo "$cpus vCPUs: $output"; [ "$output" = "ok 1" ]
    kill "$SRV_PID"; wait "$SRV_PID" || true
  done
}

@test "publish: an AF_INET server on 0.0.0.0 is reached; one on 127.0.0.1 stays private to the enclave (reset)" {
  require_kvm
  port=$(free_port)
  start_server "127.0.0.1:$port:7000" -- "$(prog tcp_echo-musl-exec)" 7000 v4
  run python3 "$PEER" echo 127.0.0.1 "$port" 100000
  [ "$output" = "ok 1" ]
  grep -q "^connection 1 from 127.0.0.1 port [1-9][0-9]* to 127.0.0.1 port 7000$" "$T/srv.out"
  kill "$SRV_PID"; wait "$SRV_PID" || true
  port=$(free_port)
  start_server "127.0.0.1:$port:7000" -- "$(prog tcp_echo-musl-exec)" 7000 lo
  run python3 "$PEER" refused 127.0.0.1 "$port"
  echo "$output"
  [[ "$output" =~ ^reset\ [0-4]\. ]]
}

@test "publish: busybox httpd in an enclave serves a file to curl through -p" {
  require_kvm
  command -v curl > /dev/null || skip "no curl"
  local R=$T/root
  mkdir -p "$R/bin" "$R/www" "$R/tmp"
  cp /bin/busybox "$R/bin/busybox"
  head -c 300000 /dev/urandom | base64 > "$R/www/index.html"
  port=$(free_port)
  start_server "127.0.0.1:$port:80" -- --rootfs "$R" /bin/busybox httpd -f -p 80 -h /www
  local i
  for i in 1 2 3; do
    curl -sS --max-time 60 -o "$T/got" "http://127.0.0.1:$port/index.html"
    cmp "$T/got" "$R/www/index.html"
  done
  run curl -sS --max-time 60 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/missing"
  [ "$output" = 404 ]
}

# add_program FILE: FILE under $R at its own path, with its interpreter and the libraries the
# host's loader resolves for it (as dynamic.bats does).
add_program() {
  local f lib
  for f in "$1" $(readelf -l "$1" | sed -n 's/.*program interpreter: \(.*\)]$/\1/p') \
      $(ldd "$1" | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do
    mkdir -p "$R$(dirname "$f")"
    cp -L "$f" "$R$f"
  done
}

@test "publish: Debian's redis-server in an enclave, driven by redis-benchmark from the host" {
  require_kvm
  command -v redis-server > /dev/null && command -v redis-benchmark > /dev/null ||
    skip "no redis-server or redis-benchmark (scripts/setup.sh installs them)"
  local R=$T/root
  mkdir -p "$R/tmp"
  add_program "$(command -v redis-server)"
  port=$(free_port)
  "$ALCOVE" run -m 512 -p "127.0.0.1:$port:6379" --log-file "$T/srv.log" --rootfs "$R" \
    "$(command -v redis-server)" --port 6379 --bind 0.0.0.0 --protected-mode no --save "" \
    --appendonly no --dir /tmp > "$T/srv.out" 2> "$T/srv.err" &
  BG_PIDS+=("$!")
  local i up=
  for i in $(seq 600); do
    [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2> /dev/null)" = PONG ] && { up=1; break; }
    sleep 0.2
  done
  [ -n "$up" ] || { cat "$T/srv.out" "$T/srv.err" "$T/srv.log"; return 1; }
  run timeout 600 redis-benchmark -h 127.0.0.1 -p "$port" -q -n 2000 -t get,set
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ SET:\ [0-9.]+\ requests\ per\ second ]]
  [[ "$output" =~ GET:\ [0-9.]+\ requests\ per\ second ]]
  # what it stored is there
  [ "$(redis-cli -h 127.0.0.1 -p "$port" set alcove-key enclave)" = OK ]
  [ "$(redis-cli -h 127.0.0.1 -p "$port" get alcove-key)" = enclave ]
}
