#!/usr/bin/env bats
# libos_mustfail.bats: what the enclave's file system and memory must refuse, with the errno
# Linux gives, while the program goes on and exits normally: writes to the read-only image,
# paths that try to leave the root, a 10 GiB mmap in a 64 MiB enclave, reads past the end of a
# file, closed descriptors. Programs: tests/programs/mf_fs.c and mf_mem.c.

load helpers

# The image: the test programs in bin/, an /etc/passwd of its own (so that a path reaching the
# host's would show), fixtures in data/, and symbolic links that point out of the root.
setup_file() {
  export ROOT=$BATS_FILE_TMPDIR/root NATIVE=$BATS_FILE_TMPDIR/native
  mkdir -p "$ROOT/bin" "$ROOT/etc" "$ROOT/data/sub" "$NATIVE/data/sub"
  for v in "${VARIANTS[@]}"; do cp "$PROGRAMS/mf_fs-$v" "$ROOT/bin/"; done
  echo "image-root:x:0:0:the image's own passwd:/:/bin/sh" > "$ROOT/etc/passwd"
  seq 1 20000 > "$ROOT/data/text.txt"
  cp "$ROOT/data/text.txt" "$NATIVE/data/text.txt"
  ln -s ../../../../etc/passwd "$ROOT/data/escape-rel"
  ln -s /etc/hostname "$ROOT/data/escape-abs"
  ln -s ../../../../../etc/hostname "$ROOT/data/escape-host"
}

setup() {
  require_kvm
  P=$(cd "$PROGRAMS" && pwd)  # native runs start elsewhere
}

# in_enclave [--memory M] CMD ARGS: runs CMD in an enclave on $ROOT; $T/enclave.{out,err,status}
in_enclave() {
  local mem=64
  [ "$1" = --memory ] && { mem=$2; shift 2; }
  T=$BATS_TEST_TMPDIR
  local status
  # shellcheck disable=SC2086
  "$ALCOVE" run --log-file "$T/enclave.log" --memory "$mem" ${ALCOVE_RUN_OPTS:-} \
    --rootfs "$ROOT" "$@" > "$T/enclave.out" 2> "$T/enclave.err" && status=0 || status=$?
  echo "$status" > "$T/enclave.status"
}

# natively [--ro] CMD ARGS: runs CMD in $NATIVE (data/ a read-only bind mount with --ro);
# $T/native.{out,err,status}. Returns 1 if a read-only mount cannot be made here.
natively() {
  local ro=0
  [ "$1" = --ro ] && { ro=1; shift; }
  T=$BATS_TEST_TMPDIR
  local status
  if [ $ro = 1 ]; then
    unshare -m sh -c 'mount --bind / /mnt && mount -o remount,bind,ro /mnt' 2>/dev/null ||
      return 1
    # shellcheck disable=SC2016
    (cd "$NATIVE" && exec unshare -m sh -c \
      'mount --bind data data && mount -o remount,bind,ro data && exec env -i "$@"' sh "$@") \
      > "$T/native.out" 2> "$T/native.err" && status=0 || status=$?
  else
    (cd "$NATIVE" && exec env -i "$@") > "$T/native.out" 2> "$T/native.err" && status=0 ||
      status=$?
  fi
  echo "$status" > "$T/native.status"
}

# expect_output FILE: the enclave printed exactly FILE's lines, exited 0, said nothing on stderr
# (its kernel's log goes to enclave.log), and the enclave ended normally.
expect_output() {
  local T=$BATS_TEST_TMPDIR
  if ! diff -u "$1" "$T/enclave.out"; then
    echo "(- expected, + enclave) enclave stderr:"; cat "$T/enclave.err"
    echo "enclave log:"; grep -v 'syscall site' "$T/enclave.log" | head -20
    return 1
  fi
  [ "$(cat "$T/enclave.status")" = 0 ] || { echo "status $(cat "$T/enclave.status")"; cat "$T/enclave.err"; return 1; }
  [ ! -s "$T/enclave.err" ] || { echo "stderr:"; cat "$T/enclave.err"; return 1; }
}

@test "writes to the read-only image fail with Linux's errno for a read-only mount; the file is unchanged" {
  local T=$BATS_TEST_TMPDIR
  cat > "$T/expected" <<'EOF'
open O_WRONLY: EROFS
open O_RDWR: EROFS
open O_WRONLY|O_APPEND: EROFS
open O_RDONLY|O_TRUNC: EROFS
open O_CREAT existing: EROFS
open O_CREAT|O_EXCL existing: EEXIST
open O_CREAT new: EROFS
open O_CREAT in a missing directory: ENOENT
open O_CREAT under a file: ENOTDIR
open a directory O_WRONLY: EISDIR
open O_RDONLY (still fine): ok
creat: EROFS
mkdir new: EROFS
mkdir existing: EEXIST
mkdir existing subdirectory: EEXIST
rmdir: EROFS
unlink: EROFS
unlink a missing file: EROFS
rename: EROFS
link: EROFS
symlink: EROFS
truncate: EROFS
chmod: EROFS
chown: EROFS
utimensat: EROFS
access W_OK file: EROFS
access W_OK dir: EROFS
access R_OK file: ok
open for reading: ok
write to a read-only descriptor: EBADF
ftruncate a read-only descriptor: EINVAL
mmap shared writable: EACCES
pread: ok
mmap private writable: ok
pread again: ok
file unchanged: yes
EOF
  # Linux itself gives exactly these on a read-only bind mount (checked where one can be made)
  if natively --ro "$P/mf_fs-glibc-exec" rofs data/text.txt data; then
    diff -u "$T/expected" "$T/native.out"
  else
    echo "# no read-only bind mount here: the expected errnos are not re-checked natively" >&3
  fi
  for v in "${VARIANTS[@]}"; do
    in_enclave "/bin/mf_fs-$v" rofs data/text.txt data
    expect_output "$T/expected" || { echo "variant $v"; return 1; }
  done
  # absolute paths give the same answers as relative ones
  in_enclave /bin/mf_fs-musl-exec rofs /data/text.txt /data
  expect_output "$T/expected"
}

@test "paths with .. and symbolic links stay inside the image: its own /etc/passwd, never the host's" {
  local T=$BATS_TEST_TMPDIR
  cat > "$T/expected" <<'EOF'
/../../etc/passwd: image-root:x:0:0:the image's own passwd:/:/bin/sh
../../../../../../etc/passwd: image-root:x:0:0:the image's own passwd:/:/bin/sh
/etc/../../../etc/passwd: image-root:x:0:0:the image's own passwd:/:/bin/sh
/..//.././etc/./passwd: image-root:x:0:0:the image's own passwd:/:/bin/sh
/../../etc/hostname: ENOENT
link to ../../../../etc/passwd: image-root:x:0:0:the image's own passwd:/:/bin/sh
link to /etc/hostname: ENOENT
link to ../../../../../etc/hostname: ENOENT
openat(/data, ../../../../etc/passwd): image-root:x:0:0:the image's own passwd:/:/bin/sh
cwd after 5 x chdir(".."): /
then etc/passwd: image-root:x:0:0:the image's own passwd:/:/bin/sh
/.. is /: yes
EOF
  for v in "${VARIANTS[@]}"; do
    in_enclave "/bin/mf_fs-$v" escape
    expect_output "$T/expected" || { echo "variant $v"; return 1; }
  done
}

@test "a 10 GiB mmap in a 64 MiB enclave is ENOMEM; the program goes on and the monitor is fine" {
  local T=$BATS_TEST_TMPDIR
  cat > "$T/expected" <<'EOF'
mmap 10 GiB: ENOMEM
mmap 10 GiB MAP_NORESERVE: ENOMEM
mmap 1 TiB: ENOMEM
mmap 2^63: ENOMEM
mmap SIZE_MAX rounded: ENOMEM
malloc 10 GiB: NULL
sbrk +10 GiB: failed, break unchanged: yes
mmap, touch, munmap 8 MiB: ok
malloc 1 MiB: ok, last byte a
mmap 10 GiB again: ENOMEM
still running
EOF
  local before
  before=$(alcove_processes)
  for v in "${VARIANTS[@]}"; do
    T=$BATS_TEST_TMPDIR
    "$ALCOVE" run --memory 64 --stats --log-file "$T/enclave.log" "$(prog "mf_mem-$v")" huge \
      > "$T/enclave.out" 2> "$T/stats" && echo 0 > "$T/enclave.status" ||
      echo $? > "$T/enclave.status"
    # --stats is the only thing on stderr, and the guest did not get more than its 64 MiB
    grep -v '^alcove-stats: ' "$T/stats" > "$T/enclave.err" || true
    expect_output "$T/expected" || { echo "variant $v"; return 1; }
    local guest
    guest=$(sed -n 's/.*"guest_resident_bytes": \([0-9]*\).*/\1/p' "$T/stats")
    [ -n "$guest" ] && [ "$guest" -le $((64 << 20)) ] || { echo "guest resident: $guest"; return 1; }
  done
  # the host runs the next enclave as usual, and none is left behind
  run "$ALCOVE" run "$(prog hello-musl-exec)"
  [ "$status" -eq 0 ]
  [ "$(alcove_processes)" -le "$before" ]
}

@test "reading at and past the end of a file gives 0 bytes, as natively" {
  for v in "${VARIANTS[@]}"; do
    natively "$P/mf_fs-$v" eof data/text.txt
    in_enclave "/bin/mf_fs-$v" eof data/text.txt
    assert_same || { echo "variant $v"; return 1; }
  done
  grep -qx 'read past the end: 0' "$BATS_TEST_TMPDIR/enclave.out"
  grep -qx 'pread at 1 TiB: 0' "$BATS_TEST_TMPDIR/enclave.out"
  grep -qx 'read to the end: 108894 bytes (size 108894), last read 0' "$BATS_TEST_TMPDIR/enclave.out"
}

@test "a closed descriptor, and ones never opened, are EBADF for every call, as natively" {
  for v in "${VARIANTS[@]}"; do
    natively "$P/mf_fs-$v" badfd data/text.txt
    in_enclave "/bin/mf_fs-$v" badfd data/text.txt
    assert_same || { echo "variant $v"; return 1; }
  done
  [ "$(grep -c ': EBADF$' "$BATS_TEST_TMPDIR/enclave.out")" -eq 17 ]
  [ "$(cat "$BATS_TEST_TMPDIR/enclave.status")" -eq 0 ]
}

@test "filling /tmp is ENOSPC (not a crash); the file keeps what was written; unlink frees it" {
  local T=$BATS_TEST_TMPDIR
  cat > "$T/expected" <<'EOF2'
create: ok
full after some MiB: yes, then ENOSPC
fstat: ok
size is what was written: yes
close: ok
unlink: ok
create again: ok
write 1 MiB again: ok
unlink again: ok
EOF2
  for v in glibc-exec musl-pie; do
    in_enclave --memory 64 "/bin/mf_fs-$v" fill /tmp
    expect_output "$T/expected" || { echo "variant $v"; return 1; }
  done
  run "$ALCOVE" run "$(prog hello-musl-exec)"
  [ "$status" -eq 0 ]
}

@test "descriptors run out with EMFILE at the enclave's own RLIMIT_NOFILE, and come back" {
  local T=$BATS_TEST_TMPDIR
  cat > "$T/expected" <<'EOF2'
getrlimit: ok
open until it fails: EMFILE
the last descriptor is RLIMIT_NOFILE - 1: yes
close one: ok
open after closing one: the same number
dup when full: EMFILE
EOF2
  # natively the same, with only the three standard descriptors open
  (ulimit -n 1024 && exec "$P/mf_fs-glibc-exec" fds "$ROOT/data/text.txt" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-) > "$T/native.out"
  diff -u "$T/expected" "$T/native.out"
  for v in glibc-exec musl-exec; do
    in_enclave "/bin/mf_fs-$v" fds data/text.txt
    expect_output "$T/expected" || { echo "variant $v"; return 1; }
  done
}
