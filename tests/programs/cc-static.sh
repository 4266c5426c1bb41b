#!/bin/sh
# cc-static.sh LIBC KIND SRC OUT [-IDIR|-DMACRO|MORE.c|LIB.a ...]: builds a static test program.
#   LIBC: musl (musl-gcc) or glibc (gcc); KIND: exec (fixed address) or pie (static-pie), or
#   dyn: a dynamically linked PIE (its libraries and interpreter are the host's, dynamic.bats).
#   Extra arguments: -I/-D go to the compiler, .c files are more of the program's sources,
#   anything else (static libraries built for that LIBC, e.g. sdk's libnsm-musl.a) is linked
#   after the program.
# Debian's musl-gcc cannot link static-pie by itself, so that case is linked by hand with
# musl's self-relocating start file (rcrt1.o).
set -eu
libc=$1 kind=$2 src=$3 out=$4
shift 4
cflags="" more="" libs=""
for a in "$@"; do
  case "$a" in -I*|-D*) cflags="$cflags $a" ;; *.c) more="$more $a" ;; *) libs="$libs $a" ;; esac
done
flags="-O2 -Wall -Wno-unused-result$cflags"
case "$libc-$kind" in
  glibc-exec) exec gcc $flags -static -o "$out" "$src" $more $libs ;;
  glibc-pie)  exec gcc $flags -fPIE -static-pie -o "$out" "$src" $more $libs ;;
  musl-exec)  exec musl-gcc $flags -static -o "$out" "$src" $more $libs ;;
  glibc-dyn)  exec gcc $flags -o "$out" "$src" $more $libs ;;
  musl-dyn)   exec musl-gcc $flags -o "$out" "$src" $more $libs ;;
  musl-pie)
    # the library directory named in the musl-gcc wrapper's -specs argument
    lib=$(sed -n 's/.*-specs "\([^"]*\)\/musl-gcc.specs".*/\1/p' "$(command -v musl-gcc)")
    [ -d "$lib" ] || lib=/usr/lib/x86_64-linux-musl
    obj="$out.o" objs="" i=0
    musl-gcc $flags -fPIE -c -o "$obj" "$src"
    for m in $more; do
      i=$((i + 1))
      musl-gcc $flags -fPIE -c -o "$out.$i.o" "$m"
      objs="$objs $out.$i.o"
    done
    gcc -static-pie -nostdlib -o "$out" "$lib/rcrt1.o" "$lib/crti.o" "$obj" $objs $libs -L"$lib" \
        -lc "$(gcc -print-libgcc-file-name)" "$lib/crtn.o"
    rm -f "$obj" $objs ;;
  *) echo "cc-static.sh: unknown $libc-$kind" >&2; exit 2 ;;
esac
