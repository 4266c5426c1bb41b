#!/usr/bin/env bats
# processes.bats: fork, vfork, posix_spawn, execve, wait and process groups in an enclave against
# Linux (tests/programs/proc_basic.c), /proc/<pid>, FIFOs and identities (proc_ids.c), file
# locks (file_locks.c), core dumps (coredump.c), for musl and glibc, fixed-address and
# static-PIE; shell pipelines of busybox applets; and the limits: a fork bomb in a small enclave.
load helpers

setup() { require_kvm; }

@test "fork, exit statuses, pipes, SIGCHLD, groups, vfork, posix_spawn, execve and ETXTBSY agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog proc_basic-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -qx "vfork + execve *: exited 7" "$T/enclave.out"
  grep -qx "a NULL dereference *: killed by signal 11" "$T/enclave.out"
  grep -qx "the parent's global after: 1, its heap: parent's" "$T/enclave.out"
  grep -qx "execve of a file open for writing: ETXTBSY" "$T/enclave.out"
  grep -q "open for writing: ETXTBSY, truncate: ETXTBSY, open for reading: ok" "$T/enclave.out"
}

@test "two fixed-address programs in one enclave: a non-PIE parent runs a non-PIE child" {
  for v in musl-exec glibc-exec; do
    run_both "$(prog proc_basic-$v)"
    assert_same || { echo "variant $v"; return 1; }
    grep -qx "child run by exec says 9" "$T/enclave.out"
  done
}

@test "/proc/<pid> of other processes (R, S, Z), FIFOs between processes, set*id and what an unprivileged process may do agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog proc_ids-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -qx "a child blocked in read is *: S" "$T/enclave.out"
  grep -qx "once it has exited, not reaped *: Z" "$T/enclave.out"
  grep -qx "the child wrote *: through the fifo" "$T/enclave.out"
  grep -qx "remove root's file from it *: EPERM" "$T/enclave.out"
}

@test "file locks between processes: POSIX, open-file-description and flock locks, waiting, F_GETLK, release on close and exit agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog file_locks-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -qx "child: write lock inside the parent's *: EAGAIN" "$T/enclave.out"
  grep -qx "child: F_SETLKW on the whole file *: ok, after waiting: yes" "$T/enclave.out"
}

@test "System V shared memory: shmget's keys, shmat (rounded, read-only, SHM_REMAP), sharing with forked and exec'd processes, shmdt, IPC_STAT counts, IPC_SET, IPC_RMID while attached, /proc/sysvipc/shm, unprivileged access agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog sysv_shm-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -qx "child attached twice: size 10000 nattch 3 mode 600 key set" "$T/enclave.out"
  grep -qx "removed, attached: size 10000 nattch 1 mode 1640 key private" "$T/enclave.out"
  grep -qx "unmapped: stat EINVAL" "$T/enclave.out"
}

@test "System V semaphores and message queues: keys, atomic semop arrays, IPC_NOWAIT, waiting woken by another process, a timeout or the removal, GETNCNT/GETZCNT, SEM_UNDO at exit, message types, MSG_EXCEPT, MSG_NOERROR, MSG_COPY, a full queue, unprivileged access agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog sysv_ipc-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -qx "after its exit, undone: 0 3 3" "$T/enclave.out"
  grep -qx "waiter for zero: EIDRM" "$T/enclave.out"
  grep -qx "type -2 (lowest up to 2): 4 bytes, type 1, one" "$T/enclave.out"
}

@test "memfd_create and file seals: flags, names, /proc/self/fd, shared mappings across fork, each seal against write, ftruncate, fallocate and mmap agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog memfd-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -qx "link: /memfd:test (deleted)" "$T/enclave.out"
  grep -qx "F_SEAL_WRITE while mapped writable: EBUSY" "$T/enclave.out"
  grep -qx "seals now: 15" "$T/enclave.out"
}

@test "core dumps: WCOREDUMP, CLD_DUMPED and the ELF core file under RLIMIT_CORE's and dumpability's rules agree with Linux (all variants)" {
  local pattern uses_pid
  pattern=$(cat /proc/sys/kernel/core_pattern)
  uses_pid=$(cat /proc/sys/kernel/core_uses_pid)
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog coredump-$v)"
    if [ "$pattern" = core ] && [ "$uses_pid" = 0 ]; then
      assert_same || { echo "variant $v"; return 1; }
    else
      # the host hands its cores elsewhere (a crash handler behind a pipe): the native run checks
      # no files, so only the enclave's run is checked, by the lines below
      echo "# host core_pattern '$pattern', core_uses_pid $uses_pid: no native comparison" >&3
      [ "$(cat "$T/enclave.status")" = 0 ] || { cat "$T/enclave.err" "$T/enclave.log"; return 1; }
    fi
    grep -qx "core_pattern, core_uses_pid *: core, 0" "$T/enclave.out"
    grep -qx "  WIFSIGNALED, WTERMSIG, WCOREDUMP *: yes, 6, yes" "$T/enclave.out"
    grep -qx "  waitid si_code, si_status *: CLD_DUMPED, 6" "$T/enclave.out"
    grep -qx "  SIGCHLD si_code, si_status *: CLD_DUMPED, 11" "$T/enclave.out"
    grep -qx "  the child's heap in the core *: the child's heap" "$T/enclave.out"
    grep -qx "  NT_PRSTATUS: threads, first one the killed: 2, yes" "$T/enclave.out"
    grep -qx "  core file: regular, mode, owner *: yes, 0600, 65534:65534" "$T/enclave.out"
    [ "$(grep -cx "  core file *: none" "$T/enclave.out")" = 5 ]
  done
}

# busybox sh in an enclave whose image holds busybox: pipelines, command substitution,
# decompression in a child, xargs and find -exec, against the same busybox natively.
bb_sh() {
  local script=$1
  T=$BATS_TEST_TMPDIR
  mkdir -p "$T/root/bin" "$T/root/data" "$T/root/tmp"
  cp /bin/busybox "$T/root/bin/busybox"
  # what busybox runs by name (tar runs gzip): its own applets on both sides, through PATH
  local a
  for a in gzip gunzip zcat; do ln -sf busybox "$T/root/bin/$a"; done
  script="PATH=\$(pwd)/bin; $script"
  seq 1 20000 > "$T/root/data/n.txt"
  gzip -n -c "$T/root/data/n.txt" > "$T/root/data/n.txt.gz"
  (cd "$T/root" && env -i /bin/busybox sh -c "$script") > "$T/native.out" 2> "$T/native.err" &&
    echo 0 > "$T/native.status" || echo $? > "$T/native.status"
  "$ALCOVE" run --log-file "$T/enclave.log" --memory 256 --rootfs "$T/root" /bin/busybox sh -c \
    "$script" > "$T/enclave.out" 2> "$T/enclave.err" && echo 0 > "$T/enclave.status" ||
    echo $? > "$T/enclave.status"
}

@test "busybox sh: a pipeline of applets, command substitution, exit statuses" {
  [ -x /bin/busybox ] || skip "busybox-static is not installed"
  bb_sh 'cat data/n.txt | sort -rn | uniq | head -3; echo "lines: $(wc -l < data/n.txt)"; false | true; echo "status $?"; (exit 7); echo "subshell $?"'
  assert_same
  grep -qx "lines: 20000" "$T/enclave.out"
}

@test "busybox zcat, tar -z, xargs and find -exec run their children" {
  [ -x /bin/busybox ] || skip "busybox-static is not installed"
  bb_sh 'zcat data/n.txt.gz | tail -1; echo 1 2 3 | xargs -n 1 echo x; find data -name "*.gz" -exec echo found {} \;; tar -czf tmp/t.tgz data/n.txt && tar -tzf tmp/t.tgz && tar -xzOf tmp/t.tgz | tail -1'
  assert_same
  grep -qx "found data/n.txt.gz" "$T/enclave.out"
}

@test "a fork bomb in a 64 MiB enclave ends in EAGAIN or ENOMEM; the enclave stays usable and ends cleanly" {
  [ -x /bin/busybox ] || skip "busybox-static is not installed"
  local T=$BATS_TEST_TMPDIR
  mkdir -p "$T/root/bin"
  cp /bin/busybox "$T/root/bin/busybox"
  # each child sleeps, so that they pile up; then the shell reports that fork failed and goes on
  run timeout 300 "$ALCOVE" run --log-file "$T/enclave.log" --memory 64 --rootfs "$T/root" \
    /bin/busybox sh -c 'i=0; while [ $i -lt 2000 ]; do sleep 30 & i=$((i + 1)); done; echo survived'
  echo "$output" | tail -5
  [[ "$output" == *"can't fork"* || "$output" == *"Cannot allocate memory"* ||
     "$output" == *"Resource temporarily unavailable"* ]]
  [ "$(alcove_processes)" -eq 0 ]
}

@test "job control: SIGSTOP stops every thread until SIGCONT, the parent hears of both (SIGCHLD, WUNTRACED, WCONTINUED, waitid WNOWAIT), /proc says T, SIGKILL ends a stopped process (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog proc_stop-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -qx "its other thread is stopped too: yes" "$T/enclave.out"
  grep -qx "waitid WSTOPPED|WNOWAIT: 0 CLD_STOPPED status SIGSTOP 1" "$T/enclave.out"
  grep -qx "SIGKILL to the stopped child: killed by SIGKILL" "$T/enclave.out"
}
