#!/usr/bin/env bats
# libos_signals.bats: signals within the one process, timers, and the time, identity and limits
# syscalls. Each program runs natively and in an enclave, in four builds (musl and glibc,
# fixed-address and static-PIE), and both must print the same and exit the same way.

load helpers

setup() { require_kvm; }

# differential_death MODE STATUS: sig_die MODE must end with STATUS natively and in an enclave
# with the same stdout (alcove's stderr has its own report of the death, so it is not compared).
differential_death() {
  local mode=$1 want=$2 T=$BATS_TEST_TMPDIR
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog sig_die-$v)" "$mode"
    local n e
    n=$(cat "$T/native.status"); e=$(cat "$T/enclave.status")
    if [ "$n" != "$want" ] || [ "$e" != "$want" ]; then
      echo "$mode ($v): native $n, enclave $e, want $want"; cat "$T/enclave.err"; return 1
    fi
    cmp -s "$T/native.out" "$T/enclave.out" ||
      { echo "$mode ($v): stdout differs"; diff "$T/native.out" "$T/enclave.out"; return 1; }
  done
}

# assert_same_status_stdout: like assert_same, without comparing stderr (alcove reports deaths).
assert_same_status_stdout() {
  local T=$BATS_TEST_TMPDIR
  cmp -s "$T/native.out" "$T/enclave.out" || { diff "$T/native.out" "$T/enclave.out"; return 1; }
  [ "$(cat "$T/native.status")" = "$(cat "$T/enclave.status")" ] ||
    { echo "status: native $(cat "$T/native.status") enclave $(cat "$T/enclave.status")"; return 1; }
}

@test "signals: handlers, masks, pending and queued signals, siginfo, ucontext, errors" {
  differential sig_basic
}

@test "signals: the same with every syscall on the trap path (--no-syscall-patch)" {
  ALCOVE_RUN_OPTS=--no-syscall-patch differential sig_basic
}

@test "signals: hardware faults to handlers, context edits, siglongjmp, the alternate stack" {
  differential sig_fault
  ALCOVE_RUN_OPTS=--no-syscall-patch differential sig_fault
}

@test "signals: default actions end the program with 128 + the signal" {
  differential_death term 143
  differential_death kill9 137
  differential_death usr1 138
  differential_death abort 134
  differential_death abort-handler 134
  differential_death pending-unblock 130
  differential_death resethand 129
  differential_death alarm 142
}

@test "signals: a real-time signal's default action ends the program" {
  # SIGRTMIN differs between the C libraries (musl 35, glibc 34): compare each with itself
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog sig_die-$v)" rt
    assert_same_status_stdout || return 1
  done
}

@test "signals: faults that cannot reach a handler (blocked, ignored, recursive, no restorer)" {
  differential_death segv-blocked 139
  differential_death segv-ignored 139
  differential_death segv-recursive 139
  differential_death ill-blocked 132
  differential_death no-restorer 139
}

@test "timers: alarm, setitimer, EINTR from sleeps and waits, sigtimedwait" {
  differential sig_timer
}

@test "time, usage, limits, scheduling and uname" {
  differential time_basic
}

@test "the vDSO: AT_SYSINFO_EHDR and [vdso]; the C library's clocks through it agree with the system calls" {
  differential vdso_clock check
}

@test "the vDSO: 100000 clock_gettime and 100000 gettimeofday calls enter the kernel fewer than 1000 times" {
  local T=$BATS_TEST_TMPDIR n
  for v in "${VARIANTS[@]}"; do
    rm -f "$T/log"
    run "$ALCOVE" run --log-level debug --log-file "$T/log" "$(prog vdso_clock-$v)" loop 100000
    [ "$status" -eq 0 ] && [ "$output" = "loop 100000 done 1" ] || { echo "$v: $output"; return 1; }
    n=$(sed -n 's/.*syscall patching: \([0-9]*\) syscalls.*/\1/p' "$T/log" | tail -1)
    [ -n "$n" ] && [ "$n" -lt 1000 ] || { echo "$v: $n syscalls"; grep 'syscall patching' "$T/log"; return 1; }
  done
}

@test "signals: many round trips, on the fast path and on the trap path" {
  for v in "${VARIANTS[@]}"; do
    run "$ALCOVE" run "$(prog sig_bench-$v)" 2000
    [ "$status" -eq 0 ]; [ "$output" = "handlers run: 2000 of 2000" ] || { echo "$v: $output"; return 1; }
    run "$ALCOVE" run --no-syscall-patch "$(prog sig_bench-$v)" 50
    [ "$status" -eq 0 ]; [ "$output" = "handlers run: 50 of 50" ] || { echo "$v: $output"; return 1; }
  done
}

# ---- signals from the host (alcove_abi.h "Host signals", monitor/host_signal.c) ----

# wait_line FILE TEXT: waits up to 300 s (the VM is slow) for a line TEXT in FILE.
wait_line() {
  local i
  for i in $(seq 1 600); do
    grep -qxF "$2" "$1" 2> /dev/null && return 0
    sleep 0.5
  done
  echo "no line '$2' in $1:"; cat "$1"; return 1
}

# host_signals WHERE PROGRAM MODE SIGNAL[:LINE]...: runs PROGRAM MODE natively (WHERE=native) or
# in an enclave (WHERE=enclave, the signals then go to the `alcove run` process) in the
# background; once it printed "ready", sends each SIGNAL in turn, waiting after it for LINE when
# one is given; leaves WHERE.out and WHERE.status.
host_signals() {
  local where=$1 program=$2 mode=$3 T=$BATS_TEST_TMPDIR
  shift 3
  : > "$T/$where.out"
  if [ "$where" = native ]; then
    "$program" "$mode" > "$T/$where.out" 2> "$T/$where.err" &
  else
    "$ALCOVE" run "$program" "$mode" > "$T/$where.out" 2> "$T/$where.err" &
  fi
  local pid=$! step status=0
  wait_line "$T/$where.out" ready || { kill -9 "$pid"; return 1; }
  for step in "$@"; do
    kill -s "${step%%:*}" "$pid"
    if [[ "$step" == *:* ]]; then
      wait_line "$T/$where.out" "${step#*:}" || { kill -9 "$pid"; return 1; }
    fi
  done
  local i
  for i in $(seq 1 600); do kill -0 "$pid" 2> /dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2> /dev/null &&
    { echo "$where $mode: still running 300 s after the last signal"; kill -9 "$pid"; cat "$T/$where.out" "$T/$where.err"; return 1; }
  wait "$pid" || status=$?
  echo "$status" > "$T/$where.status"
}

# host_differential MODE STATUS STEPS...: host_signals natively and in an enclave, in two of the
# builds; the same stdout and status STATUS in both.
host_differential() {
  local mode=$1 want=$2 v T=$BATS_TEST_TMPDIR
  shift 2
  for v in musl-exec glibc-pie; do
    host_signals native "$(prog sig_host-$v)" "$mode" "$@" || return 1
    host_signals enclave "$(prog sig_host-$v)" "$mode" "$@" || { cat "$T/enclave.err"; return 1; }
    cmp -s "$T/native.out" "$T/enclave.out" ||
      { echo "$mode ($v): stdout differs"; diff "$T/native.out" "$T/enclave.out"; return 1; }
    [ "$(cat "$T/native.status")" = "$want" ] && [ "$(cat "$T/enclave.status")" = "$want" ] ||
      { echo "$mode ($v): native $(cat "$T/native.status"), enclave $(cat "$T/enclave.status"), want $want"; cat "$T/enclave.err"; return 1; }
  done
}

@test "host signals: a program's handlers get the host's HUP and TERM (alcove run forwards them), as natively" {
  host_differential handle 0 'HUP:got HUP 1' 'HUP:got HUP 2' TERM
  grep -qx 'got TERM (SI_USER): cleaning up' "$BATS_TEST_TMPDIR/enclave.out"
}

@test "host signals: a loop with no syscall gets TERM (the monitor brings the vCPU into the kernel)" {
  host_differential spin 0 TERM
}

@test "host signals: TERM blocked and taken with sigwait; without a handler TERM ends the enclave (143)" {
  host_differential sigwait 3 TERM
  host_differential none 143 TERM
}

@test "host signals: a Ctrl-C on the host's terminal reaches the enclave's foreground process group" {
  command -v script > /dev/null || skip "no script(1) (util-linux) to make a terminal"
  local T=$BATS_TEST_TMPDIR where cmd
  for where in native enclave; do
    cmd=$(prog sig_host-musl-exec)
    [ "$where" = enclave ] && cmd="$ALCOVE run $cmd"
    rm -f "$T/in" && mkfifo "$T/in"
    : > "$T/$where.out"
    script -qfec "$cmd group" /dev/null < "$T/in" > "$T/$where.out" 2>&1 &
    local pid=$!
    exec 5> "$T/in"
    wait_line "$T/$where.out" $'ready\r' || { exec 5>&-; kill -9 "$pid"; return 1; }
    printf '\003' >&5
    exec 5>&-
    local i
    for i in $(seq 1 600); do kill -0 "$pid" 2> /dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2> /dev/null && { echo "$where: still running 300 s after the Ctrl-C"; kill -9 "$pid"; cat "$T/$where.out"; return 1; }
    wait "$pid" || true
    grep -q 'the child ended by signal 2; INT reached this process too: yes' "$T/$where.out" ||
      { echo "$where:"; cat "$T/$where.out"; return 1; }
  done
}
