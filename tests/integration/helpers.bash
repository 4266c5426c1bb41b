# helpers.bash: shared by the integration suites. Needs ALCOVE (the alcove binary) and PROGRAMS
# (the directory of built test programs) in the environment; meson test sets both.

: "${ALCOVE:?set ALCOVE to the alcove binary}"
: "${PROGRAMS:?set PROGRAMS to the directory of test programs}"

VARIANTS=(musl-exec glibc-exec musl-pie glibc-pie)

# wait_gone PID [TENTHS]: waits up to TENTHS/10 s (5 s) for process PID to end (a monitor's parent reaps it a moment
# after it ends, and on some hosts PID 1 takes that moment); 1 if it still runs then.
wait_gone() {
  local _
  for _ in $(seq "${2:-50}"); do kill -0 "$1" 2> /dev/null || return 0; sleep 0.1; done
  ! kill -0 "$1" 2> /dev/null
}

# Skips the test, loudly, when this machine has no usable KVM (the device node may exist with
# no driver behind it: opening it says so).
require_kvm() {
  if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ] || ! ( exec 9<>/dev/kvm ) 2>/dev/null; then
    echo "# NO /dev/kvm on this machine: this KVM test is SKIPPED, not passed" >&3
    skip "NO /dev/kvm: KVM test skipped"
  fi
}

prog() { echo "$PROGRAMS/$1"; }

# run_both [--stdin FILE] [--env K=V]... PROGRAM [ARGS...]
# Runs PROGRAM natively (with only the given environment) and in an enclave, leaving
# $T/native.{out,err,status} and $T/enclave.{out,err,status,log}.
run_both() {
  local stdin=/dev/null envs=() alcove_envs=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --stdin) stdin=$2; shift 2 ;;
      --env) envs+=("$2"); alcove_envs+=(--env "$2"); shift 2 ;;
      *) break ;;
    esac
  done
  T=$BATS_TEST_TMPDIR
  local status
  env -i "${envs[@]}" "$@" < "$stdin" > "$T/native.out" 2> "$T/native.err" && status=0 || status=$?
  echo "$status" > "$T/native.status"
    # shellcheck disable=SC2086
  "$ALCOVE" run --log-file "$T/enclave.log" ${ALCOVE_RUN_OPTS:-} "${alcove_envs[@]}" "$@" < "$stdin" \
    > "$T/enclave.out" 2> "$T/enclave.err" && status=0 || status=$?
  echo "$status" > "$T/enclave.status"
}

# Fails with a readable diff unless the native and enclave runs agree on stdout, stderr and
# exit status.
assert_same() {
  local T=$BATS_TEST_TMPDIR
  if ! cmp -s "$T/native.out" "$T/enclave.out"; then
    echo "stdout differs (native < > enclave):"; diff "$T/native.out" "$T/enclave.out" | head -20
    echo "enclave log:"; cat "$T/enclave.log"
    return 1
  fi
  if ! cmp -s "$T/native.err" "$T/enclave.err"; then
    echo "stderr differs (native < > enclave):"; diff "$T/native.err" "$T/enclave.err" | head -20
    return 1
  fi
  local n e
  n=$(cat "$T/native.status"); e=$(cat "$T/enclave.status")
  if [ "$n" != "$e" ]; then
    echo "exit status differs: native $n, enclave $e"; cat "$T/enclave.log"
    return 1
  fi
}

# differential PROGRAM [ARGS...]: run_both then assert_same, for every libc and link variant.
differential() {
  local opts=()
  while [ $# -gt 0 ] && [[ "$1" == --* ]]; do opts+=("$1" "$2"); shift 2; done
  local name=$1; shift
  for v in "${VARIANTS[@]}"; do
    run_both "${opts[@]}" "$(prog "$name-$v")" "$@"
    assert_same || { echo "variant: $name-$v"; return 1; }
  done
}

# Counts alcove processes (to show a test left none behind).
alcove_processes() { pgrep -c -f "^$ALCOVE " || true; }
