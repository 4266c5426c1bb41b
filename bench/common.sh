# shellcheck shell=bash
# common.sh: what the benchmark scripts share (sourced, not run): the median of numbers on
# stdin, and a row of the native/enclave/ratio table.
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
row() { printf '| %-44s | %14s | %14s | %8s |\n' "$@"; }
