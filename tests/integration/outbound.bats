#!/usr/bin/env bats
# outbound.bats: outbound TCP connections under the operator's allowlist (alcove run --allow,
# --allowlist; docs/networking.md, "Outbound connections"). An unmodified TCP client in the
# enclave (out_connect) reaches a python3 http.server on the host's loopback through
# host.alcove.internal (169.254.1.2); destinations not allowed are EACCES. The option checks run
# without KVM.

load helpers
load http_host
bats_require_minimum_version 1.5.0

ALIAS=169.254.1.2 # ALC_HOST_ALIAS_V4, host.alcove.internal

setup() {
  T=$BATS_TEST_TMPDIR
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

assert_nothing_left() {
  local left
  left=$(ls -A "$ALCOVE_RUNTIME_DIR" 2> /dev/null | grep -v "^allocator.lock$" || true)
  [ -z "$left" ] || { echo "left in the runtime directory: $left"; return 1; }
  [ "$(alcove_processes)" -eq 0 ] || { echo "an alcove process is left"; return 1; }
  [ "$(grep HugePages_Free /proc/meminfo)" = "$1" ] || { echo "hugepages changed"; return 1; }
}

@test "outbound: malformed --allow and --allowlist values are refused before anything starts" {
  hp=$(grep HugePages_Free /proc/meminfo)
  for spec in "" example.com :443 example.com: example.com:0 example.com:65536 ::1:443 \
      "[::1]443" "[example.com]:443" "exa mple.com:443" -x.com:443 999.1.1.1:443 a..b:80 \
      "example.com:+80" "example.com:443 " 127.0.0.1:22 "[::1]:22" 0.0.0.0:80 "[::ffff:127.0.0.1]:22"; do
    run "$ALCOVE" run --allow "$spec" "$(prog hello-musl-exec)"
    [ "$status" -eq 125 ] || { echo "--allow '$spec': $status $output"; return 1; }
    [[ "$output" == *"[ E03 ]"*"--allow '$spec'"* ]] || { echo "$output"; return 1; }
    run "$ALCOVE" run-enclave --eif-path /nonexistent.eif --cpu-count 1 --memory 64 \
      --allow "$spec"
    # E03 (status 3), or E01 (status 2) for an empty value, before the image is looked at
    [ "$status" -eq 3 ] || [ "$status" -eq 2 ] || { echo "run-enclave '$spec': $status"; return 1; }
    [[ "$output" == *"[ E0"*"--allow"* ]] || { echo "$output"; return 1; }
  done
  # a file that is not vsock-proxy.yaml's format, one that does not exist, a bad entry
  printf 'allowlist:\n- {address: example.com, port: nope}\n' > "$T/bad.yaml"
  run "$ALCOVE" run --allowlist "$T/bad.yaml" "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]; [[ "$output" == *"[ E03 ]"*"--allowlist $T/bad.yaml"*"line 2"* ]]
  run "$ALCOVE" run --allowlist "$T/none.yaml" "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]; [[ "$output" == *"[ E03 ]"*"--allowlist $T/none.yaml"* ]]
  printf 'allowlist:\n- {address: "bad host", port: 443}\n' > "$T/bad2.yaml"
  run "$ALCOVE" run --allowlist "$T/bad2.yaml" "$(prog hello-musl-exec)"
  [ "$status" -eq 125 ]; [[ "$output" == *"[ E03 ]"*"--allowlist $T/bad2.yaml"*"host name"* ]]
  run "$ALCOVE" run --allow
  [ "$status" -eq 125 ]; [[ "$output" == *"[ E01 ]"* ]]
  assert_nothing_left "$hp"
  run "$ALCOVE" run --help
  [[ "$output" == *"--allow HOST:PORT"* ]]; [[ "$output" == *"--allowlist FILE"* ]]
  run "$ALCOVE" run-enclave --help
  [[ "$output" == *"--allow HOST:PORT"* ]]
}

@test "outbound: an enclave fetches a page from the host's loopback through host.alcove.internal" {
  require_kvm
  start_http
  run "$ALCOVE" run --allow "host.alcove.internal:$HTTP_PORT" \
    "$(prog out_connect-musl-exec)" "$ALIAS" "$HTTP_PORT" /index.txt
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"connect: ok"* ]]
  [[ "$output" == *"200"* ]]
  [[ "$output" == *"hello from the host $$"* ]]
  # the address itself is a rule too, and glibc's client does the same
  run "$ALCOVE" run --allow "$ALIAS:$HTTP_PORT" \
    "$(prog out_connect-glibc-pie)" "$ALIAS" "$HTTP_PORT" /index.txt
  echo "$output"
  [ "$status" -eq 0 ]; [[ "$output" == *"hello from the host $$"* ]]
}

@test "outbound: destinations outside the allowlist are EACCES, a closed allowed port ECONNREFUSED" {
  require_kvm
  start_http
  closed=$(free_port)
  printf 'allowlist:\n- {address: host.alcove.internal, port: %s}\n' "$closed" > "$T/al.yaml"
  # another port of the host, another address, IPv6: not in the list
  run "$ALCOVE" run --allowlist "$T/al.yaml" --allow "host.alcove.internal:$HTTP_PORT" \
    "$(prog out_connect-musl-exec)" "$ALIAS" 1 /
  echo "$output"
  [ "$status" -eq 1 ]; [[ "$output" == *"connect: EACCES"* ]]
  run "$ALCOVE" run --allow "host.alcove.internal:$HTTP_PORT" \
    "$(prog out_connect-musl-exec)" 192.0.2.1 "$HTTP_PORT"
  [ "$status" -eq 1 ]; [[ "$output" == *"connect: EACCES"* ]]
  run "$ALCOVE" run --allow "host.alcove.internal:$HTTP_PORT" \
    "$(prog out_connect-musl-exec)" 2001:db8::1 "$HTTP_PORT"
  [ "$status" -eq 1 ]; [[ "$output" == *"connect: EACCES"* ]]
  # without any --allow, nothing is reachable
  run "$ALCOVE" run "$(prog out_connect-musl-exec)" "$ALIAS" "$HTTP_PORT"
  [ "$status" -eq 1 ]; [[ "$output" == *"connect: EACCES"* ]]
  # allowed, but nothing listens there: the host's own errno
  run "$ALCOVE" run --allowlist "$T/al.yaml" "$(prog out_connect-musl-exec)" "$ALIAS" "$closed"
  echo "$output"
  [ "$status" -eq 1 ]; [[ "$output" == *"connect: ECONNREFUSED"* ]]
  # the enclave's own loopback never leaves it: nothing listens there
  run "$ALCOVE" run --allow "host.alcove.internal:$HTTP_PORT" \
    "$(prog out_connect-musl-exec)" 127.0.0.1 "$HTTP_PORT"
  [ "$status" -eq 1 ]; [[ "$output" == *"connect: ECONNREFUSED"* ]]
}

@test "outbound: an allowed destination the host cannot reach fails with the host's errno" {
  require_kvm
  # 192.0.2.1 (TEST-NET-1) is never routed: the host's connect has no route, no answer until
  # the monitor's 20 s deadline (ETIMEDOUT), or, behind some sandboxes' firewalls, a refusal;
  # whichever the host's own connect gets, the enclave's must get too
  local want
  want=$(python3 -c 'import errno, socket
s = socket.socket(); s.settimeout(20)
try:
    s.connect(("192.0.2.1", 80)); print("connected")
except socket.timeout:
    print("ETIMEDOUT")
except OSError as e:
    print(errno.errorcode[e.errno])')
  echo "the host's connect: $want"
  [ "$want" != connected ]
  run "$ALCOVE" run --allow 192.0.2.1:80 "$(prog out_connect-musl-exec)" 192.0.2.1 80
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"connect: $want"* ]]
}

@test "outbound: a non-blocking connect is EINPROGRESS, then POLLOUT and SO_ERROR" {
  require_kvm
  start_http
  closed=$(free_port)
  run "$ALCOVE" run --allow "host.alcove.internal:$HTTP_PORT" \
    --allow "host.alcove.internal:$closed" \
    "$(prog out_connect-musl-exec)" -n "$ALIAS" "$HTTP_PORT" /index.txt
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"nonblocking connect: EINPROGRESS"*"POLLOUT"*"connect: ok"* ]]
  [[ "$output" == *"hello from the host $$"* ]]
  run "$ALCOVE" run --allow "host.alcove.internal:$closed" \
    "$(prog out_connect-musl-exec)" -n "$ALIAS" "$closed"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"nonblocking connect: EINPROGRESS"*"POLLERR"*"connect: ECONNREFUSED"* ]]
  run "$ALCOVE" run "$(prog out_connect-musl-exec)" -n "$ALIAS" "$HTTP_PORT"
  [ "$status" -eq 1 ]; [[ "$output" == *"connect: EACCES"* ]]
}

@test "outbound: describe-enclaves shows the allowlist" {
  require_kvm
  run "$ALCOVE" build-enclave --binary "$(prog ticker-musl-exec)" --cmd "/ticker-musl-exec 600" \
    --output-file "$T/t.eif"
  [ "$status" -eq 0 ]
  run "$ALCOVE" run-enclave --eif-path "$T/t.eif" --cpu-count 1 --memory 64 \
    --allow example.com:443 --allow "host.alcove.internal:8080"
  echo "$output"
  [ "$status" -eq 0 ]
  run "$ALCOVE" describe-enclaves
  echo "$output"
  [ "$status" -eq 0 ]
  echo "$output" | python3 -c "
import json, sys
d = json.load(sys.stdin)[0]
assert d['OutboundAllowlist'] == [{'address': 'example.com', 'port': 443},
                                  {'address': 'host.alcove.internal', 'port': 8080}], d
assert 'EnclaveCID' in d and 'State' in d and 'Flags' in d, d"
}

@test "outbound: name lookups go to the parent: allowed names resolve, others do not exist" {
  require_kvm
  R=$T/root
  mkdir -p "$R/etc"
  cp "$(prog dns_lookup-musl-exec)" "$R/dns_lookup"
  # any address outside the enclave: the parent answers for it
  echo "nameserver 192.0.2.53" > "$R/etc/resolv.conf"
  run "$ALCOVE" run --allow host.alcove.internal:80 --rootfs "$R" \
    /dns_lookup host.alcove.internal HOST.alcove.internal
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"host.alcove.internal: 169.254.1.2"* ]]
  [[ "$output" == *"HOST.alcove.internal: 169.254.1.2"* ]]
  # a name the host resolves to its loopback allows nothing (host.alcove.internal is the way
  # there), and the launch says so
  run --separate-stderr "$ALCOVE" run --allow localhost:443 --rootfs "$R" /dns_lookup localhost
  echo "$output $stderr"
  [ "$status" -eq 1 ]
  [[ "$output" != *"127.0.0.1"* ]]
  [[ "$stderr" == *"--allow localhost:443: it resolves to a loopback"* ]]
  # a name the allowlist does not name does not exist; without a list no name does
  run "$ALCOVE" run --allow host.alcove.internal:80 --rootfs "$R" /dns_lookup example.com
  echo "$output"
  [ "$status" -eq 1 ]; [[ "$output" == *"example.com: EAI_NONAME"* ]]
  run "$ALCOVE" run --rootfs "$R" /dns_lookup host.alcove.internal
  [ "$status" -eq 1 ]; [[ "$output" == *"host.alcove.internal: EAI_NONAME"* ]]
}

@test "outbound: a name looked up inside then fetched from, as a program does it" {
  require_kvm
  start_http
  R=$T/root
  mkdir -p "$R/etc"
  cp "$(prog dns_lookup-musl-exec)" "$R/dns_lookup"
  cp "$(prog out_connect-musl-exec)" "$R/out_connect"
  echo "nameserver 192.0.2.53" > "$R/etc/resolv.conf"
  run "$ALCOVE" run --allow "host.alcove.internal:$HTTP_PORT" --rootfs "$R" \
    /dns_lookup host.alcove.internal
  [ "$status" -eq 0 ]
  addr=${output##*: }
  run "$ALCOVE" run --allow "host.alcove.internal:$HTTP_PORT" --rootfs "$R" \
    /out_connect "$addr" "$HTTP_PORT" /index.txt
  echo "$output"
  [ "$status" -eq 0 ]; [[ "$output" == *"hello from the host $$"* ]]
}
