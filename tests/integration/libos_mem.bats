#!/usr/bin/env bats
# libos_mem.bats: the enclave's memory syscalls against Linux's (mmap, munmap, mremap, mprotect,
# madvise, brk and their errors; mappings of files: shared pages, SIGBUS past the end), for musl
# and glibc, fixed-address and static-PIE.
load helpers

setup() { require_kvm; }

@test "memory syscalls and their errors agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog mem_ops-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
}

@test "protections are enforced: faults, si_code and si_addr, MAP_GROWSDOWN and its guard gap, /proc/self/pagemap agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog mem_protect-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -q "read a PROT_NONE page *: SIGSEGV SEGV_ACCERR, si_addr right" "$T/enclave.out"
  grep -q "write a PROT_READ page *: SIGSEGV SEGV_ACCERR, si_addr right" "$T/enclave.out"
  grep -q "read an unmapped page *: SIGSEGV SEGV_MAPERR, si_addr right" "$T/enclave.out"
  grep -qx "write 100 pages below it *: no fault" "$T/enclave.out"
  grep -qx "write 8 pages below it again *: SIGSEGV SEGV_MAPERR, si_addr right" "$T/enclave.out"
  grep -q "pagemap: touched page present 1 exclusive 1, untouched present 0" "$T/enclave.out"
}

@test "MAP_SHARED file mappings are the file (read, write, fork, execve), SIGBUS past its end, lock and advice rules agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog mem_filemap-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -qx "a program run by execve wrote *: written after execve (status 0)" "$T/enclave.out"
  grep -qx "a write there *: SIGBUS code 2 at the address: yes" "$T/enclave.out"
  grep -qx "a forked child's stores, in the parent *: C N" "$T/enclave.out"
}

@test "a 4 GiB PROT_NONE reservation in a 64 MiB enclave costs nothing" {
  for v in musl-exec glibc-pie; do
    ALCOVE_RUN_OPTS="--memory 64" run_both "$(prog mem_protect-$v)" reserve
    assert_same || { echo "variant $v"; return 1; }
    grep -qx "reserve 4 GiB PROT_NONE: ok" "$T/enclave.out"
  done
}

@test "private mappings of an image file: writes stay private (fault, mprotect, fork, the kernel's own), MADV_DONTNEED and PROT_NONE read the file again, agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog mem_imagemap-$v)" /proc/self/exe
    assert_same || { echo "variant $v"; return 1; }
  done
  ! grep -q ': NO$' "$T/enclave.out"
}

@test "an image file mapped read-only by 8 processes costs its memory once, not 8 times" {
  local root=$BATS_TEST_TMPDIR/root
  mkdir -p "$root"
  cp "$(prog mem_imagemap-musl-exec)" "$root/mem_imagemap"
  head -c $((16 << 20)) /dev/urandom > "$root/big"
  "$ALCOVE" run --memory 512 --log-file "$BATS_TEST_TMPDIR/log" --rootfs "$root" /mem_imagemap share 8 /big \
    > "$BATS_TEST_TMPDIR/out" 2>&1 || { cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/log"; return 1; }
  cat "$BATS_TEST_TMPDIR/out"
  local used
  used=$(sed -n 's/^children 8 file 16384 KiB: memory used \([0-9-]*\) KiB$/\1/p' "$BATS_TEST_TMPDIR/out")
  [ -n "$used" ]
  # a copy per process would be 8 x 16 MiB = 131072 KiB more; one copy is 16384 KiB, plus what 8
  # processes have of their own (fork copies the parent's pages: about 2 MiB each here)
  [ "$used" -lt 65536 ] || { echo "used $used KiB: the file's pages were copied per process"; return 1; }
}
