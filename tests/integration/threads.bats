#!/usr/bin/env bats
# threads.bats: threads in the enclave kernel: clone and clone3, futexes, scheduling over several
# vCPUs, preemption of a thread that makes no syscalls, per-thread signals, and the process's end
# from any thread. thr_basic, thr_edge and thr_pi (tests/programs) run natively and in an enclave, in
# their four builds (musl and glibc, fixed-address and static-PIE): the same stdout, stderr and
# exit status. The enclave's default is one vCPU; most tests run on two (--cpu-count 2), some on
# one as well.

load helpers
bats_require_minimum_version 1.5.0

setup() { require_kvm; }

# on N vCPUs: differential with --cpu-count N (and any other options in $EXTRA_OPTS)
on_cpus() {
  local n=$1; shift
  ALCOVE_RUN_OPTS="--cpu-count $n ${EXTRA_OPTS:-}" differential "$@"
}

# exits_with STATUS CPUS ARGS...: thr_edge ARGS ends with STATUS natively and in an enclave on
# CPUS vCPUs, with the same stdout and stderr
exits_with() {
  local want=$1 n=$2; shift 2
  for v in "${VARIANTS[@]}"; do
    ALCOVE_RUN_OPTS="--cpu-count $n" run_both "$(prog "thr_edge-$v")" "$@"
    assert_same || { echo "variant: $v"; return 1; }
    [ "$(cat "$T/native.status")" = "$want" ] ||
      { echo "$v: status $(cat "$T/native.status"), want $want"; cat "$T/native.out"; return 1; }
  done
}

@test "threads: create and join 511 threads in waves, detached threads, nested creation" {
  on_cpus 2 thr_basic create
}

@test "threads: mutexes: contention, trylock, timedlock, recursive, error-checking" {
  on_cpus 2 thr_basic mutex
}

@test "threads: robust mutexes: EOWNERDEAD when the owner ends (the robust list)" {
  on_cpus 2 thr_basic robust
}

@test "threads: condition variables: ping-pong, broadcast, timeouts on both clocks" {
  on_cpus 2 thr_basic cond
}

@test "threads: barriers: 8 threads, 1000 rounds, one serial thread per round" {
  on_cpus 2 thr_basic barrier
}

@test "threads: read-write locks: readers together, writers alone" {
  on_cpus 2 thr_basic rwlock
}

@test "threads: thread-local storage, keys and destructors, errno per thread" {
  on_cpus 2 thr_basic tls
}

@test "threads: 4 MiB through a pipe from one thread to another" {
  on_cpus 2 thr_basic pipe
}

@test "threads: malloc and free from 8 threads at once" {
  on_cpus 2 thr_basic malloc
}

@test "threads: a parallel sum by 1, 2, 4 and 8 threads; atomics" {
  on_cpus 2 thr_basic sum
}

@test "threads: thread IDs: gettid, getpid, pthread_self, tgkill" {
  on_cpus 2 thr_basic tid
}

@test "threads: CPU affinity per thread, sched_getcpu" {
  on_cpus 2 thr_basic affinity
}

@test "threads: signal masks per thread; process- and thread-directed signals; sigwait" {
  on_cpus 2 thr_basic sigmask
}

@test "threads: on one vCPU: create, mutex, cond, sum, sigmask" {
  for sub in create mutex cond sum sigmask; do
    on_cpus 1 thr_basic "$sub" || { echo "subcommand: $sub"; return 1; }
  done
}

@test "threads: every thr_basic check in one run, on 2 vCPUs" {
  on_cpus 2 thr_basic
}

@test "threads: the futex syscall: wait, wake, bitsets, requeue, timeouts, signals, errors" {
  on_cpus 2 thr_edge futex
  on_cpus 1 thr_edge futex
}

@test "threads: priority-inheritance mutexes, FUTEX_LOCK_PI, TRYLOCK_PI and UNLOCK_PI agree with Linux (musl's libc-test pthread_mutex_pi)" {
  on_cpus 2 thr_pi
  on_cpus 1 thr_pi
}

@test "threads: raw clone and clone3: thread IDs, TLS, stack, CLONE_CHILD_CLEARTID, errors" {
  on_cpus 2 thr_edge clone
  on_cpus 1 thr_edge clone
}

@test "threads: mutexes and futexes with every syscall on the trap path (--no-syscall-patch)" {
  EXTRA_OPTS=--no-syscall-patch on_cpus 2 thr_basic mutex
  EXTRA_OPTS=--no-syscall-patch on_cpus 2 thr_edge futex
}

@test "threads: a thread spinning with no syscalls does not stop the others (1 and 2 vCPUs)" {
  for v in "${VARIANTS[@]}"; do
    for n in 1 2; do
      run --separate-stderr timeout 60 "$ALCOVE" run --cpu-count "$n" "$(prog "thr_edge-$v")" spin
      [ "$status" -eq 0 ] && [ "$output" = "others ran" ] || {
        echo "$v on $n vCPUs: status $status (124: hung), output '$output'"; echo "${stderr:-}"
        return 1
      }
    done
  done
}

@test "threads: _exit(3) from a thread while main waits in pthread_join: status 3" {
  exits_with 3 2 exitgroup
  exits_with 3 1 exitgroup
}

@test "threads: exit(4) from a thread: atexit handlers run, stdout flushed, status 4" {
  exits_with 4 2 exitfn
}

@test "threads: main calls pthread_exit, the last thread ends the process with 0" {
  exits_with 0 2 mainexit
  exits_with 0 1 mainexit
}

@test "threads: a deadlocked program ends on SIGTERM to alcove with 143, nothing left" {
  local T=$BATS_TEST_TMPDIR
  for v in musl-exec glibc-pie; do
    "$ALCOVE" run --cpu-count 2 "$(prog "thr_edge-$v")" deadlock > "$T/out" 2> "$T/err" 3>&- &
    local pid=$!
    for _ in $(seq 200); do
      grep -q deadlocked "$T/out" && break
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.1
    done
    if ! grep -q deadlocked "$T/out"; then
      kill -9 "$pid"; wait "$pid" || true
      echo "$v: no 'deadlocked' within 20 s, or alcove ended"; cat "$T/out" "$T/err"; return 1
    fi
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2> /dev/null; then
      kill -9 "$pid"; wait "$pid" || true
      echo "$v: alcove still runs 10 s after SIGTERM"; return 1
    fi
    local st=0
    wait "$pid" || st=$?
    [ "$st" -eq 143 ] || { echo "$v: status $st, want 143"; cat "$T/err"; return 1; }
    [ "$(alcove_processes)" -eq 0 ] || { echo "$v: alcove processes left"; return 1; }
  done
}

@test "threads: creating threads until none can be made: EAGAIN, then all joined (--memory 64)" {
  local want
  want=$'limit reached: EAGAIN\nall joined, 8 more created: ok'
  for v in "${VARIANTS[@]}"; do
    # natively the limit is reached only under a limit on the address space
    run --separate-stderr bash -c "ulimit -v 65536; exec '$(prog "thr_edge-$v")' many"
    [ "$status" -eq 0 ] && [ "$output" = "$want" ] ||
      { echo "$v native: status $status, output '$output'"; return 1; }
    run --separate-stderr timeout 120 "$ALCOVE" run --memory 64 --cpu-count 2 \
      "$(prog "thr_edge-$v")" many
    [ "$status" -eq 0 ] && [ "$output" = "$want" ] ||
      { echo "$v enclave: status $status, output '$output'"; echo "${stderr:-}"; return 1; }
  done
}

@test "threads: a pipe closed while another thread blocks reading it: EOF, and its memory is not reused under the reader" {
  on_cpus 2 thr_edge closed
  on_cpus 1 thr_edge closed
}

@test "threads: SIGALRM goes to the main thread waiting in pause(), not to a computing thread" {
  on_cpus 2 thr_edge alarm
  on_cpus 1 thr_edge alarm
}

@test "threads: two threads blocked at once in readv, writev, select and sendfile each get their own buffers and results" {
  on_cpus 2 thr_blocking all
  on_cpus 1 thr_blocking all
}

@test "threads: a write twice a pipe's size to a reader that waits, nothing else running; a vCPU's first thread after the kernel heap grew" {
  on_cpus 1 thr_blocking bigwrite
  on_cpus 2 thr_blocking bigwrite
  on_cpus 2 thr_blocking heapgrown
}

@test "threads: a thread blocked in waitpid, vfork, flock, F_SETLKW, nanosleep or sigtimedwait is not woken by another thread's unrelated syscalls" {
  on_cpus 2 thr_wakeups all
  on_cpus 1 thr_wakeups all
}
