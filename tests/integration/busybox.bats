#!/usr/bin/env bats
# busybox.bats: real programs nobody here wrote, on real inputs. Debian's busybox-static and
# bash-static (static glibc) run natively and in an enclave whose root file system is a
# directory holding them plus the fixtures; stdout, stderr and the exit status must agree.
#
# Paths: the enclave starts in / of its image; the native run starts in a directory laid out
# like that image (data/ = the image's fixtures, read-only where a bind mount can make it so;
# tmp/ = empty scratch). Every command names files by relative paths (data/..., tmp/...), so
# both runs see the same names and print the same messages. Files are written only under tmp/
# (the enclave's tmpfs at /tmp), except in cases that expect the image to refuse (EROFS).
#
# A write is checked by what the same process prints (-v traces, awk reading back what it
# wrote, bash builtins); pipelines and programs that run children are in processes.bats.
# docs/applets.md lists the applets with pass / fail and the reasons.

# the programs' own scripts (awk, sed, sh, bash) are in single quotes on purpose
# shellcheck disable=SC2016

load helpers

BB=/bin/busybox
BASH_STATIC=/bin/bash-static

# The fixtures, built once per run of this file: $ROOT is the enclave's root file system,
# $NATIVE the native runs' working directory (a copy of $ROOT/data plus an empty tmp/).
setup_file() {
  export ROOT=$BATS_FILE_TMPDIR/root NATIVE=$BATS_FILE_TMPDIR/native
  [ -x "$BB" ] || return 0
  mkdir -p "$ROOT/bin" "$ROOT/etc" "$ROOT/data" "$NATIVE"
  cp "$BB" "$ROOT/bin/busybox"
  [ -x "$BASH_STATIC" ] && cp "$BASH_STATIC" "$ROOT/bin/bash-static"
  # uid/gid 0 is "root" on both sides (ls -l, tar tv read these)
  echo "root:x:0:0:root:/root:/bin/sh" > "$ROOT/etc/passwd"
  echo "root:x:0:" > "$ROOT/etc/group"
  make_fixtures "$ROOT/data"
  cp -a "$ROOT/data" "$NATIVE/data"
  mkdir "$NATIVE/tmp"
  # the image has every mtime 0; so have the native copies
  find "$ROOT" "$NATIVE" -exec touch -h -d @0 {} +
  # the image is read-only: natively data/ is a read-only bind mount too, where one can be made
  # (root and unshare); else the cases that write to data/ are skipped
  BB_RO=0
  unshare -m sh -c 'mount --bind / /mnt && mount -o remount,bind,ro /mnt' 2>/dev/null && BB_RO=1
  export BB_RO
}

# make_fixtures DIR: deterministic inputs (the same bytes on every run and machine).
make_fixtures() {
  local d=$1
  # 6000 lines of "id word word number", many repeated words (sort, uniq, grep, awk, sed)
  awk 'BEGIN {
    split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu", w, " ");
    x = 12345;
    for (i = 1; i <= 6000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648; a = int(x / 65536) % 12 + 1;
      x = (x * 1103515245 + 12345) % 2147483648; b = int(x / 65536) % 12 + 1;
      x = (x * 1103515245 + 12345) % 2147483648; v = int(x / 65536) % 100000 - 20000;
      printf "%05d %s %s %d\n", i, w[a], w[b], v;
    }
  }' > "$d/text.txt"
  awk '{print $2, $3}' "$d/text.txt" | LC_ALL=C sort > "$d/pairs.sorted"
  awk '{print $4}' "$d/text.txt" > "$d/nums.txt"
  awk 'BEGIN {
    split("Oslo Lima Rome Kyiv Bern Doha Male Apia", c, " ");
    split("ann bob cy dee eve fay gus hal ivy jo", n, " ");
    print "id,name,city,amount"; x = 7;
    for (i = 1; i <= 4000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      printf "%d,%s,%s,%d.%02d\n", i, n[x % 10 + 1], c[int(x / 1024) % 8 + 1], int(x / 7) % 5000, x % 100;
    }
  }' > "$d/table.csv"
  python3 -c 'import hashlib, sys
out, h = bytearray(), b"alcove"
while len(out) < 196608:
    h = hashlib.sha256(h).digest(); out += h
sys.stdout.buffer.write(bytes(out[:196608]))' > "$d/blob.bin"
  gzip -n -9 -c "$d/text.txt" > "$d/text.txt.gz"
  gzip -n -c "$d/blob.bin" > "$d/blob.bin.gz"
  head -c 3000 "$d/blob.bin" | od -An -v -tx1 | tr -d ' \n' | fold -w 60 > "$d/hex.txt"
  echo >> "$d/hex.txt"
  # a small tree: nested directories, an empty one, a symbolic link, an executable
  mkdir -p "$d/tree/a/b" "$d/tree/c" "$d/tree/empty"
  seq 1 300 > "$d/tree/a/f1.txt"
  printf 'second file\nwith a needle inside\n' > "$d/tree/a/f2.txt"
  seq 1000 1500 > "$d/tree/a/b/deep.txt"
  printf 'needle\nneedle again\n' > "$d/tree/c/needle.txt"
  printf '#!/bin/sh\necho hi\n' > "$d/tree/c/run.sh"
  chmod 755 "$d/tree/c/run.sh"
  chmod 640 "$d/tree/a/f2.txt"
  ln -s a/f1.txt "$d/tree/link"
  (cd "$d" && printf '%s\n' tree/a/f1.txt tree/a/f2.txt tree/a/b/deep.txt tree/c/needle.txt \
    tree/c/run.sh > tree.list)
  # a tar archive made by GNU tar (ustar): directories, files, a hard link, a symbolic link
  local s=$BATS_FILE_TMPDIR/tarsrc
  mkdir -p "$s/pkg/doc" "$s/pkg/bin"
  cp "$d/text.txt" "$s/pkg/doc/text.txt"
  seq 1 50 > "$s/pkg/doc/small"
  ln "$s/pkg/doc/small" "$s/pkg/doc/hardlink"
  ln -s ../doc/small "$s/pkg/bin/symlink"
  printf '#!/bin/sh\n' > "$s/pkg/bin/tool" && chmod 750 "$s/pkg/bin/tool"
  tar --format=ustar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 \
    -C "$s" -cf "$d/pkg.tar" pkg
  gzip -n -c "$d/pkg.tar" > "$d/pkg.tar.gz"
  # checksum lists: two good files, one changed, one missing
  (cd "$d/.." && md5sum data/text.txt data/blob.bin > data/sums.md5 &&
    sha256sum data/text.txt data/blob.bin > data/sums.sha256)
  echo "0123456789abcdef0123456789abcdef  data/nums.txt" >> "$d/sums.md5"
  echo "0123456789abcdef0123456789abcdef  data/gone.txt" >> "$d/sums.md5"
  printf '%064d  data/nums.txt\n' 0 >> "$d/sums.sha256"
}

setup() {
  require_kvm
  [ -x "$BB" ] || skip "busybox-static is not installed (scripts/setup.sh installs it)"
}

# both [--stdin FILE] [--ro] [--sorted] [--env K=V]... [--memory MIB] CMD [ARGS...]
# Runs CMD natively in $NATIVE and in an enclave whose root is $ROOT, both with only TZ=UTC
# (and the given variables) in the environment and a fresh, empty tmp/. Natively data/ is a
# read-only bind mount when this machine can make one ($BB_RO). Leaves
# $T/{native,enclave}.{out,err,status} for assert_same.
#   --ro      the case writes to data/: skip it where data/ cannot be made read-only natively
#   --sorted  compare stdout and stderr as sorted lines: for output in directory order, which
#             is each file system's own (ext4 hashes names, the enclave keeps the image's order)
both() {
  local stdin=/dev/null sorted=0 mem=64 envs=(TZ=UTC) alcove_envs=(--env TZ=UTC)
  while [ $# -gt 0 ]; do
    case "$1" in
      --stdin) stdin=$2; shift 2 ;;
      --ro) require_ro_mount; shift ;;
      --sorted) sorted=1; shift ;;
      --memory) mem=$2; shift 2 ;;
      --env) envs+=("$2"); alcove_envs+=(--env "$2"); shift 2 ;;
      *) break ;;
    esac
  done
  T=$BATS_TEST_TMPDIR
  rm -rf "$NATIVE/tmp" && mkdir "$NATIVE/tmp"
  local status
  if [ "$BB_RO" = 1 ]; then
    # shellcheck disable=SC2016
    (cd "$NATIVE" && exec unshare -m sh -c \
      'mount --bind data data && mount -o remount,bind,ro data && exec env -i "$@"' \
      sh "${envs[@]}" "$@") < "$stdin" > "$T/native.out" 2> "$T/native.err" && status=0 || status=$?
  else
    (cd "$NATIVE" && exec env -i "${envs[@]}" "$@") < "$stdin" > "$T/native.out" \
      2> "$T/native.err" && status=0 || status=$?
  fi
  echo "$status" > "$T/native.status"
  # shellcheck disable=SC2086
  "$ALCOVE" run --log-file "$T/enclave.log" --memory "$mem" ${ALCOVE_RUN_OPTS:-} \
    "${alcove_envs[@]}" --rootfs "$ROOT" "$@" < "$stdin" > "$T/enclave.out" \
    2> "$T/enclave.err" && status=0 || status=$?
  echo "$status" > "$T/enclave.status"
  if [ $sorted = 1 ]; then
    local f
    for f in native.out native.err enclave.out enclave.err; do LC_ALL=C sort -o "$T/$f" "$T/$f"; done
  fi
}

# same [both's options] CMD [ARGS...]: both, then assert_same; says which command differed.
# With BB_ALL=1 in the environment a difference is reported (on the terminal) and the test goes
# on, to list every differing case at once (docs/applets.md was made so).
same() {
  both "$@"
  assert_same > "$T/why" || {
    {
      echo "command: $*"
      echo "native status $(cat "$T/native.status"), stderr: $(head -c 600 "$T/native.err")"
      echo "enclave status $(cat "$T/enclave.status"), stderr: $(head -c 600 "$T/enclave.err")"
    } >> "$T/why"
    if [ "${BB_ALL:-0}" = 1 ]; then
      { echo "# DIFFERS: $*"; sed 's/^/#   /' "$T/why" | grep -v 'syscall site' | head -12; } >&3
      return 0
    fi
    cat "$T/why"
    return 1
  }
}

# Native read-only bind mounts need root and unshare; cases that need one skip without.
require_ro_mount() {
  [ "$BB_RO" = 1 ] || skip "this machine cannot make a read-only bind mount (needs root, unshare)"
}

bb() { same "$@"; }

@test "busybox cat: files, numbering, stdin, a missing file" {
  bb $BB cat data/text.txt data/nums.txt
  bb $BB cat -n data/table.csv
  bb --stdin "$NATIVE/data/blob.bin" $BB cat
  bb $BB cat data/blob.bin -
  bb $BB cat data/text.txt data/missing data/nums.txt
}

@test "busybox wc: lines, words, bytes of text and binary, stdin, a missing file" {
  bb $BB wc data/text.txt data/nums.txt data/table.csv data/blob.bin
  bb $BB wc -l data/text.txt
  bb $BB wc -c -w data/blob.bin
  bb --stdin "$NATIVE/data/text.txt" $BB wc
  bb $BB wc data/missing data/nums.txt
}

@test "busybox sort: text, numbers, keys, unique, reverse, stdin, output file in /tmp" {
  bb $BB sort data/text.txt
  bb $BB sort -n data/nums.txt
  bb $BB sort -rn data/nums.txt
  bb $BB sort -k2,2 -k4n data/text.txt
  bb $BB sort -t, -k3,3 -k4,4nr data/table.csv
  bb $BB sort -u -k2,2 data/text.txt
  bb --stdin "$NATIVE/data/nums.txt" $BB sort -g
  bb $BB sort -o tmp/sorted.txt data/text.txt
  bb $BB sort data/missing
}

@test "busybox uniq: counts, duplicates only, unique only, stdin" {
  bb $BB uniq data/pairs.sorted
  bb $BB uniq -c data/pairs.sorted
  bb $BB uniq -d data/pairs.sorted
  bb $BB uniq -u -f1 data/pairs.sorted
  bb --stdin "$NATIVE/data/pairs.sorted" $BB uniq -c
  bb $BB uniq data/missing
}

@test "busybox head: lines, bytes, several files, a missing file" {
  bb $BB head data/text.txt
  bb $BB head -n 2500 data/text.txt
  bb $BB head -c 10000 data/blob.bin
  bb $BB head -n 3 data/text.txt data/table.csv
  bb --stdin "$NATIVE/data/nums.txt" $BB head -n 7
  bb $BB head data/missing
}

@test "busybox tail: lines, from a line, bytes, stdin, a missing file" {
  bb $BB tail data/text.txt
  bb $BB tail -n 1234 data/text.txt
  bb $BB tail -n +5990 data/text.txt
  bb $BB tail -c 5000 data/blob.bin
  bb --stdin "$NATIVE/data/text.txt" $BB tail -n 100
  bb $BB tail data/missing
}

@test "busybox cut: fields, characters, bytes, a missing file" {
  bb $BB cut -d, -f2,4 data/table.csv
  bb $BB cut -d ' ' -f1,3- data/text.txt
  bb $BB cut -c 3-9 data/text.txt
  bb $BB cut -s -d x -f1 data/text.txt
  bb $BB cut -d, -f3 data/missing
}

@test "busybox tr: translate, delete, squeeze, complement (stdin)" {
  bb --stdin "$NATIVE/data/text.txt" $BB tr a-z A-Z
  bb --stdin "$NATIVE/data/text.txt" $BB tr -d 0-9
  bb --stdin "$NATIVE/data/text.txt" $BB tr -s 'a-z'
  bb --stdin "$NATIVE/data/blob.bin" $BB tr -cd 'a-zA-Z0-9'
  bb --stdin "$NATIVE/data/text.txt" $BB tr
}

@test "busybox sed: substitute, addresses, delete, hold space, w to /tmp, a missing file" {
  bb $BB sed 's/alpha/ALPHA/g' data/text.txt
  bb $BB sed -n '100,200p;/kappa lambda/p' data/text.txt
  bb $BB sed -e '/beta/d' -e 's/\([0-9]*\) \([a-z]*\)/\2:\1/' data/text.txt
  bb $BB sed -n '1!G;h;$p' data/nums.txt
  bb $BB sed -E 's/^([0-9]+),([a-z]+),/\2=\1,/;y/abc/ABC/' data/table.csv
  bb $BB sed -n -e '/gamma/w tmp/gamma.txt' -e '$=' data/text.txt
  bb $BB sed 's/x/' data/text.txt
  bb $BB sed p data/missing
}

@test "busybox awk: fields, arrays, printf, math, getline, files written to /tmp and read back" {
  bb $BB awk -F, 'NR > 1 { s[$3] += $4; n[$3]++ } END { for (c in s) printf "%s %d %.2f\n", c, n[c], s[c] / n[c] }' data/table.csv
  bb $BB awk '{ w[$2]++; t += $4 } END { print NR, t; for (k in w) print k, w[k] }' data/text.txt
  bb $BB awk 'BEGIN { for (i = 1; i <= 2000; i++) s += sin(i) * exp(-i / 1000); printf "%.10f %d %s\n", s, int(-3.7), substr("enclave", 2, 4) }'
  bb $BB awk 'BEGIN { srand(42); for (i = 0; i < 5; i++) printf "%d ", int(rand() * 1000); print toupper("done") }'
  bb $BB awk 'length($0) > 20 { c++ } /^0+1/ { print; next } END { print c }' data/text.txt
  bb $BB awk '{ print $2 > "tmp/col2"; print $4 >> "tmp/col4" } END { close("tmp/col2"); close("tmp/col4"); while ((getline l < "tmp/col2") > 0) { n++; if (l == "alpha") a++ }; while ((getline l < "tmp/col4") > 0) s += l; print n, a, s }' data/text.txt
  bb $BB awk 'BEGIN { while ((getline l < "data/nums.txt") > 0) n++; print n; print (getline x < "data/missing") }'
  bb $BB awk '{ print' data/text.txt
  bb $BB awk 1 data/missing
}

@test "busybox grep: counts, line numbers, regexps, -v, -r over a tree, statuses 0 1 2" {
  bb $BB grep -c alpha data/text.txt
  bb $BB grep -n -E '^0*[0-9]{2}7 (beta|mu) ' data/text.txt
  bb $BB grep -v -i -e ALPHA -e beta data/text.txt
  bb $BB grep -w -o 'kappa [a-z]*' data/text.txt
  bb $BB grep -F -x '-1' data/nums.txt
  bb --sorted $BB grep -r -n needle data/tree
  bb --sorted $BB grep -rl needle data
  bb $BB grep -q nosuchword data/text.txt
  bb $BB grep alpha data/missing data/tree/c/needle.txt
  bb $BB grep -c ab data/blob.bin
}

@test "busybox find: names, types, sizes, depth, permissions, a missing start" {
  bb --sorted $BB find data/tree
  bb --sorted $BB find data -type f -name '*.txt'
  bb --sorted $BB find data/tree -type l
  bb --sorted $BB find data/tree -type d -empty
  bb --sorted $BB find data -size +100k
  bb --sorted $BB find data/tree -mindepth 2 -maxdepth 2
  bb --sorted $BB find data/tree -perm -u+x -type f
  bb --sorted $BB find data/tree -name 'f*' -o -name deep.txt
  bb --sorted $BB find data/tree/link -follow -type f
  bb $BB find data/missing
}

@test "busybox ls: names, recursion, long format (numeric), types, symbolic links, a missing file" {
  bb $BB ls data/tree
  bb $BB ls -1R data/tree
  bb $BB ls -ln data/text.txt data/blob.bin data/tree/c/run.sh data/tree/a/f2.txt
  bb $BB ls -l data/text.txt data/tree/link
  bb $BB ls -F data/tree data/tree/c
  bb $BB ls -d data/tree data/tree/a
  bb $BB ls -ln --full-time data/tree/a/f1.txt
  bb $BB ls -S data/tree/a/f1.txt data/tree/a/f2.txt data/text.txt data/nums.txt
  bb $BB ls data/missing data/tree/c
}

@test "busybox cp: a file and a tree into /tmp, errors" {
  bb $BB cp -v data/text.txt tmp/copy.txt
  bb $BB cp data/text.txt data/blob.bin tmp/
  bb --sorted $BB cp -rv data/tree tmp/tree
  bb $BB cp -a data/tree tmp/tree
  bb $BB cp data/missing tmp/
  bb $BB cp data/text.txt tmp/no/such/dir
  bb $BB cp data/tree tmp/
}

@test "busybox mv: errors inside /tmp; moving an image file into /tmp (read-only source)" {
  bb $BB mv tmp/none tmp/other
  bb $BB mv -v data/missing tmp/
  require_ro_mount
  # rename across mounts is EXDEV, so mv copies, then cannot remove the read-only source
  bb --ro $BB mv data/text.txt tmp/moved.txt
  bb --ro --sorted $BB mv -v data/tree tmp/tree
}

@test "busybox rm: missing files, -f, directories; the read-only image" {
  bb $BB rm tmp/none
  bb $BB rm -f tmp/none
  bb $BB rm -v data/missing
  require_ro_mount
  bb --ro $BB rm data/text.txt
  bb --ro --sorted $BB rm -rf data/tree
  bb --ro $BB rm -d data/tree/empty
}

@test "busybox mkdir: nested, modes, in /tmp; existing and missing parents" {
  bb $BB mkdir -pv tmp/a/b/c tmp/d/e
  bb $BB mkdir -m 700 -v tmp/m
  bb $BB mkdir tmp/x tmp/x
  bb $BB mkdir tmp/x/y/z
  bb $BB mkdir data
  require_ro_mount
  bb --ro $BB mkdir data/new
  bb --ro $BB mkdir data/tree
  bb --ro $BB mkdir -p data/tree/a/b
}

@test "busybox md5sum: files, stdin, -c with a changed and a missing file" {
  bb $BB md5sum data/text.txt data/blob.bin data/nums.txt data/table.csv
  bb --stdin "$NATIVE/data/blob.bin" $BB md5sum
  bb $BB md5sum -c data/sums.md5
  bb $BB md5sum data/missing
}

@test "busybox sha256sum: files, stdin, -c with a changed file" {
  bb $BB sha256sum data/text.txt data/blob.bin data/nums.txt data/table.csv data/pkg.tar
  bb --stdin "$NATIVE/data/text.txt" $BB sha256sum
  bb $BB sha256sum -c data/sums.sha256
  bb $BB sha256sum data/missing
}

@test "busybox gzip: to stdout at levels 1 and 9, stdin, -t, a missing file" {
  bb $BB gzip -c data/text.txt
  bb $BB gzip -1 -c data/blob.bin
  bb $BB gzip -9 -c data/table.csv data/nums.txt
  bb --stdin "$NATIVE/data/text.txt" $BB gzip -c
  bb $BB gzip -t data/text.txt.gz data/pkg.tar.gz
  bb $BB gzip -c data/missing
}

@test "busybox gunzip: to stdout, test, zcat, not gzip data, a missing file" {
  bb $BB gunzip -c data/text.txt.gz
  bb $BB gunzip -c data/blob.bin.gz data/pkg.tar.gz
  bb --stdin "$NATIVE/data/text.txt.gz" $BB gunzip
  bb $BB gunzip -t data/text.txt.gz
  bb $BB gunzip -c data/text.txt
  bb $BB gunzip -c data/missing.gz
}

@test "busybox tar: list, extract to stdout, create to stdout, a missing archive" {
  bb $BB tar -tf data/pkg.tar
  bb $BB tar -tvf data/pkg.tar
  bb $BB tar -xOf data/pkg.tar pkg/doc/small pkg/doc/text.txt
  bb $BB tar -cf - -T data/tree.list
  bb $BB tar -cvf - data/tree/a/f1.txt data/text.txt
  bb $BB tar -tf data/missing.tar
  bb $BB tar -tf data/text.txt
}

@test "busybox tar: extract into /tmp (directories, files, hard and symbolic links, modes)" {
  bb $BB tar -xvf data/pkg.tar -C tmp
  bb $BB tar -xf data/pkg.tar -C tmp pkg/doc/small
  bb $BB tar -xf data/pkg.tar -C tmp/none
}

@test "busybox zcat and tar -z: decompression in a child process" {
  bb $BB zcat data/text.txt.gz
  bb $BB tar -tzf data/pkg.tar.gz
  bb $BB tar -xzvf data/pkg.tar.gz -C tmp
}

@test "busybox and the enclave's /dev: null, zero, random, urandom" {
  bb $BB wc -c /dev/null
  bb $BB cat /dev/null data/nums.txt
  bb $BB od -A d -t x1 -N 100000 /dev/zero
  bb $BB stat -c '%n %F %t,%T %a' /dev/null /dev/zero /dev/random /dev/urandom
  bb $BB head -c 0 /dev/urandom
  bb $BB cp data/text.txt /dev/null
  bb $BB xxd -r -p data/hex.txt tmp/from-hex.bin
}

@test "busybox sh: builtins write, append and read back a file in /tmp; redirections to /dev/null" {
  bb $BB sh -c 'i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i + 1)); done > tmp/f; echo tail >> tmp/f; n=0; while read -r l; do n=$((n + 1)); done < tmp/f; echo "$n $l"; echo gone > /dev/null; read -r first < tmp/f; echo "$first"; [ -s tmp/f ] && [ -f tmp/f ] && [ ! -e tmp/g ] && echo tests ok; exit 3'
  bb $BB sh -c 'echo to a missing directory > tmp/no/such; echo $?'
  bb --ro $BB sh -c 'echo x > data/text.txt'
}

@test "busybox od: hex, octal, characters, decimal words, offsets" {
  bb $BB od data/blob.bin
  bb $BB od -A x -t x1z -N 4096 data/blob.bin
  bb $BB od -c -N 700 data/text.txt
  bb $BB od -A d -t d4 -j 100 -N 4000 data/blob.bin
  bb $BB od -t u2 -v -N 512 data/blob.bin
  bb --stdin "$NATIVE/data/table.csv" $BB od -a -N 300
  bb $BB od data/missing
}

@test "busybox xxd: dump, plain hex, offsets, reverse, a missing file" {
  bb $BB xxd data/blob.bin
  bb $BB xxd -l 2048 -c 24 data/text.txt
  bb $BB xxd -p -s 1000 -l 5000 data/blob.bin
  bb $BB xxd -r -p data/hex.txt
  bb --stdin "$NATIVE/data/blob.bin" $BB xxd -g 4 -l 999
  bb $BB xxd data/missing
}

@test "busybox date: fixed dates in UTC, formats, epoch seconds, a bad date" {
  bb $BB date -d '2024-02-29 13:45:07' '+%Y-%m-%d %H:%M:%S %A %B %j %U %s %Z'
  bb $BB date -u -d @1700000000
  bb $BB date -R -d '1999-12-31 23:59:59'
  bb $BB date -d '2038-01-19 03:14:08' +%s
  bb $BB date -I -d '1970-01-01 00:00:00'
  bb $BB date -d 'not a date'
}

@test "busybox seq: ranges, steps, negative steps, separators, widths, floats" {
  bb $BB seq 10000
  bb $BB seq 7 3 20000
  bb $BB seq 10 -1 -10
  bb $BB seq -s, 1 500
  bb $BB seq -w 0 7 999
  bb $BB seq 0.5 0.25 40
  bb $BB seq 1 x
}

@test "busybox expr: arithmetic, comparisons, strings, regexps, statuses 0 1 2" {
  bb $BB expr 12345 '*' 6789 + 17 % 5
  bb $BB expr 100 / 7
  bb $BB expr abc '<' abd
  bb $BB expr length 'hello enclave'
  bb $BB expr substr enclave 2 4
  bb $BB expr index enclave lc
  bb $BB expr match 'key=value' '\([a-z]*\)='
  bb $BB expr 0
  bb $BB expr 5 / 0
  bb $BB expr 1 +
}

# ---- bash-static: a shell's builtins only (no child processes) ----

# bash_same SCRIPT: runs SCRIPT with bash -c when it is one line; a script of several lines is
# put in the image (and the native copy) as data/script.sh and run from there, because
# `alcove run --rootfs DIR CMD ARGS` keeps CMD and ARGS in the image's cmd file, which cannot
# hold a newline.
bash_same() {
  [ -x "$BASH_STATIC" ] || skip "bash-static is not installed (scripts/setup.sh installs it)"
  if [[ "$1" != *$'\n'* ]]; then
    same "$BASH_STATIC" -c "$1"
    return
  fi
  printf '%s\n' "$1" > "$ROOT/data/script.sh"
  cp "$ROOT/data/script.sh" "$NATIVE/data/script.sh"
  touch -d @0 "$ROOT/data/script.sh" "$NATIVE/data/script.sh"
  same "$BASH_STATIC" data/script.sh
}

@test "bash: arithmetic, loops and functions (primes, Fibonacci, gcd, powers)" {
  bash_same 'primes=(); for ((n = 2; n < 3000; n++)); do
      p=1; for ((d = 2; d * d <= n; d++)); do ((n % d == 0)) && { p=0; break; }; done
      ((p)) && primes+=("$n"); done
    echo "${#primes[@]} primes, last ${primes[-1]}, sum $(( ${primes[@]/%/+} 0 ))"
    fib() { local a=0 b=1 i; for ((i = 0; i < $1; i++)); do ((b = a + b, a = b - a)); done; echo $a; }
    fib 90; gcd() { (( $2 == 0 )) && echo $1 || gcd $2 $(( $1 % $2 )); }; gcd 1071 462
    echo $(( 2 ** 62 )) $(( -7 / 2 )) $(( -7 % 3 )) $(( 0x7f | 0200 )) $(( 1 << 40 >> 3 )) $(( 5 > 3 ? 10 : 20 ))'
}

@test "bash: strings, parameter expansion, printf, arrays, associative arrays" {
  bash_same 's="The quick brown fox jumps over the lazy dog"
    echo "${#s} ${s:4:5} ${s^^} ${s,,} ${s//o/0} ${s#* } ${s%% *} ${s/#The/A}"
    words=($s); echo "${#words[@]} ${words[3]} ${words[@]:2:3}"
    declare -A count; for w in "${words[@],,}"; do count[$w]=$(( ${count[$w]:-0} + 1 )); done
    for k in the fox dog; do printf "%-5s|%3d|\n" "$k" "${count[$k]}"; done
    printf "%05d %x %o %e %.3f %s %q\n" 42 255 8 12345.678 3.14159 "a b" "it'"'"'s"
    printf -v joined "%s," "${words[@]}"; echo "${joined%,}"
    arr=(3 1 4 1 5 9 2 6); unset "arr[2]"; echo "${!arr[@]} / ${arr[*]}"'
}

@test "bash: [[ ]], regexps, case, exit statuses, set -e, traps on EXIT" {
  bash_same 'for v in 10 abc 3.5 "" -7 enclave.bin; do
      if [[ $v =~ ^-?[0-9]+$ ]]; then t=int; elif [[ $v == *.* ]]; then t=dotted; elif [[ -z $v ]]; then t=empty; else t=word; fi
      case $v in [0-9]*) c=digit ;; *bin) c=binary ;; "") c=none ;; *) c=other ;; esac
      echo "[$v] $t $c ${BASH_REMATCH[0]}"; done
    [[ abc < abd && ! -e data/missing && -f data/text.txt && -d data/tree ]]; echo $?
    f() { return 7; }; f; echo $?; false || echo "or $?"; true && echo and
    trap "echo bye from trap" EXIT; (( 1 > 2 )); echo "arith $?"; exit 42'
  bash_same 'set -e; echo one; false; echo never'
  bash_same 'echo ${undefined:?is not set}'
}

@test "bash: read and mapfile from here-strings and here-documents, IFS" {
  bash_same 'read -r a b c <<< "first second third and more"; echo "$c|$b|$a"
    IFS=, read -r -a f <<< "x,y,,z"; echo "${#f[@]} ${f[2]:-blank} ${f[3]}"
    n=0; while IFS=: read -r k v; do ((n += ${#v})); echo "$k=$v"; done <<EOF
alpha:1
beta:22
gamma:333
EOF
    echo "total $n"; mapfile -t arr <<< $'"'"'one\ntwo\nthree'"'"'; echo "${arr[1]} ${#arr[@]}"'
}

@test "bash: read the image's files and write, append and read back files in /tmp" {
  bash_same 'n=0; s=0; while read -r id a b v; do ((n++, s += v)); done < data/text.txt; echo "$n $s"
    mapfile -t t < data/table.csv; echo "${#t[@]} ${t[0]} ${t[-1]}"
    for ((i = 0; i < 2000; i++)); do echo "line $i"; done > tmp/out.txt
    printf "%s\n" appended >> tmp/out.txt
    mapfile -t back < tmp/out.txt; echo "${#back[@]} ${back[1999]} ${back[2000]}"
    [[ -s tmp/out.txt && tmp/out.txt -nt data/text.txt ]] && echo newer
    exec 3> tmp/fd3; echo via fd 3 >&3; exec 3>&-; read -r l < tmp/fd3; echo "$l"'
}
