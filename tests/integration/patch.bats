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

# site ADDR LOG: what the debug log says about the syscall at ADDR (hex, no 0x)
site_line() { grep "syscall site 0x$1 " "$2" || true; }

@test "an instruction a stub can run before the syscall, no padding near: covered with it where nothing jumps in" {
  differential patch_cover count 300
  differential patch_cover remap 100
  differential patch_cover restart
  ALCOVE_RUN_OPTS="--cpu-count 2" differential patch_cover restart
  ALCOVE_RUN_OPTS="--cpu-count 2" differential patch_cover contend 3000
  differential patch_cover contend 500
  local T=$BATS_TEST_TMPDIR v
  for v in musl-exec glibc-exec; do
    local p s1 s2 s3 s4
    p=$(prog patch_cover-$v)
    # the syscalls of cover_getppid, jumped_getppid, cover_futex and long_getppid (fixed
    # addresses: -exec)
    for f in cover_getppid jumped_getppid cover_futex long_getppid; do
      objdump -d "$p" | awk -v f="<$f>:" '$2 == f {g=1} g && /\tsyscall/ {sub(":", "", $1); print $1; exit}'
    done > "$T/sites"
    { read -r s1; read -r s2; read -r s3; read -r s4; } < "$T/sites"
    [ -n "$s1" ] && [ -n "$s2" ] && [ -n "$s3" ] && [ -n "$s4" ] || { cat "$T/sites"; return 1; }
    rm -f "$T/log"
    run "$ALCOVE" run --log-level debug --log-file "$T/log" "$p" count 300
    [ "$status" -eq 0 ] || { echo "$v: $output"; cat "$T/log"; return 1; }
    site_line "$s1" "$T/log" | grep -q 'now enters without a trap (with the 3-byte instruction before it)' ||
      { echo "$v: cover_getppid's site $s1 not covered"; cat "$T/log"; return 1; }
    site_line "$s4" "$T/log" | grep -q 'now enters without a trap (with the 7-byte instruction before it)' ||
      { echo "$v: long_getppid's site $s4 not covered"; cat "$T/log"; return 1; }
    # a branch lands on jumped_getppid's syscall: refused, and it says why
    site_line "$s2" "$T/log" | grep -q 'stays on the trap path: .*unwind tables do not show' ||
      { echo "$v: jumped_getppid's site $s2:"; site_line "$s2" "$T/log"; return 1; }
    local covered traps
    traps=$(traps "$T/log")
    echo "# $v count 300: $traps traps (jumped_getppid's 300 included)" >&3
    [ "$traps" -ge 300 ] && [ "$traps" -lt 400 ] || { echo "$v: $traps traps"; return 1; }
    # the sites' pages mapped again from the file (their original bytes): what the kernel did
    # to the code it unmapped is forgotten, so each site is covered, or refused, once more
    rm -f "$T/log"
    run "$ALCOVE" run --log-level debug --log-file "$T/log" "$p" remap 100
    [ "$status" -eq 0 ] || { echo "$v: $output"; cat "$T/log"; return 1; }
    [ "$(site_line "$s1" "$T/log" | grep -c 'with the 3-byte instruction before it')" -eq 2 ] &&
      [ "$(site_line "$s2" "$T/log" | grep -c 'stays on the trap path')" -eq 2 ] ||
      { echo "$v remap: each site once per mapping expected"; site_line "$s1" "$T/log"; site_line "$s2" "$T/log"; return 1; }
    # the futex site, patched at restart's first call (one thread), then restarted 5 times
    rm -f "$T/log"
    run "$ALCOVE" run --cpu-count 2 --log-level debug --log-file "$T/log" "$p" restart
    [ "$status" -eq 0 ] || { echo "$v: $output"; cat "$T/log"; return 1; }
    site_line "$s3" "$T/log" | grep -q 'with the 4-byte instruction before it' ||
      { echo "$v: cover_futex's site $s3 not covered"; cat "$T/log"; return 1; }
    covered=$(grep -c 'instruction before it)$' "$T/log" || true)
    echo "# $v restart: $covered sites covered with the instruction before; $(traps "$T/log") traps" >&3
    # four threads on two vCPUs: another thread runs whenever the futex site traps, so it is
    # armed with an int3 and covered once both vCPUs have passed through the kernel
    rm -f "$T/log"
    run "$ALCOVE" run --cpu-count 2 --log-level debug --log-file "$T/log" "$p" contend 3000
    [ "$status" -eq 0 ] || { echo "$v: $output"; cat "$T/log"; return 1; }
    site_line "$s3" "$T/log" | grep -q 'with the 4-byte instruction before it' ||
      { echo "$v: cover_futex's site $s3 not covered on 2 vCPUs"; grep "$s3\|syscall patching" "$T/log"; return 1; }
    traps=$(traps "$T/log")
    echo "# $v contend 3000 on 2 vCPUs: $(site_line "$s3" "$T/log" | grep -c int3) armed first; $traps traps" >&3
    [ "$traps" -lt 300 ] || { echo "$v: $traps traps"; grep "syscall site" "$T/log"; return 1; }
  done
}
