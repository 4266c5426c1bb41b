#!/usr/bin/env bats
# console_tty.bats: the enclave's console as a terminal (`alcove run -t`, docs/tty.md "The
# console"): tests/programs/console_tty driven through a host pty by console_tty_drive.py, which
# types a line with an erase, a ^C, and resizes the terminal. The transcript the host pty's
# master reads must be Linux's, byte for byte (a native run through the same driver): one echo
# (the host terminal raw, the enclave's line discipline the only one), \r\n output, the line as
# edited, SIGINT to the program, SIGWINCH and the new size; and the host terminal's settings
# must be the same after the run as before. Shorter scenarios (the exec service's main program,
# busybox sh) go through pty_drive.py, the same mechanics with the steps on its command line.
bats_require_minimum_version 1.5.0
load helpers

DRIVE="$BATS_TEST_DIRNAME/console_tty_drive.py"
PTY_DRIVE="$BATS_TEST_DIRNAME/pty_drive.py"

# The driver's pty needs devpts at /dev/pts (scripts/kvm-vm.sh's chroot binds /dev without it).
need_devpts() {
  [ -e /dev/pts/ptmx ] || mount -t devpts devpts /dev/pts 2> /dev/null ||
    skip "no devpts at /dev/pts: no pty can be made here"
}

check_transcript() {
  local f=$1
  cat "$f"
  grep -qF 'isatty: 1 1 1\r\nttyname: /dev/pts/N\r\nforeground: own group\r\nsession leader: yes\r\n' "$f"
  grep -qF 'termios: icanon 1 echo 1 isig 1 onlcr 1\r\nsize: 24x80\r\n' "$f"
  # the echo of "abx", DEL, "c", CR, once; then the line the program read
  grep -qF 'ready>abx\x08 \x08c\r\nline: abc\\x0a (4 bytes)\r\n' "$f"
  grep -qF '^Cafter ^C: ppoll -1 Interrupted system call, SIGINT 1\r\n' "$f"
  grep -qF 'SIGWINCH 1\r\nnew size: 40x100\r\ndone\r\n' "$f"
}

@test "console_tty (host): the driver and the program agree with Linux's pty (the reference for the enclave)" {
  need_devpts
  local T=$BATS_TEST_TMPDIR
  run timeout -k 5 60 python3 "$DRIVE" "$T/native.txt" -- "$(prog console_tty-glibc-exec)"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "status 0" ]
  [ "${lines[1]}" = "terminal restored: yes" ]
  check_transcript "$T/native.txt"
}

@test "console_tty (host): -t and --tty are run's options (help, refusals as before)" {
  run "$ALCOVE" run --help
  [[ "$output" == *"-t, --tty"* ]]
  run -127 "$ALCOVE" run -t /nonexistent/program
  [ "$status" -eq 127 ]
  [[ "$output" == *"[ E72 ]"* ]]
  run "$ALCOVE" run --tty
  [ "$status" -eq 125 ]
}

@test "console_tty: alcove run -t under a terminal: echo, erase, ^C, SIGWINCH as on Linux, the terminal restored" {
  require_kvm
  need_devpts
  local T=$BATS_TEST_TMPDIR
  for v in musl-exec glibc-pie; do
    timeout -k 5 60 python3 "$DRIVE" "$T/native.txt" -- "$(prog console_tty-$v)" > "$T/native.res"
    run env STEP_TIMEOUT=90 timeout -k 10 300 python3 "$DRIVE" "$T/enclave.txt" -- \
      "$ALCOVE" run --log-file "$T/enclave.log" -t "$(prog console_tty-$v)"
    echo "$output"
    cat "$T/enclave.log" || true
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "status 0" ]
    [ "${lines[1]}" = "terminal restored: yes" ]
    check_transcript "$T/enclave.txt"
    diff "$T/native.txt" "$T/enclave.txt"
  done
}

@test "console_tty: -t without a terminal on stdin still makes the console a terminal inside; without -t nothing changes" {
  require_kvm
  local T=$BATS_TEST_TMPDIR
  run timeout -k 10 300 "$ALCOVE" run -t "$(prog console_tty-musl-exec)" info < /dev/null
  echo "$output" | od -c | head -20
  [ "$status" -eq 0 ]
  [[ "$output" == *$'isatty: 1 1 1\r'* ]]
  [[ "$output" == *$'session leader: yes\r'* ]]
  [[ "$output" == *$'size: 0x0\r'* ]]
  run timeout -k 10 300 "$ALCOVE" run "$(prog console_tty-musl-exec)" info < /dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "isatty: 0 0 0" ]
  [[ "$output" != *$'\r'* ]]
}

@test "console_tty (host): the exec service's main program (alcove.exec) reads the terminal it is given: its group takes the foreground" {
  need_devpts
  : "${EXECD:?set EXECD to the built alcove-execd}"
  local T=$BATS_TEST_TMPDIR
  printf 'entry /bin\ndefault PATH=/bin:/usr/bin\n' > "$T/rules"
  # the service natively as an enclave's pid 1 would be: session leader, a terminal on stdio
  run env STEP_TIMEOUT=20 timeout -k 5 60 python3 "$PTY_DRIVE" \
    sleep:1 send:'hello\n' expect:'main got hello' signal:KILL -- \
    env -i PATH=/bin:/usr/bin "$EXECD" --rules "$T/rules" --unix "$T/sock" \
    --main /bin/sh -c 'read x; echo "main got $x"'
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "console_tty: busybox sh under alcove run -t is interactive (a prompt, job control's own group, a command, exit)" {
  require_kvm
  need_devpts
  [ -x /bin/busybox ] || skip "busybox-static is not installed"
  local T=$BATS_TEST_TMPDIR
  mkdir -p "$T/root/bin"
  cp /bin/busybox "$T/root/bin/busybox"
  # expect tty-5: the shell's output, not the echo of the command
  run env STEP_TIMEOUT=240 timeout -k 10 300 python3 "$PTY_DRIVE" expect:'# ' \
    send:'echo hi-$((1+2)); [ -t 0 ] && echo tty-$((2+3)); exit 7\r' expect:tty-5 -- \
    "$ALCOVE" run --log-file "$T/enclave.log" -t --rootfs "$T/root" /bin/busybox sh
  echo "$output"
  cat "$T/enclave.log" || true
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "status 7" ]
  [ "${lines[1]}" = "terminal restored: yes" ]
  [[ "${lines[2]}" == "transcript: "*'hi-3\r\n'* ]]
}
