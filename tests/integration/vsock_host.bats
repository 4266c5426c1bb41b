#!/usr/bin/env bats
# vsock_host.bats: the host side of enclave vsock: `alcove connect`, libalcove (the C SDK), the
# LD_PRELOAD shim for unmodified AF_VSOCK programs, and `alcove vsock-proxy` both ways. The
# enclave side comes from vsock_peer.bash (a fake of the monitor's hybrid vsock socket until the
# suite runs against real enclaves). Needs ALCOVE; the test programs are found beside it in the
# build tree (or VSOCK_TOOLS and ALCOVE_PRELOAD).

: "${ALCOVE:?set ALCOVE to the alcove binary}"
BUILD_ROOT=$(cd "$(dirname "$ALCOVE")/.." && pwd)
VSOCK_TOOLS=${VSOCK_TOOLS:-$BUILD_ROOT/tests/tools}
ALCOVE_PRELOAD=${ALCOVE_PRELOAD:-$BUILD_ROOT/src/sdk/libalcove-preload.so}
SDK_CLIENT=$VSOCK_TOOLS/vsock_sdk_client
PLAIN_CLIENT=$VSOCK_TOOLS/vsock_plain_client

load vsock_peer

setup() {
  vsock_peer_setup
  T=$BATS_TEST_TMPDIR
}

teardown() {
  vsock_peer_teardown
}

# Starts `alcove vsock-proxy ARGS` in the background, its stderr in $T/proxy.err; sets PROXY_PID.
start_proxy() {
  "$ALCOVE" vsock-proxy "$@" 2> "$T/proxy.err" &
  PROXY_PID=$!
  VSOCK_PIDS+=("$PROXY_PID")
  local i
  for i in $(seq 100); do
    grep -q "listening on" "$T/proxy.err" 2>/dev/null && return 0
    kill -0 "$PROXY_PID" 2>/dev/null || { cat "$T/proxy.err"; return 1; }
    sleep 0.1
  done
  cat "$T/proxy.err"
  return 1
}

# The TCP port an inbound proxy listens on (from its "listening on tcp ADDR:PORT" line).
proxy_tcp_port() {
  sed -n 's/.*listening on tcp .*:\([0-9]*\),.*/\1/p' "$T/proxy.err" | head -1
}

# Starts a TCP echo server on 127.0.0.1; sets TCP_ECHO_PORT.
start_tcp_echo() {
  background python3 "$FAKE_HOST" tcp-echo --port-file "$T/echo.port"
  wait_for_path "$T/echo.port"
  TCP_ECHO_PORT=$(cat "$T/echo.port")
}

# Writes an allowlist to $T/allow.yaml from "ADDRESS PORT" pairs.
allowlist() {
  echo "allowlist:" > "$T/allow.yaml"
  while [ $# -gt 0 ]; do
    echo "- {address: $1, port: $2}" >> "$T/allow.yaml"
    shift 2
  done
}

# ---- alcove connect ----

@test "connect: bytes go to the enclave's port and come back (echo)" {
  start_echo_enclave
  run bash -c "printf 'hello vsock\n' | '$ALCOVE' connect --enclave-cid $ECHO_CID --port $PORT_ECHO"
  [ "$status" -eq 0 ]
  [ "$output" = "hello vsock" ]
}

@test "connect: 8 MiB round trip, byte for byte" {
  start_echo_enclave
  head -c $((8 << 20)) /dev/urandom > "$T/in"
  "$ALCOVE" connect --enclave-cid "$ECHO_CID" --port "$PORT_ECHO" < "$T/in" > "$T/out"
  cmp "$T/in" "$T/out"
}

@test "connect: --enclave-name finds the enclave" {
  start_echo_enclave my-enclave
  run bash -c "echo named | '$ALCOVE' connect --enclave-name my-enclave --port $PORT_ECHO"
  [ "$status" -eq 0 ]
  [ "$output" = "named" ]
}

@test "connect: end of stdin is a half-close; the answer after it still arrives" {
  peer_requires count
  start_echo_enclave
  run bash -c "printf abcdef | '$ALCOVE' connect --enclave-cid $ECHO_CID --port $PORT_COUNT"
  [ "$status" -eq 0 ]
  [ "$output" = "6" ]
  head -c 3000000 /dev/zero > "$T/in"
  run bash -c "'$ALCOVE' connect --enclave-cid $ECHO_CID --port $PORT_COUNT < '$T/in'"
  [ "$status" -eq 0 ]
  [ "$output" = "3000000" ]
}

@test "connect: bytes the enclave sends right after accepting are not lost" {
  peer_requires greet
  start_echo_enclave
  run bash -c "echo back | '$ALCOVE' connect --enclave-cid $ECHO_CID --port $PORT_GREET"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'hello\nback')" ]
}

@test "connect: nothing listening on the port is [ E91 ], status 91" {
  start_echo_enclave
  run "$ALCOVE" connect --enclave-cid "$ECHO_CID" --port "$PORT_NOBODY" < /dev/null
  [ "$status" -eq 91 ]
  [[ "$output" == *"[ E91 ]"*"port $PORT_NOBODY"* ]]
}

@test "connect: no such enclave is [ E90 ] by CID, [ E58 ] by name (nitro-cli's naming error)" {
  start_echo_enclave
  run "$ALCOVE" connect --enclave-cid 77 --port "$PORT_ECHO" < /dev/null
  [ "$status" -eq 90 ]
  [[ "$output" == *"[ E90 ]"*"77"* ]]
  run "$ALCOVE" connect --enclave-name nobody --port "$PORT_ECHO" < /dev/null
  [ "$status" -eq 58 ]
  [[ "$output" == *"[ E58 ]"*"nobody"* ]]
}

@test "connect: no answer within --connect-timeout is [ E10 ]" {
  peer_requires silent
  start_echo_enclave
  SECONDS=0
  run "$ALCOVE" connect --enclave-cid "$ECHO_CID" --port "$PORT_SILENT" --connect-timeout 0.5 \
    < /dev/null
  [ "$status" -eq 10 ]
  [[ "$output" == *"[ E10 ]"* ]]
  [ "$SECONDS" -lt 5 ]
}

@test "connect: bad arguments are clear errors" {
  # argument errors exit 2 (as nitro-cli's clap), bad values 3 (E03)
  run "$ALCOVE" connect --enclave-cid 4
  [ "$status" -eq 2 ]
  [[ "$output" == *"[ E01 ]"*"--port"* ]]
  run "$ALCOVE" connect --port 5
  [ "$status" -eq 2 ]
  run "$ALCOVE" connect --enclave-cid 3 --port 5
  [ "$status" -eq 3 ]
  run "$ALCOVE" connect --enclave-cid 4 --enclave-name x --port 5
  [ "$status" -eq 2 ]
  run "$ALCOVE" connect --enclave-cid 4 --port 4294967295
  [ "$status" -eq 3 ]
  run "$ALCOVE" connect --enclave-cid 4 --port 5 --connect-timeout -1
  [ "$status" -eq 3 ]
}

# ---- libalcove, the C SDK ----

@test "sdk: alcove_vsock_connect and alcove_vsock_connect_uds echo" {
  peer_requires greet count
  start_echo_enclave
  run bash -c "echo sdk | '$SDK_CLIENT' connect $ECHO_CID $PORT_ECHO"
  [ "$status" -eq 0 ]
  [ "$output" = "sdk" ]
  run bash -c "echo uds | '$SDK_CLIENT' uds '$ECHO_UDS' $PORT_GREET"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'hello\nuds')" ]
  run bash -c "printf 12345 | '$SDK_CLIENT' connect $ECHO_CID $PORT_COUNT"
  [ "$output" = "5" ]
}

@test "sdk: refused, no enclave and timeout are ECONNREFUSED, EHOSTUNREACH and ETIMEDOUT" {
  peer_requires silent
  start_echo_enclave
  run "$SDK_CLIENT" connect "$ECHO_CID" "$PORT_NOBODY"
  [ "$status" -eq 2 ]
  [ "${lines[0]}" = "ECONNREFUSED" ]
  run "$SDK_CLIENT" connect 77 "$PORT_ECHO"
  [ "${lines[0]}" = "EHOSTUNREACH" ]
  # a stale socket (its monitor gone) is no enclave either
  python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" \
    "$VSOCK_RUN/78.vsock"
  run "$SDK_CLIENT" connect 78 "$PORT_ECHO"
  [ "${lines[0]}" = "EHOSTUNREACH" ]
  run "$SDK_CLIENT" connect "$ECHO_CID" "$PORT_SILENT" 300
  [ "${lines[0]}" = "ETIMEDOUT" ]
}

@test "sdk: alcove_vsock_listen takes the enclave's connections, unlisten removes the socket" {
  peer_requires dial-stdin
  start_echo_enclave
  "$SDK_CLIENT" listen "$DIAL_CID" 6000 > "$T/listen.out" &
  VSOCK_PIDS+=($!)
  wait_for_path "$VSOCK_RUN/$DIAL_CID.vsock_6000"
  output=$(echo from-enclave | enclave_dial 6000)
  [ "$output" = "from-enclave" ]
  wait "${VSOCK_PIDS[-1]}"
  [ ! -e "$VSOCK_RUN/$DIAL_CID.vsock_6000" ]
}

@test "sdk: a stale listener socket is replaced, a live one and a non-socket are not" {
  peer_requires dial-stdin
  start_echo_enclave
  stale=$VSOCK_RUN/$DIAL_CID.vsock_6001
  python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$stale"
  [ -S "$stale" ]
  "$SDK_CLIENT" listen "$DIAL_CID" 6001 > "$T/listen.out" &
  VSOCK_PIDS+=($!)
  for i in $(seq 50); do grep -q listening "$T/listen.out" && break; sleep 0.1; done
  grep -q listening "$T/listen.out"
  run "$SDK_CLIENT" listen "$DIAL_CID" 6001
  [ "$status" -eq 2 ]
  [ "${lines[0]}" = "EADDRINUSE" ]
  output=$(echo still | enclave_dial 6001)
  [ "$output" = "still" ]
  echo not-a-socket > "$VSOCK_RUN/$ECHO_CID.vsock_6002"
  run "$SDK_CLIENT" listen "$ECHO_CID" 6002
  [ "$status" -eq 2 ]
  [ "$(cat "$VSOCK_RUN/$ECHO_CID.vsock_6002")" = "not-a-socket" ]
}

# ---- the LD_PRELOAD shim ----

@test "preload: an unmodified AF_VSOCK client reaches the enclave" {
  start_echo_enclave
  run bash -c "printf 'plain\n' | LD_PRELOAD='$ALCOVE_PRELOAD' '$PLAIN_CLIENT' $ECHO_CID $PORT_ECHO \
    2> '$T/err'"
  [ "$status" -eq 0 ]
  [ "$output" = "plain" ]
  grep -q "peer $ECHO_CID:$PORT_ECHO local 3" "$T/err"
  head -c $((2 << 20)) /dev/urandom > "$T/in"
  LD_PRELOAD=$ALCOVE_PRELOAD "$PLAIN_CLIENT" "$ECHO_CID" "$PORT_ECHO" < "$T/in" > "$T/out" 2>/dev/null
  cmp "$T/in" "$T/out"
}

@test "preload: a non-blocking socket connects (synchronously) and works" {
  peer_requires greet
  start_echo_enclave
  run bash -c "echo nb | LD_PRELOAD='$ALCOVE_PRELOAD' '$PLAIN_CLIENT' -n $ECHO_CID $PORT_GREET \
    2>/dev/null"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'hello\nnb')" ]
}

@test "preload: refused and unknown CID fail connect() with the right errno" {
  start_echo_enclave
  run env LD_PRELOAD="$ALCOVE_PRELOAD" "$PLAIN_CLIENT" "$ECHO_CID" "$PORT_NOBODY" < /dev/null
  [ "$status" -eq 3 ]
  [[ "$output" == *"Connection refused"* ]]
  run env LD_PRELOAD="$ALCOVE_PRELOAD" "$PLAIN_CLIENT" 77 "$PORT_ECHO" < /dev/null
  [ "$status" -eq 3 ]
  [[ "$output" == *"No route to host"* ]]
}

@test "preload: bind/listen/accept on AF_VSOCK take the enclave's connections" {
  peer_requires dial-stdin
  start_echo_enclave
  ALCOVE_ENCLAVE_CID=$DIAL_CID LD_PRELOAD=$ALCOVE_PRELOAD "$PLAIN_CLIENT" -l 6003 2> "$T/err" &
  pid=$!
  VSOCK_PIDS+=("$pid")
  wait_for_path "$VSOCK_RUN/$DIAL_CID.vsock_6003"
  output=$(echo to-host | enclave_dial 6003)
  [ "$output" = "to-host" ]
  wait "$pid"
  grep -q "accepted from $DIAL_CID" "$T/err"
  [ ! -e "$VSOCK_RUN/$DIAL_CID.vsock_6003" ] # close() removed it
}

# ---- vsock-proxy, inbound: TCP clients → the enclave ----

@test "vsock-proxy inbound: a TCP client reaches the enclave's port" {
  start_echo_enclave
  start_proxy --enclave-cid "$ECHO_CID" --port "$PORT_ECHO" --listen-tcp 127.0.0.1:0
  port=$(proxy_tcp_port)
  [ -n "$port" ]
  run python3 "$FAKE_HOST" tcp-clients --port "$port" --count 1 --size 1000000
  [ "$status" -eq 0 ]
  [ "$output" = "ok 1" ]
}

@test "vsock-proxy inbound: half-close travels to the enclave and the answer back" {
  peer_requires count
  start_echo_enclave
  start_proxy --enclave-cid "$ECHO_CID" --port "$PORT_COUNT" --listen-tcp 127.0.0.1:0
  port=$(proxy_tcp_port)
  run python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"x" * 200000)
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print(data.decode().strip())' "$port"
  [ "$status" -eq 0 ]
  [ "$output" = "200000" ]
}

@test "vsock-proxy inbound: 100 concurrent connections" {
  start_echo_enclave
  start_proxy --enclave-cid "$ECHO_CID" --port "$PORT_ECHO" --listen-tcp 127.0.0.1:0 -w 2
  port=$(proxy_tcp_port)
  run python3 "$FAKE_HOST" tcp-clients --port "$port" --count 100 --size 200000
  [ "$status" -eq 0 ]
  [ "$output" = "ok 100" ]
}

@test "vsock-proxy inbound: a client that does not read stalls only its own connection" {
  start_echo_enclave
  start_proxy --enclave-cid "$ECHO_CID" --port "$PORT_ECHO" --listen-tcp 127.0.0.1:0 -w 1
  port=$(proxy_tcp_port)
  run timeout 60 python3 -c '
import socket, sys
port = int(sys.argv[1])
stuck = socket.create_connection(("127.0.0.1", port))
stuck.setblocking(False)
sent = 0
try:  # write until every buffer on the way is full
    while sent < (64 << 20):
        sent += stuck.send(b"s" * 65536)
except BlockingIOError:
    pass
ok = socket.create_connection(("127.0.0.1", port), timeout=20)
ok.sendall(b"y" * 100000)
ok.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = ok.recv(65536)
    if not d:
        break
    got += d
print("stuck sent %d, other got %d" % (sent, len(got)))
sys.exit(0 if got == b"y" * 100000 and sent < (64 << 20) else 1)' "$port"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "vsock-proxy inbound: a port nobody listens on closes the TCP client, the proxy goes on" {
  start_echo_enclave
  start_proxy --enclave-cid "$ECHO_CID" --port "$PORT_NOBODY" --listen-tcp 127.0.0.1:0
  port=$(proxy_tcp_port)
  run python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
print(len(s.recv(100)))' "$port"
  [ "$output" = "0" ]
  kill -0 "$PROXY_PID"
}

@test "vsock-proxy inbound: no such enclave is [ E90 ] at startup" {
  start_echo_enclave
  run "$ALCOVE" vsock-proxy --enclave-cid 77 --port 5000 --listen-tcp 127.0.0.1:0
  [ "$status" -eq 90 ]
  [[ "$output" == *"[ E90 ]"* ]]
}

# ---- vsock-proxy, outbound (Nitro's): the enclave → an allowed TCP destination ----

@test "vsock-proxy outbound: the enclave's connection to CID 3 reaches an allowed TCP server" {
  start_echo_enclave
  start_tcp_echo
  allowlist 127.0.0.1 "$TCP_ECHO_PORT"
  start_proxy --enclave-cid "$DIAL_CID" --config "$T/allow.yaml" 8000 127.0.0.1 "$TCP_ECHO_PORT"
  [ -S "$VSOCK_RUN/$DIAL_CID.vsock_8000" ]
  run enclave_dial 8000 --count 1 --size 3000000
  [ "$output" = "ok 1" ]
  if [ "$VSOCK_PEER" = fake ]; then
    output=$(echo out | enclave_dial 8000)
    [ "$output" = "out" ]
  fi
}

@test "vsock-proxy outbound, Nitro's syntax without an enclave: every enclave's connections, an enclave's own proxy first" {
  start_echo_enclave
  start_tcp_echo
  allowlist 127.0.0.1 "$TCP_ECHO_PORT"
  start_proxy --config "$T/allow.yaml" 8000 127.0.0.1 "$TCP_ECHO_PORT"
  grep -q "for every enclave" "$T/proxy.err"
  [ -S "$VSOCK_RUN/any.vsock_8000" ]
  [ "$(stat -c %a "$VSOCK_RUN/any.vsock_8000")" = 600 ]
  [ ! -e "$VSOCK_RUN/$DIAL_CID.vsock_8000" ]
  run enclave_dial 8000 --count 1 --size 300000
  [ "$output" = "ok 1" ]
  # an enclave's own listener on the port is its, not the shared one's: a proxy for that
  # enclave to a destination that does not answer takes its connections
  local any_pid=$PROXY_PID
  allowlist 127.0.0.1 "$TCP_ECHO_PORT"
  start_proxy --enclave-cid "$DIAL_CID" --config "$T/allow.yaml" 8000 127.0.0.1 "$TCP_ECHO_PORT"
  [ -S "$VSOCK_RUN/$DIAL_CID.vsock_8000" ]
  kill -STOP "$any_pid"   # a connection that reached it would hang
  ( enclave_dial 8000 --count 1 --size 1000 > "$T/dial.out" ) &
  local dial=$! i
  for i in $(seq 200); do kill -0 "$dial" 2> /dev/null || break; sleep 0.1; done
  kill -CONT "$any_pid"
  wait "$dial" || true
  [ "$(cat "$T/dial.out")" = "ok 1" ]
  # SIGTERM: both stop cleanly and take their sockets with them
  kill -TERM "$PROXY_PID" "$any_pid"
  wait "$PROXY_PID" "$any_pid"
  [ ! -e "$VSOCK_RUN/any.vsock_8000" ]
  [ ! -e "$VSOCK_RUN/$DIAL_CID.vsock_8000" ]
}

@test "vsock-proxy outbound: 100 concurrent connections from the enclave" {
  peer_requires dial-many
  start_echo_enclave
  start_tcp_echo
  allowlist 127.0.0.1 "$TCP_ECHO_PORT"
  start_proxy --enclave-cid "$DIAL_CID" --config "$T/allow.yaml" -w 4 8000 127.0.0.1 \
    "$TCP_ECHO_PORT"
  run enclave_dial 8000 --count 100 --size 200000
  [ "$status" -eq 0 ]
  [ "$output" = "ok 100" ]
}

@test "vsock-proxy outbound: an entry matches by resolved address (localhost for 127.0.0.1)" {
  peer_requires dial-stdin
  start_echo_enclave
  start_tcp_echo
  allowlist example.invalid 1 localhost "$TCP_ECHO_PORT"
  start_proxy --enclave-cid "$DIAL_CID" --config "$T/allow.yaml" -4 8000 127.0.0.1 \
    "$TCP_ECHO_PORT"
  output=$(echo by-ip | enclave_dial 8000)
  [ "$output" = "by-ip" ]
}

@test "vsock-proxy outbound: --enclave-name, and SIGINT removes the socket with status 0" {
  start_echo_enclave named-one
  start_tcp_echo
  allowlist 127.0.0.1 "$TCP_ECHO_PORT"
  start_proxy --enclave-name named-one --config "$T/allow.yaml" 8001 127.0.0.1 "$TCP_ECHO_PORT"
  [ -S "$VSOCK_RUN/$ECHO_CID.vsock_8001" ]
  kill -INT "$PROXY_PID"
  status=0
  wait "$PROXY_PID" || status=$?
  [ "$status" -eq 0 ]
  [ ! -e "$VSOCK_RUN/$ECHO_CID.vsock_8001" ]
}

@test "vsock-proxy outbound: a destination the allowlist lacks is [ E92 ] at startup" {
  start_echo_enclave
  allowlist 127.0.0.1 1234 localhost 80
  run "$ALCOVE" vsock-proxy --enclave-cid "$ECHO_CID" --config "$T/allow.yaml" 8000 127.0.0.1 4321
  [ "$status" -eq 92 ]
  [[ "$output" == *"[ E92 ]"*"127.0.0.1:4321"* ]]
  [ ! -e "$VSOCK_RUN/$ECHO_CID.vsock_8000" ]
}

@test "vsock-proxy outbound: a missing or malformed allowlist is [ E93 ] naming the problem" {
  start_echo_enclave
  run "$ALCOVE" vsock-proxy --enclave-cid "$ECHO_CID" --config "$T/none.yaml" 8000 127.0.0.1 80
  [ "$status" -eq 93 ]
  [[ "$output" == *"[ E93 ]"*"none.yaml"*"No such file"* ]]
  check_bad() { # YAML text, expected words in the message
    printf '%b' "$1" > "$T/bad.yaml"
    run "$ALCOVE" vsock-proxy --enclave-cid "$ECHO_CID" --config "$T/bad.yaml" 8000 127.0.0.1 80
    [ "$status" -eq 93 ] || { echo "status $status for: $1"; return 1; }
    [[ "$output" == *"[ E93 ]"*"$2"* ]] || { echo "for: $1"; echo "$output"; return 1; }
  }
  check_bad "" "empty"
  check_bad "allowlist: [\n" "line"
  check_bad "other: 1\n" "no 'allowlist'"
  check_bad "allowlist: 5\n" "must be a list"
  check_bad "allowlist:\n- {address: a.b, port: 70000}\n" "line 2: 'port'"
  check_bad "allowlist:\n- {address: a.b, port: -1}\n" "'port'"
  check_bad "allowlist:\n- {address: a.b}\n" "needs both"
  check_bad "allowlist:\n- {port: 80}\n" "needs both"
  check_bad "allowlist:\n- {address: [x], port: 80}\n" "'address'"
  check_bad "allowlist:\n- {address: 'a b', port: 80}\n" "'address'"
  check_bad "allowlist:\n- just-a-string\n" "mapping"
  check_bad "- {address: a, port: 80}\n" "expected a mapping"
  check_bad "allowlist:\n- {address: a, port: 80, port: 81}\n" "twice"
  check_bad "\x00\x01\xff\xfe garbage" ""
  head -c 2000000 /dev/zero | tr '\0' '#' > "$T/big.yaml"
  run "$ALCOVE" vsock-proxy --enclave-cid "$ECHO_CID" --config "$T/big.yaml" 8000 127.0.0.1 80
  [ "$status" -eq 93 ]
  [[ "$output" == *"larger than"* ]]
}

@test "vsock-proxy outbound: an empty allowlist denies everything; aliases and deep nesting are safe" {
  start_echo_enclave
  printf 'allowlist:\n' > "$T/empty.yaml"
  run "$ALCOVE" vsock-proxy --enclave-cid "$ECHO_CID" --config "$T/empty.yaml" 8000 127.0.0.1 80
  [ "$status" -eq 92 ]
  # a billion-laughs document: aliases are references, so this loads at once
  python3 - "$T/laughs.yaml" <<'EOF'
import sys
lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
for i in range(1, 30):
    lines.append("a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10)))
lines.append("allowlist:\n- {address: 127.0.0.1, port: 80}")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOF
  run timeout 10 "$ALCOVE" vsock-proxy --enclave-cid "$ECHO_CID" --config "$T/laughs.yaml" \
    8000 127.0.0.1 81
  [ "$status" -eq 92 ]
  # deep nesting (libyaml's scanner is quadratic in it) is refused at once
  python3 -c "print('other: ' + '[' * 500000)" > "$T/deep.yaml"
  run timeout 10 "$ALCOVE" vsock-proxy --enclave-cid "$ECHO_CID" --config "$T/deep.yaml" \
    8000 127.0.0.1 80
  [ "$status" -eq 93 ]
  [[ "$output" == *"nested too deeply"* ]]
}

@test "vsock-proxy: bad arguments are clear errors" {
  # argument errors exit 2 (as nitro-cli's clap), bad values 3 (E03)
  run "$ALCOVE" vsock-proxy --enclave-cid 4 8000 127.0.0.1
  [ "$status" -eq 2 ]
  run "$ALCOVE" vsock-proxy --enclave-cid 4 -w 0 8000 127.0.0.1 80
  [ "$status" -eq 3 ]
  run "$ALCOVE" vsock-proxy --enclave-cid 4 8000 127.0.0.1 0
  [ "$status" -eq 3 ]
  run "$ALCOVE" vsock-proxy --enclave-cid 4 -4 -6 8000 127.0.0.1 80
  [ "$status" -eq 2 ]
  # inbound needs an enclave (outbound without one serves every enclave, as Nitro's)
  run "$ALCOVE" vsock-proxy --port 5 --listen-tcp 8080
  [ "$status" -eq 2 ]
  [[ "$output" == *"which enclave"* ]]
  run "$ALCOVE" vsock-proxy --enclave-cid 4 --listen-tcp 8080
  [ "$status" -eq 2 ]
  [[ "$output" == *"--port"* ]]
}
