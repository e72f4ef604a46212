#!/usr/bin/env bash
# CPU cost of shingle_size settings, interleaved in one run (A B A B ...) so the shared machine's
# noise hits every variant alike: user+sys seconds of `rcfd backtest --corpus` per variant and
# round. A variant is BINARY:SHINGLE (the binary lets a build with another cap be compared).
#   bench/shingle_cost.sh ROUNDS CORPUS_DIR VARIANT...
#   e.g. bench/shingle_cost.sh 2 ../shared/nab build/bin/rcfd:1 build/bin/rcfd:auto
set -euo pipefail
rounds=${1:?rounds}; corpus=${2:?corpus}; shift 2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for round in $(seq "$rounds"); do
    for v in "$@"; do
        bin=${v%:*}; sh=${v##*:}
        /usr/bin/time -f "%U %S" -o "$tmp/t" "$bin" backtest --corpus "$corpus" --quiet \
            -p shingle_size="$sh" --scores "$tmp/s.csv" --json "$tmp/s.json" --html "$tmp/s.html" \
            > /dev/null 2>&1
        read -r u s < "$tmp/t"
        awk -v r="$round" -v v="$v" -v u="$u" -v s="$s" 'BEGIN { printf "round %s  %s  %.2f s\n", r, v, u + s }'
    done
done
