# vsock_peer.bash: the enclave side of the host vsock tests (vsock_host.bats), behind a few
# functions so that it can be swapped: VSOCK_PEER=fake (the default) plays the enclave and its
# monitor's hybrid vsock socket with tests/integration/fake_vsock_host.py; a real enclave
# implementation provides the same functions (an echo program run with `alcove run`, and a
# program that connects to the parent).
#
# The peer's behaviour, by vsock port (what a real enclave program must do too):
#   PORT_ECHO (5000) and any other  echoes; at EOF shuts its writing side and closes
#   PORT_COUNT (5002)               reads to EOF, then writes "<bytes>\n" and closes
#   PORT_GREET (5003)               writes "hello\n" as soon as it accepts, then echoes
#   PORT_SILENT (5004)              accepted by nobody and never refused (times out)
#   PORT_NOBODY (9999)              nothing listens: refused
#
# Functions:
#   vsock_peer_setup / vsock_peer_teardown   per test (a private runtime directory)
#   start_echo_enclave [NAME]   starts the peer; sets ECHO_CID (and ECHO_UDS, its socket)
#   enclave_dial PORT [--count N --size BYTES]
#                               the enclave with CID $DIAL_CID connects to the parent (CID 3) on
#                               PORT: alone, its stdin goes there and the answer comes to stdout;
#                               with --count, N connections at once, each checking its bytes
#                               come back (an echo behind PORT); prints "ok N"
#   peer_requires FEATURE...    skips the test unless the peer has them: count, greet, silent
#                               (the ports above), dial-stdin, dial-many, name
#
# VSOCK_PEER=enclave runs real enclaves (needs /dev/kvm and the test programs in PROGRAMS):
# tests/programs/vsock_echo on PORT_ECHO (so PORT_NOBODY is refused too), and
# tests/programs/vsock_client for one connection from an enclave with CID DIAL_CID; the other
# features are the fake's only, for now.

PORT_ECHO=5000
PORT_COUNT=5002
PORT_GREET=5003
PORT_SILENT=5004
PORT_NOBODY=9999
VSOCK_PEER=${VSOCK_PEER:-fake}
FAKE_HOST="$BATS_TEST_DIRNAME/fake_vsock_host.py"

vsock_peer_setup() {
  # a short path: Unix socket paths are limited to 107 bytes
  VSOCK_RUN=$(mktemp -d /tmp/alcove-vsock.XXXXXX)
  export ALCOVE_RUNTIME_DIR=$VSOCK_RUN
  VSOCK_PIDS=()
}

vsock_peer_teardown() {
  local p
  for p in "${VSOCK_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${VSOCK_PIDS[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$VSOCK_RUN"
}

# Runs a command in the background for the rest of the test (stopped by the teardown).
background() {
  "$@" &
  VSOCK_PIDS+=($!)
}

# Waits until PATH exists (a socket or a file), at most 10 s.
wait_for_path() {
  local i
  for i in $(seq 100); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}

# The CID of the enclave that dials the parent (enclave_dial): the fake's own; a second real
# enclave (the echo enclave holds ECHO_CID).
DIAL_CID=4

peer_requires() {
  [ "$VSOCK_PEER" = fake ] && return 0
  local f
  for f in "$@"; do
    case "$VSOCK_PEER:$f" in
      enclave:dial-one) ;;
      *) skip "VSOCK_PEER=$VSOCK_PEER has no '$f'" ;;
    esac
  done
}

start_echo_enclave() {
  local name=${1:-echo-enclave}
  case "$VSOCK_PEER" in
    fake)
      ECHO_CID=4
      ECHO_UDS=$VSOCK_RUN/$ECHO_CID.vsock
      background python3 "$FAKE_HOST" serve --uds "$ECHO_UDS" --name "$name" --cid "$ECHO_CID"
      wait_for_path "$VSOCK_RUN/$ECHO_CID.json"
      wait_for_path "$ECHO_UDS"
      ;;
    enclave)
      if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ] || ! ( exec 9<>/dev/kvm ) 2>/dev/null; then
        skip "NO /dev/kvm: VSOCK_PEER=enclave needs it"
      fi
      ECHO_CID=4
      DIAL_CID=5
      ECHO_UDS=$VSOCK_RUN/$ECHO_CID.vsock
      "$ALCOVE" run --enclave-cid "$ECHO_CID" --enclave-name "$name" \
        "${PROGRAMS:-$BUILD_ROOT/tests}/vsock_echo-musl-exec" "$PORT_ECHO" \
        > "$VSOCK_RUN/echo.out" 2>&1 &
      VSOCK_PIDS+=($!)
      local i
      for i in $(seq 200); do
        grep -q "listening on" "$VSOCK_RUN/echo.out" && return 0
        sleep 0.05
      done
      cat "$VSOCK_RUN/echo.out"
      return 1
      ;;
    *)
      skip "VSOCK_PEER=$VSOCK_PEER: no such enclave side"
      ;;
  esac
}

enclave_dial() {
  local port=$1
  shift
  case "$VSOCK_PEER" in
    fake) python3 "$FAKE_HOST" dial --uds "$VSOCK_RUN/$DIAL_CID.vsock" --port "$port" "$@" ;;
    enclave)
      # one connection: --count 1 --size N
      local size=4096
      [ "${3:-}" = --size ] && size=$4
      "$ALCOVE" run --enclave-cid "$DIAL_CID" "${PROGRAMS:-$BUILD_ROOT/tests}/vsock_client-musl-exec" \
        "$port" "$size" | grep -q " match$" && echo "ok 1"
      ;;
  esac
}
