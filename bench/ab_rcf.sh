#!/usr/bin/env bash
# Two builds of bench_rcf on the same case, interleaved: on a shared machine a rate moves by tens
# of percent from one minute to the next, so only ratios taken seconds apart say which build is
# faster. Each round runs A then B (B then A in even rounds, so neither always goes first) and
# prints B's records/s over A's; the end line gives the median ratio, its range and how many
# rounds B won.
#
#   bench/ab_rcf.sh ROUNDS A B [bench_rcf arguments...]
#   bench/ab_rcf.sh 10 /tmp/before/bench/bench_rcf build/bench/bench_rcf --case c --input nyc.csv
#
# The arguments must pick one case (--case X), since a round compares one rate of each build.
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: bench/ab_rcf.sh ROUNDS A B --case X [bench_rcf arguments...]" >&2
    exit 2
fi
rounds=$1 a=$2 b=$3
shift 3
case "$rounds" in '' | *[!0-9]*) echo "ab_rcf: ROUNDS must be a number, not '$rounds'" >&2; exit 2 ;; esac
for exe in "$a" "$b"; do
    [ -x "$exe" ] || { echo "ab_rcf: $exe is not an executable" >&2; exit 2; }
done

# The first "records/s" figure bench_rcf prints: the case's rate per CPU second.
rate() {
    local out
    out=$("$@") || { echo "ab_rcf: $* failed" >&2; exit 1; }
    grep -o '[0-9]* records/s' <<<"$out" | head -n 1 | cut -d' ' -f1
}

ratios=()
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then
        ra=$(rate "$a" "$@")
        rb=$(rate "$b" "$@")
    else
        rb=$(rate "$b" "$@")
        ra=$(rate "$a" "$@")
    fi
    ratio=$(awk -v x="$rb" -v y="$ra" 'BEGIN { printf "%.3f", x / y }')
    ratios+=("$ratio")
    echo "round $r: A $ra  B $rb  B/A $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '
    { v[NR] = $1; if ($1 > 1) won++ }
    END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "median B/A %.3f (lowest %.3f, highest %.3f), B faster in %d of %d rounds\n",
               m, v[1], v[NR], won, NR
    }'
