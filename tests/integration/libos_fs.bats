#!/usr/bin/env bats
# libos_fs.bats: the enclave's file system against Linux's: the same static program natively (on
# the host's /tmp) and in an enclave (on its tmpfs /tmp), for musl and glibc, fixed-address and
# static-PIE, must print the same results and errnos.
load helpers

setup() { require_kvm; }

@test "file-system syscalls and their errors agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog fs_ops-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
}

@test "the image's files are read-only, and .. does not leave the root" {
  local root=$BATS_TEST_TMPDIR/root
  mkdir -p "$root/etc" "$root/bin"
  echo "image file" > "$root/etc/motd"
  cp /bin/busybox "$root/bin/busybox" 2>/dev/null || skip "busybox-static is not installed"
  run "$ALCOVE" run --rootfs "$root" /bin/busybox cat /../../../etc/motd
  [ "$status" -eq 0 ]
  [ "$output" = "image file" ]
  run "$ALCOVE" run --rootfs "$root" /bin/busybox cp /etc/motd /etc/copy
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Read-only file system"* ]]
  run "$ALCOVE" run --rootfs "$root" /bin/busybox cp /etc/motd /tmp/copy
  [ "$status" -eq 0 ]
}

@test "statfs of the image: read-only, its size in blocks and its inodes, none free (musl's libc-test statvfs)" {
  local root=$BATS_TEST_TMPDIR/root
  mkdir -p "$root/etc" "$root/bin"
  head -c 1048576 /dev/zero > "$root/etc/big"
  cp /bin/busybox "$root/bin/busybox" 2>/dev/null || skip "busybox-static is not installed"
  run "$ALCOVE" run --rootfs "$root" /bin/busybox stat -f -c '%b %f %a %c %d %S' /
  echo "$output"
  [ "$status" -eq 0 ]
  read -r blocks bfree bavail files ffree bsize <<<"$output"
  # 256 blocks of etc/big, busybox's, one per directory; root, etc, bin, big, busybox
  [ "$blocks" -ge $((256 + $(stat -c %s /bin/busybox) / 4096 + 3)) ]
  [ "$bfree" -eq 0 ] && [ "$bavail" -eq 0 ]
  [ "$files" -ge 5 ] && [ "$ffree" -eq 0 ]
  [ "$bsize" -eq 4096 ]
}

@test "build-enclave --tmpfs gives the image a writable directory; the rest stays read-only" {
  local root=$BATS_TEST_TMPDIR/root
  mkdir -p "$root/etc" "$root/bin"
  cp /bin/busybox "$root/bin/busybox" 2>/dev/null || skip "busybox-static is not installed"
  "$ALCOVE" build-enclave --rootfs "$root" --tmpfs /data --tmpfs /var/cache/ --tmpfs /srv/a/b \
    --cmd '["/bin/busybox","sh","-c","echo hi > /data/f; read x < /data/f; echo got $x; echo c > /var/cache/c && echo b > /srv/a/b/f && echo cache ok; echo no > /etc/x"]' \
    --output-file "$BATS_TEST_TMPDIR/t.eif" > /dev/null
  run "$ALCOVE" run "$BATS_TEST_TMPDIR/t.eif"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"got hi"* ]]
  [[ "$output" == *"cache ok"* ]]
  [[ "$output" == *"/etc/x: Read-only file system"* ]]
  run "$ALCOVE" build-enclave --rootfs "$root" --tmpfs relative --cmd /bin/busybox \
    --output-file "$BATS_TEST_TMPDIR/u.eif"
  [ "$status" -ne 0 ]
  [[ "$output" == *"--tmpfs 'relative'"* ]]
}

@test "mount and umount2 of a tmpfs: it hides the directory, /proc/self/mounts, EBUSY, MNT_DETACH, MNT_EXPIRE, read-only, stacking and the errors agree with Linux (all variants)" {
  # natively the program mounts for real: as root, in a mount namespace of its own
  [ "$(id -u)" = 0 ] && command -v unshare > /dev/null ||
    skip "the native side needs root and unshare (a mount namespace of its own)"
  T=$BATS_TEST_TMPDIR
  for v in "${VARIANTS[@]}"; do
    unshare -m --propagation private "$(prog fs_mount-$v)" > "$T/native.out" 2>&1
    "$ALCOVE" run --log-file "$T/enclave.log" "$(prog fs_mount-$v)" > "$T/enclave.out" 2>&1
    diff "$T/native.out" "$T/enclave.out" || { echo "variant $v"; cat "$T/enclave.log"; return 1; }
  done
  grep -qx "its mode 700, another device: yes, the old file hidden: yes" "$T/enclave.out"
  grep -qx "umount2 MNT_DETACH with a file open: ok, the file reads: still here" "$T/enclave.out"
  grep -qx "unprivileged mount: EPERM, umount: EPERM" "$T/enclave.out"
  grep -qx "done" "$T/enclave.out"
}
