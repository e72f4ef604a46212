#!/usr/bin/env bash
# Many keys against a memory budget: N records, each with a key never seen before (or K distinct
# keys, each returning), from librdkafka's mock cluster into a pipeline with memory_limit LIMIT and
# a state directory. Prints RSS and the model counters every 2 s, then keys/s, bytes per live key
# (rcfd_models_bytes / rcfd_models), per kept snapshot and per spilled key (the allocator's bytes
# beyond models and snapshots, over the spilled keys: the index entry each costs).
#
#   bench/many_keys.sh [build-dir] [records] [distinct keys] [memory_limit bytes] [max_keys]
#                      [seconds: stop after this long, 0 = when all are scored]
set -euo pipefail
BUILD=${1:-build}
N=${2:-200000}
KEYS=${3:-$N}
LIMIT=${4:-1073741824}
MAXKEYS=${5:-10000}
SECONDS_MAX=${6:-0}
RCFD=$(realpath "$BUILD/bin/rcfd")
MOCK=$(realpath "$BUILD/tests/rcfd_mock_cluster")
W=$(mktemp -d /tmp/rcfd-keys.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"' EXIT
cd "$W"
"$MOCK" --brokers 1 in:4 > mock.out 2> mock.log &
for _ in $(seq 100); do [ -s mock.out ] && break; sleep 0.05; done
BOOT=$(head -n1 mock.out)
python3 - "$N" "$KEYS" <<'PY'
import random, sys
n, keys = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(1)
with open("in.tsv", "w") as f:
    for i in range(n):
        k = "key-%07d" % (i if keys >= n else r.randrange(keys))
        f.write('%s\t{"key":"%s","seq":%d,"v":%.4f}\n' % (k, k, i, r.random()))
PY
kcat -P -b "$BOOT" -t in -K $'\t' -z none -X log_level=3 < in.tsv
cat > m.json <<JSON
{"runtime": {"stats_interval_ms": 0, "admin_listen": "127.0.0.1:0"},
 "state": {"dir": "$W/st", "interval_ms": 60000},
 "sources": [{"name": "in", "type": "kafka", "topics": ["in"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "keys",
                          "auto.offset.reset": "earliest"}}],
 "outputs": [{"name": "out", "type": "file", "path": "/dev/null"}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["v"], "key": "key",
                "max_keys": $MAXKEYS, "memory_limit": $LIMIT, "outputs": ["out"],
                "models": [{"type": "rcf"}]}]}
JSON
"$RCFD" -c m.json 2> rcfd.log &
PID=$!
for _ in $(seq 100); do grep -q "admin listener on" rcfd.log && break; sleep 0.1; done
PORT=$(sed -n 's/.*admin listener on 127.0.0.1:\([0-9]*\).*/\1/p' rcfd.log | head -1)
m() { awk -v m="$1" '$1 ~ "^"m"({|$)" {s += $2} END {printf "%.0f", s + 0}' metrics.txt; }
t0=$(date +%s.%N)
base=""
echo "   s   RSS MB  records   live  live MB   kept  kept MB  spilled  spills  reads  dropped"
while :; do
    sleep 2
    curl -s "http://127.0.0.1:$PORT/metrics" > metrics.txt || break
    [ -n "$base" ] || base=$(m rcfd_allocated_bytes)
    rss=$(awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/$PID/status")
    done_n=$(m rcfd_records_scored_total)
    printf "%4.0f %8d %8d %6d %8.0f %6d %8.0f %8d %7d %6d %8d\n" \
        "$(echo "$(date +%s.%N) - $t0" | bc)" "$rss" "$done_n" "$(m rcfd_models)" \
        "$(echo "$(m rcfd_models_bytes) / 1048576" | bc)" "$(m rcfd_models_kept)" \
        "$(echo "$(m rcfd_models_kept_bytes) / 1048576" | bc)" "$(m rcfd_models_spilled)" \
        "$(m rcfd_models_spills_total)" "$(m rcfd_models_spill_reads_total)" \
        "$(m rcfd_models_dropped_total)"
    [ "$done_n" -ge "$N" ] && break
    # A run without a budget grows until the machine runs out: stop it first.
    [ "$rss" -gt 6144 ] && { echo "stopped: RSS above 6 GiB"; break; }
    [ "$SECONDS_MAX" -gt 0 ] && [ "$(echo "$(date +%s.%N) - $t0 > $SECONDS_MAX" | bc)" = 1 ] && break
done
t1=$(date +%s.%N)
live=$(m rcfd_models); lb=$(m rcfd_models_bytes); kept=$(m rcfd_models_kept)
kb=$(m rcfd_models_kept_bytes); sp=$(m rcfd_models_spilled); alloc=$(m rcfd_allocated_bytes)
echo "records/s: $(echo "$(m rcfd_records_scored_total) / ($t1 - $t0)" | bc)"
[ "$live" -gt 0 ] && echo "bytes per live key: $(( lb / live ))"
[ "$kept" -gt 0 ] && echo "bytes per kept snapshot: $(( kb / kept ))"
[ "$sp" -gt 0 ] && echo "bytes per spilled key in memory: $(( (alloc - base - lb - kb) / sp )) (allocator bytes beyond models and snapshots, over $sp spilled keys)"
echo "spill directory: $(du -sh st | cut -f1)"
kill -TERM "$PID"; wait "$PID" || true
