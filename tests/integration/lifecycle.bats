#!/usr/bin/env bats
# lifecycle.bats: detached enclaves, nitro-cli's way: run-enclave, describe-enclaves, console,
# terminate-enclave; names, IDs and CIDs; faults (kill -9 of a monitor or of the launching
# command, a crashing program); bad input. Every test has its own runtime directory, and checks
# that nothing (process, socket, file) is left behind.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
  D=$BATS_FILE_TMPDIR
  # a long runner, a ticking console, a crash and a short run, from busybox and test programs
  "$ALCOVE" build-enclave --binary /bin/busybox --cmd '/busybox sleep 1000' \
    --output-file "$D/sleeper.eif" > "$D/sleeper.json"
  "$ALCOVE" build-enclave --binary "$(prog ticker-musl-exec)" --output-file "$D/ticker.eif" > /dev/null
  "$ALCOVE" build-enclave --binary "$(prog vsock_echo-musl-exec)" --cmd '/vsock_echo-musl-exec 5000' \
    --output-file "$D/echo.eif" > /dev/null
  "$ALCOVE" build-enclave --binary "$(prog nullderef-musl-exec)" --output-file "$D/crash.eif" > /dev/null
  "$ALCOVE" build-enclave --binary "$(prog exitcode-musl-exec)" --cmd '/exitcode-musl-exec 7' \
    --output-file "$D/exit7.eif" > /dev/null
}

setup() {
  export ALCOVE_RUNTIME_DIR=$BATS_TEST_TMPDIR/rt
  D=$BATS_FILE_TMPDIR
}

teardown() {
  "$ALCOVE" terminate-enclave --all > /dev/null 2>&1 || true
}

# Nothing of enclave $1 (a ProcessID) is left: no process, and the runtime directory is empty.
assert_gone() {
  local pid=$1
  wait_gone "$pid" || { echo "monitor $pid still runs"; return 1; }
  local left
  left=$(ls -A "$ALCOVE_RUNTIME_DIR" 2> /dev/null | grep -v "^allocator.lock$" || true)
  if [ -n "$left" ]; then echo "left in the runtime directory: $left"; return 1; fi
}

field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

# Starts the sleeper detached; sets pid (its monitor) and keeper (the monitor's one child, which
# holds its records: docs/security.md).
start_sleeper_and_keeper() {
  run --separate-stderr "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 64
  [ "$status" -eq 0 ] || { echo "run-enclave: $status $stderr"; return 1; }
  pid=$(echo "$output" | field "['ProcessID']")
  keeper=$(pgrep -P "$pid")
  [ -n "$keeper" ] && [ "$(echo "$keeper" | wc -l)" -eq 1 ]
}

@test "run-enclave, describe-enclaves, terminate-enclave: nitro-cli's JSON, nothing left behind" {
  require_kvm
  run --separate-stderr "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 64
  [ "$status" -eq 0 ]
  # the fields, in nitro-cli's order
  keys=$(echo "$output" | python3 -c "import json,sys; print(' '.join(json.load(sys.stdin)))")
  [ "$keys" = "EnclaveName EnclaveID ProcessID EnclaveCID NumberOfCPUs CPUIDs MemoryMiB" ]
  [ "$(echo "$output" | field "['EnclaveName']")" = sleeper ]
  [[ "$(echo "$output" | field "['EnclaveID']")" =~ ^i-[0-9a-f]{16}-enc[0-9a-f]{16}$ ]]
  pid=$(echo "$output" | field "['ProcessID']")
  cid=$(echo "$output" | field "['EnclaveCID']")
  [ "$cid" -ge 4 ]
  kill -0 "$pid"
  [ -S "$ALCOVE_RUNTIME_DIR/$cid.vsock" ]

  run "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ]
  echo "$output" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert len(d) == 1, d
e = d[0]
want = ['EnclaveName', 'EnclaveID', 'ProcessID', 'EnclaveCID', 'NumberOfCPUs', 'CPUIDs',
        'MemoryMiB', 'State', 'Flags', 'Measurements']
assert list(e)[:len(want)] == want, list(e)
assert e['State'] == 'RUNNING' and e['Flags'] == 'NONE', e
assert e['NumberOfCPUs'] == 1 and e['MemoryMiB'] == 64, e
m = json.load(open('$D/sleeper.json'))['Measurements']
assert e['Measurements'] == m, (e['Measurements'], m)
assert e['VsockSocket'].endswith('/%d.vsock' % e['EnclaveCID']), e
"
  run "$ALCOVE" describe-enclaves --metadata
  [[ "$output" == *'"ImageName"'*'"Metadata"'*'"BuildTool": "alcove"'* ]]

  id=$(echo "$output" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['EnclaveID'])")
  run --separate-stderr "$ALCOVE" terminate-enclave --enclave-id "$id"
  [ "$status" -eq 0 ]
  [[ "$output" == *'"EnclaveName": "sleeper"'*'"Terminated": true'* ]]
  assert_gone "$pid"
  run "$ALCOVE" describe-enclaves
  [ "$output" = "[]" ]
}

@test "names: the image's by default, _1 for a duplicate; a taken --enclave-name or CID is refused" {
  require_kvm
  "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 64 --enclave-cid 41 > /dev/null
  run "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 64
  [ "$status" -eq 0 ]
  [[ "$output" == *'"EnclaveName": "sleeper_1"'* ]]
  run "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 64 --enclave-name sleeper
  [ "$status" -eq 75 ]
  [[ "$output" == *"[ E75 ]"* ]]
  run "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 64 --enclave-cid 41
  [ "$status" -eq 74 ]
  [[ "$output" == *"[ E74 ]"*"41"* ]]
  run "$ALCOVE" terminate-enclave --enclave-name sleeper_1
  [ "$status" -eq 0 ]
  run "$ALCOVE" terminate-enclave --enclave-name sleeper
  [ "$status" -eq 0 ]
  run "$ALCOVE" terminate-enclave --enclave-name sleeper
  [ "$status" -eq 58 ]; [[ "$output" == *"[ E58 ]"* ]]   # nitro-cli's naming error
}

@test "bad input: each its own error and status, nothing started" {
  require_kvm
  for cid in 1 2 3 4294967295 4294967296 -5 x; do
    run "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 64 --enclave-cid "$cid"
    [ "$status" -eq 3 ]; [[ "$output" == *"[ E03 ]"* ]]
  done
  run "$ALCOVE" run-enclave --eif-path "$D/none.eif" --cpu-count 1 --memory 64
  [ "$status" -eq 19 ]; [[ "$output" == *"[ E19 ]"*"none.eif"* ]]
  run "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 4
  [ "$status" -eq 26 ]; [[ "$output" == *"[ E26 ]"* ]]
  # argument errors exit 2, as nitro-cli's clap
  run "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --memory 64
  [ "$status" -eq 2 ]; [[ "$output" == *"[ E01 ]"* ]]
  run "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --memory 64 --cpu-count 1 --cpu-ids 1
  [ "$status" -eq 2 ]; [[ "$output" == *"[ E02 ]"* ]]
  echo '{"eif_path": "x.eif", "memory_mib": 64, "cpu_count": 1}' > "$BATS_TEST_TMPDIR/c.json"
  run "$ALCOVE" run-enclave --config "$BATS_TEST_TMPDIR/c.json" --memory 64
  [ "$status" -eq 2 ]; [[ "$output" == *"[ E02 ]"* ]]
  echo '{"eif_path": "x.eif", "memory_mib": "lots"}' > "$BATS_TEST_TMPDIR/c.json"
  run "$ALCOVE" run-enclave --config "$BATS_TEST_TMPDIR/c.json"
  [ "$status" -eq 17 ]; [[ "$output" == *"[ E17 ]"*"memory_mib"* ]]   # serde's error, as nitro-cli
  # a file that is not an EIF
  run "$ALCOVE" run-enclave --eif-path "$(prog hello-musl-exec)" --cpu-count 1 --memory 64
  [ "$status" -eq 35 ]; [[ "$output" == *"[ E35 ]"* ]]
  run "$ALCOVE" describe-enclaves
  [ "$output" = "[]" ]
}

@test "--config FILE.json: nitro-cli's keys" {
  require_kvm
  cat > "$BATS_TEST_TMPDIR/c.json" << EOF
{"eif_path": "$D/sleeper.eif", "memory_mib": 96, "cpu_count": 2, "enclave_cid": 77,
 "enclave_name": "from-config", "debug_mode": true}
EOF
  run "$ALCOVE" run-enclave --config "$BATS_TEST_TMPDIR/c.json"
  [ "$status" -eq 0 ]
  [[ "$output" == *'"EnclaveName": "from-config"'*'"EnclaveCID": 77'*'"NumberOfCPUs": 2'*'"MemoryMiB": 96'* ]]
  run "$ALCOVE" describe-enclaves
  [[ "$output" == *'"Flags": "DEBUG_MODE"'* ]]
}

@test "console: debug mode only; several readers; the backlog is replayed on reconnect" {
  require_kvm
  run --separate-stderr "$ALCOVE" run-enclave --eif-path "$D/ticker.eif" --cpu-count 1 --memory 64 --debug-mode --enclave-name tick
  [ "$status" -eq 0 ]
  sleep 1
  "$ALCOVE" console --enclave-name tick --disconnect-timeout 2 > "$BATS_TEST_TMPDIR/a" &
  a=$!
  "$ALCOVE" console --enclave-name tick --disconnect-timeout 2 > "$BATS_TEST_TMPDIR/b" &
  b=$!
  wait $a; wait $b
  grep -q "^tick 0$" "$BATS_TEST_TMPDIR/a"   # the backlog from the start
  grep -q "^tick 0$" "$BATS_TEST_TMPDIR/b"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/a")" -ge 10 ] # live lines too
  run "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 64 --enclave-name quiet
  run "$ALCOVE" console --enclave-name quiet --disconnect-timeout 1
  [ "$status" -eq 44 ]; [[ "$output" == *"[ E44 ]"*"--debug-mode"* ]]
}

@test "an application that ends: describe shows State EMPTY with its exit; terminate removes it" {
  require_kvm
  run --separate-stderr "$ALCOVE" run-enclave --eif-path "$D/exit7.eif" --cpu-count 1 --memory 64
  [ "$status" -eq 0 ]
  pid=$(echo "$output" | field "['ProcessID']")
  for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  run "$ALCOVE" describe-enclaves
  [[ "$output" == *'"State": "EMPTY"'*'"ExitStatus": 7'*'"ExitReason": "the application exited with status 7"'* ]]
  run "$ALCOVE" run-enclave --eif-path "$D/crash.eif" --cpu-count 1 --memory 64
  [ "$status" -eq 0 ]
  sleep 1
  run "$ALCOVE" describe-enclaves
  [[ "$output" == *'"ExitStatus": 139'*'SIGSEGV'* ]]
  run "$ALCOVE" terminate-enclave --all
  [ "$status" -eq 0 ]
  assert_gone "$pid"
}

@test "kill -9 of a monitor: its keeper removes what it held at once, the next command finds nothing" {
  require_kvm
  start_sleeper_and_keeper
  kill -9 "$pid"
  # no command runs in between: the keeper itself removes the files and ends
  for _ in $(seq 50); do kill -0 "$keeper" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$keeper" 2> /dev/null; then echo "keeper $keeper still runs"; return 1; fi
  assert_gone "$pid"
  run "$ALCOVE" describe-enclaves
  [ "$output" = "[]" ]
}

@test "the keeper: not stopped by the terminal's or the engine's signals, it ends with its monitor" {
  require_kvm
  start_sleeper_and_keeper
  for sig in INT TERM HUP QUIT USR1 USR2; do kill -"$sig" "$keeper"; done
  sleep 0.5
  kill -0 "$keeper"
  kill -0 "$pid"
  # the description still names the monitor, the process that takes signals
  run "$ALCOVE" describe-enclaves
  [ "$(echo "$output" | field "[0]['ProcessID']")" = "$pid" ]
  run "$ALCOVE" terminate-enclave --all
  [ "$status" -eq 0 ]
  for _ in $(seq 50); do kill -0 "$keeper" 2> /dev/null || break; sleep 0.1; done
  ! kill -0 "$keeper" 2> /dev/null
  assert_gone "$pid"
}

@test "kill -9 of the keeper: its monitor ends the enclave, the next command cleans up" {
  require_kvm
  start_sleeper_and_keeper
  kill -9 "$keeper"
  # the monitor polls its keeper every second
  for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2> /dev/null; then echo "monitor $pid still runs 10 s after its keeper's end"; return 1; fi
  run "$ALCOVE" describe-enclaves
  [ "$output" = "[]" ]
  [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v "^allocator.lock$")" ]
}

@test "kill -9 of run-enclave during the launch: the enclave goes too" {
  require_kvm
  ALCOVE_FAULT=no-heartbeat "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 64 \
    > /dev/null 2>&1 &
  cli=$!
  for _ in $(seq 50); do ls "$ALCOVE_RUNTIME_DIR"/*.json > /dev/null 2>&1 && break; sleep 0.1; done
  pid=$(pgrep -f "alcove run-enclave" -P "$cli" || true)
  kill -9 "$cli"
  sleep 2.5
  [ -z "$pid" ] || assert_gone "$pid"
  [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v "^allocator.lock$")" ]
}

@test "no heartbeat in time: [ E36 ], and nothing is left" {
  require_kvm
  ALCOVE_FAULT=no-heartbeat ALCOVE_HEARTBEAT_TIMEOUT_MS=1500 run "$ALCOVE" run-enclave \
    --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 64
  [ "$status" -eq 36 ]
  [[ "$output" == *"[ E36 ]"*"heartbeat"* ]]
  sleep 0.5
  [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v "^allocator.lock$")" ]
  ALCOVE_FAULT=no-heartbeat ALCOVE_HEARTBEAT_TIMEOUT_MS=1500 run "$ALCOVE" run "$D/sleeper.eif"
  [ "$status" -eq 125 ]
  [[ "$output" == *"[ E36 ]"* ]]
}

@test "ten enclaves at once: distinct CIDs and IDs, terminate --all stops them all" {
  require_kvm
  for i in $(seq 10); do
    "$ALCOVE" run-enclave --eif-path "$D/sleeper.eif" --cpu-count 1 --memory 32 --enclave-name "e$i" \
      > "$BATS_TEST_TMPDIR/run$i.json" &
  done
  wait
  run "$ALCOVE" describe-enclaves
  echo "$output" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert len(d) == 10, len(d)
assert len({e['EnclaveCID'] for e in d}) == 10
assert len({e['EnclaveID'] for e in d}) == 10
assert all(e['State'] == 'RUNNING' for e in d)
"
  pids=$(cat "$BATS_TEST_TMPDIR"/run*.json | python3 -c "
import json, sys
print(' '.join(str(json.loads(x)['ProcessID']) for x in sys.stdin.read().replace('}\n{', '}\x00{').split('\x00')))")
  run --separate-stderr "$ALCOVE" terminate-enclave --all
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = 10 ]
  for p in $pids; do assert_gone "$p"; done
}

@test "terminate while a client streams data: the client sees the end, nothing is left" {
  require_kvm
  run --separate-stderr "$ALCOVE" run-enclave --eif-path "$D/echo.eif" --cpu-count 1 --memory 64 --enclave-name echo
  [ "$status" -eq 0 ]
  pid=$(echo "$output" | field "['ProcessID']")
  # an endless stream through alcove connect; its echo is counted
  (cat /dev/zero | "$ALCOVE" connect --enclave-name echo --port 5000 | wc -c > "$BATS_TEST_TMPDIR/echoed") &
  stream=$!
  sleep 2
  run --separate-stderr "$ALCOVE" terminate-enclave --enclave-name echo
  [ "$status" -eq 0 ]
  for _ in $(seq 100); do kill -0 "$stream" 2> /dev/null || break; sleep 0.1; done
  ! kill -0 "$stream" 2> /dev/null
  [ "$(cat "$BATS_TEST_TMPDIR/echoed")" -gt 0 ]
  assert_gone "$pid"
}
