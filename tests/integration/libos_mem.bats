#!/usr/bin/env bats
# libos_mem.bats: the enclave's memory syscalls against Linux's (mmap, munmap, mremap, mprotect,
# madvise, brk and their errors), for musl and glibc, fixed-address and static-PIE.
load helpers

setup() { require_kvm; }

@test "memory syscalls and their errors agree with Linux (all variants)" {
  for v in "${VARIANTS[@]}"; do
    run_both "$(prog mem_ops-$v)"
    assert_same || { echo "variant $v"; return 1; }
  done
}
