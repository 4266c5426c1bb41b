#!/bin/sh
# cc-static.sh LIBC KIND SRC OUT [-IDIR|-DMACRO|LIB.a ...]: builds a static test program.
#   LIBC: musl (musl-gcc) or glibc (gcc); KIND: exec (fixed address) or pie (static-pie), or
#   dyn: a dynamically linked PIE (its libraries and interpreter are the host's, dynamic.bats).
#   Extra arguments: -I/-D go to the compiler, anything else (static libraries built for that
#   LIBC, e.g. sdk's libnsm-musl.a) is linked after the program.
# Debian's musl-gcc cannot link static-pie by itself, so that case is linked by hand with
# musl's self-relocating start file (rcrt1.o).
set -eu
libc=$1 kind=$2 src=$3 out=$4
shift 4
cflags="" libs=""
for a in "$@"; do
  case "$a" in -I*|-D*) cflags="$cflags $a" ;; *) libs="$libs $a" ;; esac
done
flags="-O2 -Wall -Wno-unused-result$cflags"
case "$libc-$kind" in
  glibc-exec) exec gcc $flags -static -o "$out" "$src" $libs ;;
  glibc-pie)  exec gcc $flags -fPIE -static-pie -o "$out" "$src" $libs ;;
  musl-exec)  exec musl-gcc $flags -static -o "$out" "$src" $libs ;;
  glibc-dyn)  exec gcc $flags -o "$out" "$src" $libs ;;
  musl-dyn)   exec musl-gcc $flags -o "$out" "$src" $libs ;;
  musl-pie)
    # the library directory named in the musl-gcc wrapper's -specs argument
    lib=$(sed -n 's/.*-specs "\([^"]*\)\/musl-gcc.specs".*/\1/p' "$(command -v musl-gcc)")
    [ -d "$lib" ] || lib=/usr/lib/x86_64-linux-musl
    obj="$out.o"
    musl-gcc $flags -fPIE -c -o "$obj" "$src"
    gcc -static-pie -nostdlib -o "$out" "$lib/rcrt1.o" "$lib/crti.o" "$obj" $libs -L"$lib" -lc \
        "$(gcc -print-libgcc-file-name)" "$lib/crtn.o"
    rm -f "$obj" ;;
  *) echo "cc-static.sh: unknown $libc-$kind" >&2; exit 2 ;;
esac
