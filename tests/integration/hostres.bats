#!/usr/bin/env bats
# hostres.bats (must fail before issue 14): host resources that a guest or a local client could
# exhaust are bounded, and the enclave stays reachable and stoppable (docs/vsock.md, docs/cli.md):
# a hostile guest holding 1000 vsock connections to a host listener, 100 idle control clients,
# 1100 unfinished CONNECT lines, and `alcove run` signalled while its stdout is full. Every test
# checks that nothing is left behind: no monitor, no file in the runtime directory, no hugepage.

load helpers
bats_require_minimum_version 1.5.0

HELPER="$BATS_TEST_DIRNAME/hostres_peer.py"

setup_file() {
  D=$BATS_FILE_TMPDIR
  "$ALCOVE" build-enclave --binary "$(prog vsock_flood-musl-exec)" \
    --cmd '/vsock_flood-musl-exec 7000 1000' --output-file "$D/flood.eif" > /dev/null
  "$ALCOVE" build-enclave --binary "$(prog vsock_flood-musl-exec)" \
    --cmd '/vsock_flood-musl-exec -w 1048576 7000 1000' --output-file "$D/floodw.eif" > /dev/null
  "$ALCOVE" build-enclave --binary "$(prog vsock_echo-musl-exec)" --cmd '/vsock_echo-musl-exec 5000' \
    --output-file "$D/echo.eif" > /dev/null
}

setup() {
  T=$BATS_TEST_TMPDIR
  D=$BATS_FILE_TMPDIR
  export ALCOVE_RUNTIME_DIR=$T/rt
  mkdir -p -m 0700 "$ALCOVE_RUNTIME_DIR"
  BG_PIDS=()
  HUGE_BEFORE=$(grep -E '^HugePages_(Free|Rsvd)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')
}

teardown() {
  local p
  timeout 120 "$ALCOVE" terminate-enclave --all > /dev/null 2>&1 || true
  for p in "${BG_PIDS[@]}"; do
    kill "$p" 2> /dev/null || true
    wait "$p" 2> /dev/null || true
  done
}

# Nothing of the monitor $1 is left: no process, nothing in the runtime directory but the
# allocator's lock (and the test's own listener sockets, $2 a pattern), no hugepage held.
assert_gone() {
  local pid=$1 keep=${2:-^$}
  wait_gone "$pid" 100 || { echo "monitor $pid still runs"; return 1; }
  local left
  left=$(ls -A "$ALCOVE_RUNTIME_DIR" 2> /dev/null | grep -v "^allocator.lock$" | grep -v "$keep" || true)
  if [ -n "$left" ]; then echo "left in the runtime directory: $left"; return 1; fi
  local huge
  huge=$(grep -E '^HugePages_(Free|Rsvd)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')
  if [ "$huge" != "$HUGE_BEFORE" ]; then echo "hugepages: $HUGE_BEFORE then $huge"; return 1; fi
}

field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

# CPU ticks (user + system) the process $1 has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start_detached EIF NAME CID [--debug-mode]: run-enclave; sets PID.
start_detached() {
  run --separate-stderr "$ALCOVE" run-enclave --eif-path "$1" --cpu-count 1 --memory 64 \
    --enclave-name "$2" --enclave-cid "$3" "${@:4}"
  [ "$status" -eq 0 ] || { echo "run-enclave: $status $output $stderr"; return 1; }
  PID=$(echo "$output" | field "['ProcessID']")
}

# wait_console NAME PATTERN SECONDS: the debug console until PATTERN shows, into $T/console.
wait_console() {
  local i
  for i in $(seq "$3"); do
    "$ALCOVE" console --enclave-name "$1" --disconnect-timeout 1 > "$T/console" 2> /dev/null || true
    grep -q "$2" "$T/console" && return 0
  done
  echo "no '$2' on the console of $1:"; cat "$T/console"; return 1
}

@test "hostile guest: 1000 vsock connections to a host listener are capped, the monitor does not spin, terminate works" {
  require_kvm
  python3 "$HELPER" listen "$ALCOVE_RUNTIME_DIR/60.vsock_7000" "$T/accepted" &
  BG_PIDS+=($!)
  for _ in $(seq 50); do [ -S "$ALCOVE_RUNTIME_DIR/60.vsock_7000" ] && break; sleep 0.1; done
  start_detached "$D/flood.eif" flood 60 --debug-mode
  wait_console flood "^flood:" 300
  line=$(grep "^flood:" "$T/console")
  echo "# $line" >&3
  read -r _ _ opened _ refused _ failed _ <<< "$line"
  # capped (a 64 MiB enclave: 170 connections), the rest refused, none lost in between
  [ "$opened" -ge 100 ] && [ "$opened" -le 256 ]
  [ "$refused" -ge 700 ]
  [ $((opened + refused + failed)) -eq 1000 ]
  # the control socket still answers, and the monitor is idle while the guest holds them all
  run timeout 60 "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ]
  t0=$(cpu_ticks "$PID"); sleep 3; t1=$(cpu_ticks "$PID")
  echo "# monitor: $((t1 - t0)) CPU ticks in 3 s while the guest holds $opened connections" >&3
  [ $((t1 - t0)) -lt 150 ]
  run --separate-stderr timeout 120 "$ALCOVE" terminate-enclave --enclave-name flood
  [ "$status" -eq 0 ]
  [[ "$output" == *'"Terminated": true'* ]]
  assert_gone "$PID" "^60.vsock_7000$"
}

# Measured in the QEMU VM of scripts/kvm-vm.sh (nested KVM) with a 64 MiB enclave: before the
# bound, 1000 connections took 251 MiB and the host's memory fell by 336 MiB beyond the guest's;
# with it, 170 connections took 42.5 MiB and the host's memory fell by 120 MiB, of which about
# 75 MiB is what any enclave costs there (the same fixed part is in both figures).
@test "hostile guest: writing on connections whose listener never reads pins a bounded amount of host memory" {
  require_kvm
  python3 "$HELPER" listen "$ALCOVE_RUNTIME_DIR/61.vsock_7000" "$T/accepted" &
  BG_PIDS+=($!)
  for _ in $(seq 50); do [ -S "$ALCOVE_RUNTIME_DIR/61.vsock_7000" ] && break; sleep 0.1; done
  avail0=$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)
  start_detached "$D/floodw.eif" floodw 61 --debug-mode
  guest0=$(python3 "$HELPER" guest-rss "$PID")
  wait_console floodw "^flood:" 600
  sleep 2
  avail1=$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)
  guest1=$(python3 "$HELPER" guest-rss "$PID")
  # KiB the host lost beyond the guest's own memory (the enclave's fixed cost included)
  fell=$(( (avail0 - avail1) - (guest1 - guest0) ))
  # and its parts: the kernel memory charged to the monitor's socket send sides, and the
  # monitor's resident memory beyond the guest's (what the sockets did not take)
  read -r _ kernel monitor <<< "$(python3 "$HELPER" pinned "$PID" || true)"
  echo "# $(grep '^flood:' "$T/console"); host memory beyond the guest's: $((fell / 1024)) MiB (socket buffers $((${kernel:-0} / 1024)) MiB, monitor beyond guest memory $((${monitor:-0} / 1024)) MiB)" >&3
  [ "$fell" -lt $(( (64 + 128) * 1024 )) ]
  run --separate-stderr timeout 120 "$ALCOVE" terminate-enclave --enclave-name floodw
  [ "$status" -eq 0 ]
  assert_gone "$PID" "^61.vsock_7000$"
}

@test "100 idle control clients: terminate-enclave still ends the enclave, and says so truthfully" {
  require_kvm
  start_detached "$D/echo.eif" idlectl 62
  python3 "$HELPER" idle "$ALCOVE_RUNTIME_DIR/62.ctl" 100 "$T/idle.ready" &
  BG_PIDS+=($!)
  for _ in $(seq 100); do [ -e "$T/idle.ready" ] && break; sleep 0.1; done
  [ -e "$T/idle.ready" ]
  run --separate-stderr timeout 120 "$ALCOVE" terminate-enclave --enclave-name idlectl
  [ "$status" -eq 0 ]
  [[ "$output" == *'"Terminated": true'* ]]
  assert_gone "$PID"
}

@test "1100 unfinished CONNECT lines (closed, then held open): a full connection still works" {
  require_kvm
  start_detached "$D/echo.eif" halfline 63
  # a part of the line, then close: freed at once
  python3 "$HELPER" half "$ALCOVE_RUNTIME_DIR/63.vsock" 1100 close
  run --separate-stderr timeout 60 sh -c "echo hello | '$ALCOVE' connect --enclave-name halfline --port 5000 --connect-timeout 30000"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  [ "$output" = hello ]
  # a part of the line, held open: freed when its time is up
  python3 "$HELPER" half "$ALCOVE_RUNTIME_DIR/63.vsock" 1100 hold "$T/held.ready" &
  BG_PIDS+=($!)
  for _ in $(seq 300); do [ -e "$T/held.ready" ] && break; sleep 0.1; done
  run --separate-stderr timeout 90 sh -c "echo again | '$ALCOVE' connect --enclave-name halfline --port 5000 --connect-timeout 60000"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  [ "$output" = again ]
  run --separate-stderr timeout 120 "$ALCOVE" terminate-enclave --enclave-name halfline
  [ "$status" -eq 0 ]
  assert_gone "$PID"
}

@test "alcove run: SIGTERM ends it while its stdout is full, with status 143" {
  require_kvm
  [ -x /bin/busybox ] || skip "busybox-static is not installed"
  mkfifo "$T/out"
  sleep 1000 < "$T/out" &  # a reader that never reads
  BG_PIDS+=($!)
  "$ALCOVE" run /bin/busybox yes > "$T/out" 2> "$T/err" &
  pid=$!
  sleep 5
  kill -0 "$pid"
  kill -TERM "$pid"
  st=0
  for _ in $(seq 300); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2> /dev/null; then
    echo "alcove run still runs 30 s after SIGTERM"; kill -9 "$pid"; wait "$pid" || true; return 1
  fi
  wait "$pid" || st=$?
  cat "$T/err"
  [ "$st" -eq 143 ]
  assert_gone "$pid"
  # and Ctrl-C (SIGINT) too: 130
  "$ALCOVE" run /bin/busybox yes > "$T/out" 2> "$T/err" &
  pid=$!
  sleep 5
  kill -INT "$pid"
  for _ in $(seq 300); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  ! kill -0 "$pid" 2> /dev/null || { kill -9 "$pid"; return 1; }
  st=0; wait "$pid" || st=$?
  [ "$st" -eq 130 ]
  assert_gone "$pid"
}

@test "terminate-enclave against a control socket that drops it: [ E39 ], never \"Terminated\": true, no SIGPIPE (no KVM needed)" {
  python3 "$HELPER" fake-monitor "$ALCOVE_RUNTIME_DIR" 70 drop "$T/fake.ready" &
  fake=$!
  BG_PIDS+=($fake)
  for _ in $(seq 100); do [ -e "$T/fake.ready" ] && break; sleep 0.1; done
  ALCOVE_TERMINATE_TIMEOUT_MS=3000 run --separate-stderr timeout 60 "$ALCOVE" terminate-enclave --enclave-name fake
  echo "status $status, stdout: $output, stderr: $stderr"
  [ "$status" -eq 39 ]
  [[ "$stderr" == *"[ E39 ]"*"did not end"* ]]
  [[ "$output" != *'"Terminated"'* ]]
  ALCOVE_TERMINATE_TIMEOUT_MS=3000 run --separate-stderr timeout 60 "$ALCOVE" terminate-enclave --all
  [ "$status" -eq 39 ]
  [[ "$output" != *'"Terminated"'* ]]
  kill -0 "$fake"
  kill "$fake"; wait "$fake" || true
  # an enclave in alcove run's foreground has no control socket: said at once, not retried
  python3 "$HELPER" fake-monitor "$ALCOVE_RUNTIME_DIR" 72 foreground "$T/fg.ready" &
  fg=$!
  BG_PIDS+=($fg)
  for _ in $(seq 100); do [ -e "$T/fg.ready" ] && break; sleep 0.1; done
  start=$SECONDS
  run --separate-stderr timeout 60 "$ALCOVE" terminate-enclave --enclave-name fake
  echo "status $status after $((SECONDS - start)) s, stderr: $stderr"
  [ "$status" -eq 39 ]
  [[ "$stderr" == *"no control socket"* ]]
  [ $((SECONDS - start)) -lt 10 ]
  kill -0 "$fg"
  kill "$fg"; wait "$fg" || true
  # a monitor that takes TERMINATE and exits: terminated, truthfully
  python3 "$HELPER" fake-monitor "$ALCOVE_RUNTIME_DIR" 71 honest "$T/honest.ready" &
  fake=$!
  BG_PIDS+=($fake)
  for _ in $(seq 100); do [ -e "$T/honest.ready" ] && break; sleep 0.1; done
  run --separate-stderr timeout 60 "$ALCOVE" terminate-enclave --enclave-name fake
  [ "$status" -eq 0 ]
  [[ "$output" == *'"Terminated": true'* ]]
  ! kill -0 "$fake" 2> /dev/null
  [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v "^allocator.lock$")" ]
}

@test "the monitor runs sandboxed: no capability, no_new_privs, a seccomp filter on every thread; the guest still talks to the host" {
  require_kvm
  start_detached "$D/echo.eif" sandboxed 61
  for f in /proc/"$PID"/task/*/status; do
    echo "$f: $(grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' "$f" | tr -s '\t\n' '  ')"
    grep -qx $'CapEff:\t0000000000000000' "$f"
    grep -qx $'CapPrm:\t0000000000000000' "$f"
    grep -qx $'NoNewPrivs:\t1' "$f"
    grep -qx $'Seccomp:\t2' "$f"
  done
  # vsock through the filter: the echo server in the enclave answers a host client
  echo "sandboxed hello" > "$T/in"
  timeout 60 "$ALCOVE" connect --enclave-cid 61 --port 5000 < "$T/in" > "$T/out"
  cmp "$T/in" "$T/out"
  # the thread classes' filters, stacked on the common one (Linux 5.9 shows the count): the
  # vCPU thread and the vsock thread, which has carried the connection, have two
  if grep -q '^Seccomp_filters:' /proc/self/status; then
    local two
    two=$(grep -lx $'Seccomp_filters:\t2' /proc/"$PID"/task/*/status | wc -l)
    echo "threads with a class filter: $two"
    [ "$two" -ge 2 ]
    [ -z "$(grep -E $'^Seccomp_filters:\t([3-9]|[0-9]{2,})' /proc/"$PID"/task/*/status)" ]
  fi
  run --separate-stderr timeout 120 "$ALCOVE" terminate-enclave --enclave-name sandboxed
  [ "$status" -eq 0 ]
  assert_gone "$PID"
}

@test "a system call outside the monitor's sandbox ends it: [ E73 ] naming the call, status 125, its keeper removes what it left" {
  require_kvm
  ALCOVE_FAULT=sandbox-exec run --separate-stderr timeout 120 "$ALCOVE" run "$D/echo.eif"
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 125 ]
  [[ "$stderr" == *"[ E73 ] the monitor's sandbox refused system call 59"* ]]
  # like a monitor killed with -9: its keeper removes what it left, no command needed
  for _ in $(seq 50); do [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v "^allocator.lock$")" ] && break; sleep 0.1; done
  [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v "^allocator.lock$")" ]
  run timeout 60 "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ]
  [ "$output" = "[]" ]
  [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v "^allocator.lock$")" ]
}

@test "each thread class's own allowlist: a vCPU or populate thread's socket or openat, a device thread's KVM_RUN or openat end the monitor with [ E73 ]" {
  require_kvm
  local fault want
  # openat: the common filter allows it (the main thread), no class's list names it
  for fault in "sandbox-vcpu:system call 41;" "sandbox-device:system call 16 (ioctl 0xae80)" \
    "sandbox-vcpu-open:system call 257;" "sandbox-device-open:system call 257;" \
    "sandbox-populate:system call 41;" "sandbox-populate-open:system call 257;"; do
    want=${fault#*:}
    ALCOVE_FAULT=${fault%%:*} run --separate-stderr timeout 120 "$ALCOVE" run "$D/echo.eif"
    echo "${fault%%:*}: status $status, stderr: $stderr"
    [ "$status" -eq 125 ]
    [[ "$stderr" == *"[ E73 ] the monitor's sandbox refused $want"* ]]
    run timeout 60 "$ALCOVE" describe-enclaves
    [ "$output" = "[]" ]
    [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v "^allocator.lock$")" ]
  done
}
