#!/usr/bin/env bash
# Runs every libFuzzer binary in a fuzz build for a bounded time, starting from its committed corpus
# (copied, so the repository is not modified). New crashes fail the run and are kept in build dir.
#   usage: scripts/fuzz.sh BUILD_DIR SECONDS_PER_TARGET
set -euo pipefail
build=${1:?build dir}
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
found=0
for bin in "$build"/tests/fuzz/fuzz_* "$build"/tests/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin"); name=${name#fuzz_}
    corpus="$root/tests/fuzz/corpus/$name"
    work="$build/fuzz-work/$name"
    rm -rf "$work"; mkdir -p "$work/corpus" "$work/artifacts"
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work/corpus/"
    echo "fuzzing $name for ${seconds}s"
    "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" 2>"$work/log" || {
        tail -n 40 "$work/log"; echo "fuzz target $name failed; artifacts in $work/artifacts"; exit 1; }
    grep -E "stat::number_of_executed_units" "$work/log" || true
    found=$((found + 1))
done
[ "$found" -gt 0 ] || { echo "no fuzz binaries in $build"; exit 1; }
echo "$found fuzz targets ran clean"
