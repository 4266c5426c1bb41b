#!/bin/sh
# build-static-lib.sh LIBC OUT INCDIR SRC...: compiles SRC for an enclave program's libc and
# archives the objects into the static library OUT.
#   LIBC: musl (musl-gcc) or glibc (gcc), the compilers of tests/programs/cc-static.sh.
# Objects are position-independent so the library links into fixed-address and static-PIE
# programs alike.
set -eu
libc=$1 out=$2 inc=$3
shift 3
case "$libc" in
  musl) cc=musl-gcc ;;
  glibc) cc=gcc ;;
  *) echo "build-static-lib.sh: unknown libc $libc" >&2; exit 2 ;;
esac
flags="-std=gnu11 -O2 -fPIE -Wall -Wextra -Werror -D_GNU_SOURCE"
tmp="$out.d"
rm -rf "$tmp" "$out"
mkdir -p "$tmp"
for src in "$@"; do
  $cc $flags -I"$inc" -c -o "$tmp/$(basename "$src" .c).o" "$src"
done
ar rcs "$out" "$tmp"/*.o
rm -rf "$tmp"
