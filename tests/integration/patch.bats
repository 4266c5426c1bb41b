#!/usr/bin/env bats
# patch.bats: the enclave kernel's syscall-site patcher (enclave/kernel/patch.c). Patched sites
# must give the same results as natively, and the patcher must really take the sites off the
# trap path: with --log-level debug it logs each site it patches and, at exit, the number of
# syscalls that trapped.

load helpers

setup() { require_kvm; }

# traps LOG: the number of trapped syscalls the enclave kernel counted (its line at exit).
traps() { sed -n 's/.*syscall patching: [0-9]* syscalls, \([0-9]*\) trapped.*/\1/p' "$1" | tail -1; }

@test "sites that take the number from a register or memory: same results, patched" {
  differential patch_generic 100
  ALCOVE_RUN_OPTS=--no-syscall-patch differential patch_generic 100
  local T=$BATS_TEST_TMPDIR
  for v in "${VARIANTS[@]}"; do
    rm -f "$T/log"
    run "$ALCOVE" run --log-level debug --log-file "$T/log" "$(prog patch_generic-$v)" 100
    [ "$status" -eq 0 ] || { echo "$v: $output"; cat "$T/log"; return 1; }
    # pg_reg, pg_xor_read, pg_loop, pg_branch_after, pg_two (2), pg_rcx, pg_mem
    local n
    n=$(grep -c 'number in rax) now enters without a trap (through padding)' "$T/log" || true)
    [ "$n" -ge 8 ] || { echo "$v: only $n sites patched through padding"; cat "$T/log"; return 1; }
    # pg_far_padding has no padding in reach: it stays on the trap path, and says why
    grep -q 'stays on the trap path: no dead padding' "$T/log" || { cat "$T/log"; return 1; }
    local patched unpatched
    patched=$(traps "$T/log")
    rm -f "$T/log"
    run "$ALCOVE" run --no-syscall-patch --log-level debug --log-file "$T/log" \
      "$(prog patch_generic-$v)" 100
    [ "$status" -eq 0 ]
    unpatched=$(traps "$T/log")
    echo "# $v: $patched traps patched, $unpatched with --no-syscall-patch" >&3
    # 100 iterations of pg_far_padding trap either way; everything else only once
    [ -n "$patched" ] && [ "$unpatched" -gt 2000 ] && [ "$patched" -lt 400 ] ||
      { echo "$v: $patched traps patched, $unpatched unpatched"; return 1; }
  done
}

@test "the older sites (mov \$nr,%eax) still patch, with the new ones beside them" {
  differential patchsites
  local T=$BATS_TEST_TMPDIR
  rm -f "$T/log"
  run "$ALCOVE" run --log-level debug --log-file "$T/log" "$(prog patchsites-glibc-exec)"
  [ "$status" -eq 0 ]
  grep -q '(syscall [0-9]*) now enters without a trap$' "$T/log"
  grep -q 'number in rax) now enters without a trap' "$T/log"
}

@test "busybox (Debian's busybox-static): sha256sum and gzip read without trapping" {
  if [ ! -x /bin/busybox ]; then
    echo "# NO /bin/busybox (busybox-static): this test is SKIPPED, not passed" >&3
    skip "no busybox-static"
  fi
  local T=$BATS_TEST_TMPDIR
  mkdir -p "$T/root/bin"
  cp /bin/busybox "$T/root/bin/"
  head -c $((4 << 20)) /dev/urandom > "$T/root/data"
  for cmd in "sha256sum /data" "gzip -c /data"; do
    # shellcheck disable=SC2086
    (cd "$T/root" && /bin/busybox ${cmd//\/data/data}) > "$T/native.out"
    rm -f "$T/log"
    # shellcheck disable=SC2086
    "$ALCOVE" run --memory 256 --log-level debug --log-file "$T/log" --rootfs "$T/root" \
      /bin/busybox $cmd > "$T/enclave.out"
    if [ "$cmd" = "sha256sum /data" ]; then
      [ "$(cut -d' ' -f1 "$T/native.out")" = "$(cut -d' ' -f1 "$T/enclave.out")" ]
    else
      cmp "$T/native.out" "$T/enclave.out"
    fi
    local n
    n=$(traps "$T/log")
    echo "# busybox $cmd: $n traps" >&3
    # 4 MiB in reads of 4 KiB or more: 1024+ reads, which all trapped before
    [ -n "$n" ] && [ "$n" -lt 100 ] || { echo "$cmd: $n traps"; cat "$T/log"; return 1; }
  done
}
