# image.sh: fills an `alcove init` directory's image/ with programs from this host (sourced by
# the examples' scripts and tests/integration/workflow.bats). A program goes in at its own path,
# with its interpreter (ld-linux) and the libraries the host's loader resolves for it.

# image_add ROOT FILE: FILE (links followed) at the same path under ROOT.
image_add() {
  mkdir -p "$1$(dirname "$2")"
  cp -L "$2" "$1$2"
}

# image_add_program ROOT FILE: FILE (a program or a library), its interpreter and its libraries
# (ldd).
image_add_program() {
  local root=$1 f=$2 interp lib
  image_add "$root" "$f"
  # a program names its interpreter; a library (or a static program) names none
  interp=$(readelf -l "$f" 2> /dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
  [ -z "$interp" ] || [ -e "$root$interp" ] || image_add "$root" "$interp"
  for lib in $(ldd "$f" 2> /dev/null | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do
    [ -e "$root$lib" ] || image_add "$root" "$lib"
  done
}

# image_add_python ROOT: Debian's python3 at /usr/bin/python3 with its standard library (less
# its tests and GUI) and the libraries of its extension modules.
image_add_python() {
  local root=$1 py ver so lib
  py=$(readlink -f /usr/bin/python3)
  ver=${py##*/}
  image_add_program "$root" "$py"
  [ "$py" = /usr/bin/python3 ] || ln -sf "$py" "$root/usr/bin/python3"
  mkdir -p "$root/usr/lib"
  cp -a "/usr/lib/$ver" "$root/usr/lib/"
  rm -rf "$root/usr/lib/$ver"/{test,idlelib,tkinter,ensurepip,lib2to3,__pycache__}
  for so in "$root/usr/lib/$ver"/lib-dynload/*.so; do
    for lib in $(ldd "$so" 2> /dev/null | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do
      [ -e "$root$lib" ] || image_add "$root" "$lib"
    done
  done
}

# image_add_jdk ROOT: the JDK of the host's java (Debian's openjdk-17-jdk-headless) at its own
# path (bin, lib, conf; not its sources), with the libraries of its programs and modules.
# Prints the JDK's path.
image_add_jdk() {
  local root=$1 java jdk f lib
  java=$(readlink -f "$(command -v java)")
  jdk=${java%/bin/java}
  mkdir -p "$root$jdk"
  cp -rL "$jdk/bin" "$jdk/lib" "$jdk/conf" "$root$jdk/" 2> /dev/null || true
  rm -f "$root$jdk/lib/src.zip" "$root$jdk/lib/ct.sym"
  for f in "$jdk/bin/java" "$jdk/lib/server/libjvm.so" "$jdk"/lib/*.so; do
    image_add_program "$root" "$f" > /dev/null
  done
  echo "$jdk"
}

# set_entry_points DIR PATH...: alcove.json's entry_points become PATH...
set_entry_points() {
  local dir=$1
  shift
  python3 - "$dir/alcove.json" "$@" << 'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["entry_points"] = sys.argv[2:]
json.dump(c, open(p, "w"), indent=4)
PY
}

# set_key DIR KEY.PATH VALUE(JSON): one field of alcove.json.
set_key() {
  python3 - "$1/alcove.json" "$2" "$3" << 'PY'
import json, sys
p, key, val = sys.argv[1], sys.argv[2].split("."), json.loads(sys.argv[3])
c = json.load(open(p))
o = c
for k in key[:-1]:
    o = o.setdefault(k, {})
o[key[-1]] = val
json.dump(c, open(p, "w"), indent=4)
PY
}

# wait_http PORT SECONDS PID: waits until http://127.0.0.1:PORT/ answers (0), PID dies or time
# runs out (1). Prints the answer.
wait_http() {
  local port=$1 end=$((SECONDS + $2)) pid=$3
  while [ $SECONDS -lt $end ]; do
    curl -fs --max-time 5 "http://127.0.0.1:$port/" && return 0
    kill -0 "$pid" 2> /dev/null || return 1
    sleep 0.5
  done
  return 1
}
