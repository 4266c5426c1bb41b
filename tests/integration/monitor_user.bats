#!/usr/bin/env bats
# monitor_user.bats: a root monitor gives up root's uid once its enclave is set up, for the
# monitor user's (docs/security.md, "A uid of the monitor's own"); its keeper, a root process
# with no capability, keeps the enclave's records and connects the guest to host listeners.
# Runs as root (the monitor user is alcove-monitor, which scripts/setup.sh makes).

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
  D=$BATS_FILE_TMPDIR
  "$ALCOVE" build-enclave --binary "$(prog vsock_echo-musl-exec)" --cmd '/vsock_echo-musl-exec 5000' \
    --output-file "$D/echo.eif" > /dev/null
}

setup() {
  # short: Unix socket paths are limited to 107 bytes
  RT=$(mktemp -d /tmp/alcove-mu.XXXXXX)
  export ALCOVE_RUNTIME_DIR=$RT
  D=$BATS_FILE_TMPDIR
  T=$BATS_TEST_TMPDIR
  unset ALCOVE_MONITOR_USER
}

teardown() {
  "$ALCOVE" terminate-enclave --all > /dev/null 2>&1 || true
  [ -z "${LISTENER:-}" ] || kill "$LISTENER" 2> /dev/null || true
  rm -rf "$RT"
}

require_root_and_user() {
  [ "$(id -u)" -eq 0 ] || skip "runs as root only"
  id -u alcove-monitor > /dev/null 2>&1 ||
    { echo "no user alcove-monitor: run scripts/setup.sh (it makes it)"; return 1; }
}

field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

# status_line PID FIELD: that line of /proc/PID/status, tabs as spaces
status_line() { grep "^$2:" "/proc/$1/status" | tr -s '\t' ' '; }

# Nothing of enclave $1 (a ProcessID) is left: no process, no file in the runtime directory.
assert_gone() {
  wait_gone "$1" || { echo "monitor $1 still runs"; return 1; }
  local left
  left=$(ls -A "$RT" | grep -v "^allocator.lock$" || true)
  if [ -n "$left" ]; then echo "left in the runtime directory: $left"; return 1; fi
}

@test "a root monitor runs as alcove-monitor once set up: every thread, no group, no capability; its keeper stays root with none" {
  require_kvm
  require_root_and_user
  local uid gid
  uid=$(id -u alcove-monitor); gid=$(id -g alcove-monitor)
  run --separate-stderr "$ALCOVE" run-enclave --eif-path "$D/echo.eif" --cpu-count 1 --memory 64
  [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
  [ -z "$stderr" ] || [[ "$stderr" != *"keeps root's uid"* ]]
  pid=$(echo "$output" | field "['ProcessID']")
  for f in /proc/"$pid"/task/*/status; do
    echo "$f: $(grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|NoNewPrivs):' "$f" | tr -s '\t\n' '  ')"
    grep -qx $'Uid:\t'"$uid"$'\t'"$uid"$'\t'"$uid"$'\t'"$uid" "$f"
    grep -qx $'Gid:\t'"$gid"$'\t'"$gid"$'\t'"$gid"$'\t'"$gid" "$f"
    grep -qE '^Groups:[[:space:]]*$' "$f"
    grep -qx $'CapEff:\t0000000000000000' "$f"
    grep -qx $'CapPrm:\t0000000000000000' "$f"
  done
  [ "$(ps -o user= -p "$pid")" = alcove-monitor ]
  keeper=$(pgrep -P "$pid")
  echo "keeper $keeper: $(status_line "$keeper" Uid), $(status_line "$keeper" CapEff), $(status_line "$keeper" CapBnd)"
  [ "$(status_line "$keeper" Uid)" = "Uid: 0 0 0 0" ]
  [ "$(status_line "$keeper" CapEff)" = "CapEff: 0000000000000000" ]
  [ "$(status_line "$keeper" CapPrm)" = "CapPrm: 0000000000000000" ]
  [ "$(status_line "$keeper" CapBnd)" = "CapBnd: 0000000000000000" ]
  [ "$(status_line "$keeper" NoNewPrivs)" = "NoNewPrivs: 1" ]
  # root's commands still reach it: its sockets were bound (and listened on) as root
  echo "hello from the host" > "$T/in"
  timeout 60 "$ALCOVE" connect --enclave-cid "$(echo "$output" | field "['EnclaveCID']")" \
    --port 5000 < "$T/in" > "$T/out"
  cmp "$T/in" "$T/out"
  run timeout 60 "$ALCOVE" describe-enclaves
  [ "$(echo "$output" | field "[0]['ProcessID']")" = "$pid" ]
  run timeout 120 "$ALCOVE" terminate-enclave --all
  [ "$status" -eq 0 ]
  assert_gone "$pid"
}

@test "the guest's connection to root's host listener goes through the keeper, byte for byte" {
  require_kvm
  require_root_and_user
  # root's listener for every enclave, mode 0600 in root's 0700 directory: the monitor user
  # could not connect to it itself
  socat UNIX-LISTEN:"$RT/any.vsock_6000",fork,mode=600 EXEC:cat 2> "$T/socat.err" &
  LISTENER=$!
  for _ in $(seq 50); do [ -S "$RT/any.vsock_6000" ] && break; sleep 0.1; done
  [ -S "$RT/any.vsock_6000" ]
  run --separate-stderr timeout 300 "$ALCOVE" run "$(prog vsock_client-musl-exec)" 6000 65536
  echo "status $status: $output / $stderr"
  [ "$status" -eq 0 ]
  [[ "$output" == *" match" ]]
  [ -z "$(ls -A "$RT" | grep -v -e "^allocator.lock$" -e "^any.vsock_6000$")" ]
}

@test "--monitor-user NAME or UID: that user; ALCOVE_MONITOR_USER when no option" {
  require_kvm
  require_root_and_user
  run --separate-stderr "$ALCOVE" run-enclave --eif-path "$D/echo.eif" --cpu-count 1 --memory 64 \
    --monitor-user nobody
  [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
  pid=$(echo "$output" | field "['ProcessID']")
  [ "$(status_line "$pid" Uid)" = "Uid: $(id -u nobody) $(id -u nobody) $(id -u nobody) $(id -u nobody)" ]
  "$ALCOVE" terminate-enclave --all > /dev/null
  assert_gone "$pid"
  ALCOVE_MONITOR_USER=4242 run --separate-stderr "$ALCOVE" run-enclave --eif-path "$D/echo.eif" \
    --cpu-count 1 --memory 64
  [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
  pid=$(echo "$output" | field "['ProcessID']")
  [ "$(status_line "$pid" Uid)" = "Uid: 4242 4242 4242 4242" ]
  [ "$(status_line "$pid" Gid)" = "Gid: 4242 4242 4242 4242" ]
  "$ALCOVE" terminate-enclave --all > /dev/null
  assert_gone "$pid"
}

@test "a monitor user that does not exist, or uid or group 0: [ E03 ] before anything is taken (no KVM needed)" {
  [ "$(id -u)" -eq 0 ] || skip "runs as root only"
  local user
  for user in no-such-user-here root 0; do
    run --separate-stderr "$ALCOVE" run-enclave --eif-path "$D/echo.eif" --cpu-count 1 --memory 64 \
      --monitor-user "$user"
    echo "$user: $status $stderr"
    [ "$status" -eq 3 ]
    [[ "$stderr" == *"[ E03 ]"*"--monitor-user"* ]]
    [ -z "$(ls -A "$RT")" ]
    ALCOVE_MONITOR_USER=$user run --separate-stderr "$ALCOVE" run --memory 64 "$(prog hello-musl-exec)"
    [ "$status" -eq 125 ]
    [[ "$stderr" == *"[ E03 ]"* ]]
    [ -z "$(ls -A "$RT")" ]
  done
  [ -z "$(pgrep -f "alcove run.*$RT" || true)" ]
}
