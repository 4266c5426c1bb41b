#!/usr/bin/env bats
# reresolve.bats: an allowlisted name resolved again while the enclave runs (docs/networking.md,
# "Addresses that follow a name"). The monitor runs in private mount and network namespaces: its
# /etc/hosts (glibc's `files` reads it at every lookup) and /etc/resolv.conf are files of the
# test bind-mounted there, and its loopback has the TEST-NET addresses 192.0.2.2 and 192.0.2.3,
# each with an HTTP server, and 192.0.2.5, a name server that never answers. Nothing of the
# machine's own network or files changes. ALCOVE_OUTBOUND_REFRESH_S (a test knob) shortens the
# period of 60 s. Needs root (unshare, mount) and KVM.

load helpers
bats_require_minimum_version 1.5.0

NAME=svc.alcove.test
PORT=8080

setup() {
  T=$BATS_TEST_TMPDIR
  export ALCOVE_RUNTIME_DIR=$T/rt
  mkdir -p "$ALCOVE_RUNTIME_DIR"
  BG_PIDS=()
  NS_PID=
}

teardown() {
  local p
  "$ALCOVE" terminate-enclave --all > /dev/null 2>&1 || true
  for p in "${BG_PIDS[@]}" $NS_PID; do
    kill "$p" 2> /dev/null || true
    wait "$p" 2> /dev/null || true
  done
}

# Runs a command in the namespaces, with the root and directory of the holder (entering a mount
# namespace resets them: the KVM VM runs the tests in a chroot). With &, write nsenter itself:
# $! must be the command's pid.
in_ns() { nsenter -t "$NS_PID" -m -n -r -w "$@"; }

# The namespaces (held by a sleep), their addresses, files and servers; the name at $1.
make_ns() {
  [ "$(id -u)" -eq 0 ] || skip "needs root for its namespaces"
  unshare -mn --propagation private sleep 3600 &
  NS_PID=$!
  local i
  for i in $(seq 100); do
    [ "$(readlink "/proc/$NS_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.05
  done
  in_ns ip link set lo up
  for i in 2 3 5; do in_ns ip addr add "192.0.2.$i/32" dev lo; done
  printf '127.0.0.1 localhost\n%s %s\n' "$1" "$NAME" > "$T/hosts"
  printf 'nameserver 192.0.2.5\noptions timeout:30 attempts:5\n' > "$T/resolv.conf"
  in_ns mount --bind "$T/hosts" /etc/hosts
  for i in 2 3; do
    mkdir -p "$T/www$i"
    echo "hello from 192.0.2.$i" > "$T/www$i/index.txt"
    nsenter -t "$NS_PID" -m -n -r -w python3 -m http.server --bind "192.0.2.$i" --directory "$T/www$i" "$PORT" \
      > "$T/http$i.log" 2>&1 &
    BG_PIDS+=("$!")
  done
  # a name server that takes queries and never answers: a lookup that reaches it hangs
  nsenter -t "$NS_PID" -m -n -r -w python3 -c "import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('192.0.2.5', 53)); time.sleep(3600)" &
  BG_PIDS+=("$!")
  for i in $(seq 600); do
    [ "$(in_ns ss -ltn | grep -c ":$PORT ")" -eq 2 ] && break
    sleep 0.1
  done
  [ "$(in_ns ss -ltn | grep -c ":$PORT ")" -eq 2 ] || { cat "$T"/http*.log; return 1; }
  # only now: http.server's start asks for its address's name (getfqdn), which must not hang
  in_ns mount --bind "$T/resolv.conf" /etc/resolv.conf
  R=$T/root
  mkdir -p "$R/etc"
  cp "$(prog out_follow-musl-exec)" "$R/out_follow"
  echo "nameserver 192.0.2.53" > "$R/etc/resolv.conf" # the parent answers, whatever address
}

# Waits (up to $2 s) for the line $1 in $T/out.
wait_for() {
  local i
  for i in $(seq $(($2 * 10))); do
    grep -q "$1" "$T/out" && return 0
    sleep 0.1
  done
  cat "$T/out"
  return 1
}

@test "reresolve: a name that moves is followed, the old address allowed one period more" {
  require_kvm
  make_ns 192.0.2.2
  ALCOVE_OUTBOUND_REFRESH_S=5 nsenter -t "$NS_PID" -m -n -r -w "$ALCOVE" run --allow "$NAME:$PORT" --rootfs "$R" \
    /out_follow "$NAME" "$PORT" 192.0.2.2 192.0.2.3 5 > "$T/out" 2>&1 &
  local pid=$!
  wait_for ready 300
  # in place: the bind mount is this file's inode
  printf '127.0.0.1 localhost\n192.0.2.3 %s\n' "$NAME" > "$T/hosts"
  local st=0
  wait "$pid" || st=$?
  cat "$T/out"
  [ "$st" -eq 0 ]
  grep -q "page from 192.0.2.2: hello from 192.0.2.2" "$T/out"
  grep -q "moved: $NAME -> 192.0.2.3" "$T/out"
  grep -q "page from 192.0.2.3: hello from 192.0.2.3" "$T/out"
  grep -q "new: ok; old at once: ok" "$T/out"
  grep -q "new: ok; old later: EACCES" "$T/out"
  run ! grep -q "E73" "$T/out"
}

@test "reresolve: a lookup that hangs delays no connect, no answer and no terminate-enclave" {
  require_kvm
  make_ns 192.0.2.2
  run "$ALCOVE" build-enclave --rootfs "$R" --cmd "/out_follow $NAME $PORT 192.0.2.2 - 2" \
    --output-file "$T/f.eif"
  [ "$status" -eq 0 ]
  run --separate-stderr in_ns env ALCOVE_OUTBOUND_REFRESH_S=2 "$ALCOVE" run-enclave \
    --eif-path "$T/f.eif" --cpu-count 1 --memory 64 --debug-mode --enclave-name hang \
    --allow "$NAME:$PORT"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  local pid
  pid=$(echo "$output" | python3 -c "import json, sys; print(json.load(sys.stdin)['ProcessID'])")
  "$ALCOVE" console --enclave-name hang > "$T/out" 2>&1 &
  BG_PIDS+=("$!")
  wait_for ready 300
  # the name leaves /etc/hosts: the next refresh asks the name server, which never answers
  printf '127.0.0.1 localhost\n' > "$T/hosts"
  wait_for checked 120
  cat "$T/out"
  run ! grep -q "during the hang" "$T/out"
  kill -0 "$pid" # the monitor is still there (no [ E73 ] from the resolver's filter)
  local t0=$SECONDS
  run "$ALCOVE" terminate-enclave --enclave-name hang
  echo "$output; ended in $((SECONDS - t0)) s"
  [ "$status" -eq 0 ]
  [ $((SECONDS - t0)) -lt 20 ]
  wait_gone "$pid"
}
