# rootfs_helpers.bash: a --rootfs tree ($R) holding copies of the host's programs at their own
# paths (with their interpreters and libraries), and the native-vs-enclave comparison of one
# program run from it; for dynamic.bats and runtimes.bats.

# add FILE: copies FILE to the same path under $R, symlinks followed.
add() {
  mkdir -p "$R$(dirname "$1")"
  cp -L "$1" "$R$1"
}

# add_program FILE [DEST]: FILE at DEST (its own path by default) under $R, with its interpreter
# and the libraries the host's loader resolves for it (ldd; a musl program needs only its
# interpreter, which is musl's libc too).
add_program() {
  local f=$1 dest=${2:-$1} interp lib
  mkdir -p "$R$(dirname "$dest")"
  cp -L "$f" "$R$dest"
  interp=$(readelf -l "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
  [ -n "$interp" ] || { echo "$f: not dynamically linked"; return 1; }
  add "$interp"
  case "$interp" in
    *ld-musl*) ;;
    *)
      for lib in $(ldd "$f" | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do add "$lib"; done ;;
  esac
}

# add_python PYTHON [--with-tests]: Debian's python3 (its real path) at /usr/bin/python3 under
# $R, with its standard library (no Tk, no IDLE; no test package unless --with-tests, for
# scripts/cpython-tests.sh) and the libraries its extension modules need.
add_python() {
  local py=$1 ver=${1##*/} so lib
  add_program "$py" /usr/bin/python3
  mkdir -p "$R/usr/lib"
  cp -a "/usr/lib/$ver" "$R/usr/lib/"
  rm -rf "$R/usr/lib/$ver"/{idlelib,tkinter,ensurepip,lib2to3}
  [ "${2:-}" = --with-tests ] || rm -rf "$R/usr/lib/$ver/test"
  for so in "$R/usr/lib/$ver"/lib-dynload/*.so; do
    for lib in $(ldd "$so" | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do [ -e "$R$lib" ] || add "$lib"; done
  done
  # glibc's pthread_exit dlopens libgcc_s.so.1 to unwind the thread, and ldd does not list it:
  # without it a daemon thread that Python ends at exit aborts the process
  lib=$( (ldconfig -p 2> /dev/null || /sbin/ldconfig -p) | sed -n 's/^\tlibgcc_s\.so\.1 (libc6,x86-64) => //p' | head -1)
  [ -z "$lib" ] || [ -e "$R$lib" ] || add "$lib"
}

# add_jdk JDK: the JDK's bin, lib and conf (no sources) at the same path under $R, with the
# loader and the libraries the JVM's own libraries need.
add_jdk() {
  local jdk=$1 f lib
  mkdir -p "$R$jdk"
  cp -rL "$jdk/bin" "$jdk/lib" "$jdk/conf" "$R$jdk/" 2> /dev/null || true
  rm -f "$R$jdk/lib/src.zip" "$R$jdk/lib/ct.sym"
  add /lib64/ld-linux-x86-64.so.2
  for f in "$jdk/bin/java" "$jdk/lib/server/libjvm.so" "$jdk"/lib/*.so; do
    for lib in $(ldd "$f" 2> /dev/null | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do [ -e "$R$lib" ] || add "$lib"; done
  done
}

# both DEST ARGS...: runs $R/DEST's original natively (NATIVE holds its host path) and DEST in
# an enclave of MEM MiB (256 by default) on $R; then assert_same.
both() {
  local dest=$1
  shift
  T=$BATS_TEST_TMPDIR
  local status
  (cd / && env -i PATH=/usr/bin:/bin "$NATIVE" "$@") > "$T/native.out" 2> "$T/native.err" &&
    status=0 || status=$?
  echo "$status" > "$T/native.status"
  "$ALCOVE" run --log-file "$T/enclave.log" -m "${MEM:-256}" --rootfs "$R" "$dest" "$@" \
    > "$T/enclave.out" 2> "$T/enclave.err" && status=0 || status=$?
  echo "$status" > "$T/enclave.status"
  assert_same
}

# add_gcc SOURCE...: the host's gcc as make runs it on SOURCE files: make, /bin/sh, sha256sum,
# the gcc driver and the programs it runs (cc1, as, collect2, ld, lto-wrapper and ld's LTO
# plugin) with their libraries, the headers the sources include (gcc -M), the start files, and
# the libraries and linker scripts a link with -lm reads (libc.so and libm.so are scripts that
# name the real files). Not gcc's whole installation (its 240 MB hold other languages).
add_gcc() {
  local p f gcc_dir
  for p in /usr/bin/make /bin/sh /usr/bin/sha256sum /usr/bin/gcc /usr/bin/as /usr/bin/ld \
           "$(gcc -print-prog-name=cc1)" "$(gcc -print-prog-name=collect2)" \
           "$(gcc -print-prog-name=lto-wrapper)"; do
    add_program "$p" || return 1
  done
  p=$(gcc -print-file-name=liblto_plugin.so)
  add "$p"
  for f in $(ldd "$p" | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do [ -e "$R$f" ] || add "$f"; done
  # the start files and libraries, at the paths gcc finds them (with their ".." collapsed)
  for f in Scrt1.o crti.o crtn.o crtbeginS.o crtendS.o libgcc.a libgcc_s.so libgcc_s.so.1 \
           libc.so libc_nonshared.a libm.so libmvec.so.1 libc.so.6 libm.so.6; do
    p=$(realpath -s "$(gcc -print-file-name=$f)")
    [ -e "$p" ] || { echo "gcc has no $f"; return 1; }
    add "$p"
  done
  # what the linker scripts name (GROUP ( /lib/... ))
  for f in "$R"/usr/lib/x86_64-linux-gnu/libc.so "$R"/usr/lib/x86_64-linux-gnu/libm.so \
           "$R$(dirname "$(gcc -print-libgcc-file-name)")"/libgcc_s.so; do
    [ -f "$f" ] || continue
    for p in $(grep -o '/[^ )]*' "$f" | grep -v '^/\*'); do [ -e "$R$p" ] || add "$p"; done
  done
  # the headers, from the dependencies the preprocessor lists (at -O2, as the Makefile compiles:
  # glibc's headers include more when optimizing)
  for p in $(gcc -M -O2 "$@" | tr ' \\' '\n\n' | grep '^/usr/'); do [ -e "$R$p" ] || add "$p"; done
  # gcc's own directory must exist for the driver to search it
  gcc_dir=$(dirname "$(gcc -print-libgcc-file-name)")
  mkdir -p "$R$gcc_dir"
}
