#!/usr/bin/env bats
# pty.bats: pseudo-terminals in an enclave against Linux (tests/programs/pty.c, docs/tty.md):
# /dev/ptmx and /dev/pts, openpty and the posix_openpt family, termios, canonical and raw input,
# echo, ONLCR, signals from the keyboard and SIGWINCH to a child that has the slave as its
# controlling terminal, hangups both ways, poll and O_NONBLOCK, for musl and glibc, fixed-address
# and static-PIE.
load helpers

setup() { require_kvm; }

@test "pty: openpty, ptsname, termios, line editing, echo, raw mode, job-control signals, hangups and poll agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog pty-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -qx 'erase: master sees the echo: 9 "abc\\b \\bd\\r\\n"' "$T/enclave.out"
  grep -qx "open the slave while locked: EIO" "$T/enclave.out"
  grep -qx "child: SIGINT 1" "$T/enclave.out"
  grep -qx "child: SIGHUP 1 SIGCONT 1" "$T/enclave.out"
  grep -qx "master read: EIO" "$T/enclave.out"
  grep -qx "done" "$T/enclave.out"
}

@test "pty: /dev/pts lists the open pairs, /proc/mounts names devpts, /dev/tty without a terminal is ENXIO" {
  [ -x /bin/busybox ] || skip "busybox-static is not installed"
  local T=$BATS_TEST_TMPDIR
  mkdir -p "$T/root/bin"
  cp /bin/busybox "$T/root/bin/busybox"
  run timeout 120 "$ALCOVE" run --log-file "$T/enclave.log" --rootfs "$T/root" /bin/busybox sh -c \
    'exec 3<>/dev/ptmx; ls /dev/pts; grep -c devpts /proc/mounts; ls -l /dev/ptmx | cut -c1; cat /dev/tty 2>&1 | grep -c "No such device or address"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "0" ]
  [ "${lines[1]}" = "1" ]
  [ "${lines[2]}" = "c" ]
  [ "${lines[3]}" = "1" ]
}
